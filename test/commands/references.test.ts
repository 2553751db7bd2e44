// References as people type or paste them: parsed by splitting, refused when malformed, linear in time.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseIssueReference, parseMergeRequestReference, parseProjectPath } from "../../commands/references.js";

const gitlab = "https://git.example.com/gitlab";

describe("GitLab references in commands", () => {
  it("reads projects, issues and merge requests at any depth, keeping the case", () => {
    expect(parseProjectPath("Acme/Sub.Group/my-app_2")).toBe("Acme/Sub.Group/my-app_2");
    expect(parseIssueReference("acme/sub/app#12")).toEqual({ project: "acme/sub/app", iid: 12 });
    expect(parseMergeRequestReference("acme/app!7")).toEqual({ project: "acme/app", iid: 7 });
  });

  it("reads a pasted GitLab URL, also under a sub-path, and only of this GitLab", () => {
    expect(parseIssueReference(`${gitlab}/acme/app/-/issues/12`, gitlab)).toEqual({ project: "acme/app", iid: 12 });
    expect(parseMergeRequestReference(`${gitlab}/acme/sub/app/-/merge_requests/7/`, gitlab)).toEqual({ project: "acme/sub/app", iid: 7 });
    expect(parseMergeRequestReference(`${gitlab}/acme/app/-/merge_requests/7#note_1`, gitlab)).toEqual({ project: "acme/app", iid: 7 });
    expect(parseIssueReference("https://evil.example.com/acme/app/-/issues/12", gitlab)).toBeUndefined();
    expect(parseIssueReference(`${gitlab}/acme/app/-/merge_requests/12`, gitlab)).toBeUndefined();
  });

  it("refuses what is not a reference", () => {
    for (const bad of ["", "#1", "acme/app#", "acme/app#0", "acme/app#-1", "acme/app#1.5", "acme/app#99999999999", "acme//app#1", "../app#1", "acme/a b#1", "acme/app!1"]) {
      expect(parseIssueReference(bad), bad).toBeUndefined();
    }
    expect(parseMergeRequestReference("acme/app#1")).toBeUndefined();
    expect(parseProjectPath("acme/app/")).toBeUndefined();
    expect(parseProjectPath(`${"a/".repeat(600)}b`)).toBeUndefined();
  });

  it("answers any text within a few milliseconds", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 5000 }), (text) => {
        const started = performance.now();
        parseIssueReference(text, gitlab);
        parseMergeRequestReference(`${text}!1`, gitlab);
        parseProjectPath(text);
        expect(performance.now() - started).toBeLessThan(50);
      }),
      { numRuns: 300 },
    );
  });
});
