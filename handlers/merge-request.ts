// Merge request events: opened, reopened, closed, merged, approved, approval revoked; of updates only
// "marked as ready" (draft true -> false) and "review requested" (reviewers added) are posted.
import type { Locale } from "../src/config.js";
import { t, type MessageKey } from "../src/i18n/index.js";
import type { Notification, ThreadUpdate } from "../src/notification.js";
import { escapeInline, linkMarkdown } from "../src/text/markdown.js";
import { type Actor, actorMarkdown, buildPost, COLORS, eventKey, excerpt, keyPart, labelList, labelTitles, timeKey, userList } from "./common.js";
import type { GitLabUser, MergeRequestPayload } from "./payloads.js";

type Change = "open" | "reopen" | "close" | "merge" | "approved" | "unapproved" | "ready" | "review_requested";
/** The messages that take just {actor} and {mr}. */
type SimpleKey = Exclude<Extract<MessageKey, `mr.${string}`>, "mr.review_requested">;

const LOOK: Record<Exclude<Change, "review_requested">, { key: SimpleKey; color: string }> = {
  open: { key: "mr.opened", color: COLORS.opened },
  reopen: { key: "mr.reopened", color: COLORS.opened },
  close: { key: "mr.closed", color: COLORS.closed },
  merge: { key: "mr.merged", color: COLORS.merged },
  approved: { key: "mr.approved", color: COLORS.success },
  unapproved: { key: "mr.unapproved", color: COLORS.warning },
  ready: { key: "mr.ready", color: COLORS.opened },
};

/** GitLab sends "approval"/"unapproval" for one approver and "approved"/"unapproved" when the MR's state flips; never both for one click. */
const DIRECT: Record<string, Change> = {
  open: "open",
  reopen: "reopen",
  close: "close",
  merge: "merge",
  approved: "approved",
  approval: "approved",
  unapproved: "unapproved",
  unapproval: "unapproved",
};

const sameUser = (a: GitLabUser, b: GitLabUser) => (a.id != null && a.id === b.id) || (!!a.username && a.username === b.username);

/** Reviewers in `changes.reviewers.current` that were not in `previous`. */
export function addedReviewers(p: MergeRequestPayload): GitLabUser[] {
  const change = p.changes?.reviewers;
  if (!change) return [];
  const before = change.previous ?? [];
  const added: GitLabUser[] = [];
  for (const u of change.current ?? []) if (!before.some((b) => sameUser(u, b)) && !added.some((a) => sameUser(u, a))) added.push(u);
  return added;
}

function changesOf(p: MergeRequestPayload): { change: Change; keyAction: string; reviewers?: GitLabUser[] }[] {
  const action = p.object_attributes.action ?? "";
  const direct = Object.hasOwn(DIRECT, action) ? DIRECT[action] : undefined;
  if (direct) return [{ change: direct, keyAction: action }];
  if (action !== "update") return [];
  const out: { change: Change; keyAction: string; reviewers?: GitLabUser[] }[] = [];
  const draft = p.changes?.draft;
  if (draft && draft.previous === true && draft.current === false) out.push({ change: "ready", keyAction: "update.ready" });
  const added = addedReviewers(p);
  if (added.length > 0) out.push({ change: "review_requested", keyAction: "update.reviewers", reviewers: added });
  return out;
}

/** What the thread's root post should show after this change. */
function threadUpdateOf(change: Change, p: MergeRequestPayload): ThreadUpdate | undefined {
  const a = p.object_attributes;
  const username = p.user?.username ?? undefined;
  switch (change) {
    case "open":
    case "reopen":
      return { state: a.draft || a.work_in_progress ? "draft" : "opened" };
    case "ready":
      return { state: "opened" };
    case "close":
      return { state: "closed" };
    case "merge":
      return { state: "merged" };
    case "approved":
      return username ? { approvedBy: username } : undefined;
    case "unapproved":
      return username ? { unapprovedBy: username } : undefined;
    case "review_requested":
      return undefined;
  }
}

export function mergeRequest(p: MergeRequestPayload): Notification[] {
  const a = p.object_attributes;
  const projectPath = p.project.path_with_namespace;
  const labels = labelTitles(a.labels, p.labels);
  const actor: Actor = { username: p.user?.username, name: p.user?.name, avatarUrl: p.user?.avatar_url };
  const title = `!${a.iid} ${a.title}`;

  return changesOf(p).map(({ change, keyAction, reviewers }) => {
    const render = (locale: Locale) => {
      const vars = { actor: actorMarkdown(actor), mr: linkMarkdown(escapeInline(title), a.url) };
      const summary =
        change === "review_requested" ? t(locale, "mr.review_requested", { ...vars, reviewers: userList(locale, reviewers ?? []) }) : t(locale, LOOK[change].key, vars);
      const color = change === "review_requested" ? COLORS.opened : LOOK[change].color;
      const text = change === "open" ? excerpt(locale, a.description, a.url) : undefined;
      const branches = a.source_branch && a.target_branch ? `${escapeInline(a.source_branch)} → ${escapeInline(a.target_branch)}` : "";
      return buildPost({
        project: { path: projectPath, webUrl: p.project.web_url },
        summary,
        color,
        actor,
        title,
        titleLink: a.url,
        text,
        fields: [
          { title: t(locale, "field.branches"), value: branches },
          { title: t(locale, "field.labels"), value: labelList(labels) },
          ...(change === "open" || change === "reopen"
            ? [
                { title: t(locale, "field.assignees"), value: userList(locale, p.assignees ?? []) },
                { title: t(locale, "field.reviewers"), value: userList(locale, p.reviewers ?? []) },
              ]
            : []),
        ],
      });
    };
    return {
      feature: "merges",
      projectPath,
      eventKey: eventKey("merge_request", keyPart(a.id), keyPart(keyAction), timeKey(a.updated_at ?? a.created_at)),
      labels,
      defaultBranch: p.project.default_branch ?? undefined,
      confidential: false,
      actorUsername: p.user?.username ?? undefined,
      threadKey: `${projectPath}!${a.iid}`,
      threadUpdate: threadUpdateOf(change, p),
      // An open merge request can still be approved and merged from the post.
      actions:
        change !== "close" && change !== "merge" && (a.state ?? "opened") === "opened"
          ? [
              { kind: "mr.approve", project: projectPath, iid: a.iid },
              { kind: "mr.merge", project: projectPath, iid: a.iid },
            ]
          : undefined,
      render,
    } satisfies Notification;
  });
}
