// What every `/gitlab` subcommand sees and returns. A command is one file exporting a `Command`,
// plus one line in the table in ./index.ts (which also drives `help` and argument errors).
import type { Config, Locale } from "../src/config.js";
import type { GitlabAccounts, GitlabAccountsSetup } from "../src/gitlab/accounts.js";
import { GitlabAuthError } from "../src/gitlab/tokens.js";
import { t, type MessageKey } from "../src/i18n/index.js";
import type { Logger } from "../src/logger.js";
import type { MattermostApi } from "../src/mattermost/client.js";
import type { Metrics } from "../src/metrics.js";
import type { PeopleServices } from "../src/people/services.js";
import type { Db } from "../src/store/db.js";
import { escapeInline } from "../src/text/markdown.js";

export interface CommandContext {
  userId: string;
  userName: string;
  channelId: string;
  channelName: string;
  teamId: string;
  /** The words after the subcommand name, split by the parser (double quotes group words). */
  args: string[];
  /** The raw text after the subcommand name, for commands that take free text. */
  rest: string;
  db: Db;
  mattermost: MattermostApi;
  /** `webhookSecrets`: the master secrets; hooks the bot makes get a token derived from the first (`webhook add`). */
  config: Pick<Config, "defaultLocale" | "publicUrl"> & Partial<Pick<Config, "allowPrivateProjectsInPublicChannels" | "webhookSecrets">>;
  /** Linked GitLab accounts (connect, acting as the user); absent or not ready when GitLab is not configured. */
  gitlab?: GitlabAccountsSetup;
  /** Personal side (profiles, reminder schedules); absent where the bot runs without it. */
  people?: PeopleServices;
  logger: Logger;
  /** Counts actions taken on GitLab (the audit counter); absent in tests that do not look. */
  metrics?: Metrics;
  /** The slash command as Mattermost sent it (e.g. "/gitlab"); used in usage lines. Default "/gitlab". */
  trigger?: string;
  /**
   * Sends a further answer after the first, through the request's response_url (Mattermost takes at
   * most five per command, for 30 minutes); absent when Mattermost sent none.
   */
  followUp?: (reply: CommandReply) => Promise<void>;
}

/**
 * What a command needs before it runs, checked in one place (./requirements.ts) so that no command
 * repeats the check: `connected`, a linked GitLab account (the command acts as the person);
 * `channel_admin`, a channel admin or system admin of the channel it was typed in.
 */
export type Requirement = "connected" | "channel_admin";

/** A Mattermost slash-command response. */
export interface CommandReply {
  response_type: "ephemeral" | "in_channel";
  text: string;
}

export interface Command {
  /** The words that select it, lower case, e.g. "subscriptions add". */
  name: string;
  /** Arguments grammar after the trigger, e.g. "subscriptions add <group/project | group> [features]". */
  usage: string;
  /** Catalog key of the one-line description `help` shows. */
  summary: Extract<MessageKey, `command.summary.${string}`>;
  /** Checked before `run`, in the order given; a failed check is the reply. */
  needs?: readonly Requirement[];
  run(ctx: CommandContext): Promise<CommandReply>;
}

/**
 * An expected failure: `code` lets callers and tests branch, `message` is written for the person who
 * typed the command and is shown to them (ephemeral). Code "usage" also shows the command's usage.
 */
export class CommandError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "CommandError";
  }
}

/** Bad arguments: the reply shows `message` (when given) and the command's usage line. */
export function usageError(message = ""): CommandError {
  return new CommandError("usage", message);
}

export function ephemeral(text: string): CommandReply {
  return { response_type: "ephemeral", text };
}

export function inChannel(text: string): CommandReply {
  return { response_type: "in_channel", text };
}

/** User-provided text as one line of Markdown that cannot ping, link or break the layout. */
export function escapeMarkdown(text: string): string {
  return escapeInline(text, 1000);
}

const RESERVED_MENTIONS = new Set(["all", "channel", "here"]);

/** "@name" for a Mattermost username that mentions only that person, else the name made harmless. */
export function mentionUser(userName: string): string {
  if (/^[a-z0-9][a-z0-9._-]*$/i.test(userName) && !RESERVED_MENTIONS.has(userName.toLowerCase())) return `@${userName}`;
  return escapeMarkdown(`@${userName}`);
}

/** The linked-accounts service, or a message (in `locale`) naming the settings the administrator must add. */
export function requireGitlab(ctx: Pick<CommandContext, "gitlab">, locale: Locale = "en"): GitlabAccounts {
  if (ctx.gitlab?.ready) return ctx.gitlab.accounts;
  const missing = ctx.gitlab?.missing ?? ["GITLAB_URL", "GITLAB_OAUTH_CLIENT_ID", "GITLAB_OAUTH_CLIENT_SECRET", "ENCRYPTION_KEY"];
  throw new CommandError("not_configured", t(locale, "account.not_configured", { settings: missing.map((m) => `\`${m}\``).join(", ") }));
}

/** A GitLab token problem (not connected, grant revoked, refresh busy) as a message for the person, in `locale`. */
export function gitlabAuthProblem(error: unknown, trigger = "/gitlab", locale: Locale = "en"): CommandError | undefined {
  if (!(error instanceof GitlabAuthError)) return undefined;
  const command = `\`${trigger} connect\``;
  if (error.code === "not_connected") return new CommandError(error.code, t(locale, "account.not_connected", { command }));
  if (error.code === "reconnect") {
    // The username as GitLab spells it, as before (GitLab usernames are letters, digits, `_`, `.` and `-`).
    if (error.gitlabUsername !== undefined) return new CommandError(error.code, t(locale, "account.reconnect", { who: escapeMarkdown(`@${error.gitlabUsername}`), command }));
    return new CommandError(error.code, `${error.message} Type ${command} to connect again.`);
  }
  return new CommandError(error.code, t(locale, "account.busy"));
}
