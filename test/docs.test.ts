// docs/notifications.md is generated from the fixtures; this fails when it was not regenerated.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DOC_FILE, notificationDocs, REGENERATE } from "../scripts/notification-docs.js";
import { notificationsFor } from "../handlers/index.js";
import { LOCALES } from "../src/config.js";
import { fixtureIndex, rawFixture } from "./handlers/fixtures.js";

describe("docs/notifications.md", () => {
  const generated = notificationDocs();

  it(`is what \`${REGENERATE}\` writes (run it after changing a handler or a message)`, () => {
    let current = "";
    try {
      current = readFileSync(DOC_FILE, "utf8");
    } catch {
      // missing: the comparison below says so
    }
    expect(current === generated, `docs/notifications.md is out of date: run ${REGENERATE}`).toBe(true);
  });

  it("says at the top how to regenerate it", () => {
    expect(generated.split("\n").slice(0, 6).join("\n")).toContain(REGENERATE);
  });

  it("shows every kind the fixtures post, in every language", () => {
    for (const kind of ["push", "tag_push", "issue", "note", "merge_request", "pipeline", "deployment", "release", "wiki_page", "milestone", "feature_flag", "access_token", "vulnerability", "member", "project", "subgroup"]) {
      expect(generated, kind).toContain(`kind \`${kind}\``);
    }
    const posts = fixtureIndex.reduce((sum, e) => sum + notificationsFor(rawFixture(e.file), e.x_gitlab_event).notifications.length, 0);
    expect(posts).toBeGreaterThanOrEqual(26);
    expect(LOCALES).toEqual(["en", "zh-CN"]);
    expect(generated.match(/^\*\*English\*\*$/gm)?.length).toBe(posts);
    expect(generated.match(/^\*\*简体中文 \(zh-CN\)\*\*$/gm)?.length).toBe(posts);
    expect(generated).toContain("发现新漏洞");
  });

  it("is the same every time", () => {
    expect(notificationDocs()).toBe(generated);
  });
});
