// A Redis outage loses no webhook: the route spools what Redis does not take, and the replayer queues
// it once Redis answers again. Real Redis servers (the shared one, and servers of this file's own that
// it stops, pauses and restarts), real SQLite and PostgreSQL.
import net from "node:net";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { webhookRoutes, type WebhookDeps } from "../../src/http/webhook-route.js";
import { createLogger } from "../../src/logger.js";
import { createMetrics, type Metrics } from "../../src/metrics.js";
import { acceptEvent } from "../../src/queue/accept-event.js";
import { producerConnection, waitReady } from "../../src/queue/connection.js";
import { webhookIntake, type WebhookIntake } from "../../src/queue/intake.js";
import type { EventJobData } from "../../src/queue/jobs.js";
import { spoolReplayer, startSpoolReplayer } from "../../src/queue/spool-replayer.js";
import { countSpooled, oldestSpooled, spoolWebhook } from "../../src/store/webhook-spool.js";
import { fixtureText } from "../support/fixtures.js";
import { keptWebhooks } from "../support/intake.js";
import { createTestDatabase, databaseKinds, postgresAvailable, type TestDatabase } from "../support/db.js";
import { dropPrefix, redisUrl, uniquePrefix } from "../support/redis.js";
import { waitFor } from "../support/wait.js";
import { startOwnRedis, type OwnRedis } from "./support/redis-server.js";

const SECRET = "webhook-secret-1";
const logger = createLogger("silent");
const mr = fixtureText("merge_request.json");

type App = ReturnType<typeof webhookRoutes>;

function post(app: App, key: string, body = mr) {
  return app.request("/webhooks/gitlab", {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Gitlab-Token": SECRET, "X-Gitlab-Event": "Merge Request Hook", "Idempotency-Key": key },
    body,
  });
}

async function idOf(response: Response): Promise<string> {
  expect(response.status).toBe(202);
  return ((await response.json()) as { id: string }).id;
}

/** A producer connection and the intake on it, as src/main.ts makes them. */
function producerQueue(url: string, prefix: string): { redis: Redis; intake: WebhookIntake; prefix: string } {
  const redis = producerConnection(url);
  redis.on("error", () => {});
  return { redis, intake: webhookIntake(redis, prefix), prefix };
}

function routeWith(deps: Pick<WebhookDeps, "intake" | "redis" | "spool"> & { metrics?: Metrics }): App {
  return webhookRoutes({ secrets: [SECRET], maxBytes: 1 << 20, logger, metrics: createMetrics(), now: () => 1_700_000_000_000, ...deps });
}

/** Webhooks in the intake, oldest first. */
async function waitingIds({ redis, prefix }: { redis: Redis; prefix: string }): Promise<string[]> {
  return [...(await keptWebhooks(redis, prefix)).keys()];
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe.each(databaseKinds)("webhooks while Redis is out, spooled in %s", (kind) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await test.drop();
  });

  it("answers 202 when Redis refuses connections, and keeps each delivery once in the spool", async () => {
    const { redis, intake } = producerQueue("redis://127.0.0.1:1", uniquePrefix("refused"));
    cleanups.push(() => redis.disconnect());
    const metrics = createMetrics();
    const app = routeWith({ intake, redis, spool: test.db, metrics });

    const first = await idOf(await post(app, "refused-1"));
    const second = await idOf(await post(app, "refused-2", fixtureText("push.json")));
    expect(await idOf(await post(app, "refused-1"))).toBe(first);

    const spooled = await oldestSpooled(test.db, 10);
    expect(spooled).toEqual([
      { deliveryId: first, kind: "merge_request", eventHeader: "Merge Request Hook", receivedAt: 1_700_000_000_000, body: mr },
      { deliveryId: second, kind: "push", eventHeader: "Merge Request Hook", receivedAt: 1_700_000_000_000, body: fixtureText("push.json") },
    ]);
    expect(await metrics.registry.metrics()).toMatch(/gitlab_webhooks_received_total\{kind="merge_request"\} 2/);
    await test.db.deleteFrom("webhook_spool").execute();
  });

  it("answers 202 within a second when Redis accepts connections but never answers", async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    cleanups.push(() => silent.close());
    const { redis, intake } = producerQueue(`redis://127.0.0.1:${(silent.address() as net.AddressInfo).port}`, uniquePrefix("silent"));
    cleanups.push(() => redis.disconnect());
    const app = routeWith({ intake, redis, spool: test.db });

    const started = performance.now();
    const id = await idOf(await post(app, "silent-1"));
    // A hang check, not a speed measurement.
    expect(performance.now() - started).toBeLessThan(5000);
    expect((await oldestSpooled(test.db, 10)).map((w) => w.deliveryId)).toEqual([id]);
    await test.db.deleteFrom("webhook_spool").execute();
  });

  it("answers 503 only when the spool fails too", async () => {
    const broken = await createTestDatabase(kind);
    await broken.drop();
    const { redis, intake } = producerQueue("redis://127.0.0.1:1", uniquePrefix("both"));
    cleanups.push(() => redis.disconnect());
    const metrics = createMetrics();
    const app = routeWith({ intake, redis, spool: broken.db, metrics });

    const res = await post(app, "both-1");
    expect(res.status).toBe(503);
    expect(await metrics.registry.metrics()).toMatch(/gitlab_webhooks_rejected_total\{reason="queue_unavailable"\} 1/);
  });
});

