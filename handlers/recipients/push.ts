// Pushes, personally: people mentioned in the pushed commits' messages.
import type { Notification } from "../../src/notification.js";
import type { PushPayload } from "../payloads.js";
import { mentionedUsernames, personOf, Recipients, type PersonalNotice } from "./common.js";

export function pushRecipients(p: PushPayload, notifications: Notification[]): PersonalNotice[] {
  const n = notifications[0];
  if (!n) return [];
  const names = new Map<string, string>();
  for (const c of p.commits ?? []) for (const u of mentionedUsernames(c.message)) if (!names.has(u.toLowerCase())) names.set(u.toLowerCase(), u);
  if (names.size === 0) return [];
  const actor = personOf({ id: p.user_id, username: p.user_username });
  return [{ notification: n, actor, recipients: new Recipients().mentions([...names.values()], false).list }];
}
