// Buttons on posts, clicked: Mattermost POSTs the button's context to /mattermost/actions with who
// clicked. Each button works for a connected person GitLab allows (the post then says who did what),
// and does nothing on GitLab when its context is tampered with or expired (401), when GitLab refuses
// the person, or when they are not connected (both told only to them). Runs against the GitLab and
// Mattermost simulators; the post is updated the way Mattermost applies an integration's `update`.
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createActionButtons, type ActionButtons } from "../../src/actions/buttons.js";
import { ACTION_TTL_SECONDS } from "../../src/actions/signing.js";
import type { Locale } from "../../src/config.js";
import type { GitlabAccounts } from "../../src/gitlab/accounts.js";
import { actionsRoutes } from "../../src/http/actions-route.js";
import { createMattermostClient, type MattermostApi } from "../../src/mattermost/client.js";
import { createMetrics, type Metrics } from "../../src/metrics.js";
import type { MessageAction, PostAction } from "../../src/notification.js";
import { updateUserSettings } from "../../src/store/user-settings.js";
import { captureLogger, type CapturedLogger } from "../commands/helpers.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { accountsConfig, BOT_ORIGIN, linkUser, testAccounts, type AccountsConfig } from "../support/gitlab-accounts.js";
import { startGitlabSim, type GitlabSim, type GitlabSimUser } from "../support/gitlab-sim.js";
import { startMattermostSim, type MattermostSim, type SimChannel, type SimUser } from "../support/mattermost-sim.js";
import { dropPrefix, redisUrl } from "../support/redis.js";

const PROJECT = "acme/app";

