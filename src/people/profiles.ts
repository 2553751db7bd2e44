// What the bot needs to know of a Mattermost user to write to them: their language and time zone,
// asked of Mattermost once per user and kept a few minutes (per process; a cache, not state).
import type { UserTimezone } from "@mattermost/types/users";
import { LOCALES, type Locale } from "../config.js";
import type { Logger } from "../logger.js";
import type { MattermostApi } from "../mattermost/client.js";
import type { UserSettings } from "../store/user-settings.js";

export interface Profiles {
  /** Their Mattermost language, as one of ours (`en`, `zh-CN`), else the default locale. */
  locale(userId: string): Promise<Locale>;
  /** Their Mattermost time zone (IANA name), else "UTC". */
  timeZone(userId: string): Promise<string>;
}

/** A Mattermost locale ("en", "zh-CN", "zh_CN", "de", ...) as ours, else `fallback`. */
export function localeFromMattermost(locale: string | undefined, fallback: Locale): Locale {
  const normalized = (locale ?? "").replace("_", "-").toLowerCase();
  return LOCALES.find((l) => l.toLowerCase() === normalized) ?? fallback;
}

/** Whether the runtime knows this IANA time zone. */
export function isTimeZone(name: string): boolean {
  if (!name) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** The zone a Mattermost user's clock shows: automatic or manual, as they chose; "UTC" when unknown. */
export function timeZoneFromMattermost(tz: UserTimezone | undefined): string {
  if (!tz) return "UTC";
  const automatic = tz.useAutomaticTimezone === true || tz.useAutomaticTimezone === "true";
  const name = (automatic ? tz.automaticTimezone : tz.manualTimezone) || tz.automaticTimezone || tz.manualTimezone;
  return name && isTimeZone(name) ? name : "UTC";
}

export function createProfiles(deps: { mattermost: MattermostApi; defaultLocale: Locale; logger?: Logger; ttlMs?: number; now?: () => number }): Profiles {
  const ttl = deps.ttlMs ?? 10 * 60_000;
  const now = deps.now ?? Date.now;
  const cache = new Map<string, { at: number; locale: Locale; timeZone: string }>();

  async function profile(userId: string): Promise<{ locale: Locale; timeZone: string }> {
    const hit = cache.get(userId);
    if (hit && now() - hit.at < ttl) return hit;
    try {
      const user = await deps.mattermost.getUser(userId);
      const entry = { at: now(), locale: localeFromMattermost(user.locale, deps.defaultLocale), timeZone: timeZoneFromMattermost(user.timezone) };
      if (cache.size > 10_000) cache.clear();
      cache.set(userId, entry);
      return entry;
    } catch (error) {
      // Not worth failing a message for: write in the default language this once (not cached).
      deps.logger?.warn({ user_id: userId, err: (error as Error).message }, "Mattermost user profile not read; using defaults");
      return { locale: deps.defaultLocale, timeZone: "UTC" };
    }
  }

  return {
    async locale(userId) {
      return (await profile(userId)).locale;
    },
    async timeZone(userId) {
      return (await profile(userId)).timeZone;
    },
  };
}

/** The language to write to a user in: their `/gitlab settings` choice, else their Mattermost language. */
export async function languageOf(settings: Pick<UserSettings, "language">, profiles: Profiles, userId: string): Promise<Locale> {
  return settings.language ?? (await profiles.locale(userId));
}