describe("acceptEvent", () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase("sqlite");
  });
  afterAll(async () => {
    await test.drop();
  });

  const data: EventJobData = { kind: "push", eventHeader: "Push Hook", receivedAt: 1, body: "{}" };

  it("spools without trying Redis while the connection is not ready", async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    cleanups.push(() => silent.close());
    const { redis, intake } = producerQueue(`redis://127.0.0.1:${(silent.address() as net.AddressInfo).port}`, uniquePrefix("notready"));
    cleanups.push(() => redis.disconnect());
    // No bound on the Redis write: had it been tried, it would wait for ever on this silent server.
    const unbounded = <T>(write: Promise<T>) => write;
    expect(await acceptEvent({ intake, redis, spool: test.db, logger, within: unbounded }, "wh-notready", data)).toBe("spooled");
    expect(await countSpooled(test.db)).toBe(1);
  });

  it("queues, and spools nothing, while Redis answers", async () => {
    const prefix = uniquePrefix("answers");
    const { redis, intake } = producerQueue(redisUrl, prefix);
    cleanups.push(() => dropPrefix(prefix), () => redis.disconnect());
    await waitReady(redis);
    const before = await countSpooled(test.db);
    expect(await acceptEvent({ intake, redis, spool: test.db, logger, within: (w) => w }, "wh-answers", data)).toBe("queued");
    expect((await keptWebhooks(redis, prefix)).get("wh-answers")).toEqual(data);
    expect(await countSpooled(test.db)).toBe(before);
  });
});

