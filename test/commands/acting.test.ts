// The shared path of commands that act on GitLab as the person: declared requirements checked before
// the command runs, GitLab's answers as one sentence in the person's language, 429 Retry-After honoured,
// and an audit line plus a counter for every action. Runs against the GitLab and Mattermost simulators.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { onGitlab } from "../../commands/act.js";
import { runCommand } from "../../commands/index.js";
import { ephemeral, inChannel, type Command, type CommandReply } from "../../commands/types.js";
import type { GitlabAccounts } from "../../src/gitlab/accounts.js";
import { type Metrics } from "../../src/metrics.js";
import { updateUserSettings } from "../../src/store/user-settings.js";
import { type TestDatabase } from "../support/db.js";
import { linkUser } from "../support/gitlab-accounts.js";
import { type GitlabSim } from "../support/gitlab-sim.js";
import { type MattermostSim, type SimUser } from "../support/mattermost-sim.js";
import { type CapturedLogger } from "./helpers.js";
import { startCommandTestbed, type CommandTestbed } from "./testbed.js";

/** A command that reads a project as the person and, with `rename`, counts as a change (audited). */
let runs = 0;
const probe: Command = {
  name: "probe",
  usage: "probe <project> [rename]",
  summary: "command.summary.help",
  needs: ["connected"],
  async run(ctx) {
    runs++;
    const path = ctx.args[0] ?? "";
    const change = ctx.args[1] === "rename";
    const project = await onGitlab(ctx, { object: path, action: change ? "project.rename" : undefined }, async (api) => {
      const found = (await api.Projects.show(path)) as unknown as { path_with_namespace: string };
      if (change) await api.Users.showCurrentUser();
      return found;
    });
    return change ? inChannel(`renamed ${project.path_with_namespace}`) : ephemeral(`seen ${project.path_with_namespace}`);
  },
};
const adminOnly: Command = { name: "admin-only", usage: "admin-only", summary: "command.summary.help", needs: ["channel_admin"], run: async () => ephemeral("ran") };

