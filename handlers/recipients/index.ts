// The recipients registry: for the event kinds that can concern someone personally, a pure function
// from the parsed payload (and the handler's notifications, whose posts the DMs repeat) to notices.
import type { Notification } from "../../src/notification.js";
import type { EventKind, PayloadOf } from "../index.js";
import { samePerson, type PersonalNotice } from "./common.js";
import { issueRecipients } from "./issue.js";
import { mergeRequestRecipients } from "./merge-request.js";
import { noteRecipients } from "./note.js";
import { pipelineRecipients } from "./pipeline.js";
import { pushRecipients } from "./push.js";
import { tagPushRecipients } from "./tag-push.js";

export type { PersonalNotice, PersonalReason, PersonRef, KnownRole } from "./common.js";
export { PERSONAL_REASONS, mentionedUsernames, reasonRank } from "./common.js";

export type RecipientsOf<K extends EventKind> = (payload: PayloadOf<K>, notifications: Notification[]) => PersonalNotice[];

const registry: { [K in EventKind]?: RecipientsOf<K> } = {
  merge_request: mergeRequestRecipients,
  issue: issueRecipients,
  work_item: issueRecipients,
  note: noteRecipients,
  pipeline: pipelineRecipients,
  push: pushRecipients,
  tag_push: tagPushRecipients,
};

/** Whether events of this kind can concern someone personally. */
export function hasRecipients(kind: EventKind): boolean {
  return registry[kind] !== undefined;
}

/** The personal notices of one event (its payload as parsePayload gave it). */
export function personalNoticesFor<K extends EventKind>(kind: K, payload: PayloadOf<K>, notifications: Notification[]): PersonalNotice[] {
  const recipients = registry[kind] as RecipientsOf<K> | undefined;
  if (!recipients) return [];
  const notices: PersonalNotice[] = [];
  for (const notice of recipients(payload, notifications)) {
    // Never told about one's own action (the router checks again, against linked accounts).
    const actor = notice.actor;
    const list = actor ? notice.recipients.filter((r) => !samePerson(r.person, actor)) : notice.recipients;
    if (list.length > 0 || notice.known !== undefined) notices.push({ ...notice, recipients: list });
  }
  return notices;
}
