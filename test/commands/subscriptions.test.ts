import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { commands, runCommand } from "../../commands/index.js";
import { parseSubscriptionPath } from "../../commands/subscriptions.js";
import type { CommandReply } from "../../commands/types.js";
import type { GitlabAccounts } from "../../src/gitlab/accounts.js";
import { createMattermostClient, type MattermostApi } from "../../src/mattermost/client.js";
import { listSubscriptions } from "../../src/store/subscriptions.js";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../support/db.js";
import { accountsConfig, linkUser, testAccounts, type AccountsConfig } from "../support/gitlab-accounts.js";
import { startGitlabSim, type GitlabSim, type GitlabSimUser } from "../support/gitlab-sim.js";
import { startMattermostSim, type MattermostSim } from "../support/mattermost-sim.js";
import { dropPrefix, redisUrl } from "../support/redis.js";
import { captureLogger, type CapturedLogger } from "./helpers.js";

const DEFAULTS = "issues,merges,pushes,issue_comments,merge_request_comments,commit_comments,pipelines,tags,releases,deployments";
/** As Markdown shows it: underscores escaped, so they cannot start emphasis. */
const DEFAULTS_SHOWN = DEFAULTS.split(",").join(", ").replace(/_/g, "\\_");

let sim: MattermostSim;
let mattermost: MattermostApi;
let team: { id: string; name: string };
let seq = 0;
// Subscribing needs a connected GitLab account with Reporter or above (see subscriptions-access.test.ts
// for those rules): here both admins are Reporters of every (public) project the tests name.
let gitlab: GitlabSim;
let redis: Redis;
let gitlabConfig: AccountsConfig;
let gAdmin: GitlabSimUser;
let gSysadmin: GitlabSimUser;

beforeAll(async () => {
  sim = await startMattermostSim();
  mattermost = createMattermostClient(sim.url, sim.botToken);
  team = sim.addTeam("engineering");
  gitlab = await startGitlabSim();
  redis = new Redis(redisUrl);
  gitlabConfig = accountsConfig(gitlab);
  gAdmin = gitlab.addUser({ username: "sub-admin" });
  gSysadmin = gitlab.addUser({ username: "sub-sysadmin" });
  for (const path of ["group/project", "group/a", "group/b", "group/other", "my-group/my.project", "other/project"]) gitlab.addProject(path, "public");
  for (const group of ["group", "my-group", "other"]) {
    gitlab.addMember(group, gAdmin, 20);
    gitlab.addMember(group, gSysadmin, 20);
  }
});
afterAll(async () => {
  await sim.close();
  await gitlab.close();
  redis.disconnect();
  await dropPrefix(gitlabConfig.queuePrefix);
});

describe("parseSubscriptionPath", () => {
  it("accepts GitLab paths and lower-cases them", () => {
    expect(parseSubscriptionPath("Group/Sub.Group/my_project-2")).toBe("group/sub.group/my_project-2");
    expect(parseSubscriptionPath("group")).toBe("group");
  });
  it.each(["", "/group", "group/", "group//project", "group/pro ject", "group/p?x", "gr@up", "group/../x", "https://gitlab.example.com/g/p"])(
    "refuses %j",
    (path) => {
      expect(parseSubscriptionPath(path)).toBeUndefined();
    },
  );
});