describe("commands that act on GitLab as the person", () => {
  let bed: CommandTestbed;
  let mm: MattermostSim;
  let gitlab: GitlabSim;
  let t: TestDatabase;
  let accounts: GitlabAccounts;
  let tess: SimUser;
  let log: CapturedLogger;
  let metrics: Metrics;

  beforeAll(async () => {
    bed = await startCommandTestbed();
    ({ mm, gitlab, t, log, accounts } = bed);
    tess = mm.addUser({ username: "tess" });
    const me = gitlab.addUser({ username: "tess-gl" });
    gitlab.addProject("acme/app", "private");
    gitlab.addMember("acme/app", me, 30);
    gitlab.addProject("acme/hidden", "private");
    await linkUser(accounts, gitlab, tess.id, me);
  });
  afterAll(async () => {
    await bed.close();
  });
  beforeEach(() => {
    runs = 0;
    metrics = bed.freshMetrics();
  });

  function run(who: SimUser, text: string, list: readonly Command[] = [probe, adminOnly]): Promise<CommandReply> {
    return runCommand(text, bed.base(who, { id: "c".repeat(26), name: "town" }), list);
  }

  async function counted(action: string, outcome: string): Promise<number> {
    const metric = (await metrics.gitlabActions.get()).values.find((v) => v.labels.action === action && v.labels.outcome === outcome);
    return metric?.value ?? 0;
  }

  it("does not run a command that needs a connected account for someone who has none", async () => {
    const stranger = mm.addUser({ username: "stranger" });
    const reply = await run(stranger, "probe acme/app");
    expect(reply).toEqual({ response_type: "ephemeral", text: "This command acts on GitLab as you: connect your GitLab account first with `/gitlab connect`." });
    expect(runs).toBe(0);
    await updateUserSettings(t.db, stranger.id, { language: "zh-CN" });
    expect((await run(stranger, "probe acme/app")).text).toBe("此命令会以您的身份操作 GitLab：请先输入 `/gitlab connect` 连接您的 GitLab 账号。");
  });

  it("does not run a channel-admin command for a plain member", async () => {
    expect((await run(tess, "admin-only")).text).toMatch(/^Only a channel admin or a system admin can change/);
  });

  it("runs as the person and audits what it changed", async () => {
    expect(await run(tess, "probe acme/app")).toEqual({ response_type: "ephemeral", text: "seen acme/app" });
    expect(await run(tess, "probe acme/app rename")).toEqual({ response_type: "in_channel", text: "renamed acme/app" });
    expect(await counted("project.rename", "ok")).toBe(1);
    const audit = log.lines().filter((l) => l.audit === true);
    expect(audit.at(-1)).toMatchObject({ mattermost_user_id: tess.id, gitlab_username: "tess-gl", action: "project.rename", object: "acme/app", via: "command" });
    // Reads are not audited.
    expect(audit.filter((l) => l.object === "acme/app" && l.action !== "project.rename")).toEqual([]);
  });

  it("says in one sentence that a project does not exist or cannot be seen, and counts it", async () => {
    const reply = await run(tess, "probe acme/hidden rename");
    expect(reply).toEqual({ response_type: "ephemeral", text: "acme/hidden was not found: it does not exist, or your GitLab account cannot see it." });
    expect(await counted("project.rename", "not_found")).toBe(1);
    expect(log.text()).not.toContain("Bearer");
  });

  it("turns 403, 409, 422 and 5xx into sentences with GitLab's own words, never its JSON", async () => {
    gitlab.failNext({ path: /^\/api\/v4\/projects\/acme%2Fapp$/, method: "GET", status: 403, body: { message: "403 Forbidden" } });
    expect((await run(tess, "probe acme/app")).text).toBe("GitLab does not let you do that on acme/app: 403 Forbidden");
    gitlab.failNext({ path: /^\/api\/v4\/projects\/acme%2Fapp$/, method: "GET", status: 422, body: { message: { base: ["Branch cannot be merged"], title: ["is too long"] } } });
    const invalid = (await run(tess, "probe acme/app")).text;
    expect(invalid).toBe("GitLab refused it for acme/app: Branch cannot be merged; title is too long");
    expect(invalid).not.toContain("{");
    gitlab.failNext({ path: /^\/api\/v4\/projects\/acme%2Fapp$/, method: "GET", status: 409, body: { message: "SHA does not match HEAD of source branch" } });
    expect((await run(tess, "probe acme/app")).text).toBe("GitLab refused because acme/app is in another state: SHA does not match HEAD of source branch");
    gitlab.failNext({ path: /^\/api\/v4\/projects\/acme%2Fapp$/, method: "GET", status: 502, body: { message: "bad gateway" } });
    expect((await run(tess, "probe acme/app")).text).toBe("GitLab is having trouble (it answered 502); nothing was changed by the bot. Try again in a moment.");
  });

  it("waits for a short Retry-After once, and passes a long one on to the person", async () => {
    const before = gitlab.requests.length;
    gitlab.failNext({ path: /^\/api\/v4\/projects\/acme%2Fapp$/, method: "GET", status: 429, body: { message: "Retry later" }, headers: { "Retry-After": "1" } });
    expect((await run(tess, "probe acme/app")).text).toBe("seen acme/app");
    expect(gitlab.requests.slice(before).filter((r) => r.path === "/api/v4/projects/acme%2Fapp")).toHaveLength(2);

    const mark = gitlab.requests.length;
    gitlab.failNext({ path: /^\/api\/v4\/projects\/acme%2Fapp$/, method: "GET", status: 429, body: { message: "Retry later" }, headers: { "Retry-After": "120" } });
    expect((await run(tess, "probe acme/app")).text).toBe("GitLab asks for a pause: try again in 120 seconds.");
    // Asked once: no blind retries that would make GitLab's throttling worse.
    expect(gitlab.requests.slice(mark).filter((r) => r.path === "/api/v4/projects/acme%2Fapp")).toHaveLength(1);
  });
});
