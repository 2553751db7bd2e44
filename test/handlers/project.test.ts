import { describe, expect, it } from "vitest";
import { eventKindOf, notificationsFor, PayloadError } from "../../handlers/index.js";
import { projectEvent } from "../../handlers/project.js";
import { fieldsOf, fixture, only, renderBoth } from "./fixtures.js";

const created = fixture("project_create.json", "project");
const destroyed = fixture("project_destroy.json", "project");

describe("project", () => {
  it("announces a project created in a group, with visibility and owners (never their e-mail)", () => {
    const n = only(projectEvent(created));
    expect(fieldsOf(n)).toEqual({
      feature: "projects",
      projectPath: "group1/project1",
      eventKey: "project/22/project_5Fcreate/20241007T104348Z",
      labels: [],
      confidential: false,
    });
    expect(renderBoth(n)).toEqual({
      en: {
        message: "**group1/project1**: Project project1 was created",
        attachments: [
          {
            fallback: "group1/project1: Project project1 was created",
            color: "#108548",
            fields: [
              { title: "Visibility", value: "Private", short: true },
              { title: "Owners", value: "John", short: true },
            ],
          },
        ],
      },
      "zh-CN": {
        message: "**group1/project1**: 项目 project1 已创建",
        attachments: [
          {
            fallback: "group1/project1: 项目 project1 已创建",
            color: "#108548",
            fields: [
              { title: "可见性", value: "私有", short: true },
              { title: "所有者", value: "John", short: true },
            ],
          },
        ],
      },
    });
    expect(JSON.stringify(renderBoth(n))).not.toContain("user1@example.com");
  });

  it("announces a deleted project under its own path", () => {
    const n = only(projectEvent(destroyed));
    expect(fieldsOf(n)).toMatchObject({ projectPath: "group1/project1", eventKey: "project/22/project_5Fdestroy/20241007T104348Z" });
    expect(renderBoth(n)).toEqual({
      en: { message: "**group1/project1**: Project project1 was deleted", attachments: [{ fallback: "group1/project1: Project project1 was deleted", color: "#737278" }] },
      "zh-CN": { message: "**group1/project1**: 项目 project1 已删除", attachments: [{ fallback: "group1/project1: 项目 project1 已删除", color: "#737278" }] },
    });
  });

  it("lists at most ten owners", () => {
    const owners = Array.from({ length: 12 }, (_, i) => ({ name: `Owner ${i}`, email: `o${i}@example.com` }));
    const value = only(projectEvent({ ...created, owners })).render("en").attachments?.[0]?.fields?.[1]?.value;
    expect(value).toBe(`${owners.slice(0, 10).map((o) => o.name).join(", ")} …and 2 more`);
  });

  it("is found by event_name and posts nothing for other project events", () => {
    expect(eventKindOf(created, "Project Hook")).toBe("project");
    expect(eventKindOf(destroyed, "Project Hook")).toBe("project");
    expect(notificationsFor(created, "Project Hook").notifications.map(fieldsOf)).toEqual(projectEvent(created).map(fieldsOf));
    expect(projectEvent({ ...created, event_name: "project_rename" })).toEqual([]);
    const { path_with_namespace: _omit, ...rest } = created;
    expect(() => notificationsFor(rest, "Project Hook")).toThrow(PayloadError);
  });
});
