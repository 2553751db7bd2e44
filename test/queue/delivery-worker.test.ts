import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.js";
import { createMattermostClient } from "../../src/mattermost/client.js";
import { createMetrics } from "../../src/metrics.js";
import { createDeliverer, DELIVERY_PROP } from "../../src/queue/delivery-worker.js";
import { deliveryJobId, type DeliveryJobData } from "../../src/queue/jobs.js";
import type { DeliveryQueue } from "../../src/queue/queues.js";
import { findDelivery, markDeliveryStarted } from "../../src/store/deliveries.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { startMattermostSim, type MattermostSim, type SimChannel } from "../support/mattermost-sim.js";
import { waitFor } from "../support/wait.js";
import { startDeliveryTestbed, type DeliveryTestbed } from "./support/delivery-testbed.js";

const logger = createLogger("silent");
const quickRetry = { attempts: 5, backoff: { type: "fixed", delay: 100 } } as const;

function job(channelId: string, eventKey: string, extra: Partial<DeliveryJobData> = {}): { id: string; data: DeliveryJobData } {
  return {
    id: deliveryJobId(eventKey, channelId),
    data: { channelId, eventKey, confidential: false, post: { message: `event ${eventKey}` }, locale: "en", receivedAt: Date.now(), ...extra },
  };
}

describe("delivery worker", () => {
  let bed: DeliveryTestbed;
  let sim: MattermostSim;
  let deliveries: DeliveryQueue;
  let town: SimChannel;
  let secret: SimChannel;

  beforeAll(async () => {
    bed = await startDeliveryTestbed({ name: "delivery", logger });
    ({ sim, deliveries } = bed);
    town = sim.addChannel({ name: "town", type: "O" });
    secret = sim.addChannel({ name: "secret", type: "P" });
  });
  afterAll(async () => {
    await bed.close();
  });
  beforeEach(() => sim.reset());

  async function add(j: { id: string; data: DeliveryJobData }) {
    await deliveries.add("post", j.data, { jobId: j.id, ...quickRetry });
    return j.id;
  }

  it("posts the message with its attachments as the bot", async () => {
    await add(job(town.id, "e1", { post: { message: "hello", attachments: [{ fallback: "fb", color: "#108548", title: "T" }] } }));
    await waitFor(() => sim.posts(town.id).length === 1);
    const [p] = sim.posts(town.id);
    expect(p).toMatchObject({ message: "hello", user_id: sim.bot.id });
    expect(p!.props).toMatchObject({ attachments: [{ fallback: "fb", color: "#108548", title: "T" }] });
    expect(sim.violations).toEqual([]);
  });

  it("waits as long as a 429's Retry-After says, then posts once", async () => {
    sim.failNext({ method: "POST", path: /^\/api\/v4\/posts$/, status: 429, retryAfterSeconds: 1 });
    const id = await add(job(town.id, "e-429"));
    await waitFor(() => sim.posts(town.id).length === 1, 10_000);
    const attempts = sim.requests.filter((r) => r.method === "POST" && r.path === "/api/v4/posts");
    expect(attempts.map((r) => r.status)).toEqual([429, 201]);
    expect((await deliveries.getJob(id))?.attemptsMade).toBeLessThanOrEqual(1);
  });

  it("backs off on 5xx and network errors, then posts once", async () => {
    sim.failNext({ method: "POST", path: /^\/api\/v4\/posts$/, status: 503, times: 2 });
    const id = await add(job(town.id, "e-503"));
    await waitFor(() => sim.posts(town.id).length === 1, 10_000);
    await waitFor(async () => (await deliveries.getJob(id))?.finishedOn !== undefined);
    expect((await deliveries.getJob(id))?.attemptsMade).toBe(3);

    sim.setDown(true);
    const down = await add(job(town.id, "e-down"));
    await waitFor(async () => ((await deliveries.getJob(down))?.attemptsMade ?? 0) >= 1);
    sim.setDown(false);
    await waitFor(() => sim.posts(town.id).length === 2, 10_000);
  });

  it("does not retry a post Mattermost refuses (4xx) and keeps it in the failed set", async () => {
    sim.failNext({ method: "POST", path: /^\/api\/v4\/posts$/, status: 400, contentType: "application/json", body: '{"id":"api.post.create_post.bad","message":"bad","status_code":400}' });
    const id = await add(job(town.id, "e-400"));
    await waitFor(async () => (await deliveries.getJob(id))?.failedReason !== undefined);
    const failed = await deliveries.getJob(id);
    expect(failed?.attemptsMade).toBe(1);
    expect(await failed?.getState()).toBe("failed");
    expect(sim.posts(town.id)).toEqual([]);
  });

  it("never posts confidential content in a public channel", async () => {
    const pub = await add(job(town.id, "e-conf", { confidential: true }));
    await add(job(secret.id, "e-conf", { confidential: true }));
    await waitFor(() => sim.posts(secret.id).length === 1);
    await waitFor(async () => (await deliveries.getJob(pub))?.finishedOn !== undefined);
    expect(sim.posts(town.id)).toEqual([]);
  });

  it("replies in the thread of the first post about the same issue", async () => {
    await add(job(town.id, "mr-open", { threadKey: "g/p!1" }));
    await waitFor(() => sim.posts(town.id).length === 1);
    await add(job(town.id, "mr-note", { threadKey: "g/p!1" }));
    await waitFor(() => sim.posts(town.id).length === 2);
    const [root, reply] = sim.posts(town.id);
    expect(root!.root_id).toBe("");
    expect(reply!.root_id).toBe(root!.id);
  });
});

