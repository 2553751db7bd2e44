// `gitlab-mm preview`, in-process through runCli, on GitLab's published payloads. No database or Redis:
// the environment given to the CLI is empty.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../src/cli.js";
import { previewPayload, PreviewError } from "../src/preview.js";
import { FIXTURES_DIR } from "./handlers/fixtures.js";

const Z = "\u200B";
const fixturePath = (file: string) => fileURLToPath(new URL(file, FIXTURES_DIR));
const fixtureText = (file: string) => readFileSync(new URL(file, FIXTURES_DIR), "utf8");

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { stdout: (s) => out.push(s), stderr: (s) => err.push(s), env: {} });
  return { code, out: out.join("\n"), err };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "gmm-preview-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("gitlab-mm preview", () => {
  it("prints a merge request post in English, message, attachment and routing", async () => {
    const { code, out, err } = await cli(["preview", fixturePath("merge_request.json")]);
    expect({ code, err }).toEqual({ code: 0, err: [] });
    expect(out).toBe(
      [
        "Event kind merge_request, language en: 1 post",
        "",
        "Post 1 of 1 (feature merges; path gitlabhq/gitlab-test; labels API; thread gitlabhq/gitlab-test!1)",
        "Message:",
        `  **[gitlabhq/gitlab-test](http://example.com/gitlabhq/gitlab-test)**: @${Z}root opened merge request [!1 MS-Viewport](http://example.com/diaspora/merge_requests/1)`,
        "Attachment:",
        "  Color:    #1f78d1",
        "  Author:   Administrator (http://www.gravatar.com/avatar/e64c7d89f26bd1972efa854d13d7dd61?s=40&d=identicon)",
        "  Title:    !1 MS-Viewport (http://example.com/diaspora/merge_requests/1)",
        "  Fields:",
        "    Branches: ms-viewport → master",
        "    Labels: API",
        `    Assignees: @${Z}user1`,
        `    Reviewers: @${Z}user1`,
        `  Fallback: gitlabhq/gitlab-test: @${Z}root opened merge request !1 MS-Viewport`,
      ].join("\n"),
    );
  });

  it("prints in Simplified Chinese with --lang zh-CN (any case)", async () => {
    const { code, out } = await cli(["preview", fixturePath("milestone.json"), "--lang", "zh-cn"]);
    expect(code).toBe(0);
    expect(out).toBe(
      [
        "Event kind milestone, language zh-CN: 1 post",
        "",
        "Post 1 of 1 (feature milestones; path gitlabhq/gitlab-test)",
        "Message:",
        "  **[gitlabhq/gitlab-test](http://example.com/gitlabhq/gitlab-test)**: 里程碑 [v1.0](http://example.com/gitlabhq/gitlab-test/-/milestones/10) 已创建",
        "Attachment:",
        "  Color:    #108548",
        "  Text:",
        "    First stable release",
        "  Fields:",
        "    开始日期: 2025-06-16",
        "    截止日期: 2025-06-30",
        "  Fallback: gitlabhq/gitlab-test: 里程碑 v1.0 已创建",
      ].join("\n"),
    );
  });

  it("indents every line of a multi-line text", async () => {
    const { out } = await cli(["preview", fixturePath("push.json"), "--lang=zh-CN"]);
    expect(out).toContain("推送了 4 个提交");
    expect(out).toMatch(/\n {2}Text:\n {4}\[`b6568db1`\]\([^)]+\) Update Catalan translation to e38cb41\. - Jordi Mallach\n {4}\[`da156088`\]/);
  });

  it("prints JSON with --format json, the same post the worker would send", async () => {
    const { code, out } = await cli(["preview", fixturePath("access_token_group.json"), "--format", "json", "--lang", "zh-CN"]);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({
      kind: "access_token",
      lang: "zh-CN",
      posts: [
        {
          feature: "access_tokens",
          projectPath: "twitter",
          eventKey: "access_token/group-35/25/expiring/2024-01-26",
          labels: [],
          confidential: false,
          post: { message: "**twitter**: 群组访问令牌 acd 将于 2024-01-26 过期", attachments: [{ fallback: "twitter: 群组访问令牌 acd 将于 2024-01-26 过期", color: "#c17d10" }] },
        },
      ],
    });
  });

  it("uses --event for a payload that names no kind", async () => {
    const file = join(dir, "deployment-no-kind.json");
    const { object_kind: _omit, ...payload } = JSON.parse(fixtureText("deployment.json")) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify(payload));
    expect((await cli(["preview", file])).err).toEqual(["gitlab-mm preview: no handler for event kind (none): the payload names no object_kind or event_name; pass --event \"<X-Gitlab-Event>\""]);
    const { code, out } = await cli(["preview", file, "--event", "Deployment Hook"]);
    expect(code).toBe(0);
    expect(out).toContain("Event kind deployment, language en: 1 post");
  });

  it("says when a payload posts nothing", async () => {
    const { code, out } = await cli(["preview", fixturePath("job.json")]);
    expect(code).toBe(0);
    expect(out).toMatch(/^Event kind build, language en: 0 posts \(/);
  });

  it("exits 1 with one line for an unreadable file, invalid JSON, an unknown kind or a payload its handler cannot use", async () => {
    const notJson = join(dir, "bad.json");
    writeFileSync(notJson, "{ nope");
    const incomplete = join(dir, "incomplete.json");
    writeFileSync(incomplete, JSON.stringify({ object_kind: "push" }));
    const cases: [string, RegExp][] = [
      [join(dir, "missing.json"), /^gitlab-mm preview: cannot read .*missing\.json: no such file$/],
      [dir, /^gitlab-mm preview: cannot read .*: is a directory$/],
      [notJson, /^gitlab-mm preview: not valid JSON: /],
      [fixturePath("emoji.json"), /^gitlab-mm preview: no handler for event kind emoji$/],
      [incomplete, /^gitlab-mm preview: push payload: /],
    ];
    for (const [file, message] of cases) {
      const { code, out, err } = await cli(["preview", file]);
      expect({ code, out }, file).toEqual({ code: 1, out: "" });
      expect(err, file).toHaveLength(1);
      expect(err[0], file).toMatch(message);
    }
  });

  it("exits 2 on bad usage", async () => {
    for (const argv of [["preview"], ["preview", "a.json", "b.json"], ["preview", "a.json", "--lang", "fr"], ["preview", "a.json", "--format", "yaml"], ["preview", "a.json", "--channel", "x"], ["preview", "a.json", "--lang"]]) {
      const { code, err } = await cli(argv);
      expect(code, argv.join(" ")).toBe(2);
      expect(err.at(-1), argv.join(" ")).toMatch(/^Usage: gitlab-mm preview </);
    }
  });

  it("is listed in help", async () => {
    expect((await cli(["help"])).out).toContain("preview <payload.json>");
  });
});

describe("previewPayload", () => {
  it("throws PreviewError with a code", () => {
    expect(() => previewPayload("[")).toThrow(PreviewError);
    try {
      previewPayload(JSON.stringify({ object_kind: "emoji" }));
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: "unknown_kind", message: "no handler for event kind emoji" });
    }
  });

  it("renders each post in the asked language only", () => {
    const text = fixtureText("feature_flag.json");
    expect(previewPayload(text, { lang: "zh-CN" })).toContain("开启了功能标志");
    expect(previewPayload(text)).toContain("turned on feature flag");
    expect(previewPayload(text)).not.toContain("开启了功能标志");
  });
});
