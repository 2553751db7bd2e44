// The language a command answers in: the person's `/gitlab settings language`, else their Mattermost
// locale, else DEFAULT_LOCALE.
import type { Locale } from "../src/config.js";
import { createProfiles, languageOf, type Profiles } from "../src/people/profiles.js";
import { getUserSettings } from "../src/store/user-settings.js";
import type { CommandContext } from "./types.js";

export function profilesOf(ctx: Pick<CommandContext, "people" | "mattermost" | "config" | "logger">): Profiles {
  return ctx.people?.profiles ?? createProfiles({ mattermost: ctx.mattermost, defaultLocale: ctx.config.defaultLocale, logger: ctx.logger });
}

export async function localeOf(ctx: CommandContext): Promise<Locale> {
  return languageOf(await getUserSettings(ctx.db, ctx.userId), profilesOf(ctx), ctx.userId);
}
