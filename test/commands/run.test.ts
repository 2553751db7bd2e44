// `/gitlab run <project> <job> [args]` (ChatOps) against the GitLab and Mattermost simulators: a pipeline
// made as the person with GitLab's ChatOps variables, an answer at once, then the job followed as the
// person and the end of its log sent through the command's response_url when the test lets it finish.
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCommand } from "../../commands/index.js";
import { createRunCommand, traceTail } from "../../commands/run.js";
import type { CommandReply } from "../../commands/types.js";
import type { GitlabAccounts } from "../../src/gitlab/accounts.js";
import { commandRoutes } from "../../src/http/command-route.js";
import { type MattermostApi } from "../../src/mattermost/client.js";
import { type TestDatabase } from "../support/db.js";
import { linkUser } from "../support/gitlab-accounts.js";
import { type GitlabSim, type GitlabSimUser } from "../support/gitlab-sim.js";
import { type MattermostSim, type SimUser } from "../support/mattermost-sim.js";
import { waitFor } from "../support/wait.js";
import { BUDGET_MS, elapsed } from "../text/time-budget.js";
import { type CapturedLogger } from "./helpers.js";
import { startCommandTestbed, type CommandTestbed } from "./testbed.js";

const Z = "\u200B";
const COMMAND_TOKEN = "run-test-command-token-1";

