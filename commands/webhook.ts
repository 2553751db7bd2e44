// `/gitlab webhook add|list <project | group>`: the GitLab webhook that sends a project's or group's
// events to this bot, made and read as the person who typed the command (GitLab decides: Maintainers
// manage a project's hooks, Owners a group's). A hook the bot makes carries a token derived for that
// project or group alone (src/http/webhook-tokens.ts), so the token cannot speak for anything else.
// Also the line `subscriptions add` shows when no hook reaches the bot yet.
import type { AddResourceHookOptions } from "@gitbeaker/rest";
import { resourceAccess, type ResourceAccess } from "../src/gitlab/access.js";
import { GitlabActionError } from "../src/gitlab/act.js";
import { gitlabStatusOf, type GitlabApi } from "../src/gitlab/client.js";
import { webhookTokenFor } from "../src/http/webhook-tokens.js";
import { t } from "../src/i18n/index.js";
import { ancestorPaths } from "../src/routing/router.js";
import { trimSlashes } from "../src/text/slashes.js";
import { announce, onGitlab } from "./act.js";
import { DEFAULT_TRIGGER } from "./help.js";
import { localeOf } from "./locale.js";
import { parseProjectPath } from "./references.js";
import { CommandError, ephemeral, escapeMarkdown, mentionUser, usageError, type Command, type CommandContext } from "./types.js";

/** Where GitLab must send events: the bot's webhook route under PUBLIC_URL. */
export function botWebhookUrl(ctx: Pick<CommandContext, "config">): string {
  return `${trimSlashes(ctx.config.publicUrl)}/webhooks/gitlab`;
}

/**
 * The events subscriptions can use, as GitLab's hook API names them. GitLab ignores a flag it does
 * not know (an older version, or a tier without it), so newer events are asked for too.
 */
const HOOK_EVENTS = [
  "push_events",
  "tag_push_events",
  "issues_events",
  "confidential_issues_events",
  "merge_requests_events",
  "note_events",
  "confidential_note_events",
  "pipeline_events",
  "job_events",
  "deployment_events",
  "releases_events",
  "wiki_page_events",
  "feature_flag_events",
  "resource_access_token_events",
  "milestone_events",
  "vulnerability_events",
] as const;
/** Events only group hooks have (subgroups, members and projects of the group). */
const GROUP_HOOK_EVENTS = ["subgroup_events", "member_events", "project_events"] as const;

/** The fields of GitLab's hook answer read here. */
interface GitlabHook {
  id: number;
  url: string;
  alert_status?: string;
  [flag: string]: unknown;
}

type HookOwner = Pick<ResourceAccess, "kind" | "fullPath">;

/** The hooks of a project or group; undefined when GitLab has no group hooks (a tier without them answers 404). */
async function hooksOf(api: GitlabApi, owner: HookOwner): Promise<GitlabHook[] | undefined> {
  if (owner.kind === "project") return (await api.ProjectHooks.all(owner.fullPath)) as unknown as GitlabHook[];
  try {
    return (await api.GroupHooks.all(owner.fullPath)) as unknown as GitlabHook[];
  } catch (error) {
    if (gitlabStatusOf(error) === 404) return undefined;
    throw error;
  }
}

/** A hook's address without its query, fragment or credentials (GitLab may hold secrets there). */
function shownUrl(url: string): string {
  if (!URL.canParse(url)) return escapeMarkdown(url.slice(0, 200));
  const parsed = new URL(url);
  return `\`${`${parsed.origin}${parsed.pathname}`.slice(0, 200).replaceAll("`", "")}\``;
}

function typed(ctx: CommandContext, command: string): string {
  return `\`${ctx.trigger ?? DEFAULT_TRIGGER} ${command}\``;
}

