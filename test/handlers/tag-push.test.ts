import { describe, expect, it } from "vitest";
import { notificationsFor } from "../../handlers/index.js";
import { tagPush } from "../../handlers/tag-push.js";
import { fieldsOf, fixture, only, renderBoth } from "./fixtures.js";

const base = fixture("tag_push.json", "tag_push");
const ZERO = "0000000000000000000000000000000000000000";

describe("tag push", () => {
  it("announces a pushed tag with its commit", () => {
    const n = only(tagPush(base));
    expect(fieldsOf(n)).toEqual({
      feature: "tags",
      projectPath: "jsmith/example",
      eventKey: `tag_push/1/refs/tags/v1.0.0/${ZERO}..82b3d5ae55f7080f1e6022629cdb57bfae7cccc7`,
      labels: [],
      defaultBranch: "master",
      confidential: false,
    });
    const author = {
      color: "#1f78d1",
      author_name: "John Smith",
      author_icon: "https://s.gravatar.com/avatar/d4c74594d841139328695756648b6bd6?s=8://s.gravatar.com/avatar/d4c74594d841139328695756648b6bd6?s=80",
    };
    const commit = "[`82b3d5ae`](http://example.com/jsmith/example/-/commit/82b3d5ae55f7080f1e6022629cdb57bfae7cccc7)";
    // This payload has no user_username: the actor is named, not mentioned.
    expect(renderBoth(n)).toEqual({
      en: {
        message: "**[jsmith/example](http://example.com/jsmith/example)**: John Smith pushed tag [v1.0.0](http://example.com/jsmith/example/-/tags/v1.0.0)",
        attachments: [{ ...author, fallback: "jsmith/example: John Smith pushed tag v1.0.0", fields: [{ title: "Commit", value: commit, short: true }] }],
      },
      "zh-CN": {
        message: "**[jsmith/example](http://example.com/jsmith/example)**: John Smith 推送了标签 [v1.0.0](http://example.com/jsmith/example/-/tags/v1.0.0)",
        attachments: [{ ...author, fallback: "jsmith/example: John Smith 推送了标签 v1.0.0", fields: [{ title: "提交", value: commit, short: true }] }],
      },
    });
  });

  it("comes out of notificationsFor under its object_kind", () => {
    const result = notificationsFor(base);
    expect(result).toMatchObject({ kind: "tag_push", known: true });
    expect(result.notifications.map(fieldsOf)).toEqual(tagPush(base).map(fieldsOf));
  });

  it("shows an annotated tag's message", () => {
    const post = only(tagPush({ ...base, message: "Release 1.0\n\nFirst stable release" })).render("en");
    expect(post.attachments?.[0]?.text).toBe("Release 1.0\n\nFirst stable release");
  });

  it("announces a deleted tag", () => {
    const n = only(tagPush({ ...base, before: "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7", after: ZERO, checkout_sha: null }));
    expect(n.eventKey).toBe(`tag_push/1/refs/tags/v1.0.0/82b3d5ae55f7080f1e6022629cdb57bfae7cccc7..${ZERO}`);
    expect(n.render("en").message).toBe("**[jsmith/example](http://example.com/jsmith/example)**: John Smith deleted tag v1.0.0");
    expect(n.render("zh-CN").message).toBe("**[jsmith/example](http://example.com/jsmith/example)**: John Smith 删除了标签 v1.0.0");
    expect(n.render("en").attachments?.[0]?.fields).toBeUndefined();
  });
});
