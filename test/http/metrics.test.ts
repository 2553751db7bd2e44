// /metrics: behind a bearer token (METRICS_TOKEN), and on a port of its own (METRICS_PORT) where
// the main port no longer serves it; the server listens on HOST.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { metricsRoutes } from "../../src/http/health-routes.js";
import { createLogger } from "../../src/logger.js";
import { startBot } from "../../src/main.js";
import { createMetrics } from "../../src/metrics.js";
import { webhookIntake, type WebhookIntake } from "../../src/queue/intake.js";
import { openQueues, type EventQueue, type DeliveryQueue } from "../../src/queue/queues.js";
import { sqliteFileUrl } from "../support/db.js";
import { dropPrefix, redisUrl, uniquePrefix } from "../support/redis.js";

const TOKEN = "metrics-token-0123456789";

describe("/metrics behind METRICS_TOKEN", () => {
  const prefix = uniquePrefix("metrics");
  let redis: Redis;
  let queues: { events: EventQueue; deliveries: DeliveryQueue };
  let intake: WebhookIntake;

  beforeAll(() => {
    redis = new Redis(redisUrl);
    queues = openQueues(redis, prefix);
    intake = webhookIntake(redis, prefix);
  });
  afterAll(async () => {
    await queues.events.close();
    await queues.deliveries.close();
    redis.disconnect();
    await dropPrefix(prefix);
  });

  it.each([
    ["no Authorization", undefined],
    ["a wrong token", `Bearer ${TOKEN}x`],
    ["the token without Bearer", TOKEN],
  ])("answers 401 to %s", async (_, authorization) => {
    const app = metricsRoutes({ metrics: createMetrics(), queues, intake, token: TOKEN });
    const res = await app.request("/metrics", { headers: authorization === undefined ? {} : { Authorization: authorization } });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
    expect(await res.text()).not.toContain("gitlab_webhooks");
  });

  it("answers the bearer of the token", async () => {
    const app = metricsRoutes({ metrics: createMetrics(), queues, intake, token: TOKEN });
    const res = await app.request("/metrics", { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("gitlab_webhooks_received_total");
  });

  it("answers anyone when no token is set", async () => {
    const res = await metricsRoutes({ metrics: createMetrics(), queues, intake }).request("/metrics");
    expect(res.status).toBe(200);
  });

  it("counts a webhook waiting in the intake as a waiting event", async () => {
    await intake.take("wh-metrics-waiting", { kind: "push", receivedAt: 1, body: "{}" });
    const res = await metricsRoutes({ metrics: createMetrics(), queues, intake }).request("/metrics");
    expect(await res.text()).toMatch(/^queue_jobs\{queue="events",state="waiting"\} 1$/m);
  });
});

describe("METRICS_PORT and HOST", () => {
  it("serves /metrics on its own port and not on the main one, both on HOST", async () => {
    const prefix = uniquePrefix("metricsport");
    const config = {
      ...loadConfig({
        MATTERMOST_URL: "http://127.0.0.1:9",
        MATTERMOST_BOT_TOKEN: "unused",
        GITLAB_WEBHOOK_SECRET: "metrics-test-secret",
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: prefix,
        DATABASE_URL: sqliteFileUrl(mkdtempSync(join(tmpdir(), "gmm-metrics-"))),
        // Another loopback address: reachable, while 127.0.0.1 is not listened on.
        HOST: "127.0.0.2",
        ROLE: "web",
        METRICS_TOKEN: TOKEN,
      }),
      port: 0,
      metricsPort: 0,
    };
    const bot = await startBot(config, createLogger("silent"));
    try {
      expect(bot.metricsPort).toBeGreaterThan(0);
      const main = `http://127.0.0.2:${bot.port}`;
      expect((await fetch(`${main}/healthz`)).status).toBe(200);
      await expect(fetch(`http://127.0.0.1:${bot.port}/healthz`)).rejects.toThrow();
      expect((await fetch(`${main}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
      const metrics = `http://127.0.0.2:${bot.metricsPort}/metrics`;
      expect((await fetch(metrics)).status).toBe(401);
      // ROLE=web takes webhooks and handles none: one taken waits in the intake, counted on this port.
      const taken = await fetch(`${main}/webhooks/gitlab`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-gitlab-token": "metrics-test-secret", "x-gitlab-event": "Push Hook" },
        body: JSON.stringify({ object_kind: "push", project: { path_with_namespace: "g/p" } }),
      });
      expect(taken.status).toBe(202);
      const res = await fetch(metrics, { headers: { Authorization: `Bearer ${TOKEN}` } });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toContain("gitlab_webhooks_received_total");
      expect(text).toMatch(/^queue_jobs\{queue="events",state="waiting"\} 1$/m);
      expect((await fetch(`http://127.0.0.2:${bot.metricsPort}/healthz`)).status).toBe(404);
    } finally {
      await bot.stop();
      await dropPrefix(prefix);
    }
  });
});
