// The admin API (/admin/...): what `gitlab-mm --url <bot> --token <ADMIN_TOKEN>` runs on a bot from
// afar, answered by the same backend as the CLI on the bot's host (src/admin/). Bearer ADMIN_TOKEN,
// compared in constant time. Without ADMIN_TOKEN every /admin/ path answers 403 with a JSON error that
// says so: a 404 would read as a wrong --url to the administrator, and the API's existence is no secret
// (the code is public) while no request is served.
import { Hono, type Context } from "hono";
import type { Redis } from "ioredis";
import { AdminInputError, checkFeatures, checkSubscriptionPath } from "../admin/input.js";
import { createLocalBackend, RedisUnavailableError } from "../admin/local-backend.js";
import { PayloadError } from "../../handlers/index.js";
import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import { PreviewError, previewLocale } from "../preview.js";
import { bodyLimit, type BodyVariables } from "./middleware/body-limit.js";
import { timeout } from "./middleware/timeout.js";
import { bearerToken, tokenAuth, type TokenVariables } from "./middleware/token-auth.js";
import type { Db } from "../store/db.js";

export interface AdminRoutesDeps {
  /** `adminToken` turns the API on; `webhookMaxBytes` is also the largest payload `preview` takes. */
  config: Pick<Config, "adminToken" | "webhookMaxBytes" | "redisUrl" | "queuePrefix">;
  db: Db;
  /** The producer connection: it fails fast while Redis is away. */
  redis: Redis;
  logger: Logger;
}

/** How long one admin request may take: the backends answer in milliseconds, or Redis is away. */
const REQUEST_TIMEOUT_MS = 30_000;
/** Bodies other than a preview's payload are a few fields. */
const MAX_FIELDS_BYTES = 64 * 1024;
/** Mattermost ids are 26 characters; anything much longer is a mistake. */
const MAX_CHANNEL_LENGTH = 128;

function channelOf(value: unknown): string {
  if (typeof value !== "string" || value === "" || value.length > MAX_CHANNEL_LENGTH) throw new AdminInputError("channel must be a Mattermost channel id");
  return value;
}

function fieldsOf(body: Uint8Array): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body).toString("utf8"));
  } catch {
    throw new AdminInputError("the body must be a JSON object");
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new AdminInputError("the body must be a JSON object");
  return parsed as Record<string, unknown>;
}

/** Input the backend refuses is the caller's mistake (400, 422); Redis away is 503; the rest is the app's 500. */
function refusal(c: Context, error: unknown): Response {
  if (error instanceof AdminInputError) return c.json({ error: error.message, code: "bad_input" }, 400);
  if (error instanceof PreviewError || error instanceof PayloadError) return c.json({ error: error.message, code: "no_preview" }, 422);
  if (error instanceof RedisUnavailableError) return c.json({ error: error.message, code: "redis_unavailable" }, 503);
  throw error;
}

export function adminRoutes(deps: AdminRoutesDeps): Hono<{ Variables: TokenVariables & BodyVariables }> {
  const app = new Hono<{ Variables: TokenVariables & BodyVariables }>();
  const { config, db, redis, logger } = deps;
  if (config.adminToken === undefined) {
    app.all("/admin/*", (c) => c.json({ error: "the admin API is off: set ADMIN_TOKEN on the bot to use it", code: "admin_api_disabled" }, 403));
    return app;
  }
  const backend = createLocalBackend({
    database: async () => db,
    async queues() {
      if (redis.status !== "ready") throw new RedisUnavailableError(config.redisUrl);
      return { connection: redis, prefix: config.queuePrefix };
    },
  });
  app.use("/admin/*", timeout(REQUEST_TIMEOUT_MS, (c) => c.json({ error: `the bot did not finish within ${REQUEST_TIMEOUT_MS / 1000} s`, code: "timeout" }, 503)));
  app.use(
    "/admin/*",
    tokenAuth({
      secrets: [config.adminToken],
      token: (c) => bearerToken(c.req.header("authorization")),
      onRefused: (c) => c.json({ error: "the admin API needs Authorization: Bearer <ADMIN_TOKEN>", code: "unauthorized" }, 401, { "WWW-Authenticate": 'Bearer realm="admin"' }),
    }),
  );
  const tooLarge = (c: Context) => c.json({ error: "the body is too large", code: "too_large" }, 413);

  app.get("/admin/migrations", async (c) => c.json(await backend.migrationStatus()));

  app.get("/admin/subscriptions", async (c) => {
    const channel = c.req.query("channel");
    try {
      return c.json(await backend.listSubscriptions(channel === undefined ? undefined : channelOf(channel)));
    } catch (error) {
      return refusal(c, error);
    }
  });

  app.put("/admin/subscriptions", bodyLimit({ maxBytes: MAX_FIELDS_BYTES, onTooLarge: tooLarge }), async (c) => {
    try {
      const fields = fieldsOf(c.get("body"));
      const channelId = channelOf(fields.channel);
      const path = checkSubscriptionPath(typeof fields.path === "string" ? fields.path : undefined);
      const features = checkFeatures(typeof fields.features === "string" ? fields.features : "");
      const { created } = await backend.addSubscription({ channelId, path, features });
      logger.info({ admin: true, action: "subscriptions.add", channel_id: channelId, path, features, created }, "admin API");
      return c.json({ created, channelId, path, features }, created ? 201 : 200);
    } catch (error) {
      return refusal(c, error);
    }
  });

  app.delete("/admin/subscriptions", async (c) => {
    try {
      const channelId = channelOf(c.req.query("channel"));
      const path = checkSubscriptionPath(c.req.query("path"));
      const deleted = await backend.deleteSubscription(channelId, path);
      logger.info({ admin: true, action: "subscriptions.delete", channel_id: channelId, path, deleted }, "admin API");
      if (!deleted) return c.json({ error: `channel ${channelId} has no subscription to ${path}`, code: "not_found" }, 404);
      return c.json({ deleted: true, channelId, path });
    } catch (error) {
      return refusal(c, error);
    }
  });

  app.get("/admin/users", async (c) => c.json(await backend.listUsers()));

  app.get("/admin/queue/spool", async (c) => c.json({ spooled: await backend.spooledWebhooks() }));

  app.get("/admin/queue/stats", async (c) => {
    try {
      return c.json(await backend.queueStats());
    } catch (error) {
      return refusal(c, error);
    }
  });

  app.post("/admin/queue/retry-failed", async (c) => {
    try {
      const retried = await backend.retryFailed();
      logger.info({ admin: true, action: "queue.retry-failed", retried }, "admin API");
      return c.json(retried);
    } catch (error) {
      return refusal(c, error);
    }
  });

  app.post("/admin/preview", bodyLimit({ maxBytes: config.webhookMaxBytes, onTooLarge: tooLarge }), async (c) => {
    try {
      const lang = previewLocale(c.req.query("lang"));
      if (!lang) throw new AdminInputError("lang must be en or zh-CN");
      const event = c.req.query("event");
      if (event !== undefined && event.length > 200) throw new AdminInputError("event must be an X-Gitlab-Event header value");
      const text = await backend.preview(Buffer.from(c.get("body")).toString("utf8"), { lang, eventHeader: event, json: c.req.query("format") === "json" });
      return c.json({ text });
    } catch (error) {
      return refusal(c, error);
    }
  });

  return app;
}
