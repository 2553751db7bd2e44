import { describe, expect, it } from "vitest";
import { notificationsFor } from "../../handlers/index.js";
import { release } from "../../handlers/release.js";
import { fieldsOf, fixture, only, renderBoth } from "./fixtures.js";

const base = fixture("release.json", "release");
const project = "**[gitlab-org/release-webhook-example](https://example.com/gitlab-org/release-webhook-example)**";
const releaseLink = "[v1.1](https://example.com/gitlab-org/release-webhook-example/-/releases/v1.1)";
const tagLink = "[v1.1](https://example.com/gitlab-org/release-webhook-example/-/tags/v1.1)";

describe("release", () => {
  it("announces a new release with its notes, commit and assets", () => {
    const n = only(release(base));
    expect(fieldsOf(n)).toEqual({
      feature: "releases",
      projectPath: "gitlab-org/release-webhook-example",
      eventKey: "release/2/v1.1/create/20201102T125512Z",
      labels: [],
      defaultBranch: "master",
      confidential: false,
    });
    const common = {
      color: "#108548",
      title: "v1.1",
      title_link: "https://example.com/gitlab-org/release-webhook-example/-/releases/v1.1",
      text: "v1.1 has been released",
    };
    const commit = "[`ee0a3fb3`](https://example.com/gitlab-org/release-webhook-example/-/commit/ee0a3fb31ac16e11b9dbb596ad16d4af654d08f8)";
    expect(renderBoth(n)).toEqual({
      en: {
        message: `${project}: New release ${releaseLink} for tag ${tagLink}`,
        attachments: [
          {
            ...common,
            fallback: "gitlab-org/release-webhook-example: New release v1.1 for tag v1.1",
            fields: [
              { title: "Commit", value: commit, short: true },
              { title: "Assets", value: "[Changelog](https://example.net/changelog)", short: false },
            ],
          },
        ],
      },
      "zh-CN": {
        message: `${project}: 发布了新版本 ${releaseLink}（标签 ${tagLink}）`,
        attachments: [
          {
            ...common,
            fallback: "gitlab-org/release-webhook-example: 发布了新版本 v1.1（标签 v1.1）",
            fields: [
              { title: "提交", value: commit, short: true },
              { title: "资产", value: "[Changelog](https://example.net/changelog)", short: false },
            ],
          },
        ],
      },
    });
  });

  it("announces an update, keyed by what the release now says", () => {
    const n = only(release({ ...base, action: "update" }));
    expect(n.eventKey).toMatch(/^release\/2\/v1\.1\/update\/20201102T125512Z\.[0-9a-f]{8}$/);
    expect(only(release({ ...base, action: "update", description: "v1.1, fixed notes" })).eventKey).not.toBe(n.eventKey);
    expect(only(release({ ...base, action: "update" })).eventKey).toBe(n.eventKey);
    expect(n.render("en").message).toBe(`${project}: Release ${releaseLink} was updated`);
    expect(n.render("zh-CN").message).toBe(`${project}: 发布 ${releaseLink} 已更新`);
    expect(n.render("en").attachments?.[0]?.fields?.[0]).toEqual({ title: "Tag", value: tagLink, short: true });
  });

  it("announces a deletion without links to what is gone", () => {
    const n = only(release({ ...base, action: "delete" }));
    expect(n.eventKey).toBe("release/2/v1.1/delete/20201102T125512Z");
    expect(renderBoth(n)).toEqual({
      en: { message: `${project}: Release v1.1 was deleted`, attachments: [{ color: "#737278", fallback: "gitlab-org/release-webhook-example: Release v1.1 was deleted" }] },
      "zh-CN": { message: `${project}: 发布 v1.1 已删除`, attachments: [{ color: "#737278", fallback: "gitlab-org/release-webhook-example: 发布 v1.1 已删除" }] },
    });
  });

  it("posts nothing for an unknown action", () => {
    expect(release({ ...base, action: "publish" })).toEqual([]);
  });

  it("comes out of notificationsFor the same", () => {
    expect(notificationsFor(base, "Release Hook").notifications.map(fieldsOf)).toEqual(release(base).map(fieldsOf));
  });
});
