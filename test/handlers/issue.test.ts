import { describe, expect, it } from "vitest";
import { issue } from "../../handlers/issue.js";
import { notificationsFor, PayloadError } from "../../handlers/index.js";
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

    const reopened = only(issue(withAction("reopen")));
    expect(reopened.eventKey).toBe("issue/301/reopen/20131203T171543Z");
    expect(reopened.render("en").message).toBe(`${project}: @${Z}root reopened issue ${issueLink}`);
    expect(reopened.render("zh-CN").message).toBe(`${project}: @${Z}root 重新打开了议题 ${issueLink}`);
  });

  it("posts nothing for a plain update", () => {
    expect(issue(withAction("update"))).toEqual([]);
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
});
