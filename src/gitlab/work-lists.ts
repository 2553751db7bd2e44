// What waits for a user in GitLab, asked with their own token: pending to-dos, merge requests awaiting
// their review, their open merge requests and the issues assigned to them. Each list is one request
// for its first page; the count comes from GitLab's X-Total header.
import type { GitlabApi } from "./client.js";

export interface WorkItem {
  /** "group/project!12", "group/project#3" (or the to-do's target as GitLab names it). */
  reference: string;
  title: string;
  url?: string;
  /** To-dos: what happened (GitLab's action_name: assigned, mentioned, review_requested, ...). */
  action?: string;
  /** Username of who caused it (to-dos) or who wrote it (merge requests). */
  author?: string;
}

export interface WorkList {
  /** How many there are in all (at least `items.length`). */
  total: number;
  /** The first few. */
  items: WorkItem[];
}

export interface WorkLists {
  todos: WorkList;
  reviews: WorkList;
  mine: WorkList;
  issues: WorkList;
}

type Json = Record<string, unknown>;
type Expanded = { data: Json[]; paginationInfo?: { total?: number } };

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

function listOf(answer: unknown, item: (j: Json) => WorkItem): WorkList {
  const { data, paginationInfo } = answer as Expanded;
  const items = (Array.isArray(data) ? data : []).map(item);
  // GitLab leaves X-Total out past 10,000 rows; then at least what we got.
  const total = Number.isFinite(paginationInfo?.total) ? Math.max(Number(paginationInfo?.total), items.length) : items.length;
  return { total, items };
}

function referenceOf(j: Json, sigil: "!" | "#"): string {
  const references = (j.references ?? {}) as Json;
  return str(references.full) ?? `${sigil}${String(j.iid ?? "")}`;
}

function todoItem(j: Json): WorkItem {
  const target = (j.target ?? {}) as Json;
  const project = (j.project ?? {}) as Json;
  const sigil = j.target_type === "MergeRequest" ? "!" : "#";
  const iid = typeof target.iid === "number" ? `${sigil}${target.iid}` : "";
  const path = str(project.path_with_namespace) ?? "";
  return {
    reference: str((target.references as Json | undefined)?.full) ?? `${path}${iid}`,
    title: str(target.title) ?? str(j.body) ?? "",
    url: str(j.target_url),
    action: str(j.action_name),
    author: str((j.author as Json | undefined)?.username),
  };
}

const mergeRequestItem = (j: Json): WorkItem => ({
  reference: referenceOf(j, "!"),
  title: str(j.title) ?? "",
  url: str(j.web_url),
  author: str((j.author as Json | undefined)?.username),
});

const issueItem = (j: Json): WorkItem => ({ reference: referenceOf(j, "#"), title: str(j.title) ?? "", url: str(j.web_url) });

/** The four lists, `limit` items each, asked of GitLab at once. */
export async function fetchWorkLists(api: GitlabApi, gitlabUserId: number, limit = 5): Promise<WorkLists> {
  const page = { perPage: limit, page: 1, showExpanded: true as const };
  const [todos, reviews, mine, issues] = await Promise.all([
    api.TodoLists.all({ state: "pending", ...page }),
    api.MergeRequests.all({ scope: "all", state: "opened", reviewerId: gitlabUserId, ...page }),
    api.MergeRequests.all({ scope: "created_by_me", state: "opened", ...page }),
    api.Issues.all({ scope: "assigned_to_me", state: "opened", ...page }),
  ]);
  return {
    todos: listOf(todos, todoItem),
    reviews: listOf(reviews, mergeRequestItem),
    mine: listOf(mine, mergeRequestItem),
    issues: listOf(issues, issueItem),
  };
}
