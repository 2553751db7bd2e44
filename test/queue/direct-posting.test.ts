// The events worker posts an event's deliveries itself, a few at a time, under the delivery ids the
// deliveries queue would use, and hands that queue whatever it should not or could not post: a post
// Mattermost refused, the rest once Mattermost fails, everything while Mattermost's bucket is low.
// Each post is made once.
import type { Worker } from "bullmq";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.js";
import { DELIVERY_PROP } from "../../src/queue/delivery-worker.js";
import { startEventsWorker } from "../../src/queue/events-worker.js";
import type { EventJobData } from "../../src/queue/jobs.js";
import { handOverEvents } from "../../src/queue/queues.js";
import { upsertSubscription } from "../../src/store/subscriptions.js";
import { fixtureText } from "../support/fixtures.js";
import type { SimRateLimit } from "../support/mattermost-sim.js";
import { waitFor } from "../support/wait.js";
import { startDeliveryTestbed, type DeliveryTestbed } from "./support/delivery-testbed.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A delivery testbed plus an events worker posting directly with the delivery worker's deliverer. */
async function world(name: string, options: { rateLimit?: SimRateLimit; atOnce?: number } = {}): Promise<DeliveryTestbed & { eventsWorker: Worker<EventJobData> }> {
  const { rateLimit, atOnce } = options;
  const bed = await startDeliveryTestbed({ name, retryBaseMs: 50, rateLimit });
  const eventsWorker = startEventsWorker({
    db: bed.t.db,
    defaultLocale: "en",
    ignoredUsernames: [],
    connection: bed.consumer,
    prefix: bed.prefix,
    deliveries: bed.deliveries,
    logger: createLogger("silent"),
    direct: { deliver: bed.deliver, mattermost: bed.mattermost, inFlight: 4, atOnce },
  });
  cleanups.push(async () => {
    await eventsWorker.close();
    await bed.close();
  });
  return { ...bed, eventsWorker };
}

/** Private channels subscribed to pushes of the fixture's project (a private one). */
async function subscribedChannels(bed: DeliveryTestbed, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const channel = bed.sim.addChannel({ name: `pushes-${i}`, type: "P" });
    await upsertSubscription(bed.t.db, { channelId: channel.id, teamId: channel.team_id, path: "mike/diaspora", features: "pushes", createdBy: "admin" });
    ids.push(channel.id);
  }
  return ids;
}

async function sendPush(bed: DeliveryTestbed, jobId: string): Promise<void> {
  await bed.events.add("push", { kind: "push", eventHeader: "Push Hook", receivedAt: Date.now(), body: fixtureText("push.json") }, { jobId });
}

async function deliveryJobs(bed: DeliveryTestbed): Promise<number> {
  const counts = await bed.deliveries.getJobCounts("waiting", "active", "delayed", "completed", "failed", "prioritized");
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

const everyPosted = (bed: DeliveryTestbed, channels: string[]) => () => channels.every((c) => bed.sim.posts(c).length === 1);

describe("events worker posting directly", () => {
  it("posts an event for one channel without a delivery job, stamped with the delivery id", async () => {
    const bed = await world("direct-one");
    const [channel] = await subscribedChannels(bed, 1);
    await sendPush(bed, "wh-direct-one");
    await waitFor(everyPosted(bed, [channel!]), 10_000, "the push posted");
    await waitFor(async () => (await (await bed.events.getJob("wh-direct-one"))?.getState()) === "completed", 5000, "the event job done");
    expect(await deliveryJobs(bed)).toBe(0);
    expect(String(bed.sim.posts(channel!)[0]!.props?.[DELIVERY_PROP])).toMatch(/^post-/);
    expect(bed.sim.violations).toEqual([]);
  });

  it("queues every post of an event handed over as retried (some may have been made), and each is posted once", async () => {
    const bed = await world("direct-retried");
    const channels = await subscribedChannels(bed, 3);
    await handOverEvents(bed.events, [{ id: "wh-direct-retried", data: { kind: "push", eventHeader: "Push Hook", receivedAt: Date.now(), body: fixtureText("push.json") } }]);
    await waitFor(everyPosted(bed, channels), 10_000, "the push posted in every channel");
    expect(await deliveryJobs(bed)).toBe(3);
  });

  it("posts a fan-out to many channels itself, without delivery jobs", async () => {
    const bed = await world("direct-wide", { atOnce: 3 });
    const channels = await subscribedChannels(bed, 12);
    await sendPush(bed, "wh-direct-wide");
    await waitFor(everyPosted(bed, channels), 15_000, "the push posted in every channel");
    expect(await deliveryJobs(bed)).toBe(0);
  });

  it("leaves the rest of a fan-out to the deliveries queue once Mattermost fails", async () => {
    const bed = await world("direct-outage", { atOnce: 1 });
    const channels = await subscribedChannels(bed, 5);
    bed.sim.failNext({ method: "POST", path: /^\/api\/v4\/posts$/, status: 503 });
    await sendPush(bed, "wh-direct-outage");
    await waitFor(everyPosted(bed, channels), 15_000, "the push posted in every channel");
    // One at a time: the first post failed, so none was posted directly and all five were queued.
    expect(await deliveryJobs(bed)).toBe(5);
  });

  it("hands a post Mattermost did not take to the deliveries queue, which posts it once", async () => {
    const bed = await world("direct-failed");
    const channels = await subscribedChannels(bed, 2);
    bed.sim.failNext({ method: "POST", path: /^\/api\/v4\/posts$/, status: 503 });
    await sendPush(bed, "wh-direct-failed");
    await waitFor(everyPosted(bed, channels), 15_000, "the push posted in both channels");
    expect(await deliveryJobs(bed)).toBe(1);
    // Give a stray second post the time to show up.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(channels.map((c) => bed.sim.posts(c).length)).toEqual([1, 1]);
  });

  it("hands the rest of a fan-out to the deliveries queue when it is closing, and each is posted once", async () => {
    const bed = await world("direct-closing", { atOnce: 1 });
    const channels = await subscribedChannels(bed, 6);
    bed.sim.setLatency(150);
    await sendPush(bed, "wh-direct-closing");
    await waitFor(() => bed.sim.posts().length > 0, 10_000, "the first post made");
    // A graceful shutdown waits for the event job, which stops posting and queues what is left.
    await bed.eventsWorker.close();
    expect(await (await bed.events.getJob("wh-direct-closing"))?.getState()).toBe("completed");
    const queued = await deliveryJobs(bed);
    expect(queued).toBeGreaterThan(0);
    expect(queued).toBeLessThan(channels.length);
    await waitFor(everyPosted(bed, channels), 15_000, "the push posted in every channel");
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(channels.map((c) => bed.sim.posts(c).length)).toEqual(channels.map(() => 1));
  });

  it("queues everything while Mattermost's rate-limit bucket is low", async () => {
    const bed = await world("direct-budget", { rateLimit: { perSecond: 2, burst: 4 } });
    const channels = await subscribedChannels(bed, 1);
    // Two answers leave two of four tokens: less than the events worker's posts in flight would need.
    await bed.mattermost.getMe();
    await bed.mattermost.getMe();
    expect(bed.mattermost.rateBudget()?.remaining).toBeLessThanOrEqual(2);
    await sendPush(bed, "wh-direct-budget");
    await waitFor(everyPosted(bed, channels), 15_000, "the push posted");
    expect(await deliveryJobs(bed)).toBe(1);
  });
});
