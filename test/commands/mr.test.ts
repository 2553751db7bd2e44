// `/gitlab mr list|show|approve|unapprove|merge` against the GitLab and Mattermost simulators: each
// runs as the person, GitLab's checks are read before merging and the blocker is said in one sentence.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCommand } from "../../commands/index.js";
import { mrApprove, mrList, mrMerge, mrShow, mrUnapprove } from "../../commands/mr.js";
import type { CommandReply } from "../../commands/types.js";
import type { GitlabAccounts } from "../../src/gitlab/accounts.js";
import { type Metrics } from "../../src/metrics.js";
import { updateUserSettings } from "../../src/store/user-settings.js";
import { type TestDatabase } from "../support/db.js";
import { linkUser } from "../support/gitlab-accounts.js";
import { type GitlabSim, type GitlabSimUser } from "../support/gitlab-sim.js";
import { type MattermostSim, type SimUser } from "../support/mattermost-sim.js";
import { type CapturedLogger } from "./helpers.js";
import { startCommandTestbed, type CommandTestbed } from "./testbed.js";

const Z = "\u200B";
const mrCommands = [mrList, mrShow, mrApprove, mrUnapprove, mrMerge];

describe("/gitlab mr", () => {
  let bed: CommandTestbed;
  let mm: MattermostSim;
  let gitlab: GitlabSim;
  let t: TestDatabase;
  let accounts: GitlabAccounts;
  let log: CapturedLogger;
  let town: { id: string; name: string };
  let square: { id: string; name: string };
  let metrics: Metrics;
  // Mattermost users and their GitLab accounts: tess is a Developer, mia a Maintainer, rob a Reporter, bob writes the merge requests.
  let tess: SimUser;
  let mia: SimUser;
  let rob: SimUser;
  let bob: SimUser;
  let gTess: GitlabSimUser;
  let gMia: GitlabSimUser;
  let gBob: GitlabSimUser;
  let nextIid = 100;

  beforeAll(async () => {
    bed = await startCommandTestbed();
    ({ mm, gitlab, t, log, accounts } = bed);
    town = mm.addChannel({ name: "town", type: "P" });
    square = mm.addChannel({ name: "square", type: "O" });
    gitlab.addProject("acme/app", "private");
    gitlab.addProject("acme/other", "private");
    gitlab.addProject("acme/hidden", "private");
    const people: [string, number][] = [
      ["tess", 30],
      ["mia", 40],
      ["rob", 20],
      ["bob", 30],
    ];
    const linked: Record<string, { mm: SimUser; gl: GitlabSimUser }> = {};
    for (const [name, level] of people) {
      const user = mm.addUser({ username: name });
      const gl = gitlab.addUser({ username: `${name}-gl` });
      gitlab.addMember("acme/app", gl, level);
      gitlab.addMember("acme/other", gl, level);
      await linkUser(accounts, gitlab, user.id, gl);
      linked[name] = { mm: user, gl };
    }
    ({ mm: tess, gl: gTess } = linked.tess!);
    ({ mm: mia, gl: gMia } = linked.mia!);
    ({ mm: rob } = linked.rob!);
    ({ mm: bob, gl: gBob } = linked.bob!);
  });
  afterAll(async () => {
    await bed.close();
  });
  beforeEach(() => {
    metrics = bed.freshMetrics();
    gitlab.reset();
  });
  afterEach(() => {
    expect(gitlab.unhandled).toEqual([]);
    expect(mm.violations).toEqual([]);
  });

  /** Commands are typed in a private channel unless a test says otherwise (a public one sees only public projects' results). */
  function run(who: SimUser, text: string, channel: { id: string; name: string } = town): Promise<CommandReply> {
    return runCommand(text, bed.base(who, channel), mrCommands);
  }

  /** A new merge request by bob in acme/app, from its own branch into main. */
  function newMergeRequest(title: string, extra: { reviewers?: GitlabSimUser[]; assignees?: GitlabSimUser[]; author?: GitlabSimUser } = {}): number {
    const iid = nextIid++;
    gitlab.addMergeRequest({ project: "acme/app", iid, title, author: extra.author ?? gBob, reviewers: extra.reviewers, assignees: extra.assignees });
    gitlab.setMergeRequest("acme/app", iid, { sourceBranch: `feature-${iid}`, targetBranch: "main" });
    return iid;
  }

  const usage = (line: string) => `Usage: \`/gitlab ${line}\``;

  describe("list", () => {
    it("shows three short lists of the person's open merge requests, only to them", async () => {
      gitlab.addMergeRequest({ project: "acme/other", iid: 1, title: "Review me @all", author: gBob, reviewers: [gTess] });
      for (let k = 0; k < 6; k++) gitlab.addMergeRequest({ project: "acme/other", iid: 10 + k, title: `Mine ${k}`, author: gTess });
      gitlab.addMergeRequest({ project: "acme/other", iid: 20, title: "Given to me", author: gBob, assignees: [gTess] });
      gitlab.addMergeRequest({ project: "acme/other", iid: 21, title: "Closed", author: gBob, reviewers: [gTess], state: "closed" });
      gitlab.addMergeRequest({ project: "acme/hidden", iid: 1, title: "Not visible", author: gBob, reviewers: [gTess] });

      const reply = await run(tess, "mr list acme/other");
      expect(reply.response_type).toBe("ephemeral");
      const url = gitlab.url;
      expect(reply.text).toBe(
        [
          "**Your open merge requests in acme/other**",
          `**Awaiting your review (1)**\n- [acme/other!1 Review me @${Z}all](${url}/acme/other/-/merge_requests/1) · @${Z}bob-gl`,
          [
            "**Yours (6)**",
            ...[5, 4, 3, 2, 1].map((k) => `- [acme/other!${10 + k} Mine ${k}](${url}/acme/other/-/merge_requests/${10 + k}) · @${Z}tess-gl`),
            `- […and 1 more](${url}/acme/other/-/merge_requests?author_username=tess-gl)`,
          ].join("\n"),
          `**Assigned to you (1)**\n- [acme/other!20 Given to me](${url}/acme/other/-/merge_requests/20) · @${Z}bob-gl`,
        ].join("\n\n"),
      );
      // Without a project: every project the person sees, in their language.
      await updateUserSettings(t.db, rob.id, { language: "zh-CN" });
      const none = await run(rob, "mr list");
      expect(none.text).toBe(["**您的未合并合并请求**", "**待您评审（0）**\n- 无", "**您创建的（0）**\n- 无", "**指派给您的（0）**\n- 无"].join("\n\n"));
      await updateUserSettings(t.db, rob.id, { language: "en" });
    });

    it("says when the project does not exist or cannot be seen, and shows the usage for a bad path", async () => {
      expect((await run(tess, "mr list acme/hidden")).text).toBe("acme/hidden was not found: it does not exist, or your GitLab account cannot see it.");
      expect((await run(tess, "mr list acme//app")).text).toBe(
        `"acme//app" is not a GitLab project path: use its path as in its URL, e.g. \`my-group/my-project\`.\n${usage("mr list [<project>]")}`,
      );
      expect((await run(tess, "mr list a b")).text).toBe(usage("mr list [<project>]"));
    });
  });

  describe("show", () => {
    it("shows state, branches, pipeline, approvals and what blocks merging, only to the person", async () => {
      const iid = newMergeRequest("Faster start");
      gitlab.setMergeRequest("acme/app", iid, { approvalsRequired: 2, approvedBy: [gMia] });
      gitlab.addPipeline("acme/app", { ref: `feature-${iid}`, jobs: [{ name: "test", status: "running" }] });
      const reply = await run(tess, `mr show acme/app!${iid}`);
      expect(reply).toEqual({
        response_type: "ephemeral",
        text: [
          `**[acme/app!${iid} Faster start](${gitlab.url}/acme/app/-/merge_requests/${iid})**`,
          `State: Open · by @${Z}bob-gl · feature-${iid} → main`,
          "Pipeline: running",
          `Approvals: 1 of 2 required approvals (@${Z}mia-gl)`,
          `acme/app!${iid} cannot be merged: it still needs approvals.`,
        ].join("\n"),
      });
      // A pasted GitLab link works as well.
      expect((await run(tess, `mr show ${gitlab.url}/acme/app/-/merge_requests/${iid}`)).text).toContain("Faster start");
    });

    it("says a merge request that does not exist was not found, and shows the usage for a bad reference", async () => {
      expect((await run(tess, "mr show acme/app!999")).text).toBe("acme/app!999 was not found: it does not exist, or your GitLab account cannot see it.");
      expect((await run(tess, "mr show acme/app#3")).text).toBe(
        `"acme/app#3" is not a merge request: write it as \`my-group/my-project!12\`, or paste its GitLab link.\n${usage("mr show <project>!<iid>")}`,
      );
      expect((await run(tess, "mr show")).text).toBe(usage("mr show <project>!<iid>"));
    });
  });

  describe("approve and unapprove", () => {
    it("approves as the person, in the channel, once", async () => {
      const iid = newMergeRequest("Add cache", { reviewers: [gTess] });
      gitlab.setMergeRequest("acme/app", iid, { approvalsRequired: 1 });
      const reply = await run(tess, `mr approve acme/app!${iid}`);
      expect(reply).toEqual({
        response_type: "in_channel",
        text: `@tess approved [acme/app!${iid} Add cache](${gitlab.url}/acme/app/-/merge_requests/${iid}) (1 of 1 required approvals).`,
      });
      expect(gitlab.mergeRequest("acme/app", iid)?.approvedBy).toEqual(["tess-gl"]);
      expect((await run(tess, `mr approve acme/app!${iid}`)).text).toBe(`You have already approved acme/app!${iid}.`);
      const audit = log.lines().filter((l) => l.audit === true && l.action === "mr.approve");
      expect(audit.at(-1)).toMatchObject({ gitlab_username: "tess-gl", object: `acme/app!${iid}`, outcome: "ok" });

      expect(await run(tess, `mr unapprove acme/app!${iid}`)).toEqual({
        response_type: "in_channel",
        text: `@tess withdrew their approval of [acme/app!${iid} Add cache](${gitlab.url}/acme/app/-/merge_requests/${iid}) (0 of 1 required approvals).`,
      });
      expect(gitlab.mergeRequest("acme/app", iid)?.approvedBy).toEqual([]);
      expect((await run(tess, `mr unapprove acme/app!${iid}`)).text).toBe(`You have not approved acme/app!${iid}: there is no approval of yours to withdraw.`);
    });

    it("counts approvals without a required number where GitLab (Free) has none", async () => {
      const iid = newMergeRequest("Free tier");
      gitlab.failNext({ method: "POST", path: /\/approve$/, status: 201, body: { approved: true, approved_by: [{ user: { username: "tess-gl" } }], user_has_approved: true, user_can_approve: false } });
      expect((await run(tess, `mr approve acme/app!${iid}`)).text).toBe(`@tess approved [acme/app!${iid} Free tier](${gitlab.url}/acme/app/-/merge_requests/${iid}) (approvals: 1).`);
    });

    it("refuses, without asking GitLab to approve, whom GitLab would not let approve (a Reporter, the author)", async () => {
      const iid = newMergeRequest("Rename things");
      const refusal = `GitLab does not let you approve acme/app!${iid} (its author, roles below Developer and anyone once it is closed cannot).`;
      expect(await run(rob, `mr approve acme/app!${iid}`)).toEqual({ response_type: "ephemeral", text: refusal });
      expect((await run(bob, `mr approve acme/app!${iid}`)).text).toBe(refusal);
      // GitLab answers these with 401, which the bot would take for a revoked connection: never sent.
      expect(gitlab.requests.filter((r) => r.path.endsWith("/approve"))).toEqual([]);
      expect(gitlab.mergeRequest("acme/app", iid)?.approvedBy).toEqual([]);
    });

    it("says when the merge request is not found", async () => {
      expect((await run(tess, "mr approve acme/hidden!1")).text).toBe("acme/hidden!1 was not found: it does not exist, or your GitLab account cannot see it.");
      expect((await run(tess, "mr unapprove nope")).text).toContain(usage("mr unapprove <project>!<iid>"));
    });
  });

  describe("merge", () => {
    it("merges as a Maintainer, in the channel, exactly the commit it checked", async () => {
      const iid = newMergeRequest("Ship it");
      const reply = await run(mia, `mr merge acme/app!${iid}`);
      expect(reply).toEqual({ response_type: "in_channel", text: `@mia merged [acme/app!${iid} Ship it](${gitlab.url}/acme/app/-/merge_requests/${iid}) into main.` });
      expect(gitlab.mergeRequest("acme/app", iid)).toMatchObject({ state: "merged", mergedBy: "mia-gl" });
      expect((await run(mia, `mr merge acme/app!${iid}`)).text).toBe(`acme/app!${iid} is already merged.`);
      expect(await countedOk("mr.merge")).toBe(1);
    });

    it("tells the channel in DEFAULT_LOCALE, and a public channel nothing about a private project", async () => {
      await updateUserSettings(t.db, mia.id, { language: "zh-CN" });
      try {
        const iid = newMergeRequest("Quietly");
        expect((await run(mia, `mr merge acme/app!${iid}`)).text).toBe(`@mia merged [acme/app!${iid} Quietly](${gitlab.url}/acme/app/-/merge_requests/${iid}) into main.`);
        const other = newMergeRequest("Not for the square");
        expect(await run(mia, `mr merge acme/app!${other}`, square)).toEqual({
          response_type: "ephemeral",
          text: `@mia 将 [acme/app!${other} Not for the square](${gitlab.url}/acme/app/-/merge_requests/${other}) 合并到了 main。 （该项目不是公开项目，而此频道是公开频道：此回复仅您可见）`,
        });
      } finally {
        await updateUserSettings(t.db, mia.id, { language: "en" });
      }
    });

    it("refuses a Developer merging into a protected branch, without asking GitLab to merge", async () => {
      const iid = newMergeRequest("Not yours to merge");
      expect(await run(tess, `mr merge acme/app!${iid}`)).toEqual({
        response_type: "ephemeral",
        text: `GitLab does not let you merge acme/app!${iid}: your role there may not merge into main.`,
      });
      expect(gitlab.requests.filter((r) => r.path.endsWith("/merge"))).toEqual([]);
      expect(gitlab.mergeRequest("acme/app", iid)?.state).toBe("opened");
    });

    it("passes GitLab's own 403 on as one sentence", async () => {
      const iid = newMergeRequest("Pushed against a rule");
      gitlab.failNext({ method: "PUT", path: /\/merge$/, status: 403, body: { message: "403 Forbidden" } });
      expect((await run(mia, `mr merge acme/app!${iid}`)).text).toBe(`GitLab does not let you do that on acme/app!${iid}: 403 Forbidden`);
      expect(await counted("mr.merge", "forbidden")).toBe(1);
    });

    it("says in one sentence which check blocks the merge, and does not try it", async () => {
      gitlab.setProjectCi("acme/app", { pipelineMustSucceed: true, discussionsMustBeResolved: true });
      try {
        const cases: [Parameters<GitlabSim["setMergeRequest"]>[2], string | undefined, string][] = [
          [{ draft: true }, "success", "it is a draft; mark it as ready first."],
          [{ unresolvedDiscussions: true }, "success", "all its threads must be resolved first."],
          [{}, undefined, "its pipeline must succeed first."],
          [{}, "failed", "its pipeline must succeed first."],
          [{ hasConflicts: true }, "success", "its source branch has conflicts with the target branch."],
          [{ approvalsRequired: 1 }, "success", "it still needs approvals."],
        ];
        for (const [changes, pipeline, reason] of cases) {
          const iid = newMergeRequest("Blocked");
          gitlab.setMergeRequest("acme/app", iid, changes);
          if (pipeline) gitlab.addPipeline("acme/app", { ref: `feature-${iid}`, jobs: [{ name: "test", status: pipeline }] });
          expect(await run(mia, `mr merge acme/app!${iid}`)).toEqual({ response_type: "ephemeral", text: `acme/app!${iid} cannot be merged: ${reason}` });
          expect(gitlab.mergeRequest("acme/app", iid)?.state).toBe("opened");
        }
        const running = newMergeRequest("Still testing");
        gitlab.addPipeline("acme/app", { ref: `feature-${running}`, jobs: [{ name: "test", status: "running" }] });
        expect((await run(mia, `mr merge acme/app!${running}`)).text).toBe(
          `acme/app!${running} cannot be merged yet: its pipeline is still running (add \`--when-pipeline-succeeds\` to merge it when the pipeline succeeds).`,
        );
        await updateUserSettings(t.db, mia.id, { language: "zh-CN" });
        const draft = newMergeRequest("Draft");
        gitlab.setMergeRequest("acme/app", draft, { draft: true });
        expect((await run(mia, `mr merge acme/app!${draft}`)).text).toBe(`acme/app!${draft} 无法合并：它是草稿，请先标记为就绪。`);
        expect(gitlab.requests.filter((r) => r.path.endsWith("/merge"))).toEqual([]);
      } finally {
        gitlab.setProjectCi("acme/app", { pipelineMustSucceed: false, discussionsMustBeResolved: false });
        await updateUserSettings(t.db, mia.id, { language: "en" });
      }
    });

    it("with --when-pipeline-succeeds sets auto-merge on a running pipeline, and GitLab merges when it succeeds", async () => {
      gitlab.setProjectCi("acme/app", { pipelineMustSucceed: true });
      try {
        const iid = newMergeRequest("Merge me later");
        const pipeline = gitlab.addPipeline("acme/app", { ref: `feature-${iid}`, jobs: [{ name: "test", status: "running" }] });
        const reply = await run(mia, `mr merge acme/app!${iid} --when-pipeline-succeeds`);
        expect(reply).toEqual({
          response_type: "in_channel",
          text: `@mia set [acme/app!${iid} Merge me later](${gitlab.url}/acme/app/-/merge_requests/${iid}) to merge into main when its pipeline succeeds.`,
        });
        expect(gitlab.mergeRequest("acme/app", iid)).toMatchObject({ state: "opened", autoMerge: true });
        expect((await run(mia, `mr show acme/app!${iid}`)).text).toContain("Set to merge when its pipeline succeeds.");
        gitlab.setJob(pipeline, "test", { status: "success" });
        expect(gitlab.mergeRequest("acme/app", iid)).toMatchObject({ state: "merged", mergedBy: "mia-gl" });
        expect(await countedOk("mr.auto_merge")).toBe(1);

        // The flag does not get round the other checks.
        const draft = newMergeRequest("Draft, later");
        gitlab.setMergeRequest("acme/app", draft, { draft: true });
        gitlab.addPipeline("acme/app", { ref: `feature-${draft}`, jobs: [{ name: "test", status: "running" }] });
        expect((await run(mia, `mr merge acme/app!${draft} --when-pipeline-succeeds`)).text).toBe(`acme/app!${draft} cannot be merged: it is a draft; mark it as ready first.`);
      } finally {
        gitlab.setProjectCi("acme/app", { pipelineMustSucceed: false });
      }
    });

    it("reads merge_status where GitLab (before 15.6) has no detailed_merge_status", async () => {
      const iid = newMergeRequest("Old GitLab");
      const path = new RegExp(`^/api/v4/projects/acme%2Fapp/merge_requests/${iid}$`);
      const answer = (merge_status: string) => ({
        iid,
        title: "Old GitLab",
        state: "opened",
        web_url: `${gitlab.url}/acme/app/-/merge_requests/${iid}`,
        source_branch: `feature-${iid}`,
        target_branch: "main",
        sha: "0123456789abcdef0123456789abcdef01234567",
        merge_status,
        user: { can_merge: true },
      });
      gitlab.failNext({ method: "GET", path, status: 200, body: answer("cannot_be_merged") });
      expect((await run(mia, `mr merge acme/app!${iid}`)).text).toBe(`acme/app!${iid} cannot be merged: its source branch has conflicts with the target branch.`);
      gitlab.failNext({ method: "GET", path, status: 200, body: answer("checking") });
      expect((await run(mia, `mr merge acme/app!${iid}`)).text).toBe(`GitLab is still checking whether acme/app!${iid} can be merged; try again in a moment.`);
      expect(gitlab.requests.filter((r) => r.path.endsWith("/merge"))).toEqual([]);
    });

    it("says when the merge request is not found, and shows the usage for bad arguments", async () => {
      expect((await run(mia, "mr merge acme/app!9999")).text).toBe("acme/app!9999 was not found: it does not exist, or your GitLab account cannot see it.");
      expect((await run(mia, "mr merge acme/app!1 --now")).text).toBe(usage("mr merge <project>!<iid> [--when-pipeline-succeeds]"));
    });
  });

  async function counted(action: string, outcome: string): Promise<number> {
    const metric = (await metrics.gitlabActions.get()).values.find((v) => v.labels.action === action && v.labels.outcome === outcome);
    return metric?.value ?? 0;
  }
  const countedOk = (action: string) => counted(action, "ok");
});
