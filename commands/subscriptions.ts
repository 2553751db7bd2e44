// `/gitlab subscriptions add|list|delete` (SPEC.md "Slash command grammar"): which GitLab projects
// and groups post to this channel, with which features.
import type { Locale } from "../src/config.js";
import { ACCESS_LEVEL, type ResourceAccess } from "../src/gitlab/access.js";
import { describeGitlabError } from "../src/gitlab/client.js";
import { GitlabAuthError } from "../src/gitlab/tokens.js";
import { t } from "../src/i18n/index.js";
import { MattermostError } from "../src/mattermost/client.js";

import { FeatureError, formatFeatures, parseFeatures } from "../src/routing/features.js";
import { deleteSubscription, listSubscriptions, normalizePath, upsertSubscription } from "../src/store/subscriptions.js";

import { DEFAULT_TRIGGER } from "./help.js";
import { localeOf } from "./locale.js";
import { parseProjectPath } from "./references.js";
import { missingWebhookHint } from "./webhook.js";
import { requireChannelAdmin } from "./requirements.js";
import {
  CommandError,
  ephemeral,
  escapeMarkdown,
  gitlabAuthProblem,
  inChannel,
  mentionUser,
  requireGitlab,
  usageError,
  type Command,
  type CommandContext,
} from "./types.js";

/**
 * A GitLab project or group path ("group", "group/sub/project"): segments of letters, digits, `_`,
 * `.` and `-`, no leading or trailing slash. Returns it normalised (lower case), or undefined.
 */
export function parseSubscriptionPath(text: string | undefined): string | undefined {
  const path = parseProjectPath(text);
  return path === undefined ? undefined : normalizePath(path);
}

/** Parses a feature list and gives back its canonical text; a mistake becomes a message for the user. */
export function canonicalFeatures(text: string): string {
  try {
    return formatFeatures(parseFeatures(text));
  } catch (error) {
    if (error instanceof FeatureError) throw new CommandError("bad_feature", error.message);
    throw error;
  }
}

/** "issues,merges,label:\"x\"" -> "issues, merges, label:\"x\"", safe to show in Markdown. */
function showFeatures(features: string): string {
  return escapeMarkdown(features.split(",").join(", "));
}

const ROLES = [
  [ACCESS_LEVEL.owner, "role.owner"],
  [ACCESS_LEVEL.maintainer, "role.maintainer"],
  [ACCESS_LEVEL.developer, "role.developer"],
  [ACCESS_LEVEL.reporter, "role.reporter"],
  [ACCESS_LEVEL.planner, "role.planner"],
  [ACCESS_LEVEL.guest, "role.guest"],
  [ACCESS_LEVEL.minimal, "role.minimal_access"],
] as const;

/** The name of an access level in `locale` ("Reporter", "报告者"). */
function roleName(locale: Locale, level: number): string {
  const key = ROLES.find(([l]) => level >= l)?.[1];
  return key ? t(locale, key) : t(locale, "account.subscribe.no_access");
}

/**
 * Who may subscribe: the person's connected GitLab account must see the project or
 * group with Reporter or above, and a private or internal one goes only to a private channel unless
 * ALLOW_PRIVATE_PROJECTS_IN_PUBLIC_CHANNELS. Returns what GitLab said, to be stored with the subscription.
 * Refusals are written in the person's language.
 */
async function requireGitlabAccess(ctx: CommandContext, path: string): Promise<ResourceAccess> {
  const trigger = ctx.trigger ?? DEFAULT_TRIGGER;
  const accounts = ctx.gitlab?.ready ? ctx.gitlab.accounts : requireGitlab(ctx, await localeOf(ctx));
  let access: ResourceAccess | undefined;
  try {
    access = await accounts.access(ctx.userId, path);
  } catch (error) {
    if (error instanceof GitlabAuthError) {
      const locale = await localeOf(ctx);
      if (error.code === "not_connected") {
        throw new CommandError("not_connected", t(locale, "account.subscribe.not_connected", { command: `\`${trigger} connect\``, path: escapeMarkdown(path) }));
      }
      throw gitlabAuthProblem(error, trigger, locale)!;
    }
    ctx.logger.warn({ path, err: describeGitlabError(error) }, "could not check GitLab access for a subscription");
    throw new CommandError("gitlab_unavailable", t(await localeOf(ctx), "account.subscribe.unavailable", { path: escapeMarkdown(path) }));
  }
  if (!access) {
    throw new CommandError("not_found", t(await localeOf(ctx), "account.subscribe.not_found", { path: escapeMarkdown(path) }));
  }
  if (access.accessLevel < ACCESS_LEVEL.reporter) {
    const locale = await localeOf(ctx);
    throw new CommandError("forbidden", t(locale, "account.subscribe.role", { path: escapeMarkdown(access.fullPath), role: roleName(locale, access.accessLevel) }));
  }
  if (access.visibility !== "public" && !ctx.config.allowPrivateProjectsInPublicChannels) {
    const visibility = access.visibility;
    const channel = await ctx.mattermost.getChannel(ctx.channelId).catch(async (error: unknown) => {
      if (error instanceof MattermostError && (error.status === 403 || error.status === 404)) {
        throw new CommandError("bot_not_in_channel", t(await localeOf(ctx), "account.subscribe.bot_not_in_channel"));
      }
      throw error;
    });
    if (channel.type === "O") {
      const locale = await localeOf(ctx);
      throw new CommandError(
        "public_channel",
        t(locale, "account.subscribe.public_channel", {
          path: escapeMarkdown(access.fullPath),
          what: t(locale, `account.subscribe.${visibility}_${access.kind}`),
          setting: "`ALLOW_PRIVATE_PROJECTS_IN_PUBLIC_CHANNELS=true`",
        }),
      );
    }
  }
  return access;
}

