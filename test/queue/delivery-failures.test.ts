// What the delivery path does when things go wrong for a long time: retry budgets, a bot Mattermost
// refuses (401/403), a thread whose root post was deleted, and an events queue whose database is away.
import type { Redis } from "ioredis";
import pg from "pg";
import { pino } from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.js";
import { type MattermostApi } from "../../src/mattermost/client.js";
import { type Metrics } from "../../src/metrics.js";
import { waitReady, workerConnection } from "../../src/queue/connection.js";
import { createDeliverer } from "../../src/queue/delivery-worker.js";
import { handleEvent, startEventsWorker } from "../../src/queue/events-worker.js";
import { startIntakeConsumer, webhookIntake } from "../../src/queue/intake.js";
import { deliveryJobId, type DeliveryJobData } from "../../src/queue/jobs.js";
import { openPersonalQueue } from "../../src/queue/personal.js";
import { CAPPED_BACKOFF, handOverEvents, openQueues, retryAttempts, retryDelayMs, type DeliveryQueue } from "../../src/queue/queues.js";
import { upsertSubscription } from "../../src/store/subscriptions.js";
import { findThreadRoot } from "../../src/store/thread-roots.js";
import { createTestDatabase, postgresAvailable, type TestDatabase } from "../support/db.js";
import { fixtureText } from "../support/fixtures.js";
import { type MattermostSim } from "../support/mattermost-sim.js";
import { dropPrefix, redisUrl, uniquePrefix } from "../support/redis.js";
import { waitFor } from "../support/wait.js";
import { startDeliveryTestbed, type DeliveryTestbed } from "./support/delivery-testbed.js";

const silent = createLogger("silent");
const HOUR = 3600_000;

function job(channelId: string, eventKey: string, extra: Partial<DeliveryJobData> = {}): { id: string; data: DeliveryJobData } {
  return {
    id: deliveryJobId(eventKey, channelId),
    data: { channelId, eventKey, confidential: false, visibility: "public", post: { message: `event ${eventKey}` }, locale: "en", receivedAt: Date.now(), ...extra },
  };
}

describe("retry budgets", () => {
  it("waits at most 10 minutes between tries and keeps trying for 48 hours at the default base", () => {
    const delays = Array.from({ length: retryAttempts() - 1 }, (_, i) => retryDelayMs(i + 1, 2000));
    expect(delays.slice(0, 4)).toEqual([2000, 4000, 8000, 16_000]);
    expect(Math.max(...delays)).toBe(10 * 60_000);
    const total = delays.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(48 * HOUR);
    expect(total).toBeLessThan(48 * HOUR + 10 * 60_000);
  });

  it("gives both queues that budget, and caps failed jobs by count as well as age on every queue", async () => {
    const connection = workerConnection(redisUrl);
    await waitReady(connection);
    const prefix = uniquePrefix("budget");
    const { events, deliveries } = openQueues(connection, prefix, { retryBaseMs: 50 });
    const personal = openPersonalQueue(connection, prefix);
    try {
      for (const queue of [events, deliveries]) {
        expect(queue.defaultJobOptions.attempts).toBe(retryAttempts());
        expect(queue.defaultJobOptions.backoff).toEqual({ type: CAPPED_BACKOFF, delay: 50 });
      }
      for (const queue of [events, deliveries, personal]) {
        expect(queue.defaultJobOptions.removeOnFail).toEqual({ age: expect.any(Number), count: expect.any(Number) });
      }
    } finally {
      await Promise.all([events.close(), deliveries.close(), personal.close()]);
      connection.disconnect();
      await dropPrefix(prefix);
    }
  });
});

