import { describe, expect, it } from "vitest";
import { MATTERMOST_MAX_POST_CHARS, type PostContent } from "../../src/notification.js";
import { fitPost, postSize } from "../../src/text/fit-post.js";

describe("postSize", () => {
  it("counts the message and every string of the attachments", () => {
    const post: PostContent = {
      message: "12345",
      attachments: [{ fallback: "abc", color: "#fff", title: "t", fields: [{ title: "ab", value: "cd", short: true }] }],
    };
    expect(postSize(post)).toBe(5 + 3 + 4 + 1 + 4);
  });
});

describe("fitPost", () => {
  it("returns a post that fits as it is", () => {
    const post: PostContent = { message: "hi", attachments: [{ fallback: "hi", text: "body" }] };
    expect(fitPost(post)).toBe(post);
  });

  it("cuts the attachment text first", () => {
    const post: PostContent = { message: "hi", attachments: [{ fallback: "hi", text: "x".repeat(20_000), fields: [{ title: "a", value: "b" }] }] };
    const fitted = fitPost(post);
    expect(postSize(fitted)).toBeLessThanOrEqual(MATTERMOST_MAX_POST_CHARS);
    expect(fitted.message).toBe("hi");
    expect(fitted.attachments?.[0]?.fields).toEqual([{ title: "a", value: "b" }]);
    expect(fitted.attachments?.[0]?.text?.endsWith("…")).toBe(true);
    expect(post.attachments?.[0]?.text).toHaveLength(20_000);
  });

  it("then fields, then the message, whatever is long", () => {
    const huge = "y".repeat(30_000);
    const post: PostContent = { message: huge, attachments: [{ fallback: huge, title: huge, fields: [{ title: "a", value: huge }] }] };
    expect(postSize(fitPost(post))).toBeLessThanOrEqual(MATTERMOST_MAX_POST_CHARS);
    expect(postSize(fitPost(post, 100))).toBeLessThanOrEqual(100);
  });
});
