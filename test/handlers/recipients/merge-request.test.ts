// Merge request events beyond the fixture's "open": varied only where the fixture lacks a case.
import { describe, expect, it } from "vitest";
import { fixture } from "../fixtures.js";
import { noticesOf, rowsOf } from "./helpers.js";

const base = fixture("merge_request.json", "merge_request");
const user1 = { id: 6, name: "User1", username: "user1", avatar_url: null };
const user2 = { id: 7, name: "User2", username: "user2", avatar_url: null };

function event(action: string, extra: { changes?: Record<string, unknown>; attributes?: Record<string, unknown> } = {}) {
  return {
    ...base,
    object_attributes: { ...base.object_attributes, action, ...extra.attributes },
    changes: extra.changes ?? {},
  };
}

describe("merge request recipients", () => {
  it.each([
    ["approved", "mr_approved"],
    ["approval", "mr_approved"],
    ["unapproved", "mr_unapproved"],
    ["unapproval", "mr_unapproved"],
    ["merge", "mr_merged"],
    ["close", "mr_closed"],
    ["reopen", "mr_reopened"],
  ])("%s tells the author (51)", (action, reason) => {
    expect(rowsOf(event(action))).toEqual([{ reason, id: 51 }]);
  });

  it("does not tell the author about their own action", () => {
    expect(rowsOf(event("merge", { attributes: { author_id: 1 } }))).toEqual([]);
  });

  it("tells each newly added reviewer, not those already asked", () => {
    const e = event("update", { changes: { reviewers: { previous: [user1], current: [user1, user2] } } });
    expect(rowsOf(e)).toEqual([{ reason: "review_requested", id: 7, username: "user2" }]);
    expect(noticesOf(e)[0]?.notification.eventKey).toContain("/update.reviewers/");
  });

  it("tells new assignees and those unassigned, with a post of its own (channels are not told)", () => {
    const e = event("update", { changes: { assignees: { previous: [user1], current: [user2] } } });
    expect(rowsOf(e)).toEqual([
      { reason: "assigned", id: 7, username: "user2" },
      { reason: "unassigned", id: 6, username: "user1" },
    ]);
    const [notice] = noticesOf(e);
    expect(notice?.notification.threadKey).toBe("gitlabhq/gitlab-test!1");
    expect(notice?.notification.render("en").message).toBe(
      "**[gitlabhq/gitlab-test](http://example.com/gitlabhq/gitlab-test)**: @\u200Broot updated merge request [!1 MS-Viewport](http://example.com/diaspora/merge_requests/1)",
    );
    expect(notice?.notification.render("zh-CN").message).toContain("更新了合并请求");
  });

  it("tells people mentioned in the description when opened, and only the new ones after an edit", () => {
    expect(rowsOf(event("open", { attributes: { description: "For @alice and @bob.b, not `@code`" } })).filter((r) => r.reason === "mentioned")).toEqual([
      { reason: "mentioned", username: "alice" },
      { reason: "mentioned", username: "bob.b" },
    ]);
    const edited = event("update", { changes: { description: { previous: "For @alice", current: "For @alice and @carol" } } });
    expect(rowsOf(edited)).toEqual([{ reason: "mentioned", username: "carol" }]);
  });

  it("does not mention the actor to themselves", () => {
    expect(rowsOf(event("update", { changes: { description: { previous: "", current: "note to @root self" } } }))).toEqual([]);
  });

  it("says nothing for updates that concern nobody (labels only)", () => {
    expect(rowsOf(event("update", { changes: base.changes as Record<string, unknown> }))).toEqual([]);
  });
});
