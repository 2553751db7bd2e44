import { describe, expect, it } from "vitest";
import { notificationsFor, PayloadError } from "../../handlers/index.js";
import { note } from "../../handlers/note.js";
import { fieldsOf, fixture, only, renderBoth } from "./fixtures.js";

const Z = "\u200B";
const onIssue = fixture("note_issue.json", "note");
const onMr = fixture("note_merge_request.json", "note");
const onCommit = fixture("note_commit.json", "note");
const onSnippet = fixture("note_snippet.json", "note");
const author = {
  color: "#1f78d1",
  author_name: "Administrator",
  author_icon: "http://www.gravatar.com/avatar/e64c7d89f26bd1972efa854d13d7dd61?s=40&d=identicon",
};

describe("note", () => {
  it("on an issue: issue_comments, threaded under the issue, with its labels", () => {
    const n = only(note(onIssue));
    expect(fieldsOf(n)).toEqual({
      feature: "issue_comments",
      projectPath: "gitlab-org/gitlab-test",
      eventKey: "note/1241/20150517T170640Z",
      labels: ["Afterpod", "Element"],
      defaultBranch: "master",
      confidential: false,
      actorUsername: "root",
      threadKey: "gitlab-org/gitlab-test#17",
    });
    const project = "**[gitlab-org/gitlab-test](http://example.com/gitlab-org/gitlab-test)**";
    const target = "[#17 test](http://example.com/gitlab-org/gitlab-test/issues/17#note_1241)";
    expect(renderBoth(n)).toEqual({
      en: {
        message: `${project}: @${Z}root commented on issue ${target}`,
        attachments: [{ ...author, fallback: `gitlab-org/gitlab-test: @${Z}root commented on issue #17 test`, text: "Hello world" }],
      },
      "zh-CN": {
        message: `${project}: @${Z}root 评论了议题 ${target}`,
        attachments: [{ ...author, fallback: `gitlab-org/gitlab-test: @${Z}root 评论了议题 #17 test`, text: "Hello world" }],
      },
    });
  });

  it("on a merge request: merge_request_comments, threaded under the merge request", () => {
    const n = only(note(onMr));
    expect(fieldsOf(n)).toEqual({
      feature: "merge_request_comments",
      projectPath: "gitlab-org/gitlab-test",
      eventKey: "note/1244/20150517T182136Z",
      labels: ["Afterpod", "Element"],
      defaultBranch: "master",
      confidential: false,
      actorUsername: "root",
      threadKey: "gitlab-org/gitlab-test!1",
    });
    const project = "**[gitlab-org/gitlab-test](http://example.com/gitlab-org/gitlab-test)**";
    const target = "[!1 Tempora et eos debitis quae laborum et.](http://example.com/gitlab-org/gitlab-test/merge_requests/1#note_1244)";
    expect(n.render("en")).toEqual({
      message: `${project}: @${Z}root commented on merge request ${target}`,
      attachments: [{ ...author, fallback: `gitlab-org/gitlab-test: @${Z}root commented on merge request !1 Tempora et eos debitis quae laborum et.`, text: "This MR needs work." }],
    });
    expect(n.render("zh-CN").message).toBe(`${project}: @${Z}root 评论了合并请求 ${target}`);
  });

  it("on a commit: commit_comments, no thread", () => {
    const n = only(note(onCommit));
    expect(fieldsOf(n)).toEqual({
      feature: "commit_comments",
      projectPath: "gitlabhq/gitlab-test",
      eventKey: "note/1243/20150517T180809Z",
      labels: [],
      defaultBranch: "master",
      confidential: false,
      actorUsername: "root",
    });
    const project = "**[gitlabhq/gitlab-test](http://example.com/gitlabhq/gitlab-test)**";
    const target = "[`cfe32cf6` Add submodule](http://example.com/gitlab-org/gitlab-test/commit/cfe32cf61b73a0d5e9f13e774abde7ff789b1660#note_1243)";
    expect(n.render("en")).toEqual({
      message: `${project}: @${Z}root commented on commit ${target}`,
      attachments: [{ ...author, fallback: `gitlabhq/gitlab-test: @${Z}root commented on commit cfe32cf6 Add submodule`, text: "This is a commit comment. How does this work?" }],
    });
    expect(n.render("zh-CN").message).toBe(`${project}: @${Z}root 评论了提交 ${target}`);
  });

  it("on a snippet: snippet_comments", () => {
    const n = only(note(onSnippet));
    expect(fieldsOf(n)).toEqual({
      feature: "snippet_comments",
      projectPath: "gitlab-org/gitlab-test",
      eventKey: "note/1245/20150517T183550Z",
      labels: [],
      defaultBranch: "master",
      confidential: false,
      actorUsername: "root",
    });
    const project = "**[gitlab-org/gitlab-test](http://example.com/gitlab-org/gitlab-test)**";
    const target = "[\\$53 test](http://example.com/gitlab-org/gitlab-test/-/snippets/53#note_1245)";
    expect(n.render("en").message).toBe(`${project}: @${Z}root commented on snippet ${target}`);
    expect(n.render("zh-CN").message).toBe(`${project}: @${Z}root 评论了代码片段 ${target}`);
    expect(n.render("en").attachments?.[0]?.fallback).toBe(`gitlab-org/gitlab-test: @${Z}root commented on snippet $53 test`);
  });

  it("treats internal notes as confidential", () => {
    const n = only(note({ ...onIssue, object_attributes: { ...onIssue.object_attributes, internal: true } }));
    expect(n.confidential).toBe(true);
    expect(n.feature).toBe("issue_comments");
    expect(n.render("en").attachments?.[0]?.footer).toBe("Internal note");
    expect(n.render("zh-CN").attachments?.[0]?.footer).toBe("内部备注");
  });

  it("treats notes on a confidential issue as confidential", () => {
    const issue = onIssue.issue;
    if (!issue) throw new Error("fixture has an issue");
    const n = only(note({ ...onIssue, issue: { ...issue, confidential: true } }));
    expect(n.confidential).toBe(true);
    expect(n.render("en").attachments?.[0]?.footer).toBe("Confidential");
  });

  it("posts nothing for system notes, edits or unknown noteables", () => {
    expect(note({ ...onIssue, object_attributes: { ...onIssue.object_attributes, system: true } })).toEqual([]);
    expect(note({ ...onIssue, object_attributes: { ...onIssue.object_attributes, action: "update" } })).toEqual([]);
    expect(note({ ...onIssue, object_attributes: { ...onIssue.object_attributes, noteable_type: "DesignManagement::Design" } })).toEqual([]);
  });

  it("uses updated_at, else created_at, in the event key", () => {
    const n = only(note({ ...onIssue, object_attributes: { ...onIssue.object_attributes, updated_at: null } }));
    expect(n.eventKey).toBe("note/1241/20150517T170640Z");
  });

  it("rejects a note on an issue that carries no issue", () => {
    const { issue: _omit, ...rest } = onIssue;
    expect(() => notificationsFor(rest)).toThrow(PayloadError);
  });
});
