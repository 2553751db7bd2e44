// The checks commands declare in `needs` (./types.ts), enforced here before a command runs, as Bolt's
// middleware and the Mattermost GitLab plugin's authenticated handlers do: one place, not one copy
// per command. A failed check throws a CommandError whose message is the reply.
import { t } from "../src/i18n/index.js";
import { findUserLink } from "../src/store/user-links.js";
import { DEFAULT_TRIGGER } from "./help.js";
import { localeOf } from "./locale.js";
import { CommandError, requireGitlab, type CommandContext, type Requirement } from "./types.js";

/** Channel admins (and system admins) manage what a channel receives. */
export async function requireChannelAdmin(ctx: CommandContext): Promise<void> {
  const member = await ctx.mattermost.getChannelMember(ctx.channelId, ctx.userId);
  const memberRoles = (member?.roles ?? "").split(/\s+/);
  if (member?.scheme_admin || memberRoles.includes("channel_admin")) return;
  const user = await ctx.mattermost.getUser(ctx.userId);
  if ((user.roles ?? "").split(/\s+/).includes("system_admin")) return;
  const list = `\`${ctx.trigger ?? DEFAULT_TRIGGER} subscriptions list\``;
  throw new CommandError("forbidden", t(await localeOf(ctx), "command.subs.admin_only", { list }));
}

/** GitLab is configured for accounts and the person has linked theirs. */
export async function requireConnected(ctx: CommandContext): Promise<void> {
  requireGitlab(ctx, await localeOf(ctx));
  if (await findUserLink(ctx.db, ctx.userId)) return;
  const command = `\`${ctx.trigger ?? DEFAULT_TRIGGER} connect\``;
  throw new CommandError("not_connected", t(await localeOf(ctx), "command.needs_connected", { command }));
}

const checks: Record<Requirement, (ctx: CommandContext) => Promise<void>> = {
  connected: requireConnected,
  channel_admin: requireChannelAdmin,
};

export async function enforceRequirements(needs: readonly Requirement[] | undefined, ctx: CommandContext): Promise<void> {
  for (const need of needs ?? []) await checks[need](ctx);
}
