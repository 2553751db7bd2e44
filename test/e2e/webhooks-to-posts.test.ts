// The spine end to end: the real server (HTTP, Redis queues, SQLite file, workers) against the
// Mattermost simulator. Channels subscribe through the slash command; GitLab's published payloads go
// through POST /webhooks/gitlab; each becomes exactly one post per subscribed channel.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, type BotHarness } from "../support/bot-harness.js";
import { fixture, fixtureEntry, fixtureText } from "../support/fixtures.js";
import type { MattermostSim, SimChannel } from "../support/mattermost-sim.js";
import { waitFor } from "../support/wait.js";

const ALL_FEATURES =
  "issues,merges,pushes,issue_comments,merge_request_comments,commit_comments,snippet_comments,pipelines,jobs,tags,releases,deployments,wiki";

/** Every shared fixture of the ten kinds, with the project it is about. */
const CASES: { file: string; path: string; body?: string }[] = [
  { file: "push.json", path: "mike/diaspora" },
  { file: "tag_push.json", path: "jsmith/example" },
  { file: "issue.json", path: "gitlabhq/gitlab-test" },
  { file: "note_commit.json", path: "gitlabhq/gitlab-test" },
  { file: "note_issue.json", path: "gitlab-org/gitlab-test" },
  { file: "note_merge_request.json", path: "gitlab-org/gitlab-test" },
  { file: "note_snippet.json", path: "gitlab-org/gitlab-test" },
  { file: "merge_request.json", path: "gitlabhq/gitlab-test" },
  { file: "pipeline.json", path: "gitlab-org/gitlab-test" },
  // The published job payload is a job being created; jobs post only when they fail.
  { file: "job.json", path: "gitlab-org/gitlab-test", body: JSON.stringify({ ...fixture("job.json"), build_status: "failed" }) },
  { file: "deployment.json", path: "root/test-deployment-webhooks" },
  { file: "release.json", path: "gitlab-org/release-webhook-example" },
  { file: "wiki_page.json", path: "root/awesome-project" },
];

describe("GitLab webhooks become Mattermost posts", () => {
  let h: BotHarness;
  let sim: MattermostSim;
  const projectChannels = new Map<string, SimChannel>();
  let groupChannel: SimChannel;
  let elsewhere: SimChannel;
  const hook = (body: string, headers: Record<string, string>) => h.hook(body, headers);
  const drained = () => h.drained();

  beforeAll(async () => {
    h = await startHarness();
    sim = h.sim;
    // Private channels: several published payloads are of private or internal projects, which public channels never get.
    for (const path of new Set(CASES.map((c) => c.path))) {
      const channel = sim.addChannel({ name: path.replace(/\W/g, "-"), team_id: h.team.id, type: "P" });
      projectChannels.set(path, channel);
      const reply = await h.command(channel, h.admin, `subscriptions add ${path} ${ALL_FEATURES}`);
      expect(reply.response_type).toBe("in_channel");
    }
    groupChannel = sim.addChannel({ name: "all-groups", team_id: h.team.id, type: "P" });
    for (const group of new Set(CASES.map((c) => c.path.split("/")[0]!))) {
      await h.command(groupChannel, h.admin, `subscriptions add ${group} ${ALL_FEATURES}`);
    }
    elsewhere = sim.addChannel({ name: "elsewhere", team_id: h.team.id });
    await h.command(elsewhere, h.admin, `subscriptions add other-group/gitlab-test ${ALL_FEATURES}`);
    sim.reset();
  });

  afterAll(async () => {
    await h?.stop();
  });

  it("posts each event once per subscribed channel, though GitLab sent it twice and a second hook sent it again", async () => {
    for (const c of CASES) {
      const body = c.body ?? fixtureText(c.file);
      const event = fixtureEntry(c.file).x_gitlab_event;
      const first = await hook(body, { "X-Gitlab-Event": event, "Idempotency-Key": `project-hook-${c.file}` });
      expect(first.status, c.file).toBe(202);
      const retry = await hook(body, { "X-Gitlab-Event": event, "Idempotency-Key": `project-hook-${c.file}` });
      expect(retry.status).toBe(202);
      expect(await retry.json()).toEqual(await first.json());
      // The same event through a group hook: another delivery, the same thing that happened.
      expect((await hook(body, { "X-Gitlab-Event": event, "Idempotency-Key": `group-hook-${c.file}` })).status).toBe(202);
    }

    const expected = new Map<string, number>();
    for (const c of CASES) expected.set(c.path, (expected.get(c.path) ?? 0) + 1);
    await waitFor(
      () => [...expected].every(([path, n]) => sim.posts(projectChannels.get(path)!.id).length >= n) && sim.posts(groupChannel.id).length >= CASES.length,
      20_000,
      "a post per fixture in every subscribed channel",
    );
    await waitFor(drained, 10_000, "queues to drain");

    for (const [path, n] of expected) expect(sim.posts(projectChannels.get(path)!.id), path).toHaveLength(n);
    expect(sim.posts(groupChannel.id)).toHaveLength(CASES.length);
    expect(sim.posts(elsewhere.id)).toEqual([]);
    expect(sim.posts().every((p) => p.user_id === sim.bot.id)).toBe(true);
    expect(sim.violations).toEqual([]);
  });

  it("posts nothing for a wrong token, a missing token or broken JSON", async () => {
    const before = sim.posts().length;
    const body = fixtureText("push.json").replace('"after": "', '"after": "ffff');
    expect((await hook(body, { "X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": "wrong-secret" })).status).toBe(401);
    const missing = await fetch(`${h.base}/webhooks/gitlab`, { method: "POST", headers: { "Content-Type": "application/json" }, body });
    expect(missing.status).toBe(401);
    expect((await hook('{"object_kind": "push",', { "X-Gitlab-Event": "Push Hook" })).status).toBe(400);
    await waitFor(drained, 10_000, "queues to drain");
    expect(sim.posts().length).toBe(before);
  });

  it("answers unknown kinds with 202 and posts nothing; a job that is only created posts nothing", async () => {
    const before = sim.posts().length;
    expect((await hook(JSON.stringify({ object_kind: "brand_new_kind" }), { "X-Gitlab-Event": "Brand New Hook" })).status).toBe(202);
    expect((await hook(fixtureText("job.json"), { "X-Gitlab-Event": "Job Hook" })).status).toBe(202);
    await waitFor(drained, 10_000, "queues to drain");
    expect(sim.posts().length).toBe(before);
  });

  it("reports health, readiness and metrics", async () => {
    expect((await fetch(`${h.base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${h.base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ redis: true, database: true });
    const metrics = await (await fetch(`${h.base}/metrics`)).text();
    expect(metrics).toMatch(/gitlab_webhooks_received_total\{kind="push"\} 3/);
    expect(metrics).toMatch(/queue_jobs\{queue="deliveries",state="completed"\}/);
    expect(metrics).toMatch(/webhook_to_post_seconds_count [1-9]/);
  });
});
