// `/gitlab deploy <project> <from> to <to>` against the GitLab and Mattermost simulators: the last
// successful deployment of <from> is found, the manual job of its pipeline for <to> is played as the
// person, and the channel is told (GitLab decides who may).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCommand } from "../../commands/index.js";
import type { CommandReply } from "../../commands/types.js";
import type { GitlabAccounts } from "../../src/gitlab/accounts.js";
import { updateUserSettings } from "../../src/store/user-settings.js";
import { type TestDatabase } from "../support/db.js";
import { linkUser } from "../support/gitlab-accounts.js";
import { type GitlabSim } from "../support/gitlab-sim.js";
import { type MattermostSim, type SimChannel, type SimUser } from "../support/mattermost-sim.js";
import { type CapturedLogger } from "./helpers.js";
import { startCommandTestbed, type CommandTestbed } from "./testbed.js";

describe("/gitlab deploy", () => {
  let bed: CommandTestbed;
  let mm: MattermostSim;
  let gitlab: GitlabSim;
  let t: TestDatabase;
  let accounts: GitlabAccounts;
  let log: CapturedLogger;
  let dev: SimUser;
  let reporter: SimUser;
  /** The team's private channel (results about the private projects below are posted in it). */
  let ops: SimChannel;
  let square: SimChannel;

  beforeAll(async () => {
    bed = await startCommandTestbed();
    ({ mm, gitlab, t, log, accounts } = bed);
    dev = mm.addUser({ username: "dana" });
    reporter = mm.addUser({ username: "remy" });
    ops = mm.addChannel({ name: "ops", type: "P" });
    square = mm.addChannel({ name: "square", type: "O" });
    for (const channel of [ops, square]) for (const u of [dev, reporter]) mm.addMember(channel.id, u.id);
    const gDev = gitlab.addUser({ username: "dana-gl" });
    const gReporter = gitlab.addUser({ username: "remy-gl" });
    for (const project of ["acme/app", "acme/two", "acme/none", "acme/fresh"]) {
      gitlab.addProject(project, "private");
      gitlab.addMember(project, gDev, 30);
      gitlab.addMember(project, gReporter, 20);
    }
    gitlab.addProject("acme/hidden", "private");
    await linkUser(accounts, gitlab, dev.id, gDev);
    await linkUser(accounts, gitlab, reporter.id, gReporter);
  });
  afterAll(async () => {
    await bed.close();
  });
  beforeEach(() => gitlab.reset());

  function run(who: SimUser, text: string, channel: SimChannel = ops): Promise<CommandReply> {
    return runCommand(text, bed.base(who, channel));
  }

  /** A pipeline that deployed `from` (its job `deploy-<from>`) and waits for a manual job per name in `manual`. */
  function deployedPipeline(project: string, from: string, manual: string[], opts: { finishedAt?: string; status?: string } = {}): { pipelineId: number; jobIds: Record<string, number> } {
    const pipelineId = gitlab.addPipeline(project, {
      ref: "main",
      jobs: [{ name: "build", status: "success" }, { name: `deploy-${from}`, status: "success" }, ...manual.map((name) => ({ name, status: "manual" }))],
    });
    gitlab.addDeployment(project, { environment: from, pipelineId, job: `deploy-${from}`, status: opts.status ?? "success", finishedAt: opts.finishedAt });
    const jobIds = Object.fromEntries(gitlab.pipeline(pipelineId)!.jobs.map((j) => [j.name, j.id]));
    return { pipelineId, jobIds };
  }

  function jobStatus(pipelineId: number, name: string): string | undefined {
    return gitlab.pipeline(pipelineId)?.jobs.find((j) => j.name === name)?.status;
  }

  it("plays the manual job of the last successful deployment's pipeline and tells the channel", async () => {
    const older = deployedPipeline("acme/app", "staging", ["production"], { finishedAt: "2026-11-01T10:00:00.000Z" });
    const newest = deployedPipeline("acme/app", "staging", ["production"], { finishedAt: "2026-11-30T10:00:00.000Z" });
    // A later failed deployment of staging is not "the last successful one".
    const failed = deployedPipeline("acme/app", "staging", ["production"], { status: "failed", finishedAt: "2026-12-01T09:00:00.000Z" });

    const reply = await run(dev, "deploy acme/app staging to production");
    const jobId = newest.jobIds.production!;
    expect(reply).toEqual({
      response_type: "in_channel",
      text:
        `@dana started deploying acme/app from staging to production: [production #${jobId}](${gitlab.url}/acme/app/-/jobs/${jobId}). ` +
        "The deployment notification will tell how it ends, in channels subscribed to acme/app with `deployments`.",
    });
    expect(jobStatus(newest.pipelineId, "production")).toBe("pending");
    expect(jobStatus(older.pipelineId, "production")).toBe("manual");
    expect(jobStatus(failed.pipelineId, "production")).toBe("manual");
    const asked = gitlab.requests.map((r) => `${r.method} ${r.path}`);
    expect(asked).toContain(`POST /api/v4/projects/acme%2Fapp/jobs/${jobId}/play`);
    expect(log.lines().filter((l) => l.audit === true).at(-1)).toMatchObject({ action: "deploy.play", gitlab_username: "dana-gl", via: "command" });
    expect(gitlab.unhandled).toEqual([]);
  });

  it("tells only the person in a public channel, where the private project is not to be named", async () => {
    const deployed = deployedPipeline("acme/app", "staging", ["production"]);
    const reply = await run(dev, "deploy acme/app staging to production", square);
    expect(reply.response_type).toBe("ephemeral");
    expect(reply.text).toMatch(/^@dana started deploying acme\/app from staging to production: .*\(the project is not public and this channel is: this answer is shown only to you\)$/);
    expect(jobStatus(deployed.pipelineId, "production")).toBe("pending");
  });

  it("of several manual jobs plays the one named after the target, and says so when none is", async () => {
    const several = deployedPipeline("acme/two", "staging", ["canary", "production", "cleanup"]);
    const reply = await run(dev, "deploy acme/two staging to production");
    expect(reply.response_type).toBe("in_channel");
    expect(jobStatus(several.pipelineId, "production")).toBe("pending");
    expect(jobStatus(several.pipelineId, "canary")).toBe("manual");

    const ambiguous = await run(dev, "deploy acme/two staging to qa");
    expect(ambiguous).toEqual({
      response_type: "ephemeral",
      text: `The pipeline #${several.pipelineId} of the last deployment of staging has several manual jobs and none is named qa: canary, cleanup. Play the right one in GitLab, or name the deploy job after its environment.`,
    });
    expect(jobStatus(several.pipelineId, "canary")).toBe("manual");
    expect(gitlab.unhandled).toEqual([]);
  });

  it("says plainly when there is no such environment, no previous deployment, or no manual job", async () => {
    expect((await run(dev, "deploy acme/fresh staging to production")).text).toBe("acme/fresh has no environment staging.");
    gitlab.addEnvironment("acme/fresh", "staging");
    expect((await run(dev, "deploy acme/fresh staging to production")).text).toBe(
      "There is no previous successful deployment of staging in acme/fresh, so there is nothing to deploy to production.",
    );
    const bare = deployedPipeline("acme/none", "staging", []);
    expect(await run(dev, "deploy acme/none staging to production")).toEqual({
      response_type: "ephemeral",
      text: `The pipeline #${bare.pipelineId} of the last deployment of staging has no manual job to deploy to production.`,
    });
    await updateUserSettings(t.db, dev.id, { language: "zh-CN" });
    expect((await run(dev, "deploy acme/fresh staging to production")).text).toBe("acme/fresh 中 staging 还没有成功的部署，因此没有可部署到 production 的内容。");
    await updateUserSettings(t.db, dev.id, { language: "en" });
    expect(gitlab.unhandled).toEqual([]);
  });

  it("passes GitLab's refusal on to someone whose role may not play jobs", async () => {
    const p = deployedPipeline("acme/app", "review", ["qa"]);
    const reply = await run(reporter, "deploy acme/app review to qa");
    expect(reply).toEqual({ response_type: "ephemeral", text: "GitLab does not let you do that on acme/app: 403 Forbidden" });
    expect(jobStatus(p.pipelineId, "qa")).toBe("manual");
    expect(log.lines().filter((l) => l.audit === true).at(-1)).toMatchObject({ action: "deploy.play", outcome: "forbidden", gitlab_username: "remy-gl" });
    expect(gitlab.unhandled).toEqual([]);
  });

  it("says a project it cannot see was not found", async () => {
    expect(await run(dev, "deploy acme/hidden staging to production")).toEqual({
      response_type: "ephemeral",
      text: "acme/hidden was not found: it does not exist, or your GitLab account cannot see it.",
    });
    expect(gitlab.unhandled).toEqual([]);
  });

  it("shows the usage line for arguments it cannot read, before asking GitLab", async () => {
    const usage = "Usage: `/gitlab deploy <project> <from-environment> to <to-environment>`";
    for (const text of ["deploy", "deploy acme/app staging production", "deploy acme/app staging to", "deploy acme/app staging to production now"]) {
      expect(await run(dev, text)).toEqual({ response_type: "ephemeral", text: usage });
    }
    expect((await run(dev, "deploy acme//app staging to production")).text).toMatch(/^"acme\/\/app" is not a GitLab project or group path/);
    expect((await run(dev, `deploy acme/app ${"s".repeat(300)} to production`)).text).toBe(`An environment name has at most 255 characters.\n${usage}`);
    expect(gitlab.requests.filter((r) => r.path.startsWith("/api/v4/projects"))).toEqual([]);
  });
});
