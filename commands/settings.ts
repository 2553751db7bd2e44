// `/gitlab settings [notifications on|off] [reminders on|off] [reminders at <hour>] [weekends on|off]
// [digest off|15m|1h|1d] [language en|zh-CN|auto]` (SPEC.md grammar, plus the reminder hour and
// weekends): with no arguments shows the user's settings; with some, changes them (several at once)
// and shows the result. Replies are ephemeral, in the user's language.
import type { Locale } from "../src/config.js";
import { t } from "../src/i18n/index.js";
import { languageOf } from "../src/people/profiles.js";
import { hourText } from "../src/people/reminders.js";
import { findUserLink } from "../src/store/user-links.js";
import { getUserSettings, updateUserSettings, type Digest, type UserSettings } from "../src/store/user-settings.js";
import { DEFAULT_TRIGGER } from "./help.js";
import { profilesOf } from "./locale.js";
import { CommandError, ephemeral, escapeMarkdown, type Command, type CommandContext } from "./types.js";

const USAGE = "settings [notifications on|off] [reminders on|off] [reminders at <hour>] [weekends on|off] [digest off|15m|1h|1d] [language en|zh-CN|auto]";
const DIGESTS: readonly Digest[] = ["off", "15m", "1h", "1d"];

/** The user's profiles: the shared cache when the bot has one, else asked of Mattermost now. */

/** "on"/"off" (also yes/no, true/false), else undefined. */
function onOff(word: string | undefined): boolean | undefined {
  const w = (word ?? "").toLowerCase();
  if (["on", "yes", "true", "enable", "enabled"].includes(w)) return true;
  if (["off", "no", "false", "disable", "disabled"].includes(w)) return false;
  return undefined;
}

/** "9", "09", "9:00", "21:00", "9am", "9pm" -> 0-23, else undefined. */
export function parseHour(word: string | undefined): number | undefined {
  const m = /^(\d{1,2})(?::00)?\s*(am|pm)?$/i.exec((word ?? "").trim());
  if (!m) return undefined;
  let hour = Number(m[1]);
  const half = m[2]?.toLowerCase();
  if (half) {
    if (hour < 1 || hour > 12) return undefined;
    hour = (hour % 12) + (half === "pm" ? 12 : 0);
  }
  return hour >= 0 && hour <= 23 ? hour : undefined;
}

type Patch = Partial<UserSettings> & { languageAuto?: true };

