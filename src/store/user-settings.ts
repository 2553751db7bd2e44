// Personal settings (`/gitlab settings`); a user who never changed anything has the defaults.
import { reusedQuery } from "./compiled.js";
import type { Db } from "./db.js";

export type Digest = "off" | "15m" | "1h" | "1d";

export interface UserSettings {
  notifications: boolean;
  reminders: boolean;
  /** Hour of the daily reminder, 0-23, in the user's Mattermost time zone. */
  reminderHour: number;
  reminderWeekends: boolean;
  digest: Digest;
  /** Undefined: the user's Mattermost locale. */
  language?: "en" | "zh-CN";
}

export const DEFAULT_SETTINGS: Readonly<UserSettings> = {
  notifications: true,
  reminders: true,
  reminderHour: 9,
  reminderWeekends: false,
  digest: "off",
};

type Row = {
  mattermost_user_id: string;
  notifications: number;
  reminders: number;
  reminder_hour: number;
  reminder_weekends: number;
  digest: Digest;
  language: string | null;
};

function fromRow(r: Row): UserSettings {
  return {
    notifications: Number(r.notifications) === 1,
    reminders: Number(r.reminders) === 1,
    reminderHour: Number(r.reminder_hour),
    reminderWeekends: Number(r.reminder_weekends) === 1,
    digest: r.digest,
    ...(r.language === "en" || r.language === "zh-CN" ? { language: r.language } : {}),
  };
}

export async function getUserSettings(db: Db, mattermostUserId: string): Promise<UserSettings> {
  const row = await db.selectFrom("user_settings").selectAll().where("mattermost_user_id", "=", mattermostUserId).executeTakeFirst();
  return row ? fromRow(row) : { ...DEFAULT_SETTINGS };
}

const selectSettingsOf = reusedQuery((db, p: { ids: string[] }) =>
  db.selectFrom("user_settings").selectAll().where("mattermost_user_id", "in", p.ids),
);

/** Settings of several users at once (defaults for those who have none). */
export async function getUserSettingsMany(db: Db, ids: readonly string[]): Promise<Map<string, UserSettings>> {
  const result = new Map<string, UserSettings>();
  if (ids.length === 0) return result;
  const { rows } = await selectSettingsOf.run(db, { ids: [...new Set(ids)] });
  for (const id of ids) result.set(id, { ...DEFAULT_SETTINGS });
  for (const r of rows) result.set(r.mattermost_user_id, fromRow(r));
  return result;
}

export async function updateUserSettings(db: Db, mattermostUserId: string, patch: Partial<UserSettings>): Promise<UserSettings> {
  const next = { ...(await getUserSettings(db, mattermostUserId)), ...patch };
  const row = {
    notifications: next.notifications ? 1 : 0,
    reminders: next.reminders ? 1 : 0,
    reminder_hour: next.reminderHour,
    reminder_weekends: next.reminderWeekends ? 1 : 0,
    digest: next.digest,
    language: next.language ?? null,
    updated_at: new Date().toISOString(),
  };
  await db
    .insertInto("user_settings")
    .values({ mattermost_user_id: mattermostUserId, ...row })
    .onConflict((oc) => oc.column("mattermost_user_id").doUpdateSet(row))
    .execute();
  return next;
}