async function pathArgument(ctx: CommandContext): Promise<string> {
  const raw = ctx.args[0];
  if (raw === undefined || ctx.args.length > 1) throw usageError();
  const path = parseProjectPath(raw);
  if (!path) throw usageError(t(await localeOf(ctx), "command.subs.bad_path", { path: escapeMarkdown(raw) }));
  return path;
}

/** GitLab's 403 on hooks, said plainly: who may manage them. */
async function whoMayManage(ctx: CommandContext, error: unknown, owner: HookOwner | undefined): Promise<unknown> {
  if (!(error instanceof CommandError) || error.code !== "forbidden" || !owner) return error;
  const key = owner.kind === "group" ? "cmd.webhook.forbidden_group" : "cmd.webhook.forbidden_project";
  return new CommandError("forbidden", t(await localeOf(ctx), key, { path: escapeMarkdown(owner.fullPath) }));
}

/** The project or group at `path` as the person sees it; GitLab's "not found" when it does not exist for them. */
async function ownerOf(api: GitlabApi, gitlabUserId: number, path: string): Promise<ResourceAccess> {
  const owner = await resourceAccess(api, gitlabUserId, path);
  if (!owner) throw new GitlabActionError({ code: "not_found", status: 404 });
  return owner;
}

export const webhookAdd: Command = {
  name: "webhook add",
  usage: "webhook add <project | group>",
  summary: "command.summary.webhook_add",
  needs: ["connected"],
  async run(ctx) {
    const path = await pathArgument(ctx);
    const masterSecret = ctx.config.webhookSecrets?.[0];
    if (!masterSecret) throw new CommandError("not_configured", t(await localeOf(ctx), "cmd.webhook.no_secret", { setting: "`GITLAB_WEBHOOK_SECRET`" }));
    const url = botWebhookUrl(ctx);
    const seen: { owner?: ResourceAccess } = {};
    const { owner, outcome } = await onGitlab(ctx, { action: "webhook.add", object: path }, async (api, link) => {
      const owner = (seen.owner = await ownerOf(api, link.gitlabUserId, path));
      const hooks = await hooksOf(api, owner);
      if (!hooks) return { owner, outcome: "no_group_hooks" as const };
      const events = [...HOOK_EVENTS, ...(owner.kind === "group" ? GROUP_HOOK_EVENTS : [])];
      const options = {
        ...Object.fromEntries(events.map((flag) => [flag, true])),
        enable_ssl_verification: true,
        token: webhookTokenFor(masterSecret, { kind: owner.kind, path: owner.fullPath }),
      } as AddResourceHookOptions;
      const resources = owner.kind === "project" ? api.ProjectHooks : api.GroupHooks;
      // The same address again would deliver every event twice: the existing hook is brought up to date.
      const existing = hooks.find((h) => h.url === url);
      if (existing) await resources.edit(owner.fullPath, existing.id, url, options);
      else await resources.add(owner.fullPath, url, options);
      return { owner, outcome: existing ? ("updated" as const) : ("created" as const) };
    }).catch(async (error: unknown) => {
      throw await whoMayManage(ctx, error, seen.owner);
    });
    const shown = escapeMarkdown(owner.fullPath);
    if (outcome === "no_group_hooks") {
      return ephemeral(t(await localeOf(ctx), "cmd.webhook.no_group_hooks", { path: shown, command: typed(ctx, `webhook add ${owner.fullPath}/<project>`) }));
    }
    ctx.logger.info({ user_id: ctx.userId, path: owner.fullPath, kind: owner.kind, outcome }, "GitLab webhook saved");
    const said = { who: mentionUser(ctx.userName), path: shown };
    return announce(ctx, async () => owner.visibility, (locale) => t(locale, outcome === "created" ? "cmd.webhook.created" : "cmd.webhook.updated", said));
  },
};

