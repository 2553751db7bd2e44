// `/gitlab connect`, `disconnect` and `me` as commands (the browser half is in test/oauth/).
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCommand } from "../../commands/index.js";
import type { CommandContext, CommandReply } from "../../commands/types.js";
import type { GitlabAccounts } from "../../src/gitlab/accounts.js";
import { createMattermostClient, type MattermostApi } from "../../src/mattermost/client.js";
import { findUserLink } from "../../src/store/user-links.js";
import { updateUserSettings } from "../../src/store/user-settings.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { accountsConfig, linkUser, testAccounts, type AccountsConfig } from "../support/gitlab-accounts.js";
import { startGitlabSim, type GitlabSim, type GitlabSimUser } from "../support/gitlab-sim.js";
import { startMattermostSim, type MattermostSim } from "../support/mattermost-sim.js";
import { dropPrefix, redisUrl } from "../support/redis.js";
import { captureLogger, type CapturedLogger } from "./helpers.js";

let mm: MattermostSim;
let mattermost: MattermostApi;
let gitlab: GitlabSim;
let redis: Redis;
let config: AccountsConfig;
let seq = 0;

beforeAll(async () => {
  mm = await startMattermostSim();
  mattermost = createMattermostClient(mm.url, mm.botToken);
  gitlab = await startGitlabSim();
  redis = new Redis(redisUrl);
  config = accountsConfig(gitlab);
});
afterAll(async () => {
  await mm.close();
  await gitlab.close();
  redis.disconnect();
  await dropPrefix(config.queuePrefix);
});

