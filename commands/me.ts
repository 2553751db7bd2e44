// `/gitlab me`: which GitLab account this Mattermost user is connected to (checked with GitLab when it
// can be). Replies are in the person's language.
import { describeGitlabError } from "../src/gitlab/client.js";
import { GitlabAuthError } from "../src/gitlab/tokens.js";
import { t } from "../src/i18n/index.js";

import { findUserLink } from "../src/store/user-links.js";

import { DEFAULT_TRIGGER } from "./help.js";
import { localeOf } from "./locale.js";
import { ephemeral, escapeMarkdown, gitlabAuthProblem, usageError, type Command } from "./types.js";

export const me: Command = {
  name: "me",
  usage: "me",
  summary: "command.summary.me",
  async run(ctx) {
    if (ctx.args.length > 0) throw usageError();
    const trigger = ctx.trigger ?? DEFAULT_TRIGGER;
    const locale = await localeOf(ctx);
    const link = await findUserLink(ctx.db, ctx.userId);
    if (!link) return ephemeral(t(locale, "account.not_connected", { command: `\`${trigger} connect\`` }));
    const who = escapeMarkdown(`@${link.gitlabUsername}`);
    const since = link.createdAt.slice(0, 10);
    if (!ctx.gitlab?.ready) return ephemeral(t(locale, "account.me.offline", { who, id: link.gitlabUserId, since }));
    const accounts = ctx.gitlab.accounts;
    const profile = `${accounts.gitlabUrl}/${encodeURIComponent(link.gitlabUsername)}`;
    try {
      const user = (await accounts.withUser(ctx.userId, (api) => api.Users.showCurrentUser())) as unknown as { username?: string; name?: string };
      const command = `\`${trigger} disconnect\``;
      return ephemeral(
        user.name
          ? t(locale, "account.me.confirmed_named", { who: `[${who}](${profile})`, name: escapeMarkdown(user.name), since, command })
          : t(locale, "account.me.confirmed", { who: `[${who}](${profile})`, since, command }),
      );
    } catch (error) {
      if (error instanceof GitlabAuthError) throw gitlabAuthProblem(error, trigger, locale)!;
      ctx.logger.warn({ err: describeGitlabError(error) }, "could not confirm the GitLab account");
      return ephemeral(t(locale, "account.me.unconfirmed", { who: `[${who}](${profile})`, since }));
    }
  },
};
