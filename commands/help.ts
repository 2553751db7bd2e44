// `/gitlab help [command]`: the commands that exist, from the same table that dispatches them.
import { ephemeral, escapeMarkdown, type Command } from "./types.js";

export const DEFAULT_TRIGGER = "/gitlab";

/** One usage line, as the person types it: "`/gitlab subscriptions list`". */
export function formatUsage(command: Pick<Command, "usage">, trigger = DEFAULT_TRIGGER): string {
  return `\`${trigger} ${command.usage}\``;
}

export function formatHelp(commands: readonly Command[], trigger = DEFAULT_TRIGGER): string {
  const lines = commands.map((c) => `- ${formatUsage(c, trigger)}: ${c.summary}`);
  return [`**GitLab commands** (\`${trigger} help <command>\` for one of them)`, ...lines].join("\n");
}

/** `list` is read when the command runs, so help can sit in the very table it lists. */
export function helpCommand(list: () => readonly Command[]): Command {
  return {
    name: "help",
    usage: "help [command]",
    summary: "show the commands and how to use them",
    async run(ctx) {
      const trigger = ctx.trigger ?? DEFAULT_TRIGGER;
      const all = list();
      const topic = ctx.args.join(" ").toLowerCase();
      if (!topic) return ephemeral(formatHelp(all, trigger));
      const matching = all.filter((c) => c.name === topic || c.name.startsWith(`${topic} `));
      if (matching.length === 0) {
        return ephemeral(`There is no command "${escapeMarkdown(topic)}".\n${formatHelp(all, trigger)}`);
      }
      return ephemeral(matching.map((c) => `- ${formatUsage(c, trigger)}: ${c.summary}`).join("\n"));
    },
  };
}