describe("POST /mattermost/actions", () => {
  let mm: MattermostSim;
  let mattermost: MattermostApi;
  let gitlab: GitlabSim;
  let redis: Redis;
  let config: AccountsConfig;
  let db: TestDatabase;
  let accounts: GitlabAccounts;
  let buttons: ActionButtons;
  let log: CapturedLogger;
  let metrics: Metrics;
  let channel: SimChannel;
  let clock: number;
  let ann: GitlabSimUser;
  /** Maintainer: may do everything. */
  let tess: SimUser;
  /** Guest: GitLab refuses every button. */
  let gus: SimUser;
  /** Not connected to GitLab. */
  let nora: SimUser;
  let nextIid = 1;

  beforeAll(async () => {
    mm = await startMattermostSim();
    mattermost = createMattermostClient(mm.url, mm.botToken);
    gitlab = await startGitlabSim();
    redis = new Redis(redisUrl);
    config = accountsConfig(gitlab);
    db = await createTestDatabase("sqlite");
    log = captureLogger();
    accounts = testAccounts({ config, db: db.db, redis, logger: log.logger });
    buttons = createActionButtons({ key: randomBytes(32), publicUrl: BOT_ORIGIN, now: () => clock });
    channel = mm.addChannel({ name: "town" });
    gitlab.addProject(PROJECT, "private");
    ann = gitlab.addUser({ username: "ann-gl" });
    gitlab.addMember(PROJECT, ann, 30);
    tess = mm.addUser({ username: "tess" });
    gus = mm.addUser({ username: "gus" });
    nora = mm.addUser({ username: "nora" });
    for (const [user, level] of [[tess, 40], [gus, 10]] as const) {
      const gl = gitlab.addUser({ username: `${user.username}-gl` });
      gitlab.addMember(PROJECT, gl, level);
      await linkUser(accounts, gitlab, user.id, gl);
      mm.addMember(channel.id, user.id);
    }
    mm.addMember(channel.id, nora.id);
  });
  afterAll(async () => {
    await mm.close();
    await gitlab.close();
    redis.disconnect();
    await dropPrefix(config.queuePrefix);
    await db.drop();
  });
  beforeEach(() => {
    clock = Date.now();
    metrics = createMetrics();
    gitlab.reset();
  });

  const app = () => actionsRoutes({ mattermost, gitlab: { ready: true, accounts }, buttons, config: { defaultLocale: "en" }, logger: log.logger, metrics });

  /** A channel post by the bot carrying the buttons, as the delivery worker posts it. */
  async function postWith(actions: PostAction[], locale: Locale = "en"): Promise<string> {
    const content = buttons.attach({ message: "**acme/app**: something happened", attachments: [{ fallback: "something happened", title: "The thing" }] }, actions, locale);
    const { id } = await mattermost.createPost({ channel_id: channel.id, message: content.message, props: { attachments: content.attachments } });
    return id;
  }

  function buttonsOn(postId: string): MessageAction[] {
    const attachments = (mm.post(postId)?.props.attachments ?? []) as { actions?: MessageAction[] }[];
    return attachments.flatMap((a) => a.actions ?? []);
  }

  /** Mattermost's integration request for a click on the post's button `id`, with the context changed by `tamper`. */
  async function click(who: SimUser, postId: string, buttonId: string, tamper: (context: Record<string, unknown>) => Record<string, unknown> = (c) => c) {
    const button = buttonsOn(postId).find((b) => b.id === buttonId);
    if (!button) throw new Error(`no button ${buttonId} on the post`);
    expect(button.integration.url).toBe(`${BOT_ORIGIN}/mattermost/actions`);
    const body = {
      user_id: who.id,
      user_name: who.username,
      channel_id: channel.id,
      channel_name: channel.name,
      team_id: channel.team_id,
      team_domain: "acme",
      post_id: postId,
      trigger_id: "trigger",
      type: "",
      data_source: "",
      context: tamper(structuredClone(button.integration.context)),
    };
    const response = await app().request("/mattermost/actions", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const answer = response.status === 200 ? ((await response.json()) as { update?: { message: string; props: Record<string, unknown> }; ephemeral_text?: string }) : undefined;
    // What Mattermost does with the answer: the post takes the update's message and props.
    if (answer?.update) await mattermost.patchPost(postId, answer.update);
    return { status: response.status, answer };
  }

  /** Changes GitLab accepted (refused attempts are answered 4xx and change nothing). */
  const writes = () => gitlab.requests.filter((r) => r.path.startsWith("/api/v4/") && r.method !== "GET" && r.status < 400);
  const noWritesAtAll = () => gitlab.requests.filter((r) => r.path.startsWith("/api/v4/") && r.method !== "GET");

  interface Case {
    button: string;
    make(): Promise<{ postId: string; done: () => boolean }>;
    line: string;
    after: string[];
  }

  const cases: Case[] = [
    {
      button: "mrapprove",
      async make() {
        const iid = nextIid++;
        gitlab.addMergeRequest({ project: PROJECT, iid, title: "Speed up", author: ann });
        const postId = await postWith([
          { kind: "mr.approve", project: PROJECT, iid },
          { kind: "mr.merge", project: PROJECT, iid },
        ]);
        return { postId, done: () => gitlab.mergeRequest(PROJECT, iid)!.approvedBy.includes("tess-gl") };
      },
      line: "✅ Approved by @tess",
      after: ["mrapprove", "mrmerge"],
    },
    {
      button: "mrmerge",
      async make() {
        const iid = nextIid++;
        gitlab.addMergeRequest({ project: PROJECT, iid, title: "Ship it", author: ann });
        const postId = await postWith([
          { kind: "mr.approve", project: PROJECT, iid },
          { kind: "mr.merge", project: PROJECT, iid },
        ]);
        return { postId, done: () => gitlab.mergeRequest(PROJECT, iid)!.state === "merged" };
      },
      line: "✅ Merged by @tess",
      after: [],
    },
    {
      button: "issueclose",
      async make() {
        const iid = nextIid++;
        gitlab.addIssue({ project: PROJECT, iid, title: "Broken", author: ann });
        const postId = await postWith([{ kind: "issue.close", project: PROJECT, iid }]);
        return { postId, done: () => gitlab.issue(PROJECT, iid)!.state === "closed" };
      },
      line: "✅ Closed by @tess",
      after: ["issuereopen"],
    },
    {
      button: "issuereopen",
      async make() {
        const iid = nextIid++;
        gitlab.addIssue({ project: PROJECT, iid, title: "Broken again", author: ann, state: "closed" });
        const postId = await postWith([{ kind: "issue.reopen", project: PROJECT, iid }]);
        return { postId, done: () => gitlab.issue(PROJECT, iid)!.state === "opened" };
      },
      line: "🔄 Reopened by @tess",
      after: ["issueclose"],
    },
    {
      button: "pipelineretry",
      async make() {
        const id = gitlab.addPipeline(PROJECT, { ref: "main", jobs: [{ name: "test", status: "failed" }] });
        const postId = await postWith([{ kind: "pipeline.retry", project: PROJECT, id }]);
        return { postId, done: () => gitlab.pipeline(id)!.status !== "failed" };
      },
      line: "🔁 Retried by @tess",
      after: [],
    },
    {
      button: "jobplay",
      async make() {
        const pipelineId = gitlab.addPipeline(PROJECT, { ref: "main", jobs: [{ name: "deploy", status: "manual" }] });
        const id = gitlab.pipeline(pipelineId)!.jobs[0]!.id;
        const postId = await postWith([{ kind: "job.play", project: PROJECT, id }]);
        return { postId, done: () => gitlab.pipeline(pipelineId)!.jobs[0]!.status !== "manual" };
      },
      line: "▶️ Started by @tess",
      after: [],
    },
  ];

  describe.each(cases)("$button", (c) => {
    it("runs as a connected person GitLab allows, and the post says who did it", async () => {
      const { postId, done } = await c.make();
      const { status, answer } = await click(tess, postId, c.button);
      expect(status).toBe(200);
      expect(answer?.ephemeral_text).toBeUndefined();
      expect(done()).toBe(true);
      const post = mm.post(postId)!;
      expect(post.message).toBe(`**acme/app**: something happened\n${c.line}`);
      // The attachment is kept; the buttons are those that still make sense, freshly signed.
      expect(post.props.attachments).toMatchObject([{ title: "The thing" }]);
      expect(buttonsOn(postId).map((b) => b.id)).toEqual(c.after);
      const audit = log.lines().filter((l) => l.audit === true).at(-1);
      expect(audit).toMatchObject({ mattermost_user_id: tess.id, gitlab_username: "tess-gl", outcome: "ok", via: "button" });
      expect(gitlab.unhandled).toEqual([]);
      expect(mm.violations).toEqual([]);
    });

    it("does nothing on a tampered or expired context (401)", async () => {
      const { postId, done } = await c.make();
      const before = mm.post(postId)!.message;
      const tampered = [
        (ctx: Record<string, unknown>) => ({ ...ctx, project: "acme/other" }),
        (ctx: Record<string, unknown>) => ("iid" in ctx ? { ...ctx, iid: Number(ctx.iid) + 1 } : { ...ctx, id: Number(ctx.id) + 1 }),
        (ctx: Record<string, unknown>) => ({ ...ctx, exp: Number(ctx.exp) + 3600 }),
        (ctx: Record<string, unknown>) => {
          const { sig: _sig, ...unsigned } = ctx;
          return unsigned;
        },
      ];
      for (const tamper of tampered) expect((await click(tess, postId, c.button, tamper)).status).toBe(401);
      clock += (ACTION_TTL_SECONDS + 1) * 1000;
      expect((await click(tess, postId, c.button)).status).toBe(401);
      expect(gitlab.requests.filter((r) => r.path.startsWith("/api/v4/"))).toEqual([]);
      expect(done()).toBe(false);
      expect(mm.post(postId)!.message).toBe(before);
      expect(log.text()).not.toContain("acme/other");
    });

    it("tells a person GitLab refuses why, only them, and changes nothing", async () => {
      const { postId, done } = await c.make();
      const { status, answer } = await click(gus, postId, c.button);
      expect(status).toBe(200);
      expect(answer?.update).toBeUndefined();
      expect(answer?.ephemeral_text).toMatch(/^GitLab does not let you do that on acme\/app/);
      expect(writes()).toEqual([]);
      expect(done()).toBe(false);
      expect(log.lines().filter((l) => l.audit === true).at(-1)).toMatchObject({ mattermost_user_id: gus.id, outcome: "forbidden", via: "button" });
      expect(gitlab.unhandled).toEqual([]);
    });

    it("tells a person who is not connected how to connect, and calls no GitLab at all", async () => {
      const { postId, done } = await c.make();
      const { status, answer } = await click(nora, postId, c.button);
      expect(status).toBe(200);
      expect(answer).toEqual({ ephemeral_text: "Your Mattermost account is not connected to GitLab. Type `/gitlab connect` to connect it." });
      expect(noWritesAtAll()).toEqual([]);
      expect(gitlab.requests.filter((r) => r.path.startsWith("/api/v4/"))).toEqual([]);
      expect(done()).toBe(false);
    });
  });

  it("answers in the clicker's language, and writes the post in the post's own", async () => {
    await updateUserSettings(db.db, gus.id, { language: "zh-CN" });
    await updateUserSettings(db.db, tess.id, { language: "zh-CN" });
    const iid = nextIid++;
    gitlab.addIssue({ project: PROJECT, iid, title: "Broken", author: ann });
    const postId = await postWith([{ kind: "issue.close", project: PROJECT, iid }]);
    expect((await click(gus, postId, "issueclose")).answer?.ephemeral_text).toMatch(/^GitLab 不允许您对 acme\/app#\d+ 执行此操作/);
    await click(tess, postId, "issueclose");
    expect(mm.post(postId)!.message.endsWith("\n✅ Closed by @tess")).toBe(true);
    expect(buttonsOn(postId).map((b) => b.name)).toEqual(["Reopen"]);
    // A channel subscribed with lang:zh-CN got its post in Chinese: the line and the buttons follow it.
    const other = nextIid++;
    gitlab.addIssue({ project: PROJECT, iid: other, title: "Broken", author: ann });
    const zhPost = await postWith([{ kind: "issue.close", project: PROJECT, iid: other }], "zh-CN");
    await updateUserSettings(db.db, tess.id, { language: "en" });
    await click(tess, zhPost, "issueclose");
    expect(mm.post(zhPost)!.message.endsWith("\n✅ @tess 已关闭")).toBe(true);
    expect(buttonsOn(zhPost).map((b) => b.name)).toEqual(["重新打开"]);
    await updateUserSettings(db.db, gus.id, { language: "en" });
  });

  it("says so, without approving again, when the person already approved", async () => {
    const iid = nextIid++;
    gitlab.addMergeRequest({ project: PROJECT, iid, title: "Twice", author: ann });
    const postId = await postWith([{ kind: "mr.approve", project: PROJECT, iid }]);
    expect((await click(tess, postId, "mrapprove")).answer?.update).toBeDefined();
    gitlab.reset();
    const again = await click(tess, postId, "mrapprove");
    expect(again.answer).toEqual({ ephemeral_text: `GitLab refused because acme/app!${iid} is in another state: you have already approved it` });
    expect(writes()).toEqual([]);
  });

  it("refuses what is not an interactive message request, and bodies over 64 KiB", async () => {
    const post = (body: string) => app().request("/mattermost/actions", { method: "POST", headers: { "content-type": "application/json" }, body });
    expect((await post("not json")).status).toBe(400);
    expect((await post(JSON.stringify({ context: {} }))).status).toBe(400);
    expect((await post(JSON.stringify({ user_id: tess.id, post_id: "x", context: { v: 1 } }))).status).toBe(401);
    expect((await post(JSON.stringify({ user_id: tess.id, post_id: "x", pad: "x".repeat(70 * 1024) }))).status).toBe(413);
    expect(gitlab.requests).toEqual([]);
  });

  it("tells the clicker when GitLab is too slow to answer before Mattermost gives up", async () => {
    const iid = nextIid++;
    gitlab.addIssue({ project: PROJECT, iid, title: "Slow", author: ann });
    const postId = await postWith([{ kind: "issue.close", project: PROJECT, iid }]);
    const context = buttonsOn(postId)[0]!.integration.context;
    gitlab.delayNext({ method: "PUT", path: /\/issues\//, ms: 600 });
    const slow = actionsRoutes({ mattermost, gitlab: { ready: true, accounts }, buttons, config: { defaultLocale: "en" }, logger: log.logger, requestTimeoutMs: 200 });
    const response = await slow.request("/mattermost/actions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user_id: tess.id, user_name: "tess", post_id: postId, context }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ephemeral_text: "GitLab did not answer in time. It may still have done it: look before clicking again." });
  });

  it("refuses every click when the bot has no signing key", async () => {
    const iid = nextIid++;
    gitlab.addIssue({ project: PROJECT, iid, title: "Keyless", author: ann });
    const postId = await postWith([{ kind: "issue.close", project: PROJECT, iid }]);
    const context = buttonsOn(postId)[0]!.integration.context;
    const keyless = actionsRoutes({ mattermost, gitlab: { ready: true, accounts }, config: { defaultLocale: "en" }, logger: log.logger });
    const response = await keyless.request("/mattermost/actions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user_id: tess.id, user_name: "tess", post_id: postId, context }),
    });
    expect(response.status).toBe(401);
    expect(gitlab.issue(PROJECT, iid)!.state).toBe("opened");
  });
});