/** A command as the person would type it, in a code span. */
function typed(ctx: CommandContext, command: string): string {
  return `\`${ctx.trigger ?? DEFAULT_TRIGGER} ${command}\``;
}

async function pathArgument(ctx: CommandContext): Promise<string> {
  const raw = ctx.args[0];
  if (raw === undefined) throw usageError(t(await localeOf(ctx), "command.subs.name_path"));
  const path = parseSubscriptionPath(raw);
  if (!path) {
    throw usageError(t(await localeOf(ctx), "command.subs.bad_path", { path: escapeMarkdown(raw) }));
  }
  return path;
}

/** The features after the path, canonical; a mistake (named in English, with the keywords) in a sentence in the person's language. */
async function featuresArgument(ctx: CommandContext): Promise<string> {
  try {
    return canonicalFeatures(ctx.args.slice(1).join(" "));
  } catch (error) {
    if (error instanceof CommandError && error.code === "bad_feature") {
      throw new CommandError("bad_feature", t(await localeOf(ctx), "command.subs.bad_features", { error: error.message }));
    }
    throw error;
  }
}

export const subscriptionsAdd: Command = {
  name: "subscriptions add",
  usage: "subscriptions add <group[/subgroup]/project | group> [features]",
  summary: "command.summary.subscriptions_add",
  async run(ctx) {
    const path = await pathArgument(ctx);
    const features = await featuresArgument(ctx);
    await requireChannelAdmin(ctx);
    const access = await requireGitlabAccess(ctx, path);
    const before = (await listSubscriptions(ctx.db, { channelId: ctx.channelId })).find((s) => s.path === path);
    const { created } = await upsertSubscription(ctx.db, {
      channelId: ctx.channelId,
      teamId: ctx.teamId || null,
      path,
      features,
      createdBy: ctx.userId,
      kind: access.kind,
      visibility: access.visibility,
    });
    ctx.logger.info({ channel_id: ctx.channelId, user_id: ctx.userId, path, features, created, visibility: access.visibility }, "subscription saved");
    // Seen by the whole channel: in the bot's default language, as its notifications are.
    const locale = ctx.config.defaultLocale;
    const said = { who: mentionUser(ctx.userName), path: escapeMarkdown(path), features: showFeatures(features) };
    const text =
      created || !before
        ? t(locale, "account.subscribe.added", said)
        : before.features === features
          ? t(locale, "account.subscribe.unchanged", said)
          : t(locale, "account.subscribe.replaced", { ...said, before: showFeatures(before.features) });
    // Nothing is posted until GitLab sends events here: say so while the channel is looking.
    const hint = await missingWebhookHint(ctx, access);
    return inChannel(hint ? `${text}\n${hint}` : text);
  },
};

export const subscriptionsList: Command = {
  name: "subscriptions list",
  usage: "subscriptions list",
  summary: "command.summary.subscriptions_list",
  async run(ctx) {
    if (ctx.args.length > 0) throw usageError();
    const subscriptions = await listSubscriptions(ctx.db, { channelId: ctx.channelId });
    const locale = await localeOf(ctx);
    if (subscriptions.length === 0) {
      return ephemeral(t(locale, "command.subs.none", { add: typed(ctx, "subscriptions add <group/project>") }));
    }
    const rows = subscriptions.map((s) => `| ${escapeMarkdown(s.path)} | ${showFeatures(s.features)} |`);
    return ephemeral([t(locale, "command.subs.title"), "", t(locale, "command.subs.table_head"), "| --- | --- |", ...rows].join("\n"));
  },
};

export const subscriptionsDelete: Command = {
  name: "subscriptions delete",
  usage: "subscriptions delete <group[/subgroup]/project | group>",
  summary: "command.summary.subscriptions_delete",
  async run(ctx) {
    const path = await pathArgument(ctx);
    if (ctx.args.length > 1) throw usageError();
    await requireChannelAdmin(ctx);
    const deleted = await deleteSubscription(ctx.db, ctx.channelId, path);
    if (!deleted) {
      return ephemeral(t(await localeOf(ctx), "command.subs.not_subscribed", { path: escapeMarkdown(path), list: typed(ctx, "subscriptions list") }));
    }
    ctx.logger.info({ channel_id: ctx.channelId, user_id: ctx.userId, path }, "subscription deleted");
    return inChannel(t(ctx.config.defaultLocale, "account.subscribe.deleted", { who: mentionUser(ctx.userName), path: escapeMarkdown(path) }));
  },
};