describe("delivery failures", () => {
  let bed: DeliveryTestbed;
  let sim: MattermostSim;
  let t: TestDatabase;
  let deliveries: DeliveryQueue;
  let metrics: Metrics;
  let mattermost: MattermostApi;
  const logLines: { level: number; msg: string; status?: number }[] = [];

  beforeAll(async () => {
    const logger = pino({ level: "info" }, { write: (line: string) => void logLines.push(JSON.parse(line)) });
    // A short base delay: the whole schedule is compressed the way DELIVERY_RETRY_BASE_MS compresses it.
    bed = await startDeliveryTestbed({ name: "failures", logger, retryBaseMs: 20 });
    ({ sim, t, deliveries, metrics, mattermost } = bed);
  });
  afterAll(async () => {
    await bed.close();
  });
  beforeEach(() => {
    sim.reset();
    logLines.length = 0;
  });

  const counter = async (name: string) => (await metrics.registry.getSingleMetric(name)?.get())?.values.reduce((sum, v) => sum + v.value, 0) ?? 0;

  it("backs off with the capped schedule on 5xx and posts once Mattermost is back", async () => {
    const town = sim.addChannel({ name: "town-5xx" });
    sim.failNext({ method: "POST", path: /^\/api\/v4\/posts$/, status: 503, times: 3 });
    const j = job(town.id, "e-503");
    await deliveries.add("post", j.data, { jobId: j.id });
    await waitFor(async () => (await deliveries.getJob(j.id))?.finishedOn !== undefined, 10_000, "the job to finish");
    const done = await deliveries.getJob(j.id);
    expect(await done?.getState()).toBe("completed");
    expect(done?.attemptsMade).toBe(4);
    expect(sim.posts(town.id)).toHaveLength(1);
  });

  it("retries a post Mattermost refuses with 403 (the bot is not in the channel), alerting each time, until an admin adds the bot", async () => {
    const locked = sim.addChannel({ name: "locked", type: "P", botIsMember: false });
    const j = job(locked.id, "e-403");
    await deliveries.add("post", j.data, { jobId: j.id });
    await waitFor(async () => ((await deliveries.getJob(j.id))?.attemptsMade ?? 0) >= 3, 10_000, "three refused tries");
    expect(await (await deliveries.getJob(j.id))?.getState()).not.toBe("failed");
    expect(await counter("mattermost_auth_failures_total")).toBeGreaterThanOrEqual(3);
    expect(logLines.filter((l) => l.level === 50 && l.status === 403).length).toBeGreaterThanOrEqual(3);

    sim.addMember(locked.id, sim.bot.id);
    await waitFor(() => sim.posts(locked.id).length === 1, 10_000, "the post once the bot is back");
    await waitFor(async () => (await (await deliveries.getJob(j.id))?.getState()) === "completed");
  });

  it("retries a revoked token (401) the same way", async () => {
    const town = sim.addChannel({ name: "town-401" });
    sim.failNext({ method: "POST", path: /^\/api\/v4\/posts$/, status: 401, times: 2 });
    const before = await counter("mattermost_auth_failures_total");
    const j = job(town.id, "e-401");
    await deliveries.add("post", j.data, { jobId: j.id });
    await waitFor(() => sim.posts(town.id).length === 1, 10_000, "the post after two 401s");
    expect((await counter("mattermost_auth_failures_total")) - before).toBe(2);
  });

  it("starts a new thread when the root post was deleted, and later posts reply to the new root", async () => {
    const town = sim.addChannel({ name: "town-threads" });
    const deliver = createDeliverer({ db: t.db, mattermost, botUserId: sim.bot.id, logger: silent, metrics });
    const opened = job(town.id, "mr-opened", { threadKey: "g/p!7", threadUpdate: { state: "opened" } });
    const firstRoot = (await deliver(opened.id, opened.data))!;
    sim.deletePost(firstRoot);

    const commented = job(town.id, "mr-note", { threadKey: "g/p!7" });
    const newRoot = (await deliver(commented.id, commented.data))!;
    expect(newRoot).not.toBe(firstRoot);
    expect(sim.post(newRoot)?.root_id).toBe("");
    expect(await findThreadRoot(t.db, town.id, "g/p!7")).toBe(newRoot);

    const later = job(town.id, "mr-note-2", { threadKey: "g/p!7" });
    const reply = (await deliver(later.id, later.data))!;
    expect(sim.post(reply)?.root_id).toBe(newRoot);
    // The one refused request is the reply to the deleted root, which the bot could not have known about.
    expect(sim.violations).toHaveLength(1);
    expect(sim.violations[0]).toContain("api.post.create_post.root_id.app_error");
  });
});

describe("events queue and a payload no handler can read", () => {
  it("fails it at once, whatever the retry budget", async () => {
    const prefix = uniquePrefix("events-bad");
    const t = await createTestDatabase("sqlite");
    const connection = workerConnection(redisUrl);
    const { events, deliveries } = openQueues(connection, prefix, { retryBaseMs: 20 });
    const worker = startEventsWorker({ db: t.db, defaultLocale: "en", ignoredUsernames: [], connection, prefix, deliveries, logger: silent });
    try {
      await events.add("push", { kind: "push", eventHeader: "Push Hook", receivedAt: Date.now(), body: JSON.stringify({ object_kind: "push", ref: "refs/heads/x" }) }, { jobId: "wh-unreadable" });
      await waitFor(async () => (await (await events.getJob("wh-unreadable"))?.getState()) === "failed", 10_000, "the job to fail");
      expect((await events.getJob("wh-unreadable"))?.attemptsMade).toBe(1);
    } finally {
      await worker.close();
      await Promise.all([events.close(), deliveries.close()]);
      connection.disconnect();
      await dropPrefix(prefix);
      await t.drop();
    }
  });
});

