// Hostile text in every user-controlled string of every payload must never ping anyone, inject a link,
// an image or HTML, or make a post Mattermost would refuse.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { notificationsFor } from "../../handlers/index.js";
import type { MessageAttachment, PostContent } from "../../src/notification.js";
import { MATTERMOST_MAX_POST_CHARS } from "../../src/notification.js";
import { LOCALES } from "../../src/config.js";
import { postSize } from "../../src/text/fit-post.js";
import { rawFixture } from "./fixtures.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const ZERO = "0000000000000000000000000000000000000000";
const raw = (file: string) => rawFixture(file) as JsonObject;
const at = (o: JsonObject, key: string) => o[key] as JsonObject;
const withAttrs = (file: string, attrs: JsonObject, extra: JsonObject = {}) => {
  const p = raw(file);
  return { ...p, object_attributes: { ...at(p, "object_attributes"), ...attrs }, ...extra };
};

const push = raw("push.json");
const tagPush = raw("tag_push.json");
const pipeline = raw("pipeline.json");
const job = raw("job.json");
const mr = raw("merge_request.json");
const noteIssue = raw("note_issue.json");
const release = raw("release.json");
const issue = raw("issue.json");
const milestone = raw("milestone.json");
const featureFlag = raw("feature_flag.json");
const user2 = { id: 7, name: "User2", username: "user2", avatar_url: "http://www.gravatar.com/avatar/2" };

/**
 * Every payload shape that posts something: the fixtures, and variations for the actions they lack.
 * A fourth element names fields that decide whether anything is posted, kept as published.
 */
const CASES: [string, JsonObject, string, string[]?][] = [
  ["push", push, "Push Hook"],
  ["push new branch", { ...push, before: ZERO }, "Push Hook"],
  ["push deleted branch", { ...push, after: ZERO, commits: [], total_commits_count: 0 }, "Push Hook"],
  ["tag push", { ...tagPush, user_username: "jsmith", message: "annotated" }, "Tag Push Hook"],
  ["tag deleted", { ...tagPush, after: ZERO }, "Tag Push Hook"],
  ["issue", withAttrs("issue.json", { description: "desc" }), "Issue Hook"],
  ["issue closed", withAttrs("issue.json", { action: "close", confidential: true }), "Issue Hook"],
  ["work item", { ...withAttrs("issue.json", { type: "Task" }), object_kind: "work_item" }, "Issue Hook"],
  ["note issue", noteIssue, "Note Hook"],
  ["note internal", { ...noteIssue, object_attributes: { ...at(noteIssue, "object_attributes"), internal: true } }, "Note Hook"],
  ["note merge request", raw("note_merge_request.json"), "Note Hook"],
  ["note commit", raw("note_commit.json"), "Note Hook"],
  ["note snippet", raw("note_snippet.json"), "Note Hook"],
  ["merge request", withAttrs("merge_request.json", { description: "desc" }), "Merge Request Hook"],
  ["merge request merged", withAttrs("merge_request.json", { action: "merge" }), "Merge Request Hook"],
  ["merge request approval", withAttrs("merge_request.json", { action: "approval" }), "Merge Request Hook"],
  [
    "merge request ready and reviewers",
    withAttrs("merge_request.json", { action: "update" }, { changes: { ...at(mr, "changes"), reviewers: { previous: [], current: [user2, user2] } } }),
    "Merge Request Hook",
  ],
  ["pipeline", pipeline, "Pipeline Hook"],
  ["pipeline failed", withAttrs("pipeline.json", { status: "failed" }), "Pipeline Hook"],
  [
    "pipeline with warnings",
    { ...pipeline, builds: (pipeline.builds as JsonObject[]).map((b) => (b.status === "failed" ? { ...b, allow_failure: true } : b)) },
    "Pipeline Hook",
  ],
  ["job failed", { ...job, build_status: "failed", build_duration: 12 }, "Job Hook"],
  ["job failed, allowed", { ...job, build_status: "failed", build_allow_failure: true, merge_request: { iid: 3, title: "t", url: "http://192.168.64.1:3005/gitlab-org/gitlab-test/-/merge_requests/3" } }, "Job Hook"],
  ["job without project", (({ project: _p, ...rest }) => ({ ...rest, build_status: "failed" }))(job), "Job Hook"],
  ["deployment", { ...raw("deployment.json"), ref: "main" }, "Deployment Hook"],
  ["deployment running", { ...raw("deployment.json"), status: "running" }, "Deployment Hook"],
  ["release", release, "Release Hook"],
  ["release updated", { ...release, action: "update" }, "Release Hook"],
  ["release deleted", { ...release, action: "delete" }, "Release Hook"],
  ["wiki page", raw("wiki_page.json"), "Wiki Page Hook"],
  ["wiki page updated", withAttrs("wiki_page.json", { action: "update" }), "Wiki Page Hook"],
  ["wiki page deleted", withAttrs("wiki_page.json", { action: "delete" }), "Wiki Page Hook"],
  // Labels only added: hostile titles that all read the same are still a change.
  [
    "issue labels changed",
    withAttrs("issue.json", { action: "update" }, { changes: { labels: { previous: [], current: (at(at(issue, "changes"), "labels").current as Json[]) } } }),
    "Issue Hook",
  ],
  [
    "issue assignees and due date changed",
    withAttrs("issue.json", { action: "update", confidential: true }, { changes: { ...at(issue, "changes"), assignees: { previous: [], current: [user2] }, due_date: { previous: null, current: "2024-03-01" } } }),
    "Issue Hook",
  ],
  ["milestone", milestone, "Milestone Hook"],
  ["milestone closed", { ...milestone, action: "close" }, "Milestone Hook"],
  ["milestone reopened", { ...milestone, action: "reopen" }, "Milestone Hook"],
  ["feature flag on", featureFlag, "Feature Flag Hook"],
  ["feature flag off", withAttrs("feature_flag.json", { active: false }), "Feature Flag Hook"],
  ["project access token", raw("access_token_project.json"), "Resource Access Token Hook"],
  ["group access token", withAttrs("access_token_group.json", { interval: "7d" }), "Resource Access Token Hook"],
  ["vulnerability", raw("vulnerability.json"), "Vulnerability Hook", ["created_at", "updated_at"]],
  ["member added", raw("member_add_to_group.json"), "Member Hook"],
  ["member updated", raw("member_update_for_group.json"), "Member Hook"],
  ["member removed", raw("member_remove_from_group.json"), "Member Hook"],
  ["member access requested", raw("member_access_request_to_group.json"), "Member Hook"],
  ["member access denied", raw("member_access_request_denied_for_group.json"), "Member Hook"],
  ["project created", raw("project_create.json"), "Project Hook"],
  ["project deleted", raw("project_destroy.json"), "Project Hook"],
  ["subgroup created", raw("subgroup_create.json"), "Subgroup Hook"],
  ["subgroup deleted", raw("subgroup_destroy.json"), "Subgroup Hook"],
];

