// Threads, "fixed" pipelines and confidentiality end to end, through POST /webhooks/gitlab.
// Payloads are GitLab's published ones, varied only where the story needs it (same project, later times).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, type BotHarness } from "../support/bot-harness.js";
import { fixture } from "../support/fixtures.js";
import type { SimChannel, SimPost } from "../support/mattermost-sim.js";
import { waitFor } from "../support/wait.js";

type Json = Record<string, unknown>;
const mr = fixture<Json & { project: Json; object_attributes: Json }>("merge_request.json");
const project = mr.project;
const path = "gitlabhq/gitlab-test";

function mrEvent(action: string, extra: Json): string {
  return JSON.stringify({ ...mr, object_attributes: { ...mr.object_attributes, action, ...extra } });
}

const opened = JSON.stringify(mr);
const pushed = (() => {
  const push = fixture<Json>("push.json");
  return JSON.stringify({ ...push, ref: "refs/heads/ms-viewport", project: { ...project }, project_id: project.id });
})();
const commented = (() => {
  const note = fixture<Json & { object_attributes: Json; merge_request: Json }>("note_merge_request.json");
  return JSON.stringify({ ...note, project, project_id: project.id, merge_request: { ...note.merge_request, iid: 1 } });
})();
const approved = mrEvent("approved", { updated_at: "2013-12-04T10:00:00Z" });
function pipelineEvent(id: number, status: string, ref: string, p: Json = project): string {
  const base = fixture<Json & { object_attributes: Json }>("pipeline.json");
  const { merge_request: _mr, ...rest } = base;
  return JSON.stringify({ ...rest, project: p, object_attributes: { ...base.object_attributes, id, status, ref, url: `${String(p.web_url)}/-/pipelines/${id}` } });
}
const branchPipelineFailed = pipelineEvent(40, "failed", "ms-viewport");
const merged = mrEvent("merge", { state: "merged", updated_at: "2013-12-05T10:00:00Z" });

const FEATURES = "issues,confidential_issues,merges,pushes,merge_request_comments,pipelines";

describe("threads and state", () => {
  let h: BotHarness;
  let projectChannel: SimChannel;
  let groupChannel: SimChannel;

  beforeAll(async () => {
    h = await startHarness({}, "threads");
    projectChannel = h.sim.addChannel({ name: "project", team_id: h.team.id });
    groupChannel = h.sim.addChannel({ name: "group", team_id: h.team.id });
    await h.command(projectChannel, h.admin, `subscriptions add ${path} ${FEATURES}`);
    await h.command(groupChannel, h.admin, `subscriptions add gitlabhq ${FEATURES}`);
  });
  afterAll(async () => {
    await h?.stop();
  });

  async function send(body: string, event: string, expectedPerChannel: number) {
    expect((await h.hook(body, { "X-Gitlab-Event": event })).status).toBe(202);
    await waitFor(
      () => h.sim.posts(projectChannel.id).length === expectedPerChannel && h.sim.posts(groupChannel.id).length === expectedPerChannel,
      10_000,
      `${expectedPerChannel} posts per channel after ${event}`,
    );
  }

  const field = (post: SimPost | undefined, title: string) =>
    ((post?.props.attachments as { fields?: { title: string; value: string }[] }[] | undefined)?.[0]?.fields ?? []).find((f) => f.title === title)?.value;

  it("keeps a merge request's story in one thread whose root shows its state", async () => {
    await send(opened, "Merge Request Hook", 1);
    for (const channel of [projectChannel, groupChannel]) expect(field(h.sim.posts(channel.id)[0], "State")).toBe("Open");

    await send(pushed, "Push Hook", 2);
    await send(commented, "Note Hook", 3);
    await send(approved, "Merge Request Hook", 4);
    await send(branchPipelineFailed, "Pipeline Hook", 5);
    await send(merged, "Merge Request Hook", 6);
    await waitFor(() => h.drained(), 10_000, "queues to drain");

    for (const channel of [projectChannel, groupChannel]) {
      const [root, ...replies] = h.sim.posts(channel.id);
      expect(root!.root_id).toBe("");
      expect(replies.map((r) => r.root_id)).toEqual(replies.map(() => root!.id));
      expect(root!.update_at).toBeGreaterThan(root!.create_at);
      const attachment = (root!.props.attachments as { color: string }[])[0]!;
      expect(attachment.color).toBe("#6e49cb");
      expect(field(root, "State")).toBe("Merged");
      expect(field(root, "Approved by")).toBe("@\u200Broot");
      expect(field(root, "Last pipeline")).toBe("[failed](http://example.com/gitlabhq/gitlab-test/-/pipelines/40)");
      expect(replies.map((r) => r.message.split("\n")[0])).toEqual([
        expect.stringContaining("pushed"),
        expect.stringContaining("commented"),
        expect.stringContaining("approved"),
        expect.stringContaining("failed"),
        expect.stringContaining("merged"),
      ]);
    }
    expect(h.sim.violations).toEqual([]);
  });

  it("after the merge, pushes to the branch no longer join the thread", async () => {
    const later = JSON.stringify({ ...JSON.parse(pushed), after: "1111111111111111111111111111111111111111" });
    await send(later, "Push Hook", 7);
    const last = h.sim.posts(projectChannel.id).at(-1)!;
    expect(last.root_id).toBe("");
  });
});

