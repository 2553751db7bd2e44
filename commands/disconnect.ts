// `/gitlab disconnect`: revoke the bot's tokens at GitLab and forget the link. Replies are in the
// person's language.
import { t } from "../src/i18n/index.js";

import { deleteUserLink, findUserLink } from "../src/store/user-links.js";

import { DEFAULT_TRIGGER } from "./help.js";
import { localeOf } from "./locale.js";
import { ephemeral, escapeMarkdown, gitlabAuthProblem, usageError, type Command } from "./types.js";

export const disconnect: Command = {
  name: "disconnect",
  usage: "disconnect",
  summary: "command.summary.disconnect",
  async run(ctx) {
    if (ctx.args.length > 0) throw usageError();
    const trigger = ctx.trigger ?? DEFAULT_TRIGGER;
    const locale = await localeOf(ctx);
    const notConnected = ephemeral(t(locale, "account.not_connected", { command: `\`${trigger} connect\`` }));
    if (!ctx.gitlab?.ready) {
      // Without the OAuth settings GitLab cannot be asked to revoke; forget the link all the same.
      const link = await findUserLink(ctx.db, ctx.userId);
      if (!link || !(await deleteUserLink(ctx.db, ctx.userId))) return notConnected;
      return ephemeral(t(locale, "account.disconnect.unreachable", { who: escapeMarkdown(`@${link.gitlabUsername}`) }));
    }
    let result;
    try {
      result = await ctx.gitlab.accounts.tokens.unlink(ctx.userId);
    } catch (error) {
      throw gitlabAuthProblem(error, trigger, locale) ?? error;
    }
    if (!result) return notConnected;
    ctx.logger.info({ user_id: ctx.userId, gitlab_username: result.link.gitlabUsername, revoked: result.revoked }, "GitLab account disconnected");
    const who = escapeMarkdown(`@${result.link.gitlabUsername}`);
    return ephemeral(t(locale, result.revoked ? "account.disconnect.revoked" : "account.disconnect.not_revoked", { who }));
  },
};
