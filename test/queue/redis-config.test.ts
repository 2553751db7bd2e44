// What the bot says about Redis and the spool where an administrator looks: the start-up log and
// /readyz (a Redis that may evict jobs), `gitlab-mm queue stats` (how many webhooks are spooled).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli.js";
import { healthRoutes } from "../../src/http/health-routes.js";
import { createMetrics } from "../../src/metrics.js";
import { producerConnection, redisConfigWarnings, waitReady } from "../../src/queue/connection.js";
import { openQueues } from "../../src/queue/queues.js";
import { migrateToLatest, openDatabase } from "../../src/store/db.js";
import { spoolWebhook } from "../../src/store/webhook-spool.js";
import { createTestDatabase, sqliteFileUrl, type TestDatabase } from "../support/db.js";
import { dropPrefix, redisUrl, uniquePrefix } from "../support/redis.js";
import { startOwnRedis, type OwnRedis } from "./support/redis-server.js";

describe("Redis maxmemory-policy", () => {
  const servers: OwnRedis[] = [];
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase("sqlite");
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await test.drop();
  });

  async function connectTo(args: string[]) {
    const server = await startOwnRedis(args);
    servers.push(server);
    const redis = producerConnection(server.url);
    await waitReady(redis);
    return redis;
  }

  it("is warned about, on /readyz too (still ready), when it lets Redis evict jobs", async () => {
    const redis = await connectTo(["--maxmemory-policy", "allkeys-lru"]);
    try {
      expect(await redisConfigWarnings(redis)).toEqual(["redis maxmemory-policy is allkeys-lru, not noeviction"]);
      const app = healthRoutes({ redis, db: test.db, metrics: createMetrics(), queues: openQueues(redis, uniquePrefix("evict")) });
      const res = await app.request("/readyz");
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: "ready", redis: true, database: true, warnings: ["redis maxmemory-policy is allkeys-lru, not noeviction"] });
    } finally {
      redis.disconnect();
    }
  });

  it("is not warned about when it is noeviction", async () => {
    const redis = await connectTo(["--maxmemory-policy", "noeviction"]);
    try {
      expect(await redisConfigWarnings(redis)).toEqual([]);
      const app = healthRoutes({ redis, db: test.db, metrics: createMetrics(), queues: openQueues(redis, uniquePrefix("noevict")) });
      expect(await (await app.request("/readyz")).json()).toEqual({ status: "ready", redis: true, database: true });
    } finally {
      redis.disconnect();
    }
  });

  it("says nothing when Redis refuses CONFIG (managed Redis)", async () => {
    const redis = await connectTo(["--maxmemory-policy", "allkeys-lru", "--rename-command", "CONFIG", ""]);
    try {
      expect(await redisConfigWarnings(redis)).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });
});

describe("gitlab-mm queue stats", () => {
  const dir = mkdtempSync(join(tmpdir(), "gmm-spool-stats-"));
  const url = sqliteFileUrl(dir);
  const prefix = uniquePrefix("stats");
  beforeAll(async () => {
    const { db } = openDatabase(url);
    await migrateToLatest(db);
    await spoolWebhook(db, { deliveryId: "wh-a", kind: "push", receivedAt: 1, body: "{}" });
    await spoolWebhook(db, { deliveryId: "wh-b", kind: "push", receivedAt: 2, body: "{}" });
    await db.destroy();
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await dropPrefix(prefix);
  });

  async function stats(env: Record<string, string>) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(["queue", "stats"], { stdout: (s) => out.push(s), stderr: (s) => err.push(s), env: { DATABASE_URL: url, ...env } });
    return { code, out, err };
  }

  it("shows how many webhooks wait in the spool, after the job counts", async () => {
    const res = await stats({ REDIS_URL: redisUrl, QUEUE_PREFIX: prefix });
    expect(res.code).toBe(0);
    expect(res.out[0]).toMatch(/^state\s+events\s+deliveries\s+personal$/);
    expect(res.out.at(-1)).toBe("webhooks spooled for Redis: 2");
  });

  it("shows it even when Redis does not answer", async () => {
    const res = await stats({ REDIS_URL: "redis://127.0.0.1:1" });
    expect(res.code).toBe(1);
    expect(res.out).toEqual(["webhooks spooled for Redis: 2"]);
    expect(res.err).toEqual(["gitlab-mm queue stats: Redis at redis://127.0.0.1:1 does not answer: start Redis or set REDIS_URL"]);
  });
});
