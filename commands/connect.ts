// `/gitlab connect`: a single-use link (10 minutes) that takes the person's browser through GitLab's
// OAuth consent and back (src/http/oauth-routes.ts). Only the person who typed it sees the link.
// Replies are in the person's language.
import { t } from "../src/i18n/index.js";

import { findUserLink } from "../src/store/user-links.js";

import { DEFAULT_TRIGGER } from "./help.js";
import { localeOf } from "./locale.js";
import { ephemeral, escapeMarkdown, requireGitlab, usageError, type Command } from "./types.js";

export const connect: Command = {
  name: "connect",
  usage: "connect",
  summary: "command.summary.connect",
  async run(ctx) {
    if (ctx.args.length > 0) throw usageError();
    const locale = await localeOf(ctx);
    const accounts = requireGitlab(ctx, locale);
    const existing = await findUserLink(ctx.db, ctx.userId);
    const url = await accounts.connectUrl({ id: ctx.userId, username: ctx.userName });
    const trigger = ctx.trigger ?? DEFAULT_TRIGGER;
    const lines = [
      existing
        ? t(locale, "account.connect.existing", { who: escapeMarkdown(`@${existing.gitlabUsername}`), link: `[${t(locale, "account.connect.link_other")}](${url})` })
        : t(locale, "account.connect.new", { link: `[${t(locale, "account.connect.link")}](${url})`, scope: "`api`" }),
      t(locale, "account.connect.once", { command: `\`${trigger} disconnect\`` }),
    ];
    return ephemeral(lines.join("\n"));
  },
};
