import { describe, expect, it } from "vitest";
import { eventKindOf, notificationsFor, PayloadError } from "../../handlers/index.js";
import { member } from "../../handlers/member.js";
import { fieldsOf, fixture, only, renderBoth } from "./fixtures.js";

const Z = "\u200B";
const load = (file: string) => fixture(file, "member");
const user = `@${Z}test\\_user`;
const plainUser = `@${Z}test_user`;

describe("member", () => {
  it("announces a member added to the group, with role and expiry", () => {
    const n = only(member(load("member_add_to_group.json")));
    expect(fieldsOf(n)).toEqual({
      feature: "members",
      projectPath: "webhook-test",
      eventKey: "member/100/64/user_5Fadd_5Fto_5Fgroup/20201211T045722Z",
      labels: [],
      confidential: false,
    });
    expect(renderBoth(n)).toEqual({
      en: {
        message: `**webhook-test**: ${user} was added to group webhook-test`,
        attachments: [
          {
            fallback: `webhook-test: ${plainUser} was added to group webhook-test`,
            color: "#108548",
            fields: [
              { title: "Role", value: "Guest", short: true },
              { title: "Expires", value: "2020-12-14", short: true },
            ],
          },
        ],
      },
      "zh-CN": {
        message: `**webhook-test**: ${user} 已被添加到群组 webhook-test`,
        attachments: [
          {
            fallback: `webhook-test: ${plainUser} 已被添加到群组 webhook-test`,
            color: "#108548",
            fields: [
              { title: "角色", value: "访客", short: true },
              { title: "到期日期", value: "2020-12-14", short: true },
            ],
          },
        ],
      },
    });
  });

  it("announces a changed membership", () => {
    const n = only(member(load("member_update_for_group.json")));
    expect(n.eventKey).toBe("member/100/64/user_5Fupdate_5Ffor_5Fgroup/20201212T084819Z");
    expect(renderBoth(n)).toEqual({
      en: {
        message: `**webhook-test**: The membership of ${user} in group webhook-test was changed`,
        attachments: [
          {
            fallback: `webhook-test: The membership of ${plainUser} in group webhook-test was changed`,
            color: "#1f78d1",
            fields: [
              { title: "Role", value: "Developer", short: true },
              { title: "Expires", value: "2020-12-20", short: true },
            ],
          },
        ],
      },
      "zh-CN": {
        message: `**webhook-test**: ${user} 在群组 webhook-test 中的成员资格已更改`,
        attachments: [
          {
            fallback: `webhook-test: ${plainUser} 在群组 webhook-test 中的成员资格已更改`,
            color: "#1f78d1",
            fields: [
              { title: "角色", value: "开发者", short: true },
              { title: "到期日期", value: "2020-12-20", short: true },
            ],
          },
        ],
      },
    });
  });

  it("announces a removal and a denied request without role or expiry", () => {
    const removed = only(member(load("member_remove_from_group.json")));
    expect(renderBoth(removed)).toEqual({
      en: { message: `**webhook-test**: ${user} was removed from group webhook-test`, attachments: [{ fallback: `webhook-test: ${plainUser} was removed from group webhook-test`, color: "#737278" }] },
      "zh-CN": { message: `**webhook-test**: ${user} 已被移出群组 webhook-test`, attachments: [{ fallback: `webhook-test: ${plainUser} 已被移出群组 webhook-test`, color: "#737278" }] },
    });
    const denied = only(member(load("member_access_request_denied_for_group.json")));
    expect(renderBoth(denied)).toEqual({
      en: {
        message: `**webhook-test**: The access request of ${user} to group webhook-test was denied`,
        attachments: [{ fallback: `webhook-test: The access request of ${plainUser} to group webhook-test was denied`, color: "#737278" }],
      },
      "zh-CN": {
        message: `**webhook-test**: ${user} 访问群组 webhook-test 的申请已被拒绝`,
        attachments: [{ fallback: `webhook-test: ${plainUser} 访问群组 webhook-test 的申请已被拒绝`, color: "#737278" }],
      },
    });
  });

  it("announces an access request as the requester's own doing", () => {
    const n = only(member(load("member_access_request_to_group.json")));
    expect(fieldsOf(n)).toMatchObject({ actorUsername: "test_user", eventKey: "member/100/64/user_5Faccess_5Frequest_5Fto_5Fgroup/20201212T085234Z" });
    expect(renderBoth(n)).toEqual({
      en: {
        message: `**webhook-test**: ${user} requested access to group webhook-test`,
        attachments: [{ fallback: `webhook-test: ${plainUser} requested access to group webhook-test`, color: "#1f78d1", author_name: "Test User", fields: [{ title: "Role", value: "Guest", short: true }] }],
      },
      "zh-CN": {
        message: `**webhook-test**: ${user} 申请访问群组 webhook-test`,
        attachments: [{ fallback: `webhook-test: ${plainUser} 申请访问群组 webhook-test`, color: "#1f78d1", author_name: "Test User", fields: [{ title: "角色", value: "访客", short: true }] }],
      },
    });
  });

  it("never shows the member's e-mail address, and shows an unknown role as written", () => {
    for (const file of ["member_add_to_group.json", "member_update_for_group.json", "member_access_request_to_group.json"]) {
      expect(JSON.stringify(renderBoth(only(member(load(file)))))).not.toContain("webhooktest.com");
    }
    const custom = only(member({ ...load("member_add_to_group.json"), group_access: "Security *auditor*" }));
    expect(custom.render("zh-CN").attachments?.[0]?.fields?.[0]).toEqual({ title: "角色", value: "Security \\*auditor\\*", short: true });
  });

  it("is found by event_name and posts nothing for an event it does not know", () => {
    for (const file of ["member_add_to_group.json", "member_update_for_group.json", "member_remove_from_group.json", "member_access_request_to_group.json", "member_access_request_denied_for_group.json"]) {
      const payload = load(file);
      expect(eventKindOf(payload, "Member Hook"), file).toBe("member");
      expect(notificationsFor(payload, "Member Hook").notifications.map(fieldsOf), file).toEqual(member(payload).map(fieldsOf));
    }
    expect(member({ ...load("member_add_to_group.json"), event_name: "user_add_to_project" })).toEqual([]);
    const { group_path: _omit, ...rest } = load("member_add_to_group.json");
    expect(() => notificationsFor(rest, "Member Hook")).toThrow(PayloadError);
  });
});
