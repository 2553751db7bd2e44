// Who may subscribe: a connected GitLab account that GitLab says has Reporter or
// above on the project or group; a private or internal one only in a private channel unless
// ALLOW_PRIVATE_PROJECTS_IN_PUBLIC_CHANNELS. Against the GitLab and Mattermost simulators.
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCommand } from "../../commands/index.js";
import type { CommandReply } from "../../commands/types.js";
import type { GitlabAccounts } from "../../src/gitlab/accounts.js";
import { createMattermostClient, type MattermostApi } from "../../src/mattermost/client.js";
import { listSubscriptions } from "../../src/store/subscriptions.js";
import { updateUserSettings } from "../../src/store/user-settings.js";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../support/db.js";
import { accountsConfig, linkUser, testAccounts, type AccountsConfig } from "../support/gitlab-accounts.js";
import { startGitlabSim, type GitlabSim, type GitlabSimUser } from "../support/gitlab-sim.js";
import { startMattermostSim, type MattermostSim, type SimChannel } from "../support/mattermost-sim.js";
import { dropPrefix, redisUrl } from "../support/redis.js";
import { captureLogger, type CapturedLogger } from "./helpers.js";

const GUEST = 10;
const REPORTER = 20;
const DEVELOPER = 30;

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

describe.each(databaseKinds)("who may subscribe (%s)", (kind) => {
  let tdb: TestDatabase;
  let log: CapturedLogger;
  let accounts: GitlabAccounts;
  let publicChannel: SimChannel;
  let privateChannel: SimChannel;
  let admin: { id: string; username: string };
  let gAdmin: GitlabSimUser;
  let ns: string;

  beforeEach(async () => {
    seq++;
    ns = `acc${seq}`;
    tdb = await createTestDatabase(kind);
    log = captureLogger();
    gitlab.reset();
    accounts = testAccounts({ config, db: tdb.db, redis, logger: log.logger });
    admin = mm.addUser({ username: `admin${seq}` });
    publicChannel = mm.addChannel({ name: `town-${seq}`, type: "O" });
    privateChannel = mm.addChannel({ name: `secret-${seq}`, type: "P" });
    for (const c of [publicChannel, privateChannel]) mm.addMember(c.id, admin.id, { admin: true });
    gAdmin = gitlab.addUser({ username: `g-admin${seq}` });
    await linkUser(accounts, gitlab, admin.id, gAdmin);
  });
  afterEach(async () => {
    expect(mm.violations).toEqual([]);
    expect(gitlab.unhandled).toEqual([]);
    await tdb.drop();
  });

  function run(text: string, channel: SimChannel = publicChannel, opts: { allowPrivate?: boolean; user?: { id: string; username: string } } = {}): Promise<CommandReply> {
    const user = opts.user ?? admin;
    return runCommand(text, {
      userId: user.id,
      userName: user.username,
      channelId: channel.id,
      channelName: channel.name,
      teamId: channel.team_id,
      db: tdb.db,
      mattermost,
      config: { defaultLocale: "en", publicUrl: "http://bot.test", allowPrivateProjectsInPublicChannels: opts.allowPrivate ?? false },
      logger: log.logger,
      gitlab: { ready: true, accounts },
    });
  }
  const stored = async () =>
    (await listSubscriptions(tdb.db)).map((s) => ({ channel: s.channel_id, path: s.path, kind: s.kind, visibility: s.visibility, created_by: s.created_by }));

  it("a Reporter (direct or inherited from a group) may subscribe a public project; what GitLab said is stored", async () => {
    gitlab.addProject(`${ns}/app`, "public");
    gitlab.addProject(`${ns}/sub/lib`, "public");
    gitlab.addMember(`${ns}/app`, gAdmin, REPORTER);
    gitlab.addMember(ns, gAdmin, DEVELOPER);
    expect((await run(`subscriptions add ${ns}/App`)).response_type).toBe("in_channel");
    expect((await run(`subscriptions add ${ns}/sub/lib`)).response_type).toBe("in_channel");
    expect((await run(`subscriptions add ${ns}`)).response_type).toBe("in_channel");
    expect(await stored()).toEqual([
      { channel: publicChannel.id, path: ns, kind: "group", visibility: "public", created_by: admin.id },
      { channel: publicChannel.id, path: `${ns}/app`, kind: "project", visibility: "public", created_by: admin.id },
      { channel: publicChannel.id, path: `${ns}/sub/lib`, kind: "project", visibility: "public", created_by: admin.id },
    ].sort((a, b) => a.path.localeCompare(b.path)));
  });

  it("a Guest is refused, and so is someone GitLab shows nothing to", async () => {
    gitlab.addProject(`${ns}/app`, "public");
    gitlab.addMember(`${ns}/app`, gAdmin, GUEST);
    const guest = await run(`subscriptions add ${ns}/app`);
    expect(guest.response_type).toBe("ephemeral");
    expect(guest.text).toContain("needs the Reporter role or above");
    expect(guest.text).toContain("GitLab says you have Guest");

    // Public but not a member: no access level at all.
    gitlab.addProject(`${ns}/open`, "public");
    expect((await run(`subscriptions add ${ns}/open`)).text).toContain("GitLab says you have no access");

    gitlab.addProject(`${ns}/hidden`, "private");
    const hidden = await run(`subscriptions add ${ns}/hidden`, privateChannel);
    expect(hidden.text).toContain("no project or group");
    expect((await run(`subscriptions add ${ns}/nothing-here`)).text).toContain("no project or group");
    expect(await stored()).toEqual([]);
  });

  it("a private or internal project or group goes only to a private channel, unless the setting allows it", async () => {
    gitlab.addProject(`${ns}/private-app`, "private");
    gitlab.addGroup(`${ns}-internal`, "internal");
    gitlab.addMember(`${ns}/private-app`, gAdmin, REPORTER);
    gitlab.addMember(`${ns}-internal`, gAdmin, REPORTER);

    const refused = await run(`subscriptions add ${ns}/private-app`);
    expect(refused.response_type).toBe("ephemeral");
    expect(refused.text).toContain("is a private project: its events may only be posted in a private channel");
    expect(refused.text).toContain("`ALLOW_PRIVATE_PROJECTS_IN_PUBLIC_CHANNELS=true`");
    expect((await run(`subscriptions add ${ns}-internal`)).text).toContain("is an internal group");
    expect(await stored()).toEqual([]);

    expect((await run(`subscriptions add ${ns}/private-app`, privateChannel)).response_type).toBe("in_channel");
    expect((await run(`subscriptions add ${ns}-internal`, publicChannel, { allowPrivate: true })).response_type).toBe("in_channel");
    const rows = (await stored()).sort((x, y) => x.path.localeCompare(y.path));
    expect(rows.map((s) => [s.channel === privateChannel.id ? "private" : "public", s.path, s.visibility])).toEqual([
      ["public", `${ns}-internal`, "internal"],
      ["private", `${ns}/private-app`, "private"],
    ]);
  });

  it("refuses in the language of the person who typed the command", async () => {
    const chen = mm.addUser({ username: `chen${seq}`, locale: "zh-CN" });
    for (const c of [publicChannel, privateChannel]) mm.addMember(c.id, chen.id, { admin: true });
    gitlab.addProject(`${ns}/app`, "public");
    expect((await run(`subscriptions add ${ns}/app`, publicChannel, { user: chen })).text).toBe(
      `要为频道订阅，请先连接您的 GitLab 账号（\`/gitlab connect\`）：需要由 GitLab 确认您可以查看 ${ns}/app。`,
    );
    const gChen = gitlab.addUser({ username: `g-chen${seq}` });
    await linkUser(accounts, gitlab, chen.id, gChen);
    gitlab.addMember(`${ns}/app`, gChen, GUEST);
    expect((await run(`subscriptions add ${ns}/app`, publicChannel, { user: chen })).text).toBe(
      `为频道订阅 ${ns}/app 需要您在其中拥有报告者或更高角色。GitLab 显示您的角色为访客。`,
    );
    gitlab.addProject(`${ns}/private-app`, "private");
    gitlab.addMember(`${ns}/private-app`, gChen, REPORTER);
    expect((await run(`subscriptions add ${ns}/private-app`, publicChannel, { user: chen })).text).toContain(`${ns}/private-app 是私有项目：其事件只能发布到私有频道。`);
    // The channel reads the confirmation in the bot's default language.
    expect((await run(`subscriptions add ${ns}/private-app`, privateChannel, { user: chen })).text).toContain(`@${chen.username} subscribed this channel to ${ns}/private-app: `);
    // Someone who chose English in /gitlab settings reads the same refusal in English.
    await updateUserSettings(tdb.db, admin.id, { language: "en" });
    gitlab.addMember(`${ns}/private-app`, gAdmin, REPORTER);
    expect((await run(`subscriptions add ${ns}/private-app`)).text).toContain("is a private project");
    expect(await stored()).toHaveLength(1);
  });

  it("needs a connected account, and tells the person how to connect", async () => {
    const stranger = mm.addUser({ username: `stranger${seq}` });
    mm.addMember(publicChannel.id, stranger.id, { admin: true });
    gitlab.addProject(`${ns}/app`, "public");
    const reply = await run(`subscriptions add ${ns}/app`, publicChannel, { user: stranger });
    expect(reply.response_type).toBe("ephemeral");
    expect(reply.text).toContain("connect your GitLab account first (`/gitlab connect`)");
    expect(await stored()).toEqual([]);
  });

  it("still needs a channel admin (or system admin) before asking GitLab", async () => {
    const member = mm.addUser({ username: `member${seq}` });
    mm.addMember(publicChannel.id, member.id);
    await linkUser(accounts, gitlab, member.id, gitlab.addUser({ username: `g-member${seq}` }));
    gitlab.reset();
    expect((await run(`subscriptions add ${ns}/app`, publicChannel, { user: member })).text).toContain("Only a channel admin or a system admin");
    expect(gitlab.requests).toEqual([]);
  });

  it("a GitLab administrator may subscribe what they do not belong to", async () => {
    const root = gitlab.addUser({ username: `root${seq}`, isAdmin: true });
    const boss = mm.addUser({ username: `boss${seq}` });
    mm.addMember(privateChannel.id, boss.id, { admin: true });
    await linkUser(accounts, gitlab, boss.id, root);
    gitlab.addProject(`${ns}/private-app`, "private");
    expect((await run(`subscriptions add ${ns}/private-app`, privateChannel, { user: boss })).response_type).toBe("in_channel");
  });

  it("says GitLab could not be asked, and changes nothing, when GitLab fails", async () => {
    gitlab.addProject(`${ns}/app`, "public");
    gitlab.addMember(`${ns}/app`, gAdmin, REPORTER);
    gitlab.failNext({ path: /^\/api\/v4\/projects\//, status: 500 });
    const reply = await run(`subscriptions add ${ns}/app`);
    expect(reply.text).toContain("GitLab could not be asked whether you can see");
    expect(await stored()).toEqual([]);
  });

  it("re-subscribing makes the newest subscriber the one GitLab vouched for", async () => {
    gitlab.addProject(`${ns}/app`, "public");
    gitlab.addMember(`${ns}/app`, gAdmin, REPORTER);
    const other = mm.addUser({ username: `other${seq}` });
    mm.addMember(publicChannel.id, other.id, { admin: true });
    const gOther = gitlab.addUser({ username: `g-other${seq}` });
    gitlab.addMember(`${ns}/app`, gOther, REPORTER);
    await linkUser(accounts, gitlab, other.id, gOther);
    await run(`subscriptions add ${ns}/app issues`);
    await run(`subscriptions add ${ns}/app merges`, publicChannel, { user: other });
    expect((await stored()).map((s) => s.created_by)).toEqual([other.id]);
  });

  it("without the GitLab settings, names what the administrator must set", async () => {
    const reply = await runCommand(`subscriptions add ${ns}/app`, {
      userId: admin.id,
      userName: admin.username,
      channelId: publicChannel.id,
      channelName: publicChannel.name,
      teamId: publicChannel.team_id,
      db: tdb.db,
      mattermost,
      config: { defaultLocale: "en", publicUrl: "http://bot.test" },
      logger: log.logger,
      gitlab: { ready: false, missing: ["GITLAB_OAUTH_CLIENT_SECRET"] },
    });
    expect(reply.text).toContain("`GITLAB_OAUTH_CLIENT_SECRET`");
    expect(await stored()).toEqual([]);
  });
});