describe("connect, disconnect, me", () => {
  let tdb: TestDatabase;
  let log: CapturedLogger;
  let accounts: GitlabAccounts;
  let user: { id: string; username: string };
  let gUser: GitlabSimUser;

  beforeEach(async () => {
    seq++;
    gitlab.reset();
    tdb = await createTestDatabase("sqlite");
    log = captureLogger();
    accounts = testAccounts({ config, db: tdb.db, redis, logger: log.logger });
    user = mm.addUser({ username: `dora${seq}` });
    gUser = gitlab.addUser({ username: `dora_gl${seq}`, name: "Dora" });
  });
  afterEach(async () => {
    expect(log.text()).not.toMatch(/[0-9a-f]{64}/);
    expect(gitlab.unhandled).toEqual([]);
    await tdb.drop();
  });

  /** "absent": a context with no GitLab service at all. */
  function run(text: string, gitlabSetup: CommandContext["gitlab"] | "absent" = { ready: true, accounts }): Promise<CommandReply> {
    return runCommand(text, {
      userId: user.id,
      userName: user.username,
      channelId: "c".repeat(26),
      channelName: "town",
      teamId: "t".repeat(26),
      db: tdb.db,
      mattermost,
      config: { defaultLocale: "en", publicUrl: "http://bot.test" },
      logger: log.logger,
      gitlab: gitlabSetup === "absent" ? undefined : gitlabSetup,
    });
  }

  it("help lists the three commands", async () => {
    const help = (await run("help")).text;
    expect(help).toContain("`/gitlab connect`: connect your GitLab account");
    expect(help).toContain("`/gitlab disconnect`");
    expect(help).toContain("`/gitlab me`");
  });

  it("connect answers privately with a single-use link to the bot's connect page", async () => {
    const reply = await run("connect");
    expect(reply.response_type).toBe("ephemeral");
    expect(reply.text).toMatch(/^\[Connect your GitLab account\]\(http:\/\/bot\.test\/oauth\/gitlab\/connect\?state=[\w-]{43}\)/);
    expect((await run("connect now")).text).toContain("Usage: `/gitlab connect`");
  });

  it("connect without the settings names the missing ones", async () => {
    const reply = await run("connect", { ready: false, missing: ["GITLAB_URL", "ENCRYPTION_KEY"] });
    expect(reply.response_type).toBe("ephemeral");
    expect(reply.text).toContain("ask your administrator to set `GITLAB_URL`, `ENCRYPTION_KEY`");
    expect((await run("connect", "absent")).text).toContain("`GITLAB_OAUTH_CLIENT_ID`");
  });

  it("me and disconnect say when there is nothing connected", async () => {
    expect((await run("me")).text).toBe("Your Mattermost account is not connected to GitLab. Type `/gitlab connect` to connect it.");
    expect((await run("disconnect")).text).toContain("not connected to GitLab");
    expect(gitlab.requests).toEqual([]);
  });

  it("me confirms the account with GitLab, and still answers when GitLab does not", async () => {
    await linkUser(accounts, gitlab, user.id, gUser);
    const me = await run("me");
    expect(me.text).toContain(`You are connected to GitLab as [@\u200Bdora\\_gl${seq}](${gitlab.url}/dora_gl${seq}) (Dora)`);
    gitlab.failNext({ path: /^\/api\/v4\/user$/, status: 500 });
    expect((await run("me")).text).toContain("(GitLab could not be asked to confirm it just now.)");
  });

  it("me after the grant was revoked in GitLab: disconnected, and told how to reconnect", async () => {
    await linkUser(accounts, gitlab, user.id, gUser);
    gitlab.revokeAll(gUser);
    const reply = await run("me");
    expect(reply.text).toContain("was revoked or has expired");
    expect(reply.text).toContain("Type `/gitlab connect` to connect again.");
    expect(await findUserLink(tdb.db, user.id)).toBeUndefined();
  });

  it("disconnect revokes at GitLab; if GitLab cannot be asked it still forgets the link and says what to do", async () => {
    const first = await linkUser(accounts, gitlab, user.id, gUser);
    expect((await run("disconnect")).text).toBe(`Disconnected from GitLab account @\u200Bdora\\_gl${seq}; the bot's access was revoked at GitLab.`);
    expect(gitlab.tokenState(first.refreshToken)).toBe("revoked");
    expect(gitlab.requests.filter((r) => r.path === "/oauth/revoke").every((r) => r.status === 200)).toBe(true);

    const second = await linkUser(accounts, gitlab, user.id, gUser);
    gitlab.failNext({ path: /^\/oauth\/revoke$/, status: 503 });
    const reply = await run("disconnect");
    expect(reply.text).toContain("GitLab could not be asked to revoke");
    expect(reply.text).toContain("User Settings > Applications");
    expect(await findUserLink(tdb.db, user.id)).toBeUndefined();
    expect(gitlab.tokenState(second.accessToken)).toBe("active");

    await linkUser(accounts, gitlab, user.id, gUser);
    const unconfigured = await run("disconnect", { ready: false, missing: ["GITLAB_URL"] });
    expect(unconfigured.text).toContain("This bot cannot reach GitLab");
    expect(await findUserLink(tdb.db, user.id)).toBeUndefined();
  });

  it("answers a user whose Mattermost language is Simplified Chinese in Chinese", async () => {
    user = mm.addUser({ username: `chen${seq}`, locale: "zh-CN" });
    expect((await run("me")).text).toBe("您的 Mattermost 账号尚未连接 GitLab。输入 `/gitlab connect` 即可连接。");
    expect((await run("disconnect")).text).toBe("您的 Mattermost 账号尚未连接 GitLab。输入 `/gitlab connect` 即可连接。");
    const connectReply = (await run("connect")).text;
    expect(connectReply).toMatch(/^\[连接您的 GitLab 账号\]\(http:\/\/bot\.test\/oauth\/gitlab\/connect\?state=[\w-]{43}\)：登录 GitLab 并授权此机器人/);
    expect(connectReply).toContain("输入 `/gitlab disconnect` 可撤销连接。");
    expect((await run("connect", { ready: false, missing: ["GITLAB_URL"] })).text).toContain("请管理员设置 `GITLAB_URL`");

    await linkUser(accounts, gitlab, user.id, gUser);
    expect((await run("me")).text).toContain(`已连接到 GitLab，账号为 [@\u200Bdora\\_gl${seq}](${gitlab.url}/dora_gl${seq})（Dora）。输入 \`/gitlab disconnect\` 可断开连接。`);
    expect((await run("disconnect")).text).toBe(`已断开与 GitLab 账号 @\u200Bdora\\_gl${seq} 的连接，此机器人的访问授权已在 GitLab 撤销。`);

    await linkUser(accounts, gitlab, user.id, gUser);
    gitlab.revokeAll(gUser);
    const revoked = (await run("me")).text;
    expect(revoked).toContain(`GitLab 已不再接受此机器人对您的账号 @\u200Bdora\\_gl${seq} 的访问授权`);
    expect(revoked).toContain("输入 `/gitlab connect` 重新连接。");
  });

  it("follows the language chosen in /gitlab settings before the Mattermost one", async () => {
    await updateUserSettings(tdb.db, user.id, { language: "zh-CN" });
    expect((await run("me")).text).toContain("尚未连接 GitLab");
    const chen = mm.addUser({ username: `chen-en${seq}`, locale: "zh-CN" });
    await updateUserSettings(tdb.db, chen.id, { language: "en" });
    user = chen;
    expect((await run("me")).text).toBe("Your Mattermost account is not connected to GitLab. Type `/gitlab connect` to connect it.");
  });
});
