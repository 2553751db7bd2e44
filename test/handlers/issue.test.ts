import { describe, expect, it } from "vitest";
import { issue } from "../../handlers/issue.js";
import { notificationsFor, PayloadError } from "../../handlers/index.js";
import { DEFAULT_FEATURES } from "../../src/notification.js";
import { parseFeatures } from "../../src/routing/features.js";
import { subscriptionWants } from "../../src/routing/router.js";
import { fieldsOf, fixture, only, renderBoth } from "./fixtures.js";

const Z = "\u200B";
const base = fixture("issue.json", "issue");
const withAction = (action: string, extra: Partial<typeof base.object_attributes> = {}) => ({
  ...base,
  object_attributes: { ...base.object_attributes, action, ...extra },
});
const project = "**[gitlabhq/gitlab-test](http://example.com/gitlabhq/gitlab-test)**";
const issueLink = "[#23 New API: create/update/delete file](http://example.com/diaspora/issues/23)";

describe("issue", () => {
  it("announces an opened issue with its description, labels and assignees", () => {
    const n = only(issue(base));
    expect(fieldsOf(n)).toEqual({
      feature: "issues",
      projectPath: "gitlabhq/gitlab-test",
      eventKey: "issue/301/open/20131203T171543Z",
      labels: ["API"],
      defaultBranch: "master",
      confidential: false,
      actorUsername: "root",
      threadKey: "gitlabhq/gitlab-test#23",
      threadUpdate: { state: "opened" },
      actions: [{ kind: "issue.close", project: "gitlabhq/gitlab-test", iid: 23 }],
    });
    const common = {
      color: "#1f78d1",
      author_name: "Administrator",
      author_icon: "http://www.gravatar.com/avatar/e64c7d89f26bd1972efa854d13d7dd61?s=40&d=identicon",
      title: "#23 New API: create/update/delete file",
      title_link: "http://example.com/diaspora/issues/23",
      text: "Create new API for manipulations with repository",
    };
    expect(renderBoth(n)).toEqual({
      en: {
        message: `${project}: @${Z}root opened issue ${issueLink}`,
        attachments: [
          {
            ...common,
            fallback: `gitlabhq/gitlab-test: @${Z}root opened issue #23 New API: create/update/delete file`,
            fields: [
              { title: "Labels", value: "API", short: true },
              { title: "Assignees", value: `@${Z}user1`, short: true },
            ],
          },
        ],
      },
      "zh-CN": {
        message: `${project}: @${Z}root 创建了议题 ${issueLink}`,
        attachments: [
          {
            ...common,
            fallback: `gitlabhq/gitlab-test: @${Z}root 创建了议题 #23 New API: create/update/delete file`,
            fields: [
              { title: "标记", value: "API", short: true },
              { title: "指派人", value: `@${Z}user1`, short: true },
            ],
          },
        ],
      },
    });
  });

  it("announces closing and reopening, without the description", () => {
    const closed = only(issue(withAction("close", { state: "closed", updated_at: "2013-12-04T09:00:00Z" })));
    expect(closed.eventKey).toBe("issue/301/close/20131204T090000Z");
    expect(renderBoth(closed).en.message).toBe(`${project}: @${Z}root closed issue ${issueLink}`);
    expect(renderBoth(closed)["zh-CN"].message).toBe(`${project}: @${Z}root 关闭了议题 ${issueLink}`);
    expect(closed.render("en").attachments?.[0]).toMatchObject({ color: "#dd2b0e" });
    expect(closed.render("en").attachments?.[0]?.text).toBeUndefined();
    // A closed issue's post offers Reopen instead of Close.
    expect(closed.actions).toEqual([{ kind: "issue.reopen", project: "gitlabhq/gitlab-test", iid: 23 }]);

    const reopened = only(issue(withAction("reopen")));
    expect(reopened.eventKey).toBe("issue/301/reopen/20131203T171543Z");
    expect(reopened.render("en").message).toBe(`${project}: @${Z}root reopened issue ${issueLink}`);
    expect(reopened.render("zh-CN").message).toBe(`${project}: @${Z}root 重新打开了议题 ${issueLink}`);
  });

  it("posts nothing for a plain update", () => {
    expect(issue({ ...withAction("update"), changes: null })).toEqual([]);
    expect(issue({ ...withAction("update"), changes: { labels: null, assignees: null, due_date: null } })).toEqual([]);
    const sameLabels = { previous: [{ title: "API" }], current: [{ title: "API" }] };
    expect(issue({ ...withAction("update"), changes: { labels: sameLabels } })).toEqual([]);
  });

  it("announces label changes under issue_updates, in the issue's thread, with the labels it had and has", () => {
    const n = only(issue(withAction("update")));
    expect(fieldsOf(n)).toEqual({
      feature: "issue_updates",
      projectPath: "gitlabhq/gitlab-test",
      eventKey: expect.stringMatching(/^issue\/301\/update\/20131203T171543Z\.[0-9a-f]{8}$/),
      labels: ["API", "Platform"],
      defaultBranch: "master",
      confidential: false,
      actorUsername: "root",
      threadKey: "gitlabhq/gitlab-test#23",
    });
    const common = {
      color: "#1f78d1",
      author_name: "Administrator",
      author_icon: "http://www.gravatar.com/avatar/e64c7d89f26bd1972efa854d13d7dd61?s=40&d=identicon",
      title: "#23 New API: create/update/delete file",
      title_link: "http://example.com/diaspora/issues/23",
    };
    expect(renderBoth(n)).toEqual({
      en: {
        message: `${project}: @${Z}root updated issue ${issueLink}`,
        attachments: [
          {
            ...common,
            fallback: `gitlabhq/gitlab-test: @${Z}root updated issue #23 New API: create/update/delete file`,
            fields: [
              { title: "Labels added", value: "Platform", short: true },
              { title: "Labels removed", value: "API", short: true },
            ],
          },
        ],
      },
      "zh-CN": {
        message: `${project}: @${Z}root 更新了议题 ${issueLink}`,
        attachments: [
          {
            ...common,
            fallback: `gitlabhq/gitlab-test: @${Z}root 更新了议题 #23 New API: create/update/delete file`,
            fields: [
              { title: "添加的标记", value: "Platform", short: true },
              { title: "移除的标记", value: "API", short: true },
            ],
          },
        ],
      },
    });
  });

  it("announces assignee and due-date changes, and tells apart updates in the same second", () => {
    const user2 = { name: "User2", username: "user2", avatar_url: null };
    const assigned = only(issue({ ...withAction("update"), changes: { assignees: { previous: [], current: [user2] } } }));
    expect(assigned.render("en").attachments?.[0]?.fields).toEqual([{ title: "Assignees", value: `@${Z}user2`, short: true }]);
    const unassigned = only(issue({ ...withAction("update"), changes: { assignees: { previous: [user2], current: [] } } }));
    expect(unassigned.render("zh-CN").attachments?.[0]?.fields).toEqual([{ title: "指派人", value: "无", short: true }]);
    expect(unassigned.eventKey).not.toBe(assigned.eventKey);

    const due = only(issue({ ...withAction("update"), changes: { due_date: { previous: null, current: "2024-03-01" } } }));
    expect(due.render("en").attachments?.[0]?.fields).toEqual([{ title: "Due date", value: "None → 2024-03-01", short: true }]);
    expect(due.render("zh-CN").attachments?.[0]?.fields).toEqual([{ title: "截止日期", value: "无 → 2024-03-01", short: true }]);
    expect(due.labels).toEqual(["API"]);
  });

  it("reaches only subscriptions that ask for issue_updates, label filters applied", () => {
    const n = only(issue(withAction("update")));
    const wants = (features: string) => subscriptionWants(parseFeatures(features), n);
    expect(DEFAULT_FEATURES).not.toContain("issue_updates");
    expect(wants(DEFAULT_FEATURES.join(","))).toBe(false);
    expect(wants("issue_updates")).toBe(true);
    expect(wants('issue_updates,label:"platform"')).toBe(true);
    expect(wants('issue_updates,label:"api"')).toBe(true); // removed just now: its watchers hear it
    expect(wants('issue_updates,label:"docs"')).toBe(false);
    expect(wants('issue_updates,label:"api",label:"docs",labels:all')).toBe(false);
  });

  it("keeps a confidential issue's updates confidential", () => {
    const n = only(issue(withAction("update", { confidential: true })));
    expect(n).toMatchObject({ feature: "issue_updates", confidential: true });
    expect(subscriptionWants(parseFeatures("issue_updates"), n)).toBe(false);
    expect(subscriptionWants(parseFeatures("confidential_issues"), n)).toBe(false);
    expect(subscriptionWants(parseFeatures("confidential_issues,issue_updates"), n)).toBe(true);
    expect(n.render("zh-CN").attachments?.[0]?.footer).toBe("私密");
  });

  it("marks a confidential issue confidential", () => {
    const n = only(issue(withAction("open", { confidential: true })));
    expect(n.confidential).toBe(true);
    expect(n.feature).toBe("issues");
    expect(n.render("en").attachments?.[0]?.footer).toBe("Confidential");
    expect(n.render("zh-CN").attachments?.[0]?.footer).toBe("私密");
  });

  it("cuts a long description and links to the rest", () => {
    const text = only(issue(withAction("open", { description: "word ".repeat(300) }))).render("en").attachments?.[0]?.text ?? "";
    expect(text.length).toBeLessThan(600);
    expect(text).toMatch(/…\s\[Read more\]\(http:\/\/example\.com\/diaspora\/issues\/23\)$/);
  });

  it("handles work items, naming their type", () => {
    const task = { ...base, object_kind: "work_item", object_attributes: { ...base.object_attributes, type: "Task" } };
    const result = notificationsFor(task, "Issue Hook");
    expect(result).toMatchObject({ kind: "work_item", known: true });
    const n = only(result.notifications);
    expect(fieldsOf(n)).toEqual(fieldsOf(only(issue(base))));
    expect(n.render("en").message).toBe(`${project}: @${Z}root opened task ${issueLink}`);
    expect(n.render("zh-CN").message).toBe(`${project}: @${Z}root 创建了任务 ${issueLink}`);
  });

  it("rejects an issue payload without its project", () => {
    const { project: _omit, ...rest } = base;
    expect(() => notificationsFor(rest)).toThrow(PayloadError);
  });

  it.each([
    ["close", "closed"],
    ["reopen", "opened"],
  ])("tells the thread's root that %s leaves the issue %s", (action, state) => {
    const n = only(issue({ ...base, object_attributes: { ...base.object_attributes, action } }));
    expect(n.threadUpdate).toEqual({ state });
  });
});
