// `/gitlab todo`: what waits for you in GitLab (pending to-dos, merge requests awaiting your review,
// your open merge requests, issues assigned to you), asked of GitLab with your own authorization.
import { describeGitlabError } from "../src/gitlab/client.js";
import { t } from "../src/i18n/index.js";

import { fetchTodo, formatTodo } from "../src/people/todo.js";

import { DEFAULT_TRIGGER } from "./help.js";
import { localeOf } from "./locale.js";
import { ephemeral, gitlabAuthProblem, requireGitlab, usageError, type Command } from "./types.js";

export const todo: Command = {
  name: "todo",
  usage: "todo",
  summary: "command.summary.todo",
  async run(ctx) {
    if (ctx.args.length > 0) throw usageError();
    const locale = await localeOf(ctx);
    const accounts = requireGitlab(ctx, locale);
    let text: string;
    try {
      text = formatTodo(locale, await fetchTodo(accounts, ctx.userId), accounts.gitlabUrl);
    } catch (error) {
      const problem = gitlabAuthProblem(error, ctx.trigger ?? DEFAULT_TRIGGER, locale);
      if (problem) throw problem;
      ctx.logger.warn({ err: describeGitlabError(error) }, "to-do list not fetched");
      return ephemeral(t(locale, "todo.failed", { error: describeGitlabError(error) }));
    }
    // A connected user gets their daily reminder scheduled (it may not be yet, right after connecting).
    await ctx.people?.syncReminder(ctx.userId).catch((error: Error) => ctx.logger.warn({ err: error.message }, "reminder schedule not updated"));
    return ephemeral(text);
  },
};
