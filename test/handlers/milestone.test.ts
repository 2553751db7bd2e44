import { describe, expect, it } from "vitest";
import { notificationsFor, PayloadError } from "../../handlers/index.js";
import { milestone } from "../../handlers/milestone.js";
import { fieldsOf, fixture, only, renderBoth } from "./fixtures.js";

const base = fixture("milestone.json", "milestone");
const project = "**[gitlabhq/gitlab-test](http://example.com/gitlabhq/gitlab-test)**";
const milestoneLink = "[v1.0](http://example.com/gitlabhq/gitlab-test/-/milestones/10)";

describe("milestone", () => {
  it("announces a new milestone with its description and dates", () => {
    const n = only(milestone(base));
    expect(fieldsOf(n)).toEqual({
      feature: "milestones",
      projectPath: "gitlabhq/gitlab-test",
      eventKey: "milestone/1/61/create/20250616T141057Z",
      labels: [],
      defaultBranch: "master",
      confidential: false,
    });
    expect(renderBoth(n)).toEqual({
      en: {
        message: `${project}: Milestone ${milestoneLink} was created`,
        attachments: [
          {
            fallback: "gitlabhq/gitlab-test: Milestone v1.0 was created",
            color: "#108548",
            text: "First stable release",
            fields: [
              { title: "Start date", value: "2025-06-16", short: true },
              { title: "Due date", value: "2025-06-30", short: true },
            ],
          },
        ],
      },
      "zh-CN": {
        message: `${project}: 里程碑 ${milestoneLink} 已创建`,
        attachments: [
          {
            fallback: "gitlabhq/gitlab-test: 里程碑 v1.0 已创建",
            color: "#108548",
            text: "First stable release",
            fields: [
              { title: "开始日期", value: "2025-06-16", short: true },
              { title: "截止日期", value: "2025-06-30", short: true },
            ],
          },
        ],
      },
    });
  });

  it("announces closing and reopening, without the description", () => {
    const attrs = { ...base.object_attributes, state: "closed", updated_at: "2025-07-01 09:00:00 UTC" };
    const closed = only(milestone({ ...base, action: "close", object_attributes: attrs }));
    expect(closed.eventKey).toBe("milestone/1/61/close/20250701T090000Z");
    expect(closed.render("en").message).toBe(`${project}: Milestone ${milestoneLink} was closed`);
    expect(closed.render("zh-CN").message).toBe(`${project}: 里程碑 ${milestoneLink} 已关闭`);
    expect(closed.render("en").attachments?.[0]).toMatchObject({ color: "#737278" });
    expect(closed.render("en").attachments?.[0]?.text).toBeUndefined();

    const reopened = only(milestone({ ...base, action: "reopen" }));
    expect(reopened.eventKey).toBe("milestone/1/61/reopen/20250616T141057Z");
    expect(reopened.render("en").message).toBe(`${project}: Milestone ${milestoneLink} was reopened`);
    expect(reopened.render("zh-CN").message).toBe(`${project}: 里程碑 ${milestoneLink} 已重新打开`);
    expect(reopened.render("en").attachments?.[0]).toMatchObject({ color: "#1f78d1" });
  });

  it("leaves out dates the milestone has not got", () => {
    const n = only(milestone({ ...base, object_attributes: { ...base.object_attributes, start_date: null, due_date: null } }));
    expect(n.render("en").attachments?.[0]?.fields).toBeUndefined();
  });

  it("posts nothing for other actions (update, delete)", () => {
    expect(milestone({ ...base, action: "update" })).toEqual([]);
    expect(milestone({ ...base, action: "delete" })).toEqual([]);
  });

  it("comes out of notificationsFor the same, and rejects a payload without its project", () => {
    expect(notificationsFor(base, "Milestone Hook").notifications.map(fieldsOf)).toEqual(milestone(base).map(fieldsOf));
    const { project: _omit, ...rest } = base;
    expect(() => notificationsFor(rest)).toThrow(PayloadError);
  });
});
