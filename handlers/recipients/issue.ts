// Issue (and work item) events, personally: people assigned or unassigned, mentions in the
// description, and the author and assignees told when it is closed or reopened. Confidential issues
// never reach someone only because they are mentioned.
import type { Locale } from "../../src/config.js";
import { t } from "../../src/i18n/index.js";
import type { Notification } from "../../src/notification.js";
import { escapeInline, linkMarkdown } from "../../src/text/markdown.js";
import { actorMarkdown, buildPost, COLORS, eventKey, keyPart, labelTitles, shortHash, timeKey, type Actor } from "../common.js";
import { nounOf } from "../issue.js";
import type { IssuePayload } from "../payloads.js";
import { added, mentionedUsernames, newlyMentioned, people, personOf, Recipients, type PersonalNotice, type PersonRef } from "./common.js";

/** A post for an update the channels are not told about (an edited description). */
function updatedNotification(p: IssuePayload, what: string): Notification {
  const a = p.object_attributes;
  const projectPath = p.project.path_with_namespace;
  const actor: Actor = { username: p.user?.username, name: p.user?.name, avatarUrl: p.user?.avatar_url };
  const title = `#${a.iid} ${a.title}`;
  const confidential = a.confidential === true;
  return {
    feature: "issue_updates",
    projectPath,
    eventKey: eventKey("issue", keyPart(a.id), "update.people", `${timeKey(a.updated_at ?? a.created_at)}.${shortHash(what)}`),
    labels: labelTitles(a.labels, p.labels),
    defaultBranch: p.project.default_branch ?? undefined,
    confidential,
    actorUsername: p.user?.username ?? undefined,
    threadKey: `${projectPath}#${a.iid}`,
    render: (locale: Locale) =>
      buildPost({
        project: { path: projectPath, webUrl: p.project.web_url },
        summary: t(locale, "issue.updated", { actor: actorMarkdown(actor), noun: nounOf(locale, a.type), issue: linkMarkdown(escapeInline(title), a.url) }),
        color: COLORS.info,
        actor,
        title,
        titleLink: a.url,
        footer: confidential ? t(locale, "common.confidential") : undefined,
      }),
  };
}

export function issueRecipients(p: IssuePayload, notifications: Notification[]): PersonalNotice[] {
  const a = p.object_attributes;
  const action = a.action ?? "";
  const actor = personOf(p.user);
  const confidential = a.confidential === true;
  const author: PersonRef | undefined = typeof a.author_id === "number" ? { id: a.author_id } : undefined;
  const assignees = people(p.assignees, a.assignee_ids);

  if (action === "open" || action === "close" || action === "reopen") {
    const n = notifications[0];
    if (!n) return [];
    const r = new Recipients();
    if (action === "open") r.add(assignees, "assigned").mentions(mentionedUsernames(a.description), confidential);
    else if (action === "close") r.add(author, "issue_closed_author").add(assignees, "issue_closed_assignee");
    else r.add(author, "issue_reopened_author").add(assignees, "issue_reopened_assignee");
    return [{ notification: n, actor, recipients: r.list }];
  }
  if (action !== "update") return [];

  const change = p.changes?.assignees;
  const before = people(change?.previous);
  const after = people(change?.current);
  const assigned = change ? added(before, after) : [];
  const unassigned = change ? added(after, before) : [];
  const description = p.changes?.description;
  const mentioned = description ? newlyMentioned(description.previous, description.current) : [];
  if (assigned.length + unassigned.length + (confidential ? 0 : mentioned.length) === 0) return [];
  const r = new Recipients().add(assigned, "assigned").add(unassigned, "unassigned").mentions(mentioned, confidential);
  const n = notifications[0] ?? updatedNotification(p, JSON.stringify([assigned, unassigned, mentioned]));
  return [{ notification: n, actor, recipients: r.list }];
}
