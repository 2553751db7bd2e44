// What commands call to read or change something on GitLab as the person who typed them: the shared
// path from a GitLab answer to one sentence in their language (src/gitlab/act.ts does the call and the
// audit). Commands that use it declare `needs: ["connected"]`.
import { actAsUser, GitlabActionError } from "../src/gitlab/act.js";
import type { GitlabApi } from "../src/gitlab/client.js";
import { describeGitlabFailure } from "../src/gitlab/errors.js";
import type { UserLink } from "../src/store/user-links.js";
import { DEFAULT_TRIGGER } from "./help.js";
import { localeOf } from "./locale.js";
import type { Locale } from "../src/config.js";
import { t } from "../src/i18n/index.js";
import { CommandError, ephemeral, gitlabAuthProblem, inChannel, requireGitlab, type CommandContext, type CommandReply } from "./types.js";

export interface OnGitlab {
  /** `family.verb` for an action that changes something (audited), e.g. `issue.close`; absent for reads. */
  action?: string;
  /** The object as the person wrote it (`group/project#12`): named in the sentence when GitLab refuses. */
  object: string;
}

export async function onGitlab<T>(ctx: CommandContext, what: OnGitlab, fn: (api: GitlabApi, link: UserLink) => Promise<T>): Promise<T> {
  const locale = await localeOf(ctx);
  const accounts = requireGitlab(ctx, locale);
  const trigger = ctx.trigger ?? DEFAULT_TRIGGER;
  try {
    return await actAsUser({ accounts, logger: ctx.logger, metrics: ctx.metrics }, { mattermostUserId: ctx.userId, ...what, via: "command" }, fn);
  } catch (error) {
    const auth = gitlabAuthProblem(error, trigger, locale);
    if (auth) throw auth;
    if (error instanceof GitlabActionError) {
      throw new CommandError(error.failure.code, describeGitlabFailure(locale, error.failure, what.object, `\`${trigger} connect\``));
    }
    throw error;
  }
}

/** Asks GitLab, as the person, who may see a project (path or id); unknown when it cannot say. */
export function projectVisibility(ctx: CommandContext, project: string | number): () => Promise<string | undefined> {
  return () =>
    onGitlab(ctx, { object: String(project) }, async (api) => {
      const { visibility } = (await api.Projects.show(project)) as { visibility?: unknown };
      return typeof visibility === "string" ? visibility : undefined;
    }).catch(() => undefined);
}

/**
 * Whether the channel the command was typed in may see a result about something of that visibility: as
 * for channel notifications, what is not public is told only in private channels, direct and group
 * messages, unless ALLOW_PRIVATE_PROJECTS_IN_PUBLIC_CHANNELS. The channel is asked first, so the
 * visibility is looked up only when the channel is public. Unknown means no.
 */
export async function channelMaySee(ctx: CommandContext, visibility: () => Promise<string | undefined>): Promise<boolean> {
  if (ctx.config.allowPrivateProjectsInPublicChannels) return true;
  const channel = await ctx.mattermost.getChannel(ctx.channelId).catch(() => undefined);
  if (!channel) return false;
  if (channel.type !== "O") return true;
  return (await visibility()) === "public";
}

/** A result others should see: in the channel in DEFAULT_LOCALE when it may see it, else only to the person. */
export async function announce(ctx: CommandContext, visibility: () => Promise<string | undefined>, line: (locale: Locale) => string): Promise<CommandReply> {
  if (await channelMaySee(ctx, visibility)) return inChannel(line(ctx.config.defaultLocale));
  const locale = await localeOf(ctx);
  return ephemeral(`${line(locale)} ${t(locale, "cmd.private_project_only_you")}`);
}
