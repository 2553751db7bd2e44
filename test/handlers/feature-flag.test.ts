import { describe, expect, it } from "vitest";
import { featureFlag } from "../../handlers/feature-flag.js";
import { notificationsFor, PayloadError } from "../../handlers/index.js";
import { fieldsOf, fixture, only, renderBoth } from "./fixtures.js";

const Z = "\u200B";
const base = fixture("feature_flag.json", "feature_flag");
const project = "**[gitlabhq/gitlab-test](http://example.com/gitlabhq/gitlab-test)**";
const flag = "[test-feature-flag](http://example.com/gitlabhq/gitlab-test/-/feature_flags)";
const author = {
  author_name: "Administrator",
  author_icon: "https://www.gravatar.com/avatar/e64c7d89f26bd1972efa854d13d7dd61?s=80&d=identicon",
};

describe("feature flag", () => {
  it("announces a flag turned on", () => {
    const n = only(featureFlag(base));
    expect(fieldsOf(n)).toEqual({
      feature: "feature_flags",
      projectPath: "gitlabhq/gitlab-test",
      eventKey: "feature_flag/1/6/on",
      labels: [],
      defaultBranch: "master",
      confidential: false,
      actorUsername: "root",
    });
    expect(renderBoth(n)).toEqual({
      en: {
        message: `${project}: @${Z}root turned on feature flag ${flag}`,
        attachments: [
          { fallback: `gitlabhq/gitlab-test: @${Z}root turned on feature flag test-feature-flag`, color: "#108548", ...author, text: "test-feature-flag-description" },
        ],
      },
      "zh-CN": {
        message: `${project}: @${Z}root 开启了功能标志 ${flag}`,
        attachments: [
          { fallback: `gitlabhq/gitlab-test: @${Z}root 开启了功能标志 test-feature-flag`, color: "#108548", ...author, text: "test-feature-flag-description" },
        ],
      },
    });
  });

  it("announces a flag turned off, with its own key", () => {
    const n = only(featureFlag({ ...base, object_attributes: { ...base.object_attributes, active: false, description: null } }));
    expect(n.eventKey).toBe("feature_flag/1/6/off");
    expect(renderBoth(n)).toEqual({
      en: {
        message: `${project}: @${Z}root turned off feature flag ${flag}`,
        attachments: [{ fallback: `gitlabhq/gitlab-test: @${Z}root turned off feature flag test-feature-flag`, color: "#737278", ...author }],
      },
      "zh-CN": {
        message: `${project}: @${Z}root 关闭了功能标志 ${flag}`,
        attachments: [{ fallback: `gitlabhq/gitlab-test: @${Z}root 关闭了功能标志 test-feature-flag`, color: "#737278", ...author }],
      },
    });
  });

  it("comes out of notificationsFor the same, and needs to know whether the flag is on", () => {
    expect(notificationsFor(base, "Feature Flag Hook").notifications.map(fieldsOf)).toEqual(featureFlag(base).map(fieldsOf));
    const { active: _omit, ...attrs } = base.object_attributes;
    expect(() => notificationsFor({ ...base, object_attributes: attrs })).toThrow(PayloadError);
  });
});
