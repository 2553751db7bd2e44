// `/gitlab help [command]`: the commands that exist, from the same table that dispatches them.
import type { Locale } from "../src/config.js";
import { t } from "../src/i18n/index.js";
import { localeOf } from "./locale.js";
import { ephemeral, escapeMarkdown, type Command } from "./types.js";

export const DEFAULT_TRIGGER = "/gitlab";

/** One usage line, as the person types it: "`/gitlab subscriptions list`". */
export function formatUsage(command: Pick<Command, "usage">, trigger = DEFAULT_TRIGGER): string {
  return `\`${trigger} ${command.usage}\``;
}

function helpLine(command: Command, trigger: string, locale: Locale): string {
  return `- ${formatUsage(command, trigger)}: ${t(locale, command.summary)}`;
}

export function formatHelp(commands: readonly Command[], trigger = DEFAULT_TRIGGER, locale: Locale = "en"): string {
  return [t(locale, "command.help.title", { trigger }), ...commands.map((c) => helpLine(c, trigger, locale))].join("\n");
}

/** `list` is read when the command runs, so help can sit in the very table it lists. */
export function helpCommand(list: () => readonly Command[]): Command {
  return {
    name: "help",
    usage: "help [command]",
    summary: "command.summary.help",
    async run(ctx) {
      const trigger = ctx.trigger ?? DEFAULT_TRIGGER;
      const locale = await localeOf(ctx);
      const all = list();
      const topic = ctx.args.join(" ").toLowerCase();
      if (!topic) return ephemeral(formatHelp(all, trigger, locale));
      const matching = all.filter((c) => c.name === topic || c.name.startsWith(`${topic} `));
      if (matching.length === 0) {
        return ephemeral(`${t(locale, "command.help.no_such", { topic: escapeMarkdown(topic) })}\n${formatHelp(all, trigger, locale)}`);
      }
      return ephemeral(matching.map((c) => helpLine(c, trigger, locale)).join("\n"));
    },
  };
}
