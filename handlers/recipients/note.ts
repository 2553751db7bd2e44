// Comments, personally: the author, assignees and reviewers of the issue or merge request, and whoever
// is mentioned, unless the note is internal or the issue confidential (then mentions are left out).
import type { Notification } from "../../src/notification.js";
import type { NotePayload } from "../payloads.js";
import { mentionedUsernames, people, personOf, Recipients, type PersonalNotice } from "./common.js";

export function noteRecipients(p: NotePayload, notifications: Notification[]): PersonalNotice[] {
  const n = notifications[0];
  if (!n) return []; // system notes and edits are not posted, and not sent either
  const a = p.object_attributes;
  const actor = personOf(p.user);
  const r = new Recipients();
  let known: PersonalNotice["known"];
  if (a.noteable_type === "Issue" && p.issue) {
    const i = p.issue;
    r.add(people(undefined, i.author_id), "comment_issue_author").add(people(undefined, i.assignee_ids, i.assignee_id), "comment_issue_assignee");
  } else if (a.noteable_type === "MergeRequest" && p.merge_request) {
    const m = p.merge_request;
    r.add(people(undefined, m.author_id), "comment_mr_author")
      .add(people(undefined, m.assignee_ids, m.assignee_id), "comment_mr_assignee")
      .add(people(undefined, m.reviewer_ids), "comment_mr_reviewer");
    // A comment's payload names no reviewers (and older GitLab no assignee list): ask what the bot knows.
    known = { roles: { author: "comment_mr_author", assignees: "comment_mr_assignee", reviewers: "comment_mr_reviewer" } };
  }
  r.mentions(mentionedUsernames(a.note), n.confidential);
  return [{ notification: n, actor, recipients: r.list, ...(known ? { known } : {}) }];
}
