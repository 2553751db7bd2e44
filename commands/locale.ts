// The language a command answers in: the person's `/gitlab settings language`, else their Mattermost
// locale, else DEFAULT_LOCALE.
import type { Locale } from "../src/config.js";
import { createProfiles, languageOf, type Profiles } from "../src/people/profiles.js";
import { getUserSettings } from "../src/store/user-settings.js";
import type { CommandContext } from "./types.js";

export function profilesOf(ctx: Pick<CommandContext, "people" | "mattermost" | "config" | "logger">): Profiles {
  return ctx.people?.profiles ?? createProfiles({ mattermost: ctx.mattermost, defaultLocale: ctx.config.defaultLocale, logger: ctx.logger });
}

/** Worked out once per request: a command and the checks before it ask for it several times. */
const known = new WeakMap<CommandContext, Promise<Locale>>();

export function localeOf(ctx: CommandContext): Promise<Locale> {
  let locale = known.get(ctx);
  if (!locale) {
    locale = getUserSettings(ctx.db, ctx.userId).then((settings) => languageOf(settings, profilesOf(ctx), ctx.userId));
    // A failed look-up is not remembered: the next ask tries again.
    locale.catch(() => known.delete(ctx));
    known.set(ctx, locale);
  }
  return locale;
}