describe("delivery after a crash", () => {
  let sim: MattermostSim;
  let t: TestDatabase;
  let channel: SimChannel;

  beforeAll(async () => {
    sim = await startMattermostSim();
    t = await createTestDatabase("sqlite");
    channel = sim.addChannel({ name: "crash" });
  });
  afterAll(async () => {
    await sim.close();
    await t.drop();
  });

  it("finds the post an interrupted attempt made instead of posting again", async () => {
    const mattermost = createMattermostClient(sim.url, sim.botToken);
    const deliver = createDeliverer({ db: t.db, mattermost, botUserId: sim.bot.id, logger, metrics: createMetrics() });
    const j = job(channel.id, "crash-1");
    // The first attempt sent the post, then the process died before recording it.
    await markDeliveryStarted(t.db, j.id, channel.id, Date.now());
    const sent = await mattermost.createPost({ channel_id: channel.id, message: "event crash-1", props: { [DELIVERY_PROP]: j.id } });

    expect(await deliver(j.id, j.data)).toBe(sent.id);
    expect(sim.posts(channel.id)).toHaveLength(1);
    expect((await findDelivery(t.db, j.id))?.postId).toBe(sent.id);
    // And a further retry is answered from the record, without asking Mattermost.
    const before = sim.requests.length;
    expect(await deliver(j.id, j.data)).toBe(sent.id);
    expect(sim.requests.length).toBe(before);
  });

  it("posts when the interrupted attempt never reached Mattermost", async () => {
    const mattermost = createMattermostClient(sim.url, sim.botToken);
    const deliver = createDeliverer({ db: t.db, mattermost, botUserId: sim.bot.id, logger, metrics: createMetrics() });
    const j = job(channel.id, "crash-2");
    await markDeliveryStarted(t.db, j.id, channel.id, Date.now());
    const id = await deliver(j.id, j.data);
    expect(sim.post(id!)?.message).toBe("event crash-2");
  });

  it("cuts a message over Mattermost's limit instead of failing", async () => {
    const mattermost = createMattermostClient(sim.url, sim.botToken);
    const deliver = createDeliverer({ db: t.db, mattermost, botUserId: sim.bot.id, logger, metrics: createMetrics() });
    const j = job(channel.id, "long", { post: { message: "界".repeat(20_000) } });
    const id = await deliver(j.id, j.data);
    expect(Array.from(sim.post(id!)!.message).length).toBeLessThanOrEqual(16383);
    expect(sim.violations).toEqual([]);
  });
});
