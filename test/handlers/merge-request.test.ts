import { describe, expect, it } from "vitest";
import { notificationsFor } from "../../handlers/index.js";
import { mergeRequest } from "../../handlers/merge-request.js";
import { fieldsOf, fixture, only, renderBoth } from "./fixtures.js";

const Z = "\u200B";
const base = fixture("merge_request.json", "merge_request");
const withAction = (action: string, changes: typeof base.changes = {}) => ({
  ...base,
  object_attributes: { ...base.object_attributes, action },
  changes,
});
const project = "**[gitlabhq/gitlab-test](http://example.com/gitlabhq/gitlab-test)**";
const mr = "[!1 MS-Viewport](http://example.com/diaspora/merge_requests/1)";
const user1 = base.reviewers?.[0];
if (!user1) throw new Error("fixture has a reviewer");
const user2 = { id: 7, name: "User2", username: "user2", avatar_url: null };
/** The fixture's own changes: labels and timestamps, no draft or reviewer change. */
const { draft: _draft, ...rawChanges } = base.changes ?? {};

describe("merge request", () => {
  it("announces an opened merge request with branches, labels, assignees and reviewers", () => {
    const n = only(mergeRequest(base));
    expect(fieldsOf(n)).toEqual({
      feature: "merges",
      projectPath: "gitlabhq/gitlab-test",
      eventKey: "merge_request/99/open/20131203T172334Z",
      labels: ["API"],
      defaultBranch: "master",
      confidential: false,
      actorUsername: "root",
      threadKey: "gitlabhq/gitlab-test!1",
      threadUpdate: { state: "opened" },
      actions: [
        { kind: "mr.approve", project: "gitlabhq/gitlab-test", iid: 1 },
        { kind: "mr.merge", project: "gitlabhq/gitlab-test", iid: 1 },
      ],
    });
    const common = {
      color: "#1f78d1",
      author_name: "Administrator",
      author_icon: "http://www.gravatar.com/avatar/e64c7d89f26bd1972efa854d13d7dd61?s=40&d=identicon",
      title: "!1 MS-Viewport",
      title_link: "http://example.com/diaspora/merge_requests/1",
    };
    expect(renderBoth(n)).toEqual({
      en: {
        message: `${project}: @${Z}root opened merge request ${mr}`,
        attachments: [
          {
            ...common,
            fallback: `gitlabhq/gitlab-test: @${Z}root opened merge request !1 MS-Viewport`,
            fields: [
              { title: "Branches", value: "ms-viewport → master", short: true },
              { title: "Labels", value: "API", short: true },
              { title: "Assignees", value: `@${Z}user1`, short: true },
              { title: "Reviewers", value: `@${Z}user1`, short: true },
            ],
          },
        ],
      },
      "zh-CN": {
        message: `${project}: @${Z}root 创建了合并请求 ${mr}`,
        attachments: [
          {
            ...common,
            fallback: `gitlabhq/gitlab-test: @${Z}root 创建了合并请求 !1 MS-Viewport`,
            fields: [
              { title: "分支", value: "ms-viewport → master", short: true },
              { title: "标记", value: "API", short: true },
              { title: "指派人", value: `@${Z}user1`, short: true },
              { title: "审核者", value: `@${Z}user1`, short: true },
            ],
          },
        ],
      },
    });
  });

  it.each([
    ["reopen", "reopened merge request", "重新打开了合并请求 ", "#1f78d1"],
    ["close", "closed merge request", "关闭了合并请求 ", "#dd2b0e"],
    ["merge", "merged merge request", "合并了合并请求 ", "#6e49cb"],
    ["approved", "approved merge request", "批准了合并请求 ", "#108548"],
    ["approval", "approved merge request", "批准了合并请求 ", "#108548"],
    ["unapproved", "revoked their approval of merge request", "撤销了对合并请求 ", "#c17d10"],
    ["unapproval", "revoked their approval of merge request", "撤销了对合并请求 ", "#c17d10"],
  ])("announces %s", (action, en, zh, color) => {
    const n = only(mergeRequest(withAction(action)));
    expect(n.eventKey).toBe(`merge_request/99/${action}/20131203T172334Z`);
    expect(n.threadKey).toBe("gitlabhq/gitlab-test!1");
    expect(n.render("en").message).toBe(`${project}: @${Z}root ${en} ${mr}`);
    expect(n.render("zh-CN").message.startsWith(`${project}: @${Z}root ${zh}${mr}`)).toBe(true);
    expect(n.render("en").attachments?.[0]?.color).toBe(color);
  });

  it("offers Approve and Merge while the merge request is open, and nothing once it is merged or closed", () => {
    const buttons = (n: ReturnType<typeof only>) => (n.actions ?? []).map((a) => a.kind);
    for (const action of ["open", "reopen", "approved", "unapproved"]) expect(buttons(only(mergeRequest(withAction(action))))).toEqual(["mr.approve", "mr.merge"]);
    expect(buttons(only(mergeRequest(withAction("merge"))))).toEqual([]);
    expect(buttons(only(mergeRequest(withAction("close"))))).toEqual([]);
    // A post about an older event of a merge request that is merged by now: no buttons either.
    const merged = { ...base, object_attributes: { ...base.object_attributes, action: "approved", state: "merged" } };
    expect(buttons(only(mergeRequest(merged)))).toEqual([]);
  });

  it("says approval was revoked in Chinese word order", () => {
    expect(only(mergeRequest(withAction("unapproved"))).render("zh-CN").message).toBe(`${project}: @${Z}root 撤销了对合并请求 ${mr} 的批准`);
  });

  it("posts nothing for a plain update", () => {
    expect(mergeRequest(withAction("update", rawChanges))).toEqual([]);
    expect(mergeRequest(withAction("update", null))).toEqual([]);
    expect(mergeRequest(withAction("update", { draft: { previous: false, current: true } }))).toEqual([]);
  });

  it("announces a merge request marked as ready", () => {
    const n = only(mergeRequest(withAction("update", { draft: { previous: true, current: false } })));
    expect(n.eventKey).toBe("merge_request/99/update.ready/20131203T172334Z");
    expect(n.render("en").message).toBe(`${project}: @${Z}root marked merge request ${mr} as ready`);
    expect(n.render("zh-CN").message).toBe(`${project}: @${Z}root 将合并请求 ${mr} 标记为就绪`);
  });

  it("announces newly requested reviewers only", () => {
    const n = only(mergeRequest(withAction("update", { reviewers: { previous: [user1], current: [user1, user2] } })));
    expect(n.eventKey).toBe("merge_request/99/update.reviewers/20131203T172334Z");
    expect(n.render("en").message).toBe(`${project}: @${Z}root requested a review from @${Z}user2 on merge request ${mr}`);
    expect(n.render("zh-CN").message).toBe(`${project}: @${Z}root 请 @${Z}user2 审核合并请求 ${mr}`);
    expect(mergeRequest(withAction("update", { reviewers: { previous: [user1, user2], current: [user1] } }))).toEqual([]);
  });

  it("gives one notification per meaningful change of one update", () => {
    const ns = mergeRequest(withAction("update", { draft: { previous: true, current: false }, reviewers: { previous: [], current: [user2] } }));
    expect(ns.map((n) => n.eventKey)).toEqual(["merge_request/99/update.ready/20131203T172334Z", "merge_request/99/update.reviewers/20131203T172334Z"]);
  });

  it.each([
    ["open", { draft: true }, { state: "draft" }],
    ["reopen", {}, { state: "opened" }],
    ["close", {}, { state: "closed" }],
    ["merge", {}, { state: "merged" }],
    ["approved", {}, { approvedBy: "root" }],
    ["approval", {}, { approvedBy: "root" }],
    ["unapproved", {}, { unapprovedBy: "root" }],
  ])("tells the thread's root what %s changed", (action, extra, update) => {
    const n = only(mergeRequest({ ...base, object_attributes: { ...base.object_attributes, action, ...extra } }));
    expect(n.threadUpdate).toEqual(update);
  });

  it("comes out of notificationsFor the same", () => {
    expect(notificationsFor(base).notifications.map(fieldsOf)).toEqual(mergeRequest(base).map(fieldsOf));
  });
});