/** Fields that say what happened (enums, shas), not what people wrote. */
const STRUCTURAL = new Set(["object_kind", "event_type", "event_name", "action", "status", "build_status", "noteable_type", "state", "before", "after", "checkout_sha"]);
const isUrlKey = (key: string) => key === "url" || key.endsWith("_url") || key === "homepage" || key === "user_avatar";

/** The http(s) URLs of a payload: the only places links may point to (or below). */
function urlsOf(value: Json, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) urlsOf(v, out);
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (isUrlKey(k) && typeof v === "string" && /^https?:\/\//.test(v)) out.push(v);
      else urlsOf(v, out);
    }
  }
  return out;
}

/** Replaces every user-controlled string with the next hostile string (cycling); `keep` names more fields to leave. */
function poison(value: Json, hostile: string[], counter: { i: number }, key = "", keep: readonly string[] = []): Json {
  if (typeof value === "string") {
    if (STRUCTURAL.has(key) || isUrlKey(key) || keep.includes(key)) return value;
    return hostile[counter.i++ % hostile.length] ?? value;
  }
  if (Array.isArray(value)) return value.map((v) => poison(v, hostile, counter, key, keep));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, poison(v, hostile, counter, k, keep)]));
  return value;
}

const ATOMS = [
  "@all",
  "@channel",
  "@here",
  "@someone",
  "@",
  "[x](http://evil)",
  "![i](http://evil/x.png)",
  "[x]: http://evil",
  "<http://evil>",
  "<script>alert(1)</script>",
  "<img src=x onerror=alert(1)>",
  "<scr<b>ipt>",
  "|a|b|",
  "|-|-|",
  "```",
  "# heading",
  "> quote",
  "---",
  "\n",
  "\r\n",
  "\\",
  "]",
  "(",
  ")",
  "*",
  "_",
  "~",
  "&#64;all",
  "\u202E",
  "😀",
  " ",
];
const atom = fc.constantFrom(...ATOMS);
const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.oneof(atom, fc.string({ maxLength: 8 })), { minLength: 1, maxLength: 30 }).map((parts) => parts.join("")) },
  { weight: 1, arbitrary: fc.tuple(atom, fc.integer({ min: 200, max: 6000 })).map(([a, n]) => a.repeat(n)) },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 2000 }) },
).map((s) => s || "@all"); // an empty path or ref is a PayloadError, not what this test is about

