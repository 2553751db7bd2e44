import { describe, expect, it } from "vitest";
import { eventKindOf, notificationsFor, PayloadError } from "../../handlers/index.js";
import { subgroup } from "../../handlers/subgroup.js";
import { fieldsOf, fixture, only, renderBoth } from "./fixtures.js";

const created = fixture("subgroup_create.json", "subgroup");
const destroyed = fixture("subgroup_destroy.json", "subgroup");

describe("subgroup", () => {
  it("announces a subgroup created, to the parent group's subscribers", () => {
    const n = only(subgroup(created));
    expect(fieldsOf(n)).toEqual({
      feature: "projects",
      projectPath: "group1",
      eventKey: "subgroup/10/subgroup_5Fcreate/20210120T094012Z",
      labels: [],
      confidential: false,
    });
    expect(renderBoth(n)).toEqual({
      en: { message: "**group1**: Subgroup group1/subgroup1 was created", attachments: [{ fallback: "group1: Subgroup group1/subgroup1 was created", color: "#108548" }] },
      "zh-CN": { message: "**group1**: 子群组 group1/subgroup1 已创建", attachments: [{ fallback: "group1: 子群组 group1/subgroup1 已创建", color: "#108548" }] },
    });
  });

  it("announces a subgroup deleted", () => {
    const n = only(subgroup(destroyed));
    expect(n.eventKey).toBe("subgroup/10/subgroup_5Fdestroy/20210120T094012Z");
    expect(renderBoth(n)).toEqual({
      en: { message: "**group1**: Subgroup group1/subgroup1 was deleted", attachments: [{ fallback: "group1: Subgroup group1/subgroup1 was deleted", color: "#737278" }] },
      "zh-CN": { message: "**group1**: 子群组 group1/subgroup1 已删除", attachments: [{ fallback: "group1: 子群组 group1/subgroup1 已删除", color: "#737278" }] },
    });
  });

  it("is found by event_name and posts nothing for other events", () => {
    expect(eventKindOf(created, "Subgroup Hook")).toBe("subgroup");
    expect(notificationsFor(destroyed, "Subgroup Hook").notifications.map(fieldsOf)).toEqual(subgroup(destroyed).map(fieldsOf));
    expect(subgroup({ ...created, event_name: "subgroup_rename" })).toEqual([]);
    const { parent_full_path: _omit, ...rest } = created;
    expect(() => notificationsFor(rest, "Subgroup Hook")).toThrow(PayloadError);
  });
});
