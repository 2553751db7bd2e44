// Comments beyond the fixtures: by someone else, with mentions, internal, on confidential issues.
import { describe, expect, it } from "vitest";
import { fixture } from "../fixtures.js";
import { rowsOf } from "./helpers.js";

const onIssue = fixture("note_issue.json", "note");
const onMr = fixture("note_merge_request.json", "note");
const onCommit = fixture("note_commit.json", "note");
const onSnippet = fixture("note_snippet.json", "note");
const carol = { id: 70, name: "Carol", username: "carol", avatar_url: null };

describe("note recipients", () => {
  it("tells the issue's author and assignees about someone else's comment, and whoever it mentions", () => {
    const note = {
      ...onIssue,
      user: carol,
      object_attributes: { ...onIssue.object_attributes, note: "@dave can you check? @carol" },
      issue: { ...onIssue.issue!, assignee_ids: [80] },
    };
    expect(rowsOf(note)).toEqual([
      { reason: "comment_issue_author", id: 1 },
      { reason: "comment_issue_assignee", id: 80 },
      { reason: "mentioned", username: "dave" },
    ]);
  });

  it("internal notes and comments on confidential issues reach no one merely mentioned", () => {
    const internal = { ...onIssue, user: carol, object_attributes: { ...onIssue.object_attributes, note: "@dave", internal: true } };
    expect(rowsOf(internal)).toEqual([{ reason: "comment_issue_author", id: 1 }]);
    const confidential = { ...onIssue, user: carol, object_attributes: { ...onIssue.object_attributes, note: "@dave" }, issue: { ...onIssue.issue!, confidential: true } };
    expect(rowsOf(confidential)).toEqual([{ reason: "comment_issue_author", id: 1 }]);
  });

  it("tells the merge request's reviewers when the payload names them", () => {
    const note = { ...onMr, merge_request: { ...onMr.merge_request!, reviewer_ids: [90] } };
    expect(rowsOf(note)).toContainEqual({ reason: "comment_mr_reviewer", id: 90 });
  });

  it.each([
    ["commit", onCommit],
    ["snippet", onSnippet],
  ])("a %s comment tells only people it mentions", (_what, base) => {
    expect(rowsOf({ ...base, object_attributes: { ...base.object_attributes, note: "ping @erin" } })).toEqual([{ reason: "mentioned", username: "erin" }]);
  });

  it("system notes and edits tell nobody", () => {
    expect(rowsOf({ ...onMr, object_attributes: { ...onMr.object_attributes, system: true } })).toEqual([]);
    expect(rowsOf({ ...onMr, object_attributes: { ...onMr.object_attributes, action: "update" } })).toEqual([]);
  });
});
