// The `/gitlab` command table and the parser in front of it. A new command is one file exporting a
// `Command` and one line in `commands` below; the table also drives `help` and argument errors.
import { connect } from "./connect.js";
import { deploy } from "./deploy.js";
import { disconnect } from "./disconnect.js";
import { t } from "../src/i18n/index.js";
import { DEFAULT_TRIGGER, formatHelp, formatUsage, helpCommand } from "./help.js";
import { issueCommands } from "./issue.js";
import { localeOf } from "./locale.js";
import { me } from "./me.js";
import { mrApprove, mrList, mrMerge, mrShow, mrUnapprove } from "./mr.js";
import { pipelineCancel, pipelineRetry, pipelineRun, pipelineShow } from "./pipeline.js";
import { runJob } from "./run.js";
import { enforceRequirements } from "./requirements.js";
import { splitWords } from "./words.js";
import { settingsCommand } from "./settings.js";
import { subscriptionsAdd, subscriptionsDelete, subscriptionsList } from "./subscriptions.js";
import { todo } from "./todo.js";
import { webhookAdd, webhookList } from "./webhook.js";
import { CommandError, ephemeral, escapeMarkdown, type Command, type CommandContext, type CommandReply } from "./types.js";

export const commands: readonly Command[] = [
  helpCommand(() => commands),
  subscriptionsAdd,
  subscriptionsList,
  subscriptionsDelete,
  connect,
  disconnect,
  me,
  todo,
  settingsCommand,
  mrList,
  mrShow,
  mrApprove,
  mrUnapprove,
  mrMerge,
  pipelineRun,
  pipelineRetry,
  pipelineCancel,
  pipelineShow,
  runJob,
  deploy,
  webhookAdd,
  webhookList,
  ...issueCommands,
];

assertUniqueNames(commands);

function assertUniqueNames(list: readonly Command[]): void {
  const seen = new Set<string>();
  for (const c of list) {
    if (c.name !== c.name.toLowerCase().trim() || /\s{2,}/.test(c.name)) throw new Error(`command name "${c.name}" must be lower case words`);
    if (seen.has(c.name)) throw new Error(`command "${c.name}" is registered twice`);
    seen.add(c.name);
  }
}


/** The command whose name is the longest prefix of the words ("subscriptions add" before "subscriptions"). */
export function findCommand(words: readonly string[], list: readonly Command[] = commands): Command | undefined {
  const lower = words.map((w) => w.toLowerCase());
  let best: Command | undefined;
  let bestLength = 0;
  for (const c of list) {
    const name = c.name.split(" ");
    if (name.length > bestLength && name.length <= lower.length && name.every((w, k) => w === lower[k])) {
      best = c;
      bestLength = name.length;
    }
  }
  return best;
}

export type CommandBase = Omit<CommandContext, "args" | "rest">;

/** Parses the text after the trigger, runs the command it names and turns any failure into a reply. */
export async function runCommand(text: string, base: CommandBase, list: readonly Command[] = commands): Promise<CommandReply> {
  const trigger = base.trigger ?? DEFAULT_TRIGGER;
  const { words, ends } = splitWords(text);
  const command = words.length === 0 ? findCommand(["help"], list) : findCommand(words, list);

  const nameLength = !command || words.length === 0 ? 0 : command.name.split(" ").length;
  const ctx: CommandContext = {
    ...base,
    args: words.slice(nameLength),
    rest: nameLength === 0 ? "" : text.slice(ends[nameLength - 1]).trim(),
  };
  // The person's language, asked only when there is something to tell them in it (then once).
  const locale = () => localeOf(ctx);
  if (!command) {
    const first = (words[0] ?? "").toLowerCase();
    const family = list.filter((c) => c.name.split(" ")[0] === first);
    const lang = await locale();
    if (family.length > 0) {
      const sub = words[1] === undefined ? "" : ` "${escapeMarkdown(words[1])}"`;
      return ephemeral([t(lang, "command.unknown_subcommand", { sub }), ...family.map((c) => formatUsage(c, trigger))].join("\n"));
    }
    return ephemeral(`${t(lang, "command.unknown", { word: escapeMarkdown(words[0] ?? "") })}\n${formatHelp(list, trigger, lang)}`);
  }

  try {
    await enforceRequirements(command.needs, ctx);
    return await command.run(ctx);
  } catch (error) {
    if (error instanceof CommandError) {
      if (error.code === "usage") {
        return ephemeral([error.message, t(await locale(), "command.usage", { usage: formatUsage(command, trigger) })].filter(Boolean).join("\n"));
      }
      return ephemeral(error.message);
    }
    base.logger.error({ err: error, command: command.name, channel_id: base.channelId, user_id: base.userId }, "slash command failed");
    const lang = await locale().catch(() => base.config.defaultLocale);
    return ephemeral(t(lang, "command.failed", { command: `\`${trigger} ${command.name}\`` }));
  }
}
