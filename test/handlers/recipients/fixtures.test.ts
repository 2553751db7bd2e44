// Every shared fixture through handler and recipients: who GitLab's own example payloads concern.
import { describe, expect, it } from "vitest";
import { fixtureIndex, rawFixture } from "../fixtures.js";
import { noticesOf, rowsOf, type Row } from "./helpers.js";

/** What each fixture gives; fixtures not listed concern nobody personally. */
const expected: Record<string, Row[]> = {
  // Opened by root (id 1); user1 (id 6) is both reviewer and assignee.
  "merge_request.json": [
    { reason: "review_requested", id: 6, username: "user1" },
    { reason: "assigned", id: 6, username: "user1" },
  ],
  // Opened by root; assignees name user1 without an id and assignee_ids say 51.
  "issue.json": [
    { reason: "assigned", username: "user1" },
    { reason: "assigned", id: 51 },
  ],
  // Root comments on the merge request of author 8, assigned to 28.
  "note_merge_request.json": [
    { reason: "comment_mr_author", id: 8 },
    { reason: "comment_mr_assignee", id: 28 },
  ],
  // Root comments on root's own issue: nobody else to tell.
  "note_issue.json": [],
};

describe("recipients of the shared fixtures", () => {
  it.each(fixtureIndex.map((e) => [e.file, e.x_gitlab_event] as const))("%s", (file, header) => {
    expect(rowsOf(rawFixture(file), header)).toEqual(expected[file] ?? []);
  });

  it("asks the router for the reviewers and assignees GitLab leaves out of a comment's payload", () => {
    const [notice] = noticesOf(rawFixture("note_merge_request.json"));
    expect(notice?.known).toEqual({ roles: { author: "comment_mr_author", assignees: "comment_mr_assignee", reviewers: "comment_mr_reviewer" } });
    expect(notice?.notification.threadKey).toBe("gitlab-org/gitlab-test!1");
  });

  it("repeats the channel's post and names the actor", () => {
    const [notice] = noticesOf(rawFixture("merge_request.json"));
    expect(notice?.actor).toEqual({ id: 1, username: "root" });
    expect(notice?.notification.eventKey).toBe("merge_request/99/open/20131203T172334Z");
    expect(notice?.notification.render("en").message).toContain("opened merge request");
  });
});