describe("/gitlab run", () => {
  let bed: CommandTestbed;
  let mm: MattermostSim;
  let mattermost: MattermostApi;
  let gitlab: GitlabSim;
  let t: TestDatabase;
  let accounts: GitlabAccounts;
  let log: CapturedLogger;
  let town: { id: string; name: string; team_id: string };
  let tess: SimUser;
  let rob: SimUser;
  let gTess: GitlabSimUser;
  let gRob: GitlabSimUser;
  // Polls quickly, gives up soon: the test moves the job on.
  const quickRun = createRunCommand({ intervalMs: 20, maxWaitMs: 60_000 });

  beforeAll(async () => {
    bed = await startCommandTestbed();
    ({ mm, mattermost, gitlab, t, log, accounts } = bed);
    town = mm.addChannel({ name: "town", type: "P" });
    gitlab.addProject("acme/ops", "private");
    gitlab.addProject("acme/hidden", "private");
    // .gitlab-ci.yml: `build` in ordinary pipelines; `deploy` and `uptime` only for GITLAB_CHATOPS_JOB naming them.
    gitlab.setProjectCi("acme/ops", { defaultBranch: "main", jobs: ["build"], chatJobs: ["deploy", "uptime"] });
    tess = mm.addUser({ username: "tess" });
    rob = mm.addUser({ username: "rob" });
    mm.addMember(town.id, tess.id);
    mm.addMember(town.id, rob.id);
    gTess = gitlab.addUser({ username: "tess-gl" });
    gRob = gitlab.addUser({ username: "rob-gl" });
    gitlab.addMember("acme/ops", gTess, 30);
    gitlab.addMember("acme/ops", gRob, 20);
    await linkUser(accounts, gitlab, tess.id, gTess);
    await linkUser(accounts, gitlab, rob.id, gRob);
  });
  afterAll(async () => {
    await bed.close();
  });
  beforeEach(() => gitlab.reset());
  afterEach(() => {
    expect(gitlab.unhandled).toEqual([]);
    expect(mm.violations).toEqual([]);
  });

  /** Runs the command as Mattermost would send it, with a response_url of the Mattermost simulator. */
  function run(who: SimUser, text: string, command = quickRun): { reply: Promise<CommandReply>; hookId: string } {
    const responseUrl = mm.commandResponseUrl();
    const reply = runCommand(text, bed.base(who, town, { followUp: (answer) => mattermost.respondToCommand(responseUrl, answer) }), [command]);
    return { reply, hookId: responseUrl.slice(responseUrl.lastIndexOf("/") + 1) };
  }
  const followUps = (hookId: string) => mm.commandResponses.filter((r) => r.hookId === hookId).map((r) => r.body as CommandReply);
  const pipelineIdOf = (reply: CommandReply) => Number(/\/-\/pipelines\/(\d+)\)/.exec(reply.text)?.[1]);

  it("runs the job as the person with GitLab's ChatOps variables, answers at once, then posts the end of its log", async () => {
    const { reply, hookId } = run(tess, "run acme/ops deploy production --force\n  and a second line");
    const answer = await reply;
    const id = pipelineIdOf(answer);
    const pipeline = gitlab.pipeline(id)!;
    const job = pipeline.jobs[0]!;
    expect(answer).toEqual({
      response_type: "in_channel",
      text: `@tess started job [deploy](${gitlab.url}/acme/ops/-/jobs/${job.id}) in pipeline [#${id}](${gitlab.url}/acme/ops/-/pipelines/${id}) of acme/ops. The end of its log follows when it finishes.`,
    });
    expect(pipeline).toMatchObject({ ref: "main", userId: gTess.id });
    expect(pipeline.jobs.map((j) => j.name)).toEqual(["deploy"]);
    expect(pipeline.variables).toEqual([
      { key: "CHAT_INPUT", value: "production --force\n  and a second line", variable_type: "env_var" },
      { key: "CHAT_CHANNEL", value: "town", variable_type: "env_var" },
      { key: "CHAT_USER_ID", value: tess.id, variable_type: "env_var" },
      { key: "GITLAB_CHATOPS_JOB", value: "deploy", variable_type: "env_var" },
    ]);

    // While the job runs, the bot keeps looking (as tess) and says nothing more.
    gitlab.setJob(id, "deploy", { status: "running", trace: "\u001b[0Ksection_start:1700000000:prepare\r\u001b[0K\u001b[32;1mPreparing\u001b[0;m\n" });
    await waitFor(() => gitlab.requests.filter((r) => r.path === `/api/v4/projects/acme%2Fops/jobs/${job.id}` && r.userId === gTess.id).length >= 2, 5000, "the bot to look at the job");
    expect(followUps(hookId)).toEqual([]);

    const lines = Array.from({ length: 60 }, (_, k) => `step ${k + 1}`);
    lines[58] = "ping @all ``` and `` done";
    gitlab.setJob(id, "deploy", { status: "success", trace: `${lines.join("\n")}\nprogress 10%\rprogress 100%\n` });
    await waitFor(() => followUps(hookId).length === 1, 5000, "the job's log through response_url");
    const [finished] = followUps(hookId);
    const tail = [...lines.slice(11, 58), `ping @${Z}all \`\`\` and \`\` done`, "step 60", "progress 100%"];
    expect(finished).toEqual({
      response_type: "in_channel",
      text: [
        `Job [deploy](${gitlab.url}/acme/ops/-/jobs/${job.id}) in pipeline [#${id}](${gitlab.url}/acme/ops/-/pipelines/${id}) of acme/ops finished: passed (duration 0s).`,
        "````",
        ...tail,
        "````",
      ].join("\n"),
    });
    expect(tail).toHaveLength(50);
    // The trace was read as tess too.
    expect(gitlab.requests.find((r) => r.path.endsWith(`/jobs/${job.id}/trace`))?.userId).toBe(gTess.id);
  });

  it("tells the person when the job is still running after the wait, with its link", async () => {
    const { reply, hookId } = run(tess, "run acme/ops uptime", createRunCommand({ intervalMs: 20, maxWaitMs: 100 }));
    const id = pipelineIdOf(await reply);
    const job = gitlab.pipeline(id)!.jobs[0]!;
    await waitFor(() => followUps(hookId).length === 1, 5000, "the still-running follow-up");
    expect(followUps(hookId)).toEqual([{ response_type: "in_channel", text: `Job [uptime](${gitlab.url}/acme/ops/-/jobs/${job.id}) is still running after 0s; follow it in GitLab.` }]);
  });

  it("stops following a job the person can no longer read, and tells only them", async () => {
    const { reply, hookId } = run(tess, "run acme/ops uptime");
    const id = pipelineIdOf(await reply);
    gitlab.removeMember("acme/ops", gTess);
    try {
      await waitFor(() => followUps(hookId).length === 1, 5000, "the follow-up");
      expect(followUps(hookId)).toEqual([{ response_type: "ephemeral", text: "acme/ops uptime was not found: it does not exist, or your GitLab account cannot see it." }]);
      expect(gitlab.pipeline(id)?.status).toBe("pending");
    } finally {
      gitlab.addMember("acme/ops", gTess, 30);
    }
  });

  it("is refused by GitLab for a Reporter, in one sentence, with nothing to follow", async () => {
    const { reply, hookId } = run(rob, "run acme/ops deploy");
    expect(await reply).toEqual({ response_type: "ephemeral", text: "GitLab does not let you do that on acme/ops: 403 Forbidden" });
    await new Promise((r) => setTimeout(r, 100));
    expect(followUps(hookId)).toEqual([]);
  });

  it("says when the project is not found, or its CI has no such ChatOps job", async () => {
    expect((await run(tess, "run acme/hidden deploy").reply).text).toBe("acme/hidden was not found: it does not exist, or your GitLab account cannot see it.");
    expect((await run(tess, "run acme/ops nosuch").reply).text).toBe(
      "GitLab refused it for acme/ops: Pipeline will not run for the selected trigger. The rules configuration prevented any jobs from being added to the pipeline.",
    );
  });

  it("refuses bad arguments before asking GitLab, with the usage line", async () => {
    const line = "Usage: `/gitlab run <project> <job> [args]`";
    expect((await run(tess, "run acme/ops").reply).text).toBe(line);
    expect((await run(tess, "run acme//ops deploy").reply).text).toBe(`"acme//ops" is not a GitLab project path: use its path as in its URL, e.g. \`my-group/my-project\`.\n${line}`);
    expect((await run(tess, `run acme/ops deploy ${"x".repeat(4097)}`).reply).text).toBe(`The text after the job is too long (at most 4096 characters).\n${line}`);
    expect(gitlab.requests.filter((r) => r.method === "POST")).toEqual([]);
  });

  it("follows the job from the slash-command route, through the request's response_url", async () => {
    const routes = commandRoutes({
      db: t.db,
      mattermost,
      config: { mattermost: { url: mm.url, botToken: mm.botToken, commandTokens: [`${town.team_id}:${COMMAND_TOKEN}`] }, defaultLocale: "en", publicUrl: "http://bot.test" },
      logger: log.logger,
      gitlab: { ready: true, accounts },
      ackAfterMs: 30_000,
    });
    const responseUrl = mm.commandResponseUrl();
    const hookId = responseUrl.slice(responseUrl.lastIndexOf("/") + 1);
    const form = {
      token: COMMAND_TOKEN,
      team_id: town.team_id,
      channel_id: town.id,
      channel_name: town.name,
      user_id: tess.id,
      user_name: tess.username,
      command: "/gitlab",
      text: "run acme/ops uptime",
      response_url: responseUrl,
    };
    const res = await routes.request("/mattermost/command", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form).toString() });
    const answer = (await res.json()) as CommandReply;
    expect(answer.response_type).toBe("in_channel");
    expect(answer.text).toMatch(/^@tess started job \[uptime\]/);
    const id = pipelineIdOf(answer);
    gitlab.setJob(id, "uptime", { status: "failed", trace: "up 3 days\nload too high\n" });
    await waitFor(() => followUps(hookId).length === 1, 15_000, "the job's log through response_url");
    expect(followUps(hookId)[0]?.text).toMatch(/^Job \[uptime\]\(.+\) in pipeline \[#\d+\]\(.+\) of acme\/ops finished: failed \(duration 0s\)\.\n```\nup 3 days\nload too high\n```$/);
  });

  it("cuts any log to its tail within the time budget, whatever it holds", () => {
    const pieces = fc.constantFrom("\u001b[", "\u001b[0K", "0;", "m", "\r", "\n", "`", "``", "@", "section_start:", "a", " ", ";");
    const logs = fc
      .array(fc.tuple(pieces, fc.integer({ min: 1, max: 20_000 })), { maxLength: 8 })
      .map((runs) => runs.map(([p, n]) => p.repeat(n)).join(""));
    fc.assert(
      fc.property(logs, (trace) => {
        expect(elapsed(() => traceTail(trace))).toBeLessThan(BUDGET_MS);
        const shown = traceTail(trace).split("\n");
        // A fence no line inside can close, at most 50 lines between.
        expect(shown.length).toBeLessThanOrEqual(52);
        const fence = shown[0]!;
        expect(shown.slice(1, -1).every((l) => !l.includes(fence))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});