describe.each(databaseKinds)("subscriptions commands (%s)", (kind) => {
  let tdb: TestDatabase;
  let log: CapturedLogger;
  let channel: { id: string; name: string };
  type User = { id: string; username: string };
  let admin: User;
  let member: User;
  let sysadmin: User;
  let outsider: User;
  let accounts: GitlabAccounts;

  beforeEach(async () => {
    tdb = await createTestDatabase(kind);
    log = captureLogger();
    accounts = testAccounts({ config: gitlabConfig, db: tdb.db, redis, logger: log.logger });
    seq++;
    channel = sim.addChannel({ name: `dev-${kind}-${seq}`, team_id: team.id, botIsMember: true });
    admin = sim.addUser({ username: `alice${seq}` });
    member = sim.addUser({ username: `bob${seq}` });
    sysadmin = sim.addUser({ username: `carol${seq}`, roles: "system_user system_admin" });
    outsider = sim.addUser({ username: `dave${seq}` });
    sim.addMember(channel.id, admin.id, { admin: true });
    sim.addMember(channel.id, member.id);
    sim.addMember(channel.id, sysadmin.id);
    await linkUser(accounts, gitlab, admin.id, gAdmin);
    await linkUser(accounts, gitlab, sysadmin.id, gSysadmin);
  });

  afterEach(async () => {
    sim.setDown(false);
    expect(sim.violations).toEqual([]);
    await tdb.drop();
  });

  function run(text: string, user: User = admin, channelId = channel.id): Promise<CommandReply> {
    return runCommand(text, {
      userId: user.id,
      userName: user.username,
      channelId,
      channelName: channel.name,
      teamId: team.id,
      db: tdb.db,
      mattermost,
      config: { defaultLocale: "en", publicUrl: "http://localhost:8080" },
      logger: log.logger,
      gitlab: { ready: true, accounts },
    });
  }

  const stored = async (channelId = channel.id) =>
    (await listSubscriptions(tdb.db, { channelId })).map((s) => ({ path: s.path, features: s.features, created_by: s.created_by }));

  it("help (and empty text) lists every command in the table", async () => {
    for (const text of ["help", "", "  "]) {
      const reply = await run(text, member);
      expect(reply.response_type).toBe("ephemeral");
      for (const c of commands) expect(reply.text).toContain(`/gitlab ${c.usage}`);
    }
    expect((await run("help subscriptions", member)).text).not.toContain("/gitlab help");
  });

  it("add with no features subscribes to the default set and tells the channel", async () => {
    const reply = await run("subscriptions add My-Group/My.Project");
    expect(reply.response_type).toBe("in_channel");
    expect(reply.text).toBe(`@${admin.username} subscribed this channel to my-group/my.project: ${DEFAULTS_SHOWN}`);
    expect(await stored()).toEqual([{ path: "my-group/my.project", features: DEFAULTS, created_by: admin.id }]);
  });

  it("add with explicit features, comma or space separated, stores them normalised", async () => {
    const reply = await run("subscriptions add group pipelines:failed, merges issues,jobs");
    expect(reply.response_type).toBe("in_channel");
    expect(reply.text).toContain("subscribed this channel to group: issues, merges, pipelines:failed, jobs");
    expect(await stored()).toEqual([{ path: "group", features: "issues,merges,pipelines:failed,jobs", created_by: admin.id }]);
  });

  it("add keeps a quoted label whole and cannot be made to ping the channel", async () => {
    const reply = await run('subscriptions add group/project issues label:"Needs Review" label:"@all hands"');
    expect(reply.response_type).toBe("in_channel");
    expect(reply.text).not.toMatch(/@(all|channel|here)\b/);
    expect(reply.text).toContain("@\u200Ball hands");
    expect(await stored()).toEqual([{ path: "group/project", features: 'issues,label:"needs review",label:"@all hands"', created_by: admin.id }]);
  });

  it("add on an existing subscription replaces its features and says so", async () => {
    await run("subscriptions add group/project issues");
    const reply = await run("subscriptions add GROUP/Project merges,pushes");
    expect(reply.response_type).toBe("in_channel");
    expect(reply.text).toBe(`@${admin.username} replaced this channel's subscription to group/project: merges, pushes (was: issues)`);
    expect(await stored()).toEqual([{ path: "group/project", features: "merges,pushes", created_by: admin.id }]);
    expect((await run("subscriptions add group/project merges pushes")).text).toContain("(unchanged)");
  });

  it("answers a zh-CN user in Chinese: help, usage errors, feature mistakes and the empty list", async () => {
    const li = sim.addUser({ username: `li${seq}`, locale: "zh-CN" });
    sim.addMember(channel.id, li.id, { admin: true });
    const help = (await run("help", li)).text.split("\n");
    expect(help[0]).toBe("**GitLab 命令**（输入 `/gitlab help <命令>` 查看某个命令）");
    expect(help).toContain("- `/gitlab subscriptions add <group[/subgroup]/project | group> [features]`: 在此频道发布该项目或群组的事件（功能以逗号分隔；默认为常用功能）");
    expect(help).toContain("- `/gitlab help [command]`: 显示所有命令及其用法");
    expect((await run("subscriptions add group//project", li)).text.split("\n")).toEqual([
      "“group//project”不是 GitLab 项目或群组路径：请使用其 URL 中的路径，例如 `my-group/sub-group/my-project`（字母、数字、`_`、`.`、`-`；开头和结尾不能是 `/`）。",
      "用法：`/gitlab subscriptions add <group[/subgroup]/project | group> [features]`",
    ]);
    expect((await run("subscriptions add", li)).text.split("\n")).toEqual([
      "请指定 GitLab 项目或群组，例如 `my-group/my-project` 或 `my-group`。",
      "用法：`/gitlab subscriptions add <group[/subgroup]/project | group> [features]`",
    ]);
    expect((await run("subscriptions add group/project isues", li)).text).toMatch(/^无法使用这些功能：unknown feature "isues"/);
    expect((await run("subscriptions list", li)).text).toBe("此频道没有 GitLab 订阅。使用 `/gitlab subscriptions add <group/project>` 添加订阅。");
    expect((await run("subscriptions list extra", li)).text).toBe("用法：`/gitlab subscriptions list`");
    expect(await stored()).toEqual([]);
    // The same mistakes, for everyone else, in English.
    expect((await run("subscriptions add group/project isues")).text).toMatch(/^These features cannot be used: unknown feature "isues"/);
    expect((await run("subscriptions list")).text).toBe("This channel has no GitLab subscriptions. Add one with `/gitlab subscriptions add <group/project>`.");
  });

  it("add refuses a bad path with the usage and stores nothing", async () => {
    for (const path of ["/group/project", "group/project/", "group//project", "group/p?x=1", "grüppe"]) {
      const reply = await run(`subscriptions add ${path} issues`);
      expect(reply.response_type).toBe("ephemeral");
      expect(reply.text).toContain("is not a GitLab project or group path");
      expect(reply.text).toContain("Usage: `/gitlab subscriptions add <group[/subgroup]/project | group> [features]`");
    }
    expect((await run("subscriptions add")).text).toContain("Usage:");
    expect(await stored()).toEqual([]);
  });

  it("add shows a feature mistake to the user and stores nothing", async () => {
    const reply = await run("subscriptions add group/project issues,isues");
    expect(reply.response_type).toBe("ephemeral");
    expect(reply.text).toContain('unknown feature "isues"');
    const unclosed = await run('subscriptions add group/project label:"oops');
    expect(unclosed.response_type).toBe("ephemeral");
    expect(unclosed.text).toContain("unclosed quote");
    expect(await stored()).toEqual([]);
  });

  it("refuses add and delete to a plain member and to someone outside the channel", async () => {
    for (const user of [member, outsider]) {
      const reply = await run("subscriptions add group/project", user);
      expect(reply.response_type).toBe("ephemeral");
      expect(reply.text).toMatch(/Only a channel admin or a system admin/);
    }
    expect(await stored()).toEqual([]);
    await run("subscriptions add group/project");
    const refused = await run("subscriptions delete group/project", member);
    expect(refused.response_type).toBe("ephemeral");
    expect(refused.text).toMatch(/Only a channel admin or a system admin/);
    expect(await stored()).toHaveLength(1);
  });

  it("lets a channel admin and a system admin add and delete", async () => {
    expect((await run("subscriptions add group/a", admin)).response_type).toBe("in_channel");
    expect((await run("subscriptions add group/b", sysadmin)).response_type).toBe("in_channel");
    expect((await stored()).map((s) => [s.path, s.created_by])).toEqual([
      ["group/a", admin.id],
      ["group/b", sysadmin.id],
    ]);
    expect((await run("subscriptions delete group/a", sysadmin)).response_type).toBe("in_channel");
    expect((await run("subscriptions delete group/b", admin)).response_type).toBe("in_channel");
    expect(await stored()).toEqual([]);
  });

  it("list says when there are none, else shows this channel's subscriptions as a table", async () => {
    const none = await run("subscriptions list", member);
    expect(none).toEqual({ response_type: "ephemeral", text: expect.stringContaining("no GitLab subscriptions") });

    await run('subscriptions add group/project issues label:"a|b"');
    await run("subscriptions add group");
    const other = sim.addChannel({ name: `other-${kind}-${seq}`, team_id: team.id });
    sim.addMember(other.id, admin.id, { admin: true });
    expect((await run("subscriptions add other/project", admin, other.id)).response_type).toBe("in_channel");

    const reply = await run("subscriptions list", member);
    expect(reply.response_type).toBe("ephemeral");
    const lines = reply.text.split("\n");
    expect(lines).toContain("| Project or group | Features |");
    expect(lines).toContain(`| group | ${DEFAULTS_SHOWN} |`);
    expect(lines).toContain('| group/project | issues, label:"a\\|b" |');
    expect(reply.text).not.toContain("other/project");
    expect((await run("subscriptions list extra", member)).text).toContain("Usage: `/gitlab subscriptions list`");
  });

  it("delete removes the subscription, matching the path without regard to case", async () => {
    await run("subscriptions add group/project");
    const reply = await run("subscriptions delete Group/PROJECT");
    expect(reply).toEqual({ response_type: "in_channel", text: `@${admin.username} unsubscribed this channel from group/project.` });
    expect(await stored()).toEqual([]);
  });

  it("delete of a path the channel does not have says so, privately", async () => {
    await run("subscriptions add group/project");
    const reply = await run("subscriptions delete group/other");
    expect(reply.response_type).toBe("ephemeral");
    expect(reply.text).toContain("no subscription to group/other");
    expect(await stored()).toHaveLength(1);
    expect((await run("subscriptions delete /bad/")).text).toContain("Usage: `/gitlab subscriptions delete");
  });

  it("answers with an apology when Mattermost cannot be asked, and logs why", async () => {
    sim.setDown(true);
    const reply = await run("subscriptions add group/project");
    sim.setDown(false);
    expect(reply.response_type).toBe("ephemeral");
    expect(reply.text).toMatch(/^Sorry/);
    expect(reply.text).not.toContain(sim.url);
    expect(log.lines().some((l) => l.msg === "slash command failed")).toBe(true);
    expect(await stored()).toEqual([]);
  });
});
