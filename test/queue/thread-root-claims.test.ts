// One root post per thread: the first delivery about an issue or merge request claims the root in the
// database before posting; deliveries that arrive meanwhile wait for its root and reply to it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.js";
import { createMattermostClient } from "../../src/mattermost/client.js";
import { createMetrics } from "../../src/metrics.js";
import { createDeliverer, DELIVERY_PROP } from "../../src/queue/delivery-worker.js";
import { deliveryJobId, type DeliveryJobData } from "../../src/queue/jobs.js";
import { type DeliveryQueue } from "../../src/queue/queues.js";
import { claimThreadRoot, completeThreadRoot, findThreadRoot, forgetThreadRoot } from "../../src/store/thread-roots.js";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../support/db.js";
import type { MattermostSim } from "../support/mattermost-sim.js";
import { waitFor } from "../support/wait.js";
import { startDeliveryTestbed, type DeliveryTestbed } from "./support/delivery-testbed.js";

const logger = createLogger("silent");

function mrJob(channelId: string, iid: number, what: "opened" | "pipeline" | "push"): { id: string; data: DeliveryJobData } {
  const eventKey = `${what}/g/p!${iid}`;
  return {
    id: deliveryJobId(eventKey, channelId),
    data: {
      channelId,
      eventKey,
      threadKey: `g/p!${iid}`,
      threadUpdate: what === "opened" ? { state: "opened" } : what === "pipeline" ? { pipeline: { status: "running" } } : undefined,
      confidential: false,
      visibility: "public",
      post: { message: `${what} of !${iid}` },
      locale: "en",
      receivedAt: Date.now(),
    },
  };
}

describe.each(databaseKinds)("thread root claims (%s)", (kind) => {
  let t: TestDatabase;

  beforeAll(async () => {
    t = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await t.drop();
  });

  it("lets the first claimant post the root, makes others wait, and recognises the holder's retry", async () => {
    const at = Date.now();
    const claim = (state: string) => claimThreadRoot(t.db, "c", "g/p!1", { state, at, staleAfterMs: 60_000 });
    const [a, b] = await Promise.all([claim("state-a"), claim("state-b")]);
    expect([a.kind, b.kind].sort()).toEqual(["root", "wait"]);
    const winner = a.kind === "root" ? "state-a" : "state-b";
    expect((await claim(winner)).kind).toBe("root");
    // A claim is not a root yet: nobody replies to it.
    expect(await findThreadRoot(t.db, "c", "g/p!1")).toBeUndefined();

    expect(await completeThreadRoot(t.db, "c", "g/p!1", winner, "post-1")).toBe(true);
    expect(await claim("state-c")).toEqual({ kind: "reply", rootId: "post-1" });
    expect(await findThreadRoot(t.db, "c", "g/p!1")).toBe("post-1");
  });

  it("hands a claim whose holder went silent to exactly one of those waiting", async () => {
    const old = Date.now() - 10 * 60_000;
    expect((await claimThreadRoot(t.db, "c", "g/p!2", { state: "dead", at: old, staleAfterMs: 60_000 })).kind).toBe("root");
    const now = Date.now();
    const takers = await Promise.all(["x", "y", "z"].map((state) => claimThreadRoot(t.db, "c", "g/p!2", { state, at: now, staleAfterMs: 60_000 })));
    expect(takers.filter((p) => p.kind === "root")).toHaveLength(1);
    // The silent holder, back at last, finds its claim gone and cannot record a root.
    expect(await completeThreadRoot(t.db, "c", "g/p!2", "dead", "late-post")).toBe(false);
  });

  it("forgets a root post only if it is still the one recorded", async () => {
    await claimThreadRoot(t.db, "c", "g/p!3", { state: "s", at: Date.now(), staleAfterMs: 60_000 });
    await completeThreadRoot(t.db, "c", "g/p!3", "s", "post-3");
    await forgetThreadRoot(t.db, "c", "g/p!3", "some-other-post");
    expect(await findThreadRoot(t.db, "c", "g/p!3")).toBe("post-3");
    await forgetThreadRoot(t.db, "c", "g/p!3", "post-3");
    expect(await findThreadRoot(t.db, "c", "g/p!3")).toBeUndefined();
  });
});

