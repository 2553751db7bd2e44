// Issue and work item events: opened, closed, reopened; label, assignee and due-date changes under
// the `issue_updates` feature (off by default). Other updates are not posted.
import type { Locale } from "../src/config.js";
import { t, type MessageKey } from "../src/i18n/index.js";
import type { Notification } from "../src/notification.js";
import { escapeInline, linkMarkdown } from "../src/text/markdown.js";
import { actorMarkdown, buildPost, COLORS, eventKey, excerpt, keyPart, labelList, labelTitles, shortHash, timeKey, userList } from "./common.js";
import { dateText } from "./dates.js";
import type { IssuePayload } from "./payloads.js";

const ACTIONS: Record<string, { key: "issue.opened" | "issue.closed" | "issue.reopened"; color: string }> = {
  open: { key: "issue.opened", color: COLORS.opened },
  close: { key: "issue.closed", color: COLORS.closed },
  reopen: { key: "issue.reopened", color: COLORS.opened },
};

const NOUNS: Record<string, Extract<MessageKey, `noun.${string}`>> = {
  issue: "noun.issue",
  incident: "noun.incident",
  task: "noun.task",
  epic: "noun.epic",
};

/** "issue", "task", ... in the reader's language; "work item" for the types we do not name. */
export function nounOf(locale: Locale, type: string | null | undefined): string {
  const name = (type ?? "issue").toLowerCase();
  return t(locale, (Object.hasOwn(NOUNS, name) ? NOUNS[name] : undefined) ?? "noun.work_item");
}

export function issue(p: IssuePayload): Notification[] {
  const a = p.object_attributes;
  const action = a.action ?? "";
  if (action === "update") return issueUpdate(p);
  const look = Object.hasOwn(ACTIONS, action) ? ACTIONS[action] : undefined;
  if (!look) return [];
  const { key, color } = look;
  const projectPath = p.project.path_with_namespace;
  const labels = labelTitles(a.labels, p.labels);
  const confidential = a.confidential === true;
  const actor = { username: p.user?.username, name: p.user?.name, avatarUrl: p.user?.avatar_url };
  const title = `#${a.iid} ${a.title}`;

  const render = (locale: Locale) => {
    const issueLink = linkMarkdown(escapeInline(title), a.url);
    const summary = t(locale, key, { actor: actorMarkdown(actor), noun: nounOf(locale, a.type), issue: issueLink });
    const text = action === "open" ? excerpt(locale, a.description, a.url) : undefined;
    return buildPost({
      project: { path: projectPath, webUrl: p.project.web_url },
      summary,
      color,
      actor,
      title,
      titleLink: a.url,
      text,
      fields: [
        { title: t(locale, "field.labels"), value: labelList(labels) },
        { title: t(locale, "field.assignees"), value: userList(locale, p.assignees ?? []) },
      ],
      footer: confidential ? t(locale, "common.confidential") : undefined,
    });
  };

  return [
    {
      feature: "issues",
      projectPath,
      eventKey: eventKey("issue", keyPart(a.id), keyPart(action), timeKey(a.updated_at ?? a.created_at)),
      labels,
      defaultBranch: p.project.default_branch ?? undefined,
      confidential,
      actorUsername: p.user?.username ?? undefined,
      threadKey: `${projectPath}#${a.iid}`,
      // The thread's root shows whether the issue is open or closed now.
      threadUpdate: { state: action === "close" ? "closed" : "opened" },
      actions: [{ kind: action === "close" ? "issue.reopen" : "issue.close", project: projectPath, iid: a.iid }],
      render,
    },
  ];
}

/**
 * An update that changed labels, assignees or the due date: one post saying what changed. Its labels
 * are the issue's labels and those just removed, so a `label:"x"` subscription hears that x went.
 */
function issueUpdate(p: IssuePayload): Notification[] {
  const a = p.object_attributes;
  const changes = p.changes;
  const labelChange = changes?.labels;
  const assigneeChange = changes?.assignees;
  const dueChange = changes?.due_date;
  if (!labelChange && !assigneeChange && !dueChange) return [];
  const projectPath = p.project.path_with_namespace;
  const previousLabels = (labelChange?.previous ?? []).map((l) => l.title);
  const currentLabels = (labelChange?.current ?? []).map((l) => l.title);
  const added = currentLabels.filter((l) => !previousLabels.includes(l));
  const removed = previousLabels.filter((l) => !currentLabels.includes(l));
  if (added.length === 0 && removed.length === 0 && !assigneeChange && !dueChange) return [];
  const labels = [...new Set([...labelTitles(a.labels, p.labels), ...currentLabels, ...removed])];
  const assignees = assigneeChange?.current ?? [];
  const confidential = a.confidential === true;
  const actor = { username: p.user?.username, name: p.user?.name, avatarUrl: p.user?.avatar_url };
  const title = `#${a.iid} ${a.title}`;
  // What changed, so two updates stamped with the same second stay two events.
  const what = shortHash(
    JSON.stringify([added, removed, assigneeChange ? assignees.map((u) => u.username ?? u.name ?? "") : null, dueChange ? [dueChange.previous ?? null, dueChange.current ?? null] : null]),
  );

  const render = (locale: Locale) => {
    const none = t(locale, "common.none");
    const issueLink = linkMarkdown(escapeInline(title), a.url);
    const dates = dueChange ? [dateText(dueChange.previous) || none, dateText(dueChange.current) || none] : [];
    return buildPost({
      project: { path: projectPath, webUrl: p.project.web_url },
      summary: t(locale, "issue.updated", { actor: actorMarkdown(actor), noun: nounOf(locale, a.type), issue: issueLink }),
      color: COLORS.info,
      actor,
      title,
      titleLink: a.url,
      fields: [
        { title: t(locale, "field.labels_added"), value: labelList(added) },
        { title: t(locale, "field.labels_removed"), value: labelList(removed) },
        { title: t(locale, "field.assignees"), value: assigneeChange ? userList(locale, assignees) || none : "" },
        { title: t(locale, "field.due_date"), value: dueChange ? `${dates[0]} → ${dates[1]}` : "" },
      ],
      footer: confidential ? t(locale, "common.confidential") : undefined,
    });
  };

  return [
    {
      feature: "issue_updates",
      projectPath,
      eventKey: eventKey("issue", keyPart(a.id), "update", `${timeKey(a.updated_at ?? a.created_at)}.${what}`),
      labels,
      defaultBranch: p.project.default_branch ?? undefined,
      confidential,
      actorUsername: p.user?.username ?? undefined,
      threadKey: `${projectPath}#${a.iid}`,
      render,
    },
  ];
}
