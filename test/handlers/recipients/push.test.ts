import { describe, expect, it } from "vitest";
import { fixture } from "../fixtures.js";
import { rowsOf } from "./helpers.js";

const push = fixture("push.json", "push");
const tag = fixture("tag_push.json", "tag_push");

describe("push and tag push recipients", () => {
  it("tells people mentioned in commit messages, once each, never the pusher", () => {
    const commits = (push.commits ?? []).map((c, i) => ({ ...c, message: i === 0 ? "Fix for @alice\n\nSigned-off-by: J <j@example.com>" : "cc @Alice @jsmith @bob" }));
    expect(rowsOf({ ...push, commits })).toEqual([
      { reason: "mentioned", username: "alice" },
      { reason: "mentioned", username: "bob" },
    ]);
  });

  it("tells people mentioned in an annotated tag's message", () => {
    expect(rowsOf({ ...tag, message: "Release by @carol" })).toEqual([{ reason: "mentioned", username: "carol" }]);
  });
});
