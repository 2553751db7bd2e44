// Issue events beyond the fixture's "open".
import { describe, expect, it } from "vitest";
import { fixture } from "../fixtures.js";
import { noticesOf, rowsOf } from "./helpers.js";

const base = fixture("issue.json", "issue");
const alice = { id: 60, name: "Alice", username: "alice", avatar_url: null };
const bob = { id: 61, name: "Bob", username: "bob", avatar_url: null };

function event(action: string, attributes: Record<string, unknown> = {}, changes: Record<string, unknown> = {}, assignees = [alice]) {
  return { ...base, assignees, object_attributes: { ...base.object_attributes, action, assignee_ids: assignees.map((a) => a.id), ...attributes }, changes };
}

describe("issue recipients", () => {
  it("tells the author and the assignees when it is closed or reopened", () => {
    expect(rowsOf(event("close"))).toEqual([
      { reason: "issue_closed_author", id: 51 },
      { reason: "issue_closed_assignee", id: 60, username: "alice" },
    ]);
    expect(rowsOf(event("reopen"))).toEqual([
      { reason: "issue_reopened_author", id: 51 },
      { reason: "issue_reopened_assignee", id: 60, username: "alice" },
    ]);
  });

  it("tells people mentioned in a new issue's description", () => {
    expect(rowsOf(event("open", { description: "cc @bob" }))).toEqual([
      { reason: "assigned", id: 60, username: "alice" },
      { reason: "mentioned", username: "bob" },
    ]);
  });

  it("a confidential issue reaches its assignees but never people it merely mentions", () => {
    const rows = rowsOf(event("open", { description: "cc @bob", confidential: true }));
    expect(rows).toEqual([{ reason: "assigned", id: 60, username: "alice" }]);
    expect(noticesOf(event("open", { confidential: true }))[0]?.notification.confidential).toBe(true);
    expect(rowsOf(event("update", { confidential: true }, { description: { previous: "", current: "@bob look" } }))).toEqual([]);
  });

  it("tells new and removed assignees on update", () => {
    const rows = rowsOf(event("update", {}, { assignees: { previous: [alice], current: [bob] } }, [bob]));
    expect(rows).toEqual([
      { reason: "assigned", id: 61, username: "bob" },
      { reason: "unassigned", id: 60, username: "alice" },
    ]);
  });

  it("tells only newly mentioned people after a description edit, with a post made for it", () => {
    const e = event("update", {}, { description: { previous: "@alice", current: "@alice @bob" } });
    expect(rowsOf(e)).toEqual([{ reason: "mentioned", username: "bob" }]);
    expect(noticesOf(e)[0]?.notification.render("en").message).toContain("updated issue");
  });

  it("work items concern people the same way", () => {
    expect(rowsOf({ ...event("close"), object_kind: "work_item" })).toHaveLength(2);
  });
});
