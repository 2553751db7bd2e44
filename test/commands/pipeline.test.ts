// `/gitlab pipeline run|retry|cancel|show` against the GitLab and Mattermost simulators, as the person:
// GitLab's roles decide (Developer runs, retries and cancels; a Guest of a private project reads nothing).
import { createHash } from "node:crypto";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCommand } from "../../commands/index.js";
import { isRefName, parseVariables, pipelineCancel, pipelineRetry, pipelineRun, pipelineShow } from "../../commands/pipeline.js";
import { CommandError, type CommandReply } from "../../commands/types.js";
import type { GitlabAccounts } from "../../src/gitlab/accounts.js";
import { updateUserSettings } from "../../src/store/user-settings.js";
import { type TestDatabase } from "../support/db.js";
import { linkUser } from "../support/gitlab-accounts.js";
import { type GitlabSim, type GitlabSimUser } from "../support/gitlab-sim.js";
import { type MattermostSim, type SimUser } from "../support/mattermost-sim.js";
import { BUDGET_MS, elapsed } from "../text/time-budget.js";
import { startCommandTestbed, type CommandTestbed } from "./testbed.js";

const pipelineCommands = [pipelineRun, pipelineRetry, pipelineCancel, pipelineShow];

describe("/gitlab pipeline", () => {
  let bed: CommandTestbed;
  let mm: MattermostSim;
  let gitlab: GitlabSim;
  let t: TestDatabase;
  let accounts: GitlabAccounts;
  let town: { id: string; name: string };
  let square: { id: string; name: string };
  // tess is a Developer of acme/app, rob a Reporter, gwen a Guest.
  let tess: SimUser;
  let rob: SimUser;
  let gwen: SimUser;
  let gTess: GitlabSimUser;

  beforeAll(async () => {
    bed = await startCommandTestbed();
    ({ mm, gitlab, t, accounts } = bed);
    town = mm.addChannel({ name: "town", type: "P" });
    square = mm.addChannel({ name: "square", type: "O" });
    gitlab.addProject("acme/app", "private");
    gitlab.addProject("acme/hidden", "private");
    gitlab.setProjectCi("acme/app", { defaultBranch: "trunk", branches: ["trunk", "release-1"], jobs: ["build", "test"] });
    const linked: SimUser[] = [];
    const gl: GitlabSimUser[] = [];
    for (const [name, level] of [
      ["tess", 30],
      ["rob", 20],
      ["gwen", 10],
    ] as const) {
      const user = mm.addUser({ username: name });
      const g = gitlab.addUser({ username: `${name}-gl` });
      gitlab.addMember("acme/app", g, level);
      await linkUser(accounts, gitlab, user.id, g);
      linked.push(user);
      gl.push(g);
    }
    [tess, rob, gwen] = linked as [SimUser, SimUser, SimUser];
    gTess = gl[0]!;
  });
  afterAll(async () => {
    await bed.close();
  });
  beforeEach(() => gitlab.reset());
  afterEach(() => {
    expect(gitlab.unhandled).toEqual([]);
    expect(mm.violations).toEqual([]);
  });

  /** Commands are typed in a private channel unless a test says otherwise (a public one sees only public projects' results). */
  function run(who: SimUser, text: string, channel: { id: string; name: string } = town): Promise<CommandReply> {
    return runCommand(text, bed.base(who, channel), pipelineCommands);
  }

  const usage = (line: string) => `Usage: \`/gitlab ${line}\``;
  const pipelineUrl = (id: number) => `${gitlab.url}/acme/app/-/pipelines/${id}`;
  const created = () => gitlab.requests.filter((r) => r.method === "POST" && r.path === "/api/v4/projects/acme%2Fapp/pipeline");
  /** The id of the pipeline a reply links to. */
  const linkedId = (reply: CommandReply) => Number(/\/-\/pipelines\/(\d+)\)/.exec(reply.text)?.[1]);

  describe("run", () => {
    it("starts a pipeline on the project's default branch as the person, in the channel", async () => {
      const reply = await run(tess, "pipeline run acme/app");
      const id = linkedId(reply);
      expect(reply).toEqual({ response_type: "in_channel", text: `@tess started pipeline [#${id}](${pipelineUrl(id)}) on trunk in acme/app.` });
      expect(gitlab.pipeline(id)).toMatchObject({ project: "acme/app", ref: "trunk", status: "pending", source: "api", userId: gTess.id, variables: [] });
      expect(gitlab.pipeline(id)?.jobs.map((j) => j.name)).toEqual(["build", "test"]);
    });

    it("takes a ref and CI variables, and names only the variables' keys in the channel", async () => {
      const reply = await run(tess, 'pipeline run acme/app release-1 DEPLOY=yes NOTE="two words" EMPTY=');
      const id = linkedId(reply);
      expect(reply.text).toBe(`@tess started pipeline [#${id}](${pipelineUrl(id)}) on release-1 in acme/app with variables \`DEPLOY\`, \`NOTE\`, \`EMPTY\`.`);
      expect(gitlab.pipeline(id)).toMatchObject({
        ref: "release-1",
        variables: [
          { key: "DEPLOY", value: "yes", variable_type: "env_var" },
          { key: "NOTE", value: "two words", variable_type: "env_var" },
          { key: "EMPTY", value: "", variable_type: "env_var" },
        ],
      });
      // Variables without a ref: the default branch.
      const only = await run(tess, "pipeline run acme/app DEPLOY=no");
      expect(gitlab.pipeline(linkedId(only))).toMatchObject({ ref: "trunk", variables: [{ key: "DEPLOY", value: "no" }] });
    });

    it("tells the channel in DEFAULT_LOCALE, and a public channel nothing about a private project", async () => {
      await updateUserSettings(t.db, tess.id, { language: "zh-CN" });
      try {
        const reply = await run(tess, "pipeline run acme/app");
        expect(reply).toEqual({ response_type: "in_channel", text: `@tess started pipeline [#${linkedId(reply)}](${pipelineUrl(linkedId(reply))}) on trunk in acme/app.` });
        const hidden = await run(tess, "pipeline run acme/app", square);
        const id = linkedId(hidden);
        expect(hidden).toEqual({
          response_type: "ephemeral",
          text: `@tess 在 acme/app 的 trunk 上启动了流水线 [#${id}](${pipelineUrl(id)})。 （该项目不是公开项目，而此频道是公开频道：此回复仅您可见）`,
        });
      } finally {
        await updateUserSettings(t.db, tess.id, { language: "en" });
      }
    });

    it("is refused by GitLab for a Reporter, and says so in one sentence", async () => {
      expect(await run(rob, "pipeline run acme/app")).toEqual({ response_type: "ephemeral", text: "GitLab does not let you do that on acme/app: 403 Forbidden" });
    });

    it("says when the project is not found or the ref does not exist", async () => {
      expect((await run(tess, "pipeline run acme/hidden")).text).toBe("acme/hidden was not found: it does not exist, or your GitLab account cannot see it.");
      expect((await run(tess, "pipeline run acme/app no-such-branch")).text).toBe("GitLab refused it for acme/app: Reference not found");
    });

    it("refuses bad arguments before asking GitLab, with the usage line", async () => {
      const line = usage("pipeline run <project> [<ref>] [KEY=value ...]");
      const cases: [string, string][] = [
        ["pipeline run", line],
        ["pipeline run acme//app", `"acme//app" is not a GitLab project path: use its path as in its URL, e.g. \`my-group/my-project\`.\n${line}`],
        ["pipeline run acme/app -rf", `"-rf" is not a branch or tag name.\n${line}`],
        ["pipeline run acme/app main 1-BAD=x", `"1-BAD=x" is not a CI variable: write \`KEY=value\`, the key in letters, digits and \`_\` (at most 255 characters).\n${line}`],
        ["pipeline run acme/app main NOVALUE", `"NOVALUE" is not a CI variable: write \`KEY=value\`, the key in letters, digits and \`_\` (at most 255 characters).\n${line}`],
        [`pipeline run acme/app ${"K".repeat(256)}=1`, `"${"K".repeat(79)}…" is not a CI variable: write \`KEY=value\`, the key in letters, digits and \`_\` (at most 255 characters).\n${line}`],
        ["pipeline run acme/app A=1 A=2", `The variable \`A\` is given twice.\n${line}`],
        [`pipeline run acme/app A=${"v".repeat(4097)}`, `The value of \`A\` is too long (at most 4096 characters).\n${line}`],
      ];
      for (const [text, expected] of cases) expect((await run(tess, text)).text, text).toBe(expected);
      expect(created()).toEqual([]);
      await updateUserSettings(t.db, tess.id, { language: "zh-CN" });
      expect((await run(tess, "pipeline run acme/app A=1 A=2")).text).toBe(`变量 \`A\` 重复给出。\n用法：\`/gitlab pipeline run <project> [<ref>] [KEY=value ...]\``);
      await updateUserSettings(t.db, tess.id, { language: "en" });
    });
  });

  describe("retry and cancel", () => {
    it("retries a failed pipeline and cancels a running one, in the channel", async () => {
      const failed = gitlab.addPipeline("acme/app", { ref: "trunk", jobs: [{ name: "build", status: "success" }, { name: "test", status: "failed" }] });
      expect(await run(tess, `pipeline retry acme/app ${failed}`)).toEqual({
        response_type: "in_channel",
        text: `@tess retried pipeline [#${failed}](${pipelineUrl(failed)}) of acme/app (now running).`,
      });
      expect(gitlab.pipeline(failed)?.jobs.map((j) => j.status)).toEqual(["success", "pending"]);

      const running = gitlab.addPipeline("acme/app", { ref: "trunk", jobs: [{ name: "build", status: "running" }] });
      expect((await run(tess, `pipeline cancel acme/app ${running}`)).text).toBe(`@tess canceled pipeline [#${running}](${pipelineUrl(running)}) of acme/app (now canceled).`);
      expect(gitlab.pipeline(running)?.status).toBe("canceled");
    });

    it("is refused by GitLab for a Reporter", async () => {
      const running = gitlab.addPipeline("acme/app", { ref: "trunk", jobs: [{ name: "build", status: "running" }] });
      expect((await run(rob, `pipeline cancel acme/app ${running}`)).text).toBe(`GitLab does not let you do that on acme/app #${running}: 403 Forbidden`);
      expect(gitlab.pipeline(running)?.status).toBe("running");
    });

    it("says when the pipeline is not found, and shows the usage for a bad id", async () => {
      expect((await run(tess, "pipeline retry acme/app 424242")).text).toBe("acme/app #424242 was not found: it does not exist, or your GitLab account cannot see it.");
      expect((await run(tess, "pipeline cancel acme/app last")).text).toBe(
        `"last" is not a pipeline id: use the number GitLab shows, e.g. \`1234\`.\n${usage("pipeline cancel <project> <pipeline-id>")}`,
      );
      expect((await run(tess, "pipeline retry acme/app")).text).toBe(usage("pipeline retry <project> <pipeline-id>"));
    });
  });

  describe("show", () => {
    it("shows a pipeline by id: status, ref, short commit, duration, failed jobs, link; only to the person", async () => {
      const id = gitlab.addPipeline("acme/app", {
        ref: "release-1",
        duration: 65,
        jobs: [
          { name: "build", status: "success" },
          { name: "test", status: "failed" },
          { name: "lint", status: "failed" },
        ],
      });
      const jobs = gitlab.pipeline(id)!.jobs;
      const sha = createHash("sha1").update("acme/app:release-1").digest("hex");
      expect(await run(rob, `pipeline show acme/app ${id}`)).toEqual({
        response_type: "ephemeral",
        text: [
          `**Pipeline [#${id}](${pipelineUrl(id)})** of acme/app: failed`,
          `Ref: release-1 · commit \`${sha.slice(0, 8)}\` · duration 1m 5s`,
          `Failed jobs: [test](${gitlab.url}/acme/app/-/jobs/${jobs[1]!.id}), [lint](${gitlab.url}/acme/app/-/jobs/${jobs[2]!.id})`,
        ].join("\n"),
      });
    });

    it("shows the latest pipeline of a ref, or of the default branch", async () => {
      gitlab.addPipeline("acme/app", { ref: "trunk", jobs: [{ name: "build", status: "failed" }] });
      const latest = gitlab.addPipeline("acme/app", { ref: "trunk", jobs: [{ name: "build", status: "running" }] });
      const reply = await run(tess, "pipeline show acme/app");
      expect(reply.text.split("\n")[0]).toBe(`**Pipeline [#${latest}](${pipelineUrl(latest)})** of acme/app: running`);
      expect(reply.text).toContain("duration —");
      expect(gitlab.requests.some((r) => r.path === "/api/v4/projects/acme%2Fapp/pipelines/latest")).toBe(true);
      const onRef = gitlab.addPipeline("acme/app", { ref: "release-1", jobs: [{ name: "build", status: "success" }] });
      expect((await run(tess, "pipeline show acme/app release-1")).text.split("\n")[0]).toBe(`**Pipeline [#${onRef}](${pipelineUrl(onRef)})** of acme/app: passed`);
      expect((await run(tess, "pipeline show acme/app feature-x")).text).toBe("No pipeline has run on feature-x in acme/app yet.");
    });

    it("is refused by GitLab for a Guest of a private project, and says what is not found", async () => {
      const id = gitlab.addPipeline("acme/app", { ref: "trunk", jobs: [{ name: "build", status: "success" }] });
      expect((await run(gwen, `pipeline show acme/app ${id}`)).text).toBe(`GitLab does not let you do that on acme/app #${id}: 403 Forbidden`);
      expect((await run(tess, "pipeline show acme/hidden")).text).toBe("acme/hidden was not found: it does not exist, or your GitLab account cannot see it.");
      expect((await run(tess, "pipeline show acme/app 1 2")).text).toBe(usage("pipeline show <project> [<pipeline-id> | <ref>]"));
    });
  });

  it("reads variables and refs within the time budget, whatever their length", () => {
    const words = fc.array(fc.oneof(fc.string({ maxLength: 20 }), fc.tuple(fc.constantFrom("A", "=", '"', ".", "-", "_", "~"), fc.integer({ min: 1, max: 30_000 })).map(([c, n]) => c.repeat(n))), {
      maxLength: 4,
    });
    fc.assert(
      fc.property(words, (list) => {
        const ms = elapsed(() => {
          for (const w of list) isRefName(w);
          try {
            parseVariables(list, "en");
          } catch (error) {
            if (!(error instanceof CommandError)) throw error;
          }
        });
        expect(ms).toBeLessThan(BUDGET_MS);
      }),
      { numRuns: 100 },
    );
  });
});