/** One hook as a list line: its address, whether it reaches the bot, and what keeps it from working. */
function hookLine(hook: GitlabHook, botUrl: string, locale: Parameters<typeof t>[0]): string {
  const notes: string[] = [];
  const reaches = hook.url === botUrl;
  notes.push(t(locale, reaches ? "cmd.webhook.reaches_bot" : "cmd.webhook.elsewhere"));
  if (hook.alert_status !== undefined && hook.alert_status !== "executable") notes.push(t(locale, "cmd.webhook.disabled"));
  if (reaches) {
    // Only flags GitLab reported: an older GitLab's hooks lack the newer ones.
    const off = HOOK_EVENTS.filter((flag) => hook[flag] === false).map((flag) => flag.replace(/_events$/, ""));
    if (off.length > 0) notes.push(t(locale, "cmd.webhook.missing_events", { events: off.join(", ") }));
  }
  return `- ${shownUrl(hook.url)}: ${notes.join("; ")}`;
}

export const webhookList: Command = {
  name: "webhook list",
  usage: "webhook list <project | group>",
  summary: "command.summary.webhook_list",
  needs: ["connected"],
  async run(ctx) {
    const path = await pathArgument(ctx);
    const seen: { owner?: ResourceAccess } = {};
    const { owner, hooks } = await onGitlab(ctx, { object: path }, async (api, link) => {
      const owner = (seen.owner = await ownerOf(api, link.gitlabUserId, path));
      return { owner, hooks: await hooksOf(api, owner) };
    }).catch(async (error: unknown) => {
      throw await whoMayManage(ctx, error, seen.owner);
    });
    const locale = await localeOf(ctx);
    const shown = escapeMarkdown(owner.fullPath);
    const add = typed(ctx, `webhook add ${owner.fullPath}`);
    if (!hooks) return ephemeral(t(locale, "cmd.webhook.no_group_hooks", { path: shown, command: typed(ctx, `webhook add ${owner.fullPath}/<project>`) }));
    if (hooks.length === 0) return ephemeral(t(locale, "cmd.webhook.list_none", { path: shown, command: add }));
    const botUrl = botWebhookUrl(ctx);
    const lines = [t(locale, "cmd.webhook.list_title", { path: shown }), ...hooks.map((h) => hookLine(h, botUrl, locale))];
    if (!hooks.some((h) => h.url === botUrl)) lines.push(t(locale, "cmd.webhook.list_add", { command: add }));
    return ephemeral(lines.join("\n"));
  },
};

/**
 * For `subscriptions add`: a line for the channel (in DEFAULT_LOCALE) when no hook of the project or
 * group, nor of any group above it, sends events to this bot; undefined when one does, or when the
 * person may not read the hooks (GitLab's 403: below Maintainer), or GitLab could not say.
 */
export async function missingWebhookHint(ctx: CommandContext, subscribed: HookOwner): Promise<string | undefined> {
  const botUrl = botWebhookUrl(ctx);
  const owners: HookOwner[] = [subscribed, ...ancestorPaths(subscribed.fullPath).slice(1).map((fullPath) => ({ kind: "group" as const, fullPath }))];
  try {
    const reached = await onGitlab(ctx, { object: subscribed.fullPath }, async (api) => {
      for (const owner of owners) {
        let hooks: GitlabHook[] | undefined;
        try {
          hooks = await hooksOf(api, owner);
        } catch (error) {
          // Not allowed to read them: a hook may exist that this person cannot see.
          if (gitlabStatusOf(error) === 403) return "unknown" as const;
          throw error;
        }
        if (hooks?.some((h) => h.url === botUrl)) return "yes" as const;
      }
      return "no" as const;
    });
    if (reached !== "no") return undefined;
  } catch (error) {
    if (!(error instanceof CommandError)) ctx.logger.warn({ err: error instanceof Error ? error.message : String(error), path: subscribed.fullPath }, "could not check the webhooks of a new subscription");
    return undefined;
  }
  return t(ctx.config.defaultLocale, "cmd.webhook.hint", { path: escapeMarkdown(subscribed.fullPath), command: typed(ctx, `webhook add ${subscribed.fullPath}`) });
}