describe("replaying the spool once Redis answers", () => {
  let own: OwnRedis;
  let test: TestDatabase;
  beforeAll(async () => {
    own = await startOwnRedis();
    test = await createTestDatabase("sqlite");
  });
  afterAll(async () => {
    await own.stop();
    await test.drop();
  });

  it("spools through a Redis restart and queues every webhook once, in arrival order", async () => {
    const prefix = uniquePrefix("restart");
    const { redis, intake } = producerQueue(own.url, prefix);
    cleanups.push(() => redis.disconnect());
    await waitReady(redis);
    const app = routeWith({ intake, redis, spool: test.db });
    const metrics = createMetrics();

    await idOf(await post(app, "restart-0"));
    await own.stop();
    const during: string[] = [];
    for (let i = 1; i <= 5; i++) during.push(await idOf(await post(app, `restart-${i}`, JSON.stringify({ object_kind: "push", n: i }))));
    expect((await oldestSpooled(test.db, 10)).map((w) => w.deliveryId)).toEqual(during);

    const replayer = startSpoolReplayer({ db: test.db, intake, redis, keyPrefix: prefix, logger, metrics, intervalMs: 50 });
    cleanups.push(() => replayer.stop());
    await waitFor(async () => /webhook_spool_size 5/.test(await metrics.registry.metrics()), 5000, "the gauge to show five spooled webhooks");

    await own.start();
    await waitFor(() => redis.status === "ready", 10_000, "the producer to reconnect");
    // The same delivery again, now that Redis answers: queued at once, and replayed as a duplicate.
    expect(await idOf(await post(app, "restart-3", JSON.stringify({ object_kind: "push", n: 3 })))).toBe(during[2]);

    await waitFor(async () => (await countSpooled(test.db)) === 0, 10_000, "the spool to drain");
    await waitFor(async () => /webhook_spool_size 0/.test(await metrics.registry.metrics()), 5000, "the gauge to show an empty spool");
    // The restarted Redis kept nothing from before the outage: what waits is what was spooled.
    const waiting = await waitingIds({ redis, prefix });
    expect(waiting).toHaveLength(5);
    expect(waiting.filter((id) => id !== during[2])).toEqual(during.filter((id) => id !== during[2]));
    expect(waiting.filter((id) => id === during[2])).toHaveLength(1);
    expect((await keptWebhooks(redis, prefix)).get(during[0]!)).toEqual({ kind: "push", eventHeader: "Merge Request Hook", receivedAt: 1_700_000_000_000, body: JSON.stringify({ object_kind: "push", n: 1 }) });
  });

  // A try whose lock release (or whose lock taken in Redis but answered too late) timed out leaves the
  // lock until it expires: a short lock here, so that two such tries on a loaded machine still fit.
  it("spools within a second when Redis hangs mid-connection (paused), then replays", { timeout: 60_000 }, async () => {
    const prefix = uniquePrefix("paused");
    const { redis, intake } = producerQueue(own.url, prefix);
    cleanups.push(() => redis.disconnect());
    await waitReady(redis);
    const app = routeWith({ intake, redis, spool: test.db });

    own.pause();
    let id: string;
    try {
      const started = performance.now();
      id = await idOf(await post(app, "paused-1"));
      // A hang check, not a speed measurement: the route gives Redis 0.9 s, then spools.
      expect(performance.now() - started).toBeLessThan(5000);
      expect((await oldestSpooled(test.db, 10)).map((w) => w.deliveryId)).toEqual([id]);
    } finally {
      own.resume();
    }
    await waitFor(() => redis.status === "ready", 10_000, "the producer to answer again");
    // As the running replayer does every second: a try that times out while the resumed Redis works
    // through what piled up is tried again, and the row stays until its add succeeded.
    const replayer = spoolReplayer({ db: test.db, intake, redis, keyPrefix: prefix, lockTtlMs: 3000 });
    let replayed = 0;
    await waitFor(async () => {
      replayed += await replayer.drain().catch(() => 0);
      return (await countSpooled(test.db)) === 0;
    }, 45_000, "the spool to be replayed");
    expect(replayed).toBe(1);
    expect(await waitingIds({ redis, prefix })).toContain(id);
    expect(await countSpooled(test.db)).toBe(0);
  });
});

describe.runIf(postgresAvailable)("two replayers on one PostgreSQL", () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase("postgres");
  });
  afterAll(async () => {
    await test.drop();
  });

  it("queue each spooled webhook once, in arrival order", async () => {
    const prefix = uniquePrefix("two");
    // Two processes: each its own connection and queue object.
    const a = producerQueue(redisUrl, prefix);
    const b = producerQueue(redisUrl, prefix);
    cleanups.push(() => dropPrefix(prefix), () => a.redis.disconnect(), () => b.redis.disconnect());
    await Promise.all([waitReady(a.redis), waitReady(b.redis)]);

    const ids = Array.from({ length: 60 }, (_, i) => `wh-two-${String(i).padStart(2, "0")}`);
    for (const [i, id] of ids.entries()) await spoolWebhook(test.db, { deliveryId: id, kind: "push", receivedAt: i, body: `{"n":${i}}` });
    // One of them already made it into the queue before Redis stopped answering.
    await a.intake.take(ids[10]!, { kind: "push", receivedAt: 10, body: '{"n":10}' });

    const replayers = [a, b].map((p) => spoolReplayer({ db: test.db, intake: p.intake, redis: p.redis, keyPrefix: prefix, batchSize: 7 }));
    let replayed = 0;
    while ((await countSpooled(test.db)) > 0) {
      const counts = await Promise.all(replayers.flatMap((r) => [r.replayBatch(), r.replayBatch()]));
      replayed += counts.reduce((sum, n) => sum + n, 0);
    }
    expect(replayed).toBe(60);
    expect(await waitingIds(a)).toEqual([ids[10], ...ids.filter((id) => id !== ids[10])]);
  });
});
