// Issue and work item events: opened, closed, reopened. Plain updates are not posted.
import type { Locale } from "../src/config.js";
import { t, type MessageKey } from "../src/i18n/index.js";
import type { Notification } from "../src/notification.js";
import { escapeBlock, escapeInline, exceedsExcerpt, linkMarkdown } from "../src/text/markdown.js";
import { actorMarkdown, buildPost, COLORS, eventKey, keyPart, labelList, labelTitles, timeKey, userList } from "./common.js";
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
    let text: string | undefined;
    if (action === "open" && a.description) {
      text = escapeBlock(a.description);
      if (exceedsExcerpt(a.description)) text += ` ${linkMarkdown(t(locale, "common.read_more"), a.url)}`;
    }
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
      render,
    },
  ];
}
