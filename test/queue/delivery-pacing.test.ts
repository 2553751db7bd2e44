// Against a Mattermost with its rate limit on, a burst of deliveries is posted in full without a storm
// of 429s: the workers read how much of Mattermost's bucket is left on each answer and hold back before
// it is empty; MATTERMOST_POSTS_PER_SECOND paces them below the limit from the start.
import { afterEach, describe, expect, it } from "vitest";
import { deliveryJobId, type DeliveryJobData } from "../../src/queue/jobs.js";
import { waitFor } from "../support/wait.js";
import { startDeliveryTestbed } from "./support/delivery-testbed.js";

const BURST = 24;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** Posts BURST deliveries through a real queue and worker to a Mattermost limited to 10 posts/s (burst 10). */
async function burstAgainstLimit(postsPerSecond: number | undefined): Promise<{ posted: number; refused: number }> {
  const bed = await startDeliveryTestbed({ name: "pacing", retryBaseMs: 100, concurrency: 8, postsPerSecond, rateLimit: { perSecond: 10, burst: 10 } });
  cleanups.push(() => bed.close());
  const { sim, deliveries } = bed;
  const channel = sim.addChannel({ name: "busy", type: "P" });
  await deliveries.addBulk(
    Array.from({ length: BURST }, (_, i) => {
      const eventKey = `push/1/${i}`;
      const data: DeliveryJobData = { channelId: channel.id, eventKey, confidential: false, post: { message: `push ${i}` }, locale: "en", receivedAt: Date.now() };
      return { name: "post", data, opts: { jobId: deliveryJobId(eventKey, channel.id) } };
    }),
  );
  await waitFor(() => sim.posts(channel.id).length === BURST, 25_000, "every delivery posted");
  const posts = sim.requests.filter((r) => r.method === "POST" && r.path === "/api/v4/posts");
  return { posted: sim.posts(channel.id).length, refused: posts.filter((r) => r.status === 429).length };
}

describe("pacing posts to Mattermost's rate limit", () => {
  // BullMQ counts jobs per one-second window and Mattermost refills a bucket continuously, so two windows'
  // jobs close together can still meet an empty bucket now and then: a stray 429, not a storm.
  it("posts a burst with no 429 storm when paced below the limit", { timeout: 45_000 }, async () => {
    const { posted, refused } = await burstAgainstLimit(6);
    expect(posted).toBe(BURST);
    expect(refused).toBeLessThanOrEqual(2);
  });

  it("holds back before Mattermost's bucket is empty when no pace is set, posting each delivery once", { timeout: 45_000 }, async () => {
    const { posted, refused } = await burstAgainstLimit(undefined);
    expect(posted).toBe(BURST);
    expect(refused).toBeLessThanOrEqual(2);
  });
});
