// `/gitlab subscriptions add|list|delete` (SPEC.md "Slash command grammar"): which GitLab projects
// and groups post to this channel, with which features.
import { ACCESS_LEVEL, accessLevelName, type ResourceAccess } from "../src/gitlab/access.js";
import { describeGitlabError } from "../src/gitlab/client.js";
import { MattermostError } from "../src/mattermost/client.js";
import { FeatureError, formatFeatures, parseFeatures } from "../src/routing/features.js";
import { deleteSubscription, listSubscriptions, normalizePath, upsertSubscription } from "../src/store/subscriptions.js";
import { DEFAULT_TRIGGER } from "./help.js";
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

const SEGMENT = /^[A-Za-z0-9_.-]+$/;

/**
 * A GitLab project or group path ("group", "group/sub/project"): segments of letters, digits, `_`,
 * `.` and `-`, no leading or trailing slash. Returns it normalised (lower case), or undefined.
 */
export function parseSubscriptionPath(text: string | undefined): string | undefined {
  if (!text || text.length > 1024) return undefined;
  const segments = text.split("/");
  if (segments.some((s) => !SEGMENT.test(s) || s === "." || s === "..")) return undefined;
  return normalizePath(text);
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

/** Channel admins (and system admins) manage a channel's subscriptions; adding one also needs GitLab's word (below). */
async function requireChannelAdmin(ctx: CommandContext, action: string): Promise<void> {
  const member = await ctx.mattermost.getChannelMember(ctx.channelId, ctx.userId);
  const memberRoles = (member?.roles ?? "").split(/\s+/);
  if (member?.scheme_admin || memberRoles.includes("channel_admin")) return;
  const user = await ctx.mattermost.getUser(ctx.userId);
  if ((user.roles ?? "").split(/\s+/).includes("system_admin")) return;
  throw new CommandError(
    "forbidden",
    `Only a channel admin or a system admin can ${action} this channel's subscriptions. Ask one of them, or use ${typed(ctx, "subscriptions list")} to see what is subscribed.`,
  );
}

/**
 * Who may subscribe (issue 4, item 3): the person's connected GitLab account must see the project or
 * group with Reporter or above, and a private or internal one goes only to a private channel unless
 * ALLOW_PRIVATE_PROJECTS_IN_PUBLIC_CHANNELS. Returns what GitLab said, to be stored with the subscription.
 */
async function requireGitlabAccess(ctx: CommandContext, path: string): Promise<ResourceAccess> {
  const accounts = requireGitlab(ctx);
  const trigger = ctx.trigger ?? DEFAULT_TRIGGER;
  let access: ResourceAccess | undefined;
  try {
    access = await accounts.access(ctx.userId, path);
  } catch (error) {
    const problem = gitlabAuthProblem(error, trigger);
    if (problem) {
      if (problem.code === "not_connected") {
        throw new CommandError(
          "not_connected",
          `To subscribe a channel, connect your GitLab account first (\`${trigger} connect\`): GitLab must confirm that you can see ${escapeMarkdown(path)}.`,
        );
      }
      throw problem;
    }
    ctx.logger.warn({ path, err: describeGitlabError(error) }, "could not check GitLab access for a subscription");
    throw new CommandError("gitlab_unavailable", `GitLab could not be asked whether you can see ${escapeMarkdown(path)}; nothing was changed. Please try again later.`);
  }
  if (!access) {
    throw new CommandError(
      "not_found",
      `GitLab has no project or group ${escapeMarkdown(path)} that your GitLab account can see. Check the path (as in its URL), or ask for access to it.`,
    );
  }
  if (access.accessLevel < ACCESS_LEVEL.reporter) {
    throw new CommandError(
      "forbidden",
      `Subscribing a channel to ${escapeMarkdown(access.fullPath)} needs the Reporter role or above in it; GitLab says you have ${accessLevelName(access.accessLevel)}.`,
    );
  }
  if (access.visibility !== "public" && !ctx.config.allowPrivateProjectsInPublicChannels) {
    const channel = await ctx.mattermost.getChannel(ctx.channelId).catch((error: unknown) => {
      if (error instanceof MattermostError && (error.status === 403 || error.status === 404)) {
        throw new CommandError("bot_not_in_channel", "The bot cannot see this channel: add it to the channel first, then subscribe again.");
      }
      throw error;
    });
    if (channel.type === "O") {
      throw new CommandError(
        "public_channel",
        `${escapeMarkdown(access.fullPath)} is ${access.visibility === "internal" ? "an" : "a"} ${access.visibility} ${access.kind}: its events may only be posted in a private channel. Subscribe a private channel instead (your administrator can allow public channels with \`ALLOW_PRIVATE_PROJECTS_IN_PUBLIC_CHANNELS=true\`).`,
      );
    }
  }
  return access;
}

/** A command as the person would type it, in a code span. */
function typed(ctx: CommandContext, command: string): string {
  return `\`${ctx.trigger ?? DEFAULT_TRIGGER} ${command}\``;
}

function pathArgument(ctx: CommandContext): string {
  const raw = ctx.args[0];
  if (raw === undefined) throw usageError("Name the GitLab project or group, e.g. `my-group/my-project` or `my-group`.");
  const path = parseSubscriptionPath(raw);
  if (!path) {
    throw usageError(
      `"${escapeMarkdown(raw)}" is not a GitLab project or group path: use its path as in its URL, e.g. \`my-group/sub-group/my-project\` (letters, digits, \`_\`, \`.\`, \`-\`; no leading or trailing \`/\`).`,
    );
  }
  return path;
}

export const subscriptionsAdd: Command = {
  name: "subscriptions add",
  usage: "subscriptions add <group[/subgroup]/project | group> [features]",
  summary: "post this project's or group's events in this channel (features comma-separated; default: the common ones)",
  async run(ctx) {
    const path = pathArgument(ctx);
    const features = canonicalFeatures(ctx.args.slice(1).join(" "));
    await requireChannelAdmin(ctx, "change");
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
    const who = mentionUser(ctx.userName);
    if (created || !before) return inChannel(`${who} subscribed this channel to ${escapeMarkdown(path)}: ${showFeatures(features)}`);
    if (before.features === features) return inChannel(`${who} confirmed this channel's subscription to ${escapeMarkdown(path)}: ${showFeatures(features)} (unchanged)`);
    return inChannel(
      `${who} replaced this channel's subscription to ${escapeMarkdown(path)}: ${showFeatures(features)} (was: ${showFeatures(before.features)})`,
    );
  },
};

export const subscriptionsList: Command = {
  name: "subscriptions list",
  usage: "subscriptions list",
  summary: "show this channel's subscriptions",
  async run(ctx) {
    if (ctx.args.length > 0) throw usageError();
    const subscriptions = await listSubscriptions(ctx.db, { channelId: ctx.channelId });
    if (subscriptions.length === 0) {
      return ephemeral(`This channel has no GitLab subscriptions. Add one with ${typed(ctx, "subscriptions add <group/project>")}.`);
    }
    const rows = subscriptions.map((s) => `| ${escapeMarkdown(s.path)} | ${showFeatures(s.features)} |`);
    return ephemeral(["This channel's GitLab subscriptions:", "", "| Project or group | Features |", "| --- | --- |", ...rows].join("\n"));
  },
};

export const subscriptionsDelete: Command = {
  name: "subscriptions delete",
  usage: "subscriptions delete <group[/subgroup]/project | group>",
  summary: "stop posting this project's or group's events in this channel",
  async run(ctx) {
    const path = pathArgument(ctx);
    if (ctx.args.length > 1) throw usageError();
    await requireChannelAdmin(ctx, "change");
    const deleted = await deleteSubscription(ctx.db, ctx.channelId, path);
    if (!deleted) {
      return ephemeral(`This channel has no subscription to ${escapeMarkdown(path)}. See ${typed(ctx, "subscriptions list")} for the ones it has.`);
    }
    ctx.logger.info({ channel_id: ctx.channelId, user_id: ctx.userId, path }, "subscription deleted");
    return inChannel(`${mentionUser(ctx.userName)} unsubscribed this channel from ${escapeMarkdown(path)}.`);
  },
};