describe.each(databaseKinds)("one root per thread under concurrent delivery (%s)", (kind) => {
  let bed: DeliveryTestbed;
  let sim: MattermostSim;
  let t: TestDatabase;
  let deliveries: DeliveryQueue;

  beforeAll(async () => {
    bed = await startDeliveryTestbed({ name: "roots", database: kind, logger, concurrency: 6 });
    ({ sim, t, deliveries } = bed);
  });
  afterAll(async () => {
    await bed.close();
  });

  it("20 new merge requests whose opening, first pipeline and push arrive at once get one root each", async () => {
    const channel = sim.addChannel({ name: "merges" });
    const jobs = Array.from({ length: 20 }, (_, i) => (["opened", "pipeline", "push"] as const).map((what) => mrJob(channel.id, i + 1, what))).flat();
    await deliveries.addBulk(jobs.map((j) => ({ name: "post", data: j.data, opts: { jobId: j.id } })));
    await waitFor(() => sim.posts(channel.id).length >= 60, 30_000, "60 posts");
    await waitFor(async () => (await deliveries.getJobCounts("completed")).completed === 60, 30_000, "every job completed");

    const posts = sim.posts(channel.id);
    expect(posts).toHaveLength(60);
    for (let iid = 1; iid <= 20; iid++) {
      const ids = new Set(jobs.filter((j) => j.data.threadKey === `g/p!${iid}`).map((j) => j.id));
      const roots = posts.filter((p) => p.root_id === "" && ids.has(String(p.props[DELIVERY_PROP])));
      expect(roots, `roots of !${iid}`).toHaveLength(1);
      const root = roots[0]!;
      expect(await findThreadRoot(t.db, channel.id, `g/p!${iid}`)).toBe(root.id);
      expect(posts.filter((p) => p.root_id === root.id)).toHaveLength(2);
    }
    expect(sim.violations).toEqual([]);
  });

  it("puts a reply back in the queue while the root is being posted, without spending an attempt, and replies once it is", async () => {
    const channel = sim.addChannel({ name: "slow-root" });
    // Another delivery, alive, holds the claim and has not posted yet.
    await claimThreadRoot(t.db, channel.id, "g/p!50", { state: "live-holder", at: Date.now(), staleAfterMs: 60_000 });
    const reply = mrJob(channel.id, 50, "push");
    await deliveries.add("post", reply.data, { jobId: reply.id });
    await waitFor(async () => (await (await deliveries.getJob(reply.id))?.getState()) === "delayed", 15_000, "the reply to wait in the delayed set");

    const root = await createMattermostClient(sim.url, sim.botToken).createPost({ channel_id: channel.id, message: "the root" });
    await completeThreadRoot(t.db, channel.id, "g/p!50", "live-holder", root.id);
    await waitFor(async () => (await (await deliveries.getJob(reply.id))?.getState()) === "completed", 15_000, "the reply to be posted");
    expect(sim.posts(channel.id).map((p) => p.root_id)).toEqual(["", root.id]);
    // One attempt in all, the one that posted: the waits did not count.
    expect((await deliveries.getJob(reply.id))?.attemptsMade).toBe(1);
  });

  it("takes over a claim whose holder died, so the thread does not stay rootless", async () => {
    const channel = sim.addChannel({ name: "orphans" });
    // A delivery claimed the root, then its process died and its job was lost.
    await claimThreadRoot(t.db, channel.id, "g/p!99", { state: "dead-holder", at: Date.now() - 60_000, staleAfterMs: 1000 });
    const deliver = createDeliverer({ db: t.db, mattermost: createMattermostClient(sim.url, sim.botToken), botUserId: sim.bot.id, logger, metrics: createMetrics(), rootClaimTimeoutMs: 1000 });
    const j = mrJob(channel.id, 99, "push");
    const postId = await deliver(j.id, j.data);
    expect(sim.post(postId!)?.root_id).toBe("");
    expect(await findThreadRoot(t.db, channel.id, "g/p!99")).toBe(postId);
  });
});
