// Merge request events, personally: reviewers asked, people assigned or unassigned, mentions in the
// description, and the author told of approvals, revoked approvals, merge, close and reopen.
import type { Locale } from "../../src/config.js";
import { t } from "../../src/i18n/index.js";
import type { Notification } from "../../src/notification.js";
import { escapeInline, linkMarkdown } from "../../src/text/markdown.js";
import { actorMarkdown, buildPost, COLORS, eventKey, keyPart, labelTitles, shortHash, timeKey, userList, type Actor } from "../common.js";
import { addedReviewers } from "../merge-request.js";
import type { MergeRequestPayload } from "../payloads.js";
import { added, mentionedUsernames, newlyMentioned, people, personOf, Recipients, type PersonalNotice, type PersonalReason, type PersonRef } from "./common.js";

const AUTHOR_REASONS: Record<string, PersonalReason> = {
  approved: "mr_approved",
  approval: "mr_approved",
  unapproved: "mr_unapproved",
  unapproval: "mr_unapproved",
  merge: "mr_merged",
  close: "mr_closed",
  reopen: "mr_reopened",
};

/** A post for changes the channels are not told about (assignees, an edited description). */
function updatedNotification(p: MergeRequestPayload, what: string): Notification {
  const a = p.object_attributes;
  const projectPath = p.project.path_with_namespace;
  const actor: Actor = { username: p.user?.username, name: p.user?.name, avatarUrl: p.user?.avatar_url };
  const title = `!${a.iid} ${a.title}`;
  return {
    feature: "merges",
    projectPath,
    eventKey: eventKey("merge_request", keyPart(a.id), "update.people", `${timeKey(a.updated_at ?? a.created_at)}.${shortHash(what)}`),
    labels: labelTitles(a.labels, p.labels),
    defaultBranch: p.project.default_branch ?? undefined,
    confidential: false,
    actorUsername: p.user?.username ?? undefined,
    threadKey: `${projectPath}!${a.iid}`,
    render: (locale: Locale) =>
      buildPost({
        project: { path: projectPath, webUrl: p.project.web_url },
        summary: t(locale, "personal.mr_updated", { actor: actorMarkdown(actor), mr: linkMarkdown(escapeInline(title), a.url) }),
        color: COLORS.info,
        actor,
        title,
        titleLink: a.url,
        fields: [
          { title: t(locale, "field.assignees"), value: userList(locale, p.assignees ?? []) },
          { title: t(locale, "field.reviewers"), value: userList(locale, p.reviewers ?? []) },
        ],
      }),
  };
}

export function mergeRequestRecipients(p: MergeRequestPayload, notifications: Notification[]): PersonalNotice[] {
  const a = p.object_attributes;
  const action = a.action ?? "";
  const actor = personOf(p.user);
  const author: PersonRef | undefined = typeof a.author_id === "number" ? { id: a.author_id } : undefined;
  const notices: PersonalNotice[] = [];

  if (action === "open") {
    const n = notifications[0];
    if (!n) return [];
    const r = new Recipients()
      .add(people(p.reviewers, a.reviewer_ids), "review_requested")
      .add(people(p.assignees, a.assignee_ids), "assigned")
      .mentions(mentionedUsernames(a.description), false);
    return [{ notification: n, actor, recipients: r.list }];
  }

  const authorReason = Object.hasOwn(AUTHOR_REASONS, action) ? AUTHOR_REASONS[action] : undefined;
  if (authorReason) {
    const n = notifications[0];
    return n && author ? [{ notification: n, actor, recipients: new Recipients().add(author, authorReason).list }] : [];
  }
  if (action !== "update") return [];

  const reviewers = addedReviewers(p);
  const reviewNotification = notifications.find((n) => n.eventKey.includes("/update.reviewers/"));
  if (reviewers.length > 0 && reviewNotification) {
    notices.push({ notification: reviewNotification, actor, recipients: new Recipients().add(people(reviewers), "review_requested").list });
  }

  const assigneeChange = p.changes?.assignees;
  const before = people(assigneeChange?.previous);
  const after = people(assigneeChange?.current);
  const assigned = assigneeChange ? added(before, after) : [];
  const unassigned = assigneeChange ? added(after, before) : [];
  const description = p.changes?.description;
  const mentioned = description ? newlyMentioned(description.previous, description.current) : [];
  if (assigned.length + unassigned.length + mentioned.length > 0) {
    const r = new Recipients().add(assigned, "assigned").add(unassigned, "unassigned").mentions(mentioned, false);
    const what = JSON.stringify([assigned, unassigned, mentioned]);
    notices.push({ notification: updatedNotification(p, what), actor, recipients: r.list });
  }
  return notices;
}
