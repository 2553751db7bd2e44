import { describe, expect, it } from "vitest";
import { accessToken } from "../../handlers/access-token.js";
import { notificationsFor, PayloadError } from "../../handlers/index.js";
import { fieldsOf, fixture, only, renderBoth } from "./fixtures.js";

const projectToken = fixture("access_token_project.json", "access_token");
const groupToken = fixture("access_token_group.json", "access_token");
const project = "**[flightjs/Flight](https://example.com/flightjs/Flight)**";
const token = "[acd](https://example.com/flightjs/Flight/-/settings/access_tokens)";

describe("access token", () => {
  it("warns that a project access token is about to expire", () => {
    const n = only(accessToken(projectToken));
    expect(fieldsOf(n)).toEqual({
      feature: "access_tokens",
      projectPath: "flightjs/Flight",
      eventKey: "access_token/project-7/25/expiring/2024-01-26",
      labels: [],
      defaultBranch: "master",
      confidential: false,
    });
    expect(renderBoth(n)).toEqual({
      en: {
        message: `${project}: Project access token ${token} expires on 2024-01-26`,
        attachments: [{ fallback: "flightjs/Flight: Project access token acd expires on 2024-01-26", color: "#c17d10" }],
      },
      "zh-CN": {
        message: `${project}: 项目访问令牌 ${token} 将于 2024-01-26 过期`,
        attachments: [{ fallback: "flightjs/Flight: 项目访问令牌 acd 将于 2024-01-26 过期", color: "#c17d10" }],
      },
    });
  });

  it("warns about a group access token under the group's full path, unlinked (the payload has no URL)", () => {
    const n = only(accessToken(groupToken));
    expect(fieldsOf(n)).toEqual({
      feature: "access_tokens",
      projectPath: "twitter",
      eventKey: "access_token/group-35/25/expiring/2024-01-26",
      labels: [],
      confidential: false,
    });
    expect(renderBoth(n)).toEqual({
      en: { message: "**twitter**: Group access token acd expires on 2024-01-26", attachments: [{ fallback: "twitter: Group access token acd expires on 2024-01-26", color: "#c17d10" }] },
      "zh-CN": { message: "**twitter**: 群组访问令牌 acd 将于 2024-01-26 过期", attachments: [{ fallback: "twitter: 群组访问令牌 acd 将于 2024-01-26 过期", color: "#c17d10" }] },
    });
    const subgroup = { ...groupToken, group: { ...groupToken.group, full_path: "twitter/ads", group_path: "ads" } };
    expect(only(accessToken(subgroup)).projectPath).toBe("twitter/ads");
  });

  it("tells apart the warnings GitLab sends at different intervals before expiry", () => {
    const week = only(accessToken({ ...projectToken, object_attributes: { ...projectToken.object_attributes, interval: "7d" } }));
    const month = only(accessToken({ ...projectToken, object_attributes: { ...projectToken.object_attributes, interval: "30d" } }));
    expect(week.eventKey).toBe("access_token/project-7/25/expiring/2024-01-26/7d");
    expect(month.eventKey).not.toBe(week.eventKey);
  });

  it("comes out of notificationsFor the same, and rejects a payload with neither project nor group", () => {
    expect(notificationsFor(projectToken, "Resource Access Token Hook").notifications.map(fieldsOf)).toEqual(accessToken(projectToken).map(fieldsOf));
    expect(notificationsFor(groupToken, "Resource Access Token Hook").notifications.map(fieldsOf)).toEqual(accessToken(groupToken).map(fieldsOf));
    const { group: _omit, ...rest } = groupToken;
    expect(() => notificationsFor(rest)).toThrow(PayloadError);
  });
});
