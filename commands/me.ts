// `/gitlab me`: which GitLab account this Mattermost user is connected to (checked with GitLab when it can be).
import { describeGitlabError } from "../src/gitlab/client.js";
import { GitlabAuthError } from "../src/gitlab/tokens.js";
import { findUserLink } from "../src/store/user-links.js";
import { DEFAULT_TRIGGER } from "./help.js";
import { ephemeral, escapeMarkdown, gitlabAuthProblem, usageError, type Command } from "./types.js";

export const me: Command = {
  name: "me",
  usage: "me",
  summary: "show the GitLab account you are connected as",
  async run(ctx) {
    if (ctx.args.length > 0) throw usageError();
    const trigger = ctx.trigger ?? DEFAULT_TRIGGER;
    const link = await findUserLink(ctx.db, ctx.userId);
    if (!link) return ephemeral(`Your Mattermost account is not connected to GitLab. Type \`${trigger} connect\` to connect it.`);
    const who = `@${escapeMarkdown(link.gitlabUsername)}`;
    const since = link.createdAt.slice(0, 10);
    if (!ctx.gitlab?.ready) return ephemeral(`You are connected to GitLab as ${who} (GitLab user id ${link.gitlabUserId}) since ${since}.`);
    const accounts = ctx.gitlab.accounts;
    const profile = `${accounts.gitlabUrl}/${encodeURIComponent(link.gitlabUsername)}`;
    try {
      const user = (await accounts.withUser(ctx.userId, (api) => api.Users.showCurrentUser())) as unknown as { username?: string; name?: string };
      const name = user.name ? ` (${escapeMarkdown(user.name)})` : "";
      return ephemeral(`You are connected to GitLab as [${who}](${profile})${name} since ${since}. \`${trigger} disconnect\` disconnects it.`);
    } catch (error) {
      if (error instanceof GitlabAuthError) throw gitlabAuthProblem(error, trigger)!;
      ctx.logger.warn({ err: describeGitlabError(error) }, "could not confirm the GitLab account");
      return ephemeral(`You are connected to GitLab as [${who}](${profile}) since ${since}. (GitLab could not be asked to confirm it just now.)`);
    }
  },
};
