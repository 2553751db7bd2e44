// /healthz (process alive), /readyz (Redis and database answer), /metrics (Prometheus text; on the
// main port or a port of its own, behind a bearer token when METRICS_TOKEN is set).
import { Hono } from "hono";
import type { Redis } from "ioredis";
import type { Metrics } from "../metrics.js";
import { jobCounts } from "../queue/admin.js";
import { redisConfigWarnings } from "../queue/connection.js";
import type { PersonalQueue } from "../queue/personal.js";
import type { WebhookIntake } from "../queue/intake.js";
import type { EventQueue, DeliveryQueue } from "../queue/queues.js";
import { pingDatabase, type Db } from "../store/db.js";
import { withTimeout } from "./middleware/timeout.js";
import { bearerToken, tokenAuth } from "./middleware/token-auth.js";

export interface HealthDeps {
  redis: Redis;
  db: Db;
  metrics: Metrics;
  queues: { events: EventQueue; deliveries: DeliveryQueue; personal?: PersonalQueue };
}

const CHECK_TIMEOUT_MS = 1000;

function answers(check: () => Promise<unknown>): Promise<boolean> {
  return withTimeout(Promise.resolve().then(check), CHECK_TIMEOUT_MS).then(
    () => true,
    () => false,
  );
}

export function healthRoutes(deps: HealthDeps): Hono {
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    const [redis, database, warnings] = await Promise.all([
      answers(() => deps.redis.ping()),
      answers(() => pingDatabase(deps.db)),
      // Worth a look, not a reason to take the process out of service; never throws.
      redisConfigWarnings(deps.redis),
    ]);
    const ok = redis && database;
    return c.json({ status: ok ? "ready" : "not ready", redis, database, ...(warnings.length > 0 ? { warnings } : {}) }, ok ? 200 : 503);
  });
  return app;
}

export interface MetricsDeps extends Pick<HealthDeps, "metrics" | "queues"> {
  /** Its webhooks count as waiting and active events. */
  intake: Pick<WebhookIntake, "counts">;
  /** When set, /metrics answers only `Authorization: Bearer <token>`. */
  token?: string;
}

export function metricsRoutes(deps: MetricsDeps): Hono {
  const app = new Hono();
  if (deps.token !== undefined) {
    app.use(
      "/metrics",
      tokenAuth({
        secrets: [deps.token],
        token: (c) => bearerToken(c.req.header("authorization")),
        onRefused: (c) => c.json({ error: "metrics need Authorization: Bearer <METRICS_TOKEN>" }, 401, { "WWW-Authenticate": 'Bearer realm="metrics"' }),
      }),
    );
  }
  app.get("/metrics", async (c) => {
    const counted = await answers(async () => {
      const stats = await jobCounts(deps.queues, deps.intake);
      for (const [queue, byState] of Object.entries(stats)) {
        for (const [state, count] of Object.entries(byState)) deps.metrics.jobs.set({ queue, state }, count);
      }
    });
    if (!counted) deps.metrics.jobs.reset();
    return c.body(await deps.metrics.registry.metrics(), 200, { "Content-Type": deps.metrics.registry.contentType });
  });
  return app;
}
