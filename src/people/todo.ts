// `/gitlab todo` and the daily reminder share this: what waits for a user in GitLab, fetched with
// their own authorization (src/gitlab/), and written as one Markdown message in their language.
import type { Locale } from "../config.js";
import type { GitlabAccounts } from "../gitlab/accounts.js";
import { fetchWorkLists, type WorkItem, type WorkList, type WorkLists } from "../gitlab/work-lists.js";
import { t, type MessageKey } from "../i18n/index.js";
import { escapeInline, linkMarkdown } from "../text/markdown.js";

/** Items shown per list. */
export const TODO_SHOWN = 5;

export interface TodoSummary extends WorkLists {
  gitlabUsername: string;
}

/** The user's lists; throws GitlabAuthError when they are not connected (or no longer). */
export async function fetchTodo(accounts: Pick<GitlabAccounts, "withUser">, mattermostUserId: string, limit = TODO_SHOWN): Promise<TodoSummary> {
  return accounts.withUser(mattermostUserId, async (api, link) => ({ ...(await fetchWorkLists(api, link.gitlabUserId, limit)), gitlabUsername: link.gitlabUsername }));
}

/** How many things wait in all. */
export function pendingCount(s: WorkLists): number {
  return s.todos.total + s.reviews.total + s.mine.total + s.issues.total;
}

type ActionKey = Extract<MessageKey, `todo.action.${string}`>;
const ACTIONS = new Set([
  "assigned",
  "mentioned",
  "build_failed",
  "marked",
  "approval_required",
  "unmergeable",
  "directly_addressed",
  "review_requested",
  "review_submitted",
  "merge_train_removed",
  "member_access_requested",
]);

function actionText(locale: Locale, action: string | undefined): string {
  if (!action) return "";
  return ACTIONS.has(action) ? t(locale, `todo.action.${action}` as ActionKey) : escapeInline(action.replace(/_/g, " "), 60);
}

function itemLine(locale: Locale, item: WorkItem, withAction: boolean): string {
  const label = escapeInline(`${item.reference} ${item.title}`.trim(), 160);
  const parts = [item.url ? linkMarkdown(label, item.url) : label];
  if (withAction && item.action) parts.push(actionText(locale, item.action));
  // Shown, never mentioned: "@\u200Bname".
  if (item.author) parts.push(escapeInline(`@${item.author}`, 80));
  return `- ${parts.join(" · ")}`;
}

function section(locale: Locale, key: Extract<MessageKey, `todo.section.${string}`>, list: WorkList, moreUrl: string, withAction = false): string[] {
  if (list.total === 0) return [];
  const lines = [t(locale, key, { count: list.total }), ...list.items.map((i) => itemLine(locale, i, withAction))];
  if (list.total > list.items.length) lines.push(`- ${linkMarkdown(t(locale, "common.and_more", { count: list.total - list.items.length }), moreUrl)}`);
  return lines;
}

/** The message: a title, then each non-empty list with its count, top items and a link to the rest. */
export function formatTodo(locale: Locale, s: TodoSummary, gitlabUrl: string, purpose: "command" | "reminder" = "command"): string {
  const base = gitlabUrl.replace(/\/+$/, "");
  const user = encodeURIComponent(s.gitlabUsername);
  const title = t(locale, purpose === "reminder" ? "todo.reminder_title" : "todo.title");
  if (pendingCount(s) === 0) return `${title}\n${t(locale, "todo.nothing")}`;
  const blocks = [
    section(locale, "todo.section.todos", s.todos, `${base}/dashboard/todos`, true),
    section(locale, "todo.section.reviews", s.reviews, `${base}/dashboard/merge_requests?reviewer_username=${user}`),
    section(locale, "todo.section.mine", s.mine, `${base}/dashboard/merge_requests?author_username=${user}`),
    section(locale, "todo.section.issues", s.issues, `${base}/dashboard/issues?assignee_username=${user}`),
  ].filter((b) => b.length > 0);
  return [title, ...blocks.map((b) => b.join("\n"))].join("\n\n");
}
