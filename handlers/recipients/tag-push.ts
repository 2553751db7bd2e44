// Tag pushes, personally: people mentioned in an annotated tag's message.
import type { Notification } from "../../src/notification.js";
import type { TagPushPayload } from "../payloads.js";
import { mentionedUsernames, personOf, Recipients, type PersonalNotice } from "./common.js";

export function tagPushRecipients(p: TagPushPayload, notifications: Notification[]): PersonalNotice[] {
  const n = notifications[0];
  const mentioned = mentionedUsernames(p.message);
  if (!n || mentioned.length === 0) return [];
  const actor = personOf({ id: p.user_id, username: p.user_username });
  return [{ notification: n, actor, recipients: new Recipients().mentions(mentioned, false).list }];
}