describe("pipelines:failed", () => {
  let h: BotHarness;
  let channel: SimChannel;
  const other = { ...project, id: 77, path_with_namespace: "ci-group/service", web_url: "http://example.com/ci-group/service" };

  beforeAll(async () => {
    h = await startHarness({}, "fixed");
    channel = h.sim.addChannel({ name: "ci", team_id: h.team.id });
    await h.command(channel, h.admin, "subscriptions add ci-group/service pipelines:failed");
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("posts failures and the first success after one, per ref", async () => {
    const send = async (body: string) => {
      expect((await h.hook(body, { "X-Gitlab-Event": "Pipeline Hook" })).status).toBe(202);
      await waitFor(() => h.drained(), 10_000, "queues to drain");
    };
    await send(pipelineEvent(100, "success", "main", other));
    expect(h.sim.posts(channel.id)).toHaveLength(0);
    await send(pipelineEvent(101, "failed", "main", other));
    expect(h.sim.posts(channel.id)).toHaveLength(1);
    await send(pipelineEvent(102, "success", "dev", other));
    expect(h.sim.posts(channel.id)).toHaveLength(1);
    await send(pipelineEvent(103, "success", "main", other));
    expect(h.sim.posts(channel.id)).toHaveLength(2);
    await send(pipelineEvent(104, "success", "main", other));
    expect(h.sim.posts(channel.id)).toHaveLength(2);
    // GitLab re-sends the fixing pipeline's event: still one post for it.
    await send(pipelineEvent(103, "success", "main", other));
    expect(h.sim.posts(channel.id)).toHaveLength(2);
  });
});

describe("confidential issues", () => {
  let h: BotHarness;
  const channels: Record<string, SimChannel> = {};
  beforeAll(async () => {
    h = await startHarness({}, "conf");
    const setups: [string, "O" | "P", string][] = [
      ["private-asks", "P", "issues,confidential_issues"],
      ["private-plain", "P", "issues"],
      ["public-asks", "O", "issues,confidential_issues"],
    ];
    for (const [name, type, features] of setups) {
      channels[name] = h.sim.addChannel({ name, type, team_id: h.team.id });
      h.sim.addMember(channels[name]!.id, h.admin.id, { admin: true });
      await h.command(channels[name]!, h.admin, `subscriptions add ${path} ${features}`);
    }
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("reach only private channels that ask for them", async () => {
    const issue = fixture<Json & { object_attributes: Json }>("issue.json");
    const secret = JSON.stringify({ ...issue, object_attributes: { ...issue.object_attributes, confidential: true } });
    expect((await h.hook(secret, { "X-Gitlab-Event": "Confidential Issue Hook" })).status).toBe(202);
    await waitFor(() => h.sim.posts(channels["private-asks"]!.id).length === 1, 10_000, "the private channel's post");
    await waitFor(() => h.drained(), 10_000, "queues to drain");
    expect(h.sim.posts(channels["private-plain"]!.id)).toEqual([]);
    expect(h.sim.posts(channels["public-asks"]!.id)).toEqual([]);
  });
});
