// `/gitlab disconnect`: revoke the bot's tokens at GitLab and forget the link.
import { deleteUserLink, findUserLink } from "../src/store/user-links.js";
import { ephemeral, escapeMarkdown, gitlabAuthProblem, usageError, type Command } from "./types.js";
import { DEFAULT_TRIGGER } from "./help.js";

export const disconnect: Command = {
  name: "disconnect",
  usage: "disconnect",
  summary: "disconnect your GitLab account (the bot's access is revoked at GitLab)",
  async run(ctx) {
    if (ctx.args.length > 0) throw usageError();
    const trigger = ctx.trigger ?? DEFAULT_TRIGGER;
    const notConnected = ephemeral(`Your Mattermost account is not connected to GitLab. (\`${trigger} connect\` connects it.)`);
    const manual = "remove this application in GitLab under User Settings > Applications to revoke its access";
    if (!ctx.gitlab?.ready) {
      // Without the OAuth settings GitLab cannot be asked to revoke; forget the link all the same.
      const link = await findUserLink(ctx.db, ctx.userId);
      if (!link || !(await deleteUserLink(ctx.db, ctx.userId))) return notConnected;
      return ephemeral(`Disconnected from GitLab account @${escapeMarkdown(link.gitlabUsername)} here. This bot cannot reach GitLab, so ${manual}.`);
    }
    let result;
    try {
      result = await ctx.gitlab.accounts.tokens.unlink(ctx.userId);
    } catch (error) {
      throw gitlabAuthProblem(error, trigger) ?? error;
    }
    if (!result) return notConnected;
    ctx.logger.info({ user_id: ctx.userId, gitlab_username: result.link.gitlabUsername, revoked: result.revoked }, "GitLab account disconnected");
    const who = `@${escapeMarkdown(result.link.gitlabUsername)}`;
    return ephemeral(
      result.revoked
        ? `Disconnected from GitLab account ${who}; the bot's access was revoked at GitLab.`
        : `Disconnected from GitLab account ${who} here, but GitLab could not be asked to revoke the bot's access: ${manual}.`,
    );
  },
};
