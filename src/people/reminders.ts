// The daily reminder's schedule: one BullMQ job scheduler per user, a cron pattern at the hour they
// chose, in their Mattermost time zone, on weekdays unless they asked for weekends too.
import { getNextMillis } from "bullmq";
import type { UserSettings } from "../store/user-settings.js";

export type ReminderTiming = Pick<UserSettings, "reminderHour" | "reminderWeekends">;

/** "0 9 * * 1-5": minute 0 of the hour, Monday to Friday (every day with weekends). */
export function reminderPattern(s: ReminderTiming): string {
  const hour = Math.min(23, Math.max(0, Math.trunc(s.reminderHour)));
  return `0 ${hour} * * ${s.reminderWeekends ? "*" : "1-5"}`;
}

/** When the reminder runs next after `now` (ms), as BullMQ computes it for the scheduler. */
export function nextReminderAt(s: ReminderTiming, timeZone: string, now: number): number {
  const next = getNextMillis(now, { pattern: reminderPattern(s), tz: timeZone });
  if (next === undefined) throw new Error(`no next run for ${reminderPattern(s)} in ${timeZone}`);
  return next;
}

/** The scheduler of one user's reminder (no ":"; BullMQ job ids must not hold one). */
export function reminderSchedulerId(mattermostUserId: string): string {
  return `reminder-${mattermostUserId}`;
}

/** "09:00". */
export function hourText(hour: number): string {
  return `${String(hour).padStart(2, "0")}:00`;
}

/** The user's weekday and date where they are: for skipping weekends and naming a day's reminder. */
export function localDay(timeZone: string, at: number): { weekday: number; date: string } {
  const parts = new Intl.DateTimeFormat("en-US", { timeZone, weekday: "short", year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  const weekday = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].indexOf(get("weekday"));
  return { weekday, date: `${get("year")}-${get("month")}-${get("day")}` };
}
