// `/gitlab connect`: a single-use link (10 minutes) that takes the person's browser through GitLab's
// OAuth consent and back (src/http/oauth-routes.ts). Only the person who typed it sees the link.
import { findUserLink } from "../src/store/user-links.js";
import { DEFAULT_TRIGGER } from "./help.js";
import { ephemeral, escapeMarkdown, requireGitlab, usageError, type Command } from "./types.js";

export const connect: Command = {
  name: "connect",
  usage: "connect",
  summary: "connect your GitLab account, so the bot can act for you and tell you what concerns you",
  async run(ctx) {
    if (ctx.args.length > 0) throw usageError();
    const accounts = requireGitlab(ctx);
    const existing = await findUserLink(ctx.db, ctx.userId);
    const url = await accounts.connectUrl({ id: ctx.userId, username: ctx.userName });
    const trigger = ctx.trigger ?? DEFAULT_TRIGGER;
    const lines = [
      existing
        ? `You are connected to GitLab as @${escapeMarkdown(existing.gitlabUsername)}. To connect another GitLab account instead: [connect to GitLab](${url})`
        : `[Connect your GitLab account](${url}): sign in to GitLab and authorize this bot (scope \`api\`).`,
      `The link works once, only for you, for 10 minutes. \`${trigger} disconnect\` undoes it.`,
    ];
    return ephemeral(lines.join("\n"));
  },
};
