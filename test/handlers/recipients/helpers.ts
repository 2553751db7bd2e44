// Runs a payload through the handler and its recipients, as the events worker does, and summarises
// the notices as rows that read well in a table.
import { isKnownKind, notificationsFor, type EventKind, type PayloadOf } from "../../../handlers/index.js";
import { personalNoticesFor, type PersonalNotice } from "../../../handlers/recipients/index.js";

export interface Row {
  reason: string;
  id?: number;
  username?: string;
}

export function noticesOf(payload: unknown, header?: string): PersonalNotice[] {
  const { kind, known, notifications, parsed } = notificationsFor(payload, header);
  if (!known || !isKnownKind(kind)) return [];
  return personalNoticesFor(kind as EventKind, parsed as PayloadOf<EventKind>, notifications);
}

/** Every (reason, person) of the notices, in order. */
export function rowsOf(payload: unknown, header?: string): Row[] {
  return noticesOf(payload, header).flatMap((n) => n.recipients.map((r) => ({ reason: r.reason, ...r.person })));
}