describe.runIf(postgresAvailable)("events queue while the database is away", () => {
  const prefix = uniquePrefix("events-db");
  let t: TestDatabase;
  let producer: Redis;
  let consumer: Redis;
  let admin: pg.Client;
  let name: string;

  beforeAll(async () => {
    t = await createTestDatabase("postgres");
    name = new URL(t.url).pathname.slice(1);
    admin = new pg.Client({ connectionString: t.url.replace(`/${name}`, "/postgres") });
    await admin.connect();
    // Patient connections: on a busy test machine a producer's 800 ms command timeout is no verdict on the code.
    producer = workerConnection(redisUrl);
    consumer = workerConnection(redisUrl);
    await waitReady(producer);
  });
  afterAll(async () => {
    await admin.query(`alter database ${name} with allow_connections true`).catch(() => {});
    await admin.end();
    producer.disconnect();
    consumer.disconnect();
    await dropPrefix(prefix);
    await t.drop();
  });

  it("keeps an event job through an outage longer than the old budget, then routes it", async () => {
    await upsertSubscription(t.db, { channelId: "chan-1", teamId: "team", path: "mike", features: "pushes", createdBy: "admin" });
    // Base 20 ms: the old budget (8 tries, doubling from the base) was spent after 127 bases, about 2.5 s here.
    const { events, deliveries } = openQueues(producer, prefix, { retryBaseMs: 20 });
    await admin.query(`alter database ${name} with allow_connections false`);
    await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1`, [name]);
    const worker = startEventsWorker({ db: t.db, defaultLocale: "en", ignoredUsernames: [], connection: consumer, prefix, deliveries, logger: silent });
    try {
      await events.add("push", { kind: "push", eventHeader: "Push Hook", receivedAt: Date.now(), body: fixtureText("push.json") }, { jobId: "wh-outage" });
      await waitFor(async () => ((await events.getJob("wh-outage"))?.attemptsMade ?? 0) >= 9, 20_000, "nine tries while the database is away");
      expect(await (await events.getJob("wh-outage"))?.getState()).not.toBe("failed");

      await admin.query(`alter database ${name} with allow_connections true`);
      await waitFor(async () => (await (await events.getJob("wh-outage"))?.getState()) === "completed", 30_000, "the event job to complete");
      const [planned] = await deliveries.getJobs(["waiting", "delayed", "active"]);
      expect(planned?.data).toMatchObject({ channelId: "chan-1", visibility: "private" });
    } finally {
      await worker.close();
      await events.close();
      await deliveries.close();
    }
  });

  it("hands a webhook the intake could not handle to the events queue, which routes it once the database is back", async () => {
    const intakePrefix = uniquePrefix("events-db-intake");
    await upsertSubscription(t.db, { channelId: "chan-2", teamId: "team", path: "mike", features: "pushes", createdBy: "admin" });
    const { events, deliveries } = openQueues(producer, intakePrefix, { retryBaseMs: 20 });
    const deps = { db: t.db, defaultLocale: "en" as const, ignoredUsernames: [], deliveries, logger: silent };
    await admin.query(`alter database ${name} with allow_connections false`);
    await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1`, [name]);
    const worker = startEventsWorker({ ...deps, connection: consumer, prefix: intakePrefix });
    const intakeRedis = workerConnection(redisUrl);
    const intake = startIntakeConsumer({
      redis: intakeRedis,
      prefix: intakePrefix,
      concurrency: 2,
      logger: silent,
      handle: (id, data, closing) => handleEvent(id, data, deps, true, closing),
      handOver: (webhooks, afterFailure) => handOverEvents(events, webhooks, afterFailure ? 20 : 0),
    });
    try {
      await webhookIntake(producer, intakePrefix).take("wh-intake-outage", { kind: "push", eventHeader: "Push Hook", receivedAt: Date.now(), body: fixtureText("push.json") });
      await waitFor(async () => ((await events.getJob("wh-intake-outage"))?.attemptsMade ?? 0) >= 3, 20_000, "the handed-over event tried while the database is away");
      expect((await events.getJob("wh-intake-outage"))?.data.retried).toBe(true);
      expect(await webhookIntake(producer, intakePrefix).counts()).toEqual({ waiting: 0, held: 0 });

      await admin.query(`alter database ${name} with allow_connections true`);
      await waitFor(async () => (await (await events.getJob("wh-intake-outage"))?.getState()) === "completed", 30_000, "the event job to complete");
      // One delivery per subscribed channel (the test above subscribed another to the same project).
      const channels = (await deliveries.getJobs(["waiting", "delayed", "active"])).map((j) => j.data.channelId);
      expect(channels).toContain("chan-2");
      expect(new Set(channels).size).toBe(channels.length);
    } finally {
      await intake.close();
      intakeRedis.disconnect();
      await worker.close();
      await events.close();
      await deliveries.close();
      await dropPrefix(intakePrefix);
    }
  });
});