/** The changes a list of words asks for; a mistake is a CommandError written in `locale`. */
export function parseSettings(words: readonly string[], locale: Locale): Patch {
  const patch: Patch = {};
  const code = (s: string) => `\`${s}\``;
  const bad = (setting: string, values: string) => new CommandError("usage", t(locale, "settings.error.value", { setting: code(setting), values: code(values) }));
  const hourOf = (word: string | undefined) => {
    const hour = parseHour(word);
    if (hour === undefined) throw new CommandError("usage", t(locale, "settings.error.hour", { example: code("reminders at 9") }));
    return hour;
  };
  for (let i = 0; i < words.length; i++) {
    const name = (words[i] ?? "").toLowerCase();
    const value = words[i + 1];
    switch (name) {
      case "notifications": {
        const on = onOff(value);
        if (on === undefined) throw bad("notifications", "on|off");
        patch.notifications = on;
        i++;
        break;
      }
      case "reminders":
      case "reminder": {
        if ((value ?? "").toLowerCase() === "at") {
          patch.reminderHour = hourOf(words[i + 2]);
          patch.reminders ??= true;
          i += 2;
          break;
        }
        const on = onOff(value);
        if (on === undefined) throw bad("reminders", "on|off|at <hour>");
        patch.reminders = on;
        i++;
        if ((words[i + 1] ?? "").toLowerCase() === "at") {
          patch.reminderHour = hourOf(words[i + 2]);
          i += 2;
        }
        break;
      }
      case "reminder-hour":
      case "reminder_hour":
      case "hour":
        patch.reminderHour = hourOf(value);
        i++;
        break;
      case "weekends":
      case "weekend": {
        const on = onOff(value);
        if (on === undefined) throw bad("weekends", "on|off");
        patch.reminderWeekends = on;
        i++;
        break;
      }
      case "digest": {
        const d = DIGESTS.find((x) => x === (value ?? "").toLowerCase());
        if (!d) throw bad("digest", "off|15m|1h|1d");
        patch.digest = d;
        i++;
        break;
      }
      case "language":
      case "lang": {
        const v = (value ?? "").toLowerCase().replace("_", "-");
        if (v === "en") patch.language = "en";
        else if (v === "zh-cn" || v === "zh") patch.language = "zh-CN";
        else if (v === "auto" || v === "default") patch.languageAuto = true;
        else throw bad("language", "en|zh-CN|auto");
        i++;
        break;
      }
      default:
        throw new CommandError("usage", t(locale, "settings.error.unknown", { word: code(escapeMarkdown(words[i] ?? "").replace(/`/g, "")) }));
    }
  }
  return patch;
}

async function show(ctx: CommandContext, settings: UserSettings, locale: Locale, saved: boolean): Promise<string> {
  const trigger = ctx.trigger ?? DEFAULT_TRIGGER;
  const profiles = profilesOf(ctx);
  const onOffText = (v: boolean) => t(locale, v ? "settings.on" : "settings.off");
  const timeZone = (await ctx.people?.syncReminder(ctx.userId).catch((error: Error) => {
    ctx.logger.warn({ err: error.message }, "reminder schedule not updated");
    return undefined;
  }))?.timeZone ?? (await profiles.timeZone(ctx.userId));
  const languageName = (l: Locale) => t(locale, l === "en" ? "settings.language.en" : "settings.language.zh-CN");
  const language = settings.language ? languageName(settings.language) : t(locale, "settings.language.auto", { language: languageName(await profiles.locale(ctx.userId)) });
  const lines = [
    ...(saved ? [t(locale, "settings.saved")] : []),
    t(locale, "settings.title"),
    `- ${t(locale, "settings.line.notifications", { value: onOffText(settings.notifications) })}`,
    `- ${t(locale, "settings.line.reminders", { value: onOffText(settings.reminders) })}`,
    `- ${t(locale, "settings.line.reminder_time", { time: hourText(settings.reminderHour), timezone: escapeMarkdown(timeZone) })}`,
    `- ${t(locale, "settings.line.weekends", { value: onOffText(settings.reminderWeekends) })}`,
    `- ${t(locale, "settings.line.digest", { value: t(locale, `settings.digest.${settings.digest}`) })}`,
    `- ${t(locale, "settings.line.language", { value: language })}`,
    "",
    t(locale, "settings.usage", { usage: `\`${trigger} ${USAGE}\`` }),
  ];
  if (!(await findUserLink(ctx.db, ctx.userId))) lines.push(t(locale, "settings.not_connected", { command: `\`${trigger} connect\`` }));
  return lines.join("\n");
}

export const settingsCommand: Command = {
  name: "settings",
  usage: USAGE,
  summary: "command.summary.settings",
  async run(ctx) {
    const current = await getUserSettings(ctx.db, ctx.userId);
    const profiles = profilesOf(ctx);
    if (ctx.args.length === 0) return ephemeral(await show(ctx, current, await languageOf(current, profiles, ctx.userId), false));
    const patch = parseSettings(ctx.args, await languageOf(current, profiles, ctx.userId));
    const { languageAuto, ...changes } = patch;
    // `language auto`: back to the Mattermost language (an explicit undefined clears the choice).
    const next = await updateUserSettings(ctx.db, ctx.userId, languageAuto ? { ...changes, language: undefined } : changes);
    // Replies in the language just chosen.
    return ephemeral(await show(ctx, next, await languageOf(next, profiles, ctx.userId), true));
  },
};