/** Positions of `ch` not escaped by an odd run of backslashes before it. */
function unescapedAt(s: string, ch: string): number[] {
  const out: number[] = [];
  for (let i = s.indexOf(ch); i >= 0; i = s.indexOf(ch, i + 1)) {
    let slashes = 0;
    for (let j = i - 1; j >= 0 && s[j] === "\\"; j--) slashes++;
    if (slashes % 2 === 0) out.push(i);
  }
  return out;
}

function textsOf(post: PostContent): { markdown: string[]; plain: string[]; urls: string[] } {
  const markdown = [post.message];
  const plain: string[] = [];
  const urls: string[] = [];
  for (const a of post.attachments ?? ([] as MessageAttachment[])) {
    plain.push(a.fallback);
    if (a.author_name) plain.push(a.author_name);
    if (a.footer) plain.push(a.footer);
    if (a.title) (a.title_link ? plain : markdown).push(a.title);
    if (a.pretext) markdown.push(a.pretext);
    if (a.text) markdown.push(a.text);
    for (const f of a.fields ?? []) markdown.push(f.title, f.value);
    for (const u of [a.title_link, a.author_icon, a.author_link]) if (u) urls.push(u);
  }
  return { markdown, plain, urls };
}

/** A payload URL, a page below one, or the project page of one (".../group/project" of ".../group/project/-/..."). */
function fromPayload(url: string, allowed: string[]): boolean {
  return allowed.some((base) => url === base || url.startsWith(base.replace(/\/+$/, "") + "/") || url.startsWith(base + "#") || base.startsWith(url + "/-/"));
}

function checkPost(post: PostContent, allowed: string[]): void {
  expect(postSize(post)).toBeLessThanOrEqual(MATTERMOST_MAX_POST_CHARS);
  const { markdown, plain, urls } = textsOf(post);
  for (const s of [...markdown, ...plain]) {
    expect(s, "mention").not.toMatch(/@(?!\u200B)/);
  }
  for (const s of markdown) {
    // Every unescaped "](...)" is a link destination: it must be a payload URL (or a page below one).
    // (A post cut to fit may end in "](http://..." with no ")": that is no link.)
    for (const i of unescapedAt(s, "]")) {
      if (s[i + 1] !== "(") continue;
      const end = s.indexOf(")", i + 2);
      if (end < 0) continue;
      const url = s.slice(i + 2, end);
      expect(fromPayload(url, allowed), `link to ${url}`).toBe(true);
    }
    for (const i of unescapedAt(s, "[")) expect(s[i - 1] === "!" && s[i - 2] !== "\\", "image").toBe(false);
    for (const i of unescapedAt(s, "<")) expect(s[i + 1] ?? "", "HTML").not.toMatch(/[A-Za-z/!?]/);
    for (const i of unescapedAt(s, "|")) expect(i, "table cell").toBe(-1);
    for (const line of s.split("\n")) {
      if (!line.trimStart().startsWith("[")) continue;
      for (const i of unescapedAt(line, "]")) expect(line[i + 1], "reference definition").not.toBe(":");
    }
    expect(s, "code fence").not.toMatch(/^\s*(```|~~~)/m);
  }
  for (const s of plain) {
    expect(s, "link in plain text").not.toMatch(/\]\(|!\[/);
    expect(s, "HTML in plain text").not.toMatch(/<[A-Za-z/!?]/);
    expect(s, "newline in plain text").not.toContain("\n");
  }
  for (const u of urls) expect(fromPayload(u, allowed), `url ${u}`).toBe(true);
}

describe("hostile payloads", () => {
  it.each(CASES)("%s posts something as published", (_name, payload, header) => {
    const { notifications } = notificationsFor(payload, header);
    expect(notifications.length).toBeGreaterThan(0);
    for (const n of notifications) for (const locale of LOCALES) checkPost(n.render(locale), urlsOf(payload));
  });

  it("no handler, in any language, lets user text ping, link, embed, inject HTML or overflow", () => {
    fc.assert(
      fc.property(fc.constantFrom(...CASES), fc.array(hostileString, { minLength: 1, maxLength: 25 }), ([, payload, header, keep], hostile) => {
        const poisoned = poison(payload, hostile, { i: 0 }, "", keep);
        const { notifications } = notificationsFor(poisoned, header);
        expect(notifications.length).toBeGreaterThan(0);
        const allowed = urlsOf(payload);
        for (const n of notifications) {
          expect(n.eventKey).toMatch(/^[A-Za-z0-9._/#!-]+$/);
          for (const locale of LOCALES) checkPost(n.render(locale), allowed);
        }
      }),
      { numRuns: Number(process.env.HOSTILE_RUNS ?? 400) },
    );
  });
});
