// POST /webhooks/gitlab (SPEC.md): verify, size-check, parse, name the delivery, keep it in the intake, answer 202.
// No Mattermost or GitLab call here: the only write is to Redis, or to the database spool when Redis does not answer.
import { Buffer, isUtf8 } from "node:buffer";
import { Hono, type Context } from "hono";
import type { Redis } from "ioredis";
import { eventKindOf, isKnownKind, notificationsFor } from "../../handlers/index.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../metrics.js";
import { acceptEvent } from "../queue/accept-event.js";
import type { WebhookIntake } from "../queue/intake.js";
import { deliveryIdFor, type EventJobData } from "../queue/jobs.js";
import type { Db } from "../store/db.js";
import { bodyLimit, type BodyVariables } from "./middleware/body-limit.js";
import { timeout, withTimeout } from "./middleware/timeout.js";
import { matchingSecret, tokenAuth, type TokenVariables } from "./middleware/token-auth.js";
import { looksDerived, tokensAcceptedFor } from "./webhook-tokens.js";

export interface WebhookDeps {
  intake: WebhookIntake;
  /** The connection `intake` writes through: while it is not ready, webhooks go straight to the spool. */
  redis?: Redis;
  /** Keeps webhooks Redis does not take (src/queue/accept-event.ts); without it they are refused with 503. */
  spool?: Db;
  /** The master secrets (GITLAB_WEBHOOK_SECRET); each is accepted for every event. */
  secrets: readonly string[];
  maxBytes: number;
  logger: Logger;
  metrics: Metrics;
  /** Injected clock, for tests. */
  now?: () => number;
  /** For tests: how long a request may take, body included (default 30 s). */
  requestTimeoutMs?: number;
}

const ENQUEUE_TIMEOUT_MS = 900;
/** GitLab gives up on a hook after 10 s by default (up to 60 s when raised); a trickled body is cut off. */
const REQUEST_TIMEOUT_MS = 30_000;

/** The body as text and its JSON value; undefined when it is not UTF-8 (isUtf8 costs less than a fatal TextDecoder) or not JSON. */
function parsedBody(bytes: Uint8Array): { text: string; payload: unknown } | undefined {
  if (!isUtf8(bytes)) return undefined;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  try {
    return { text, payload: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

/**
 * The project or group paths an event speaks for: those of its notifications (each handler knows
 * where its kind keeps the path), else the payload's project. Empty when neither says.
 */
function scopePathsOf(payload: object, eventHeader: string | undefined): string[] {
  let paths: string[] = [];
  try {
    paths = notificationsFor(payload, eventHeader).notifications.map((n) => n.projectPath);
  } catch {
    // A payload its handler cannot read still names its project below, or speaks for nothing.
  }
  const project = (payload as { project?: { path_with_namespace?: unknown } }).project?.path_with_namespace;
  if (paths.length === 0 && typeof project === "string") paths = [project];
  return [...new Set(paths.filter((p) => p.length > 0))];
}

/** Whether a derived token belongs to every path the event speaks for (from any master secret). */
function derivedTokenCovers(token: string, masters: readonly string[], paths: readonly string[]): boolean {
  return paths.length > 0 && paths.every((path) => matchingSecret(token, tokensAcceptedFor(masters, path)) >= 0);
}

export function webhookRoutes(deps: WebhookDeps): Hono<{ Variables: BodyVariables & TokenVariables }> {
  const { intake, secrets, maxBytes, logger, metrics } = deps;
  const now = deps.now ?? Date.now;
  const app = new Hono<{ Variables: BodyVariables & TokenVariables }>();
  const refuse = (c: Context, status: 400 | 401 | 408 | 413 | 503, reason: string, error: string) => {
    metrics.webhooksRejected.inc({ reason });
    return c.json({ error }, status);
  };
  // A refused event is never logged with its payload (nor its token).
  const refuseToken = (c: Context, reason: string) => {
    logger.warn({ reason, event: c.req.header("x-gitlab-event") }, "webhook refused: wrong or missing X-Gitlab-Token");
    return refuse(c, 401, reason, "X-Gitlab-Token is missing or wrong");
  };

  // The shared edge first: a master secret passes at once; a derived-looking token waits for the
  // body, which names the project it must belong to.
  app.post(
    "/webhooks/gitlab",
    tokenAuth({ secrets, token: (c) => c.req.header("x-gitlab-token"), defer: looksDerived, onRefused: (c) => refuseToken(c, "token") }),
    timeout(deps.requestTimeoutMs ?? REQUEST_TIMEOUT_MS, (c) => refuse(c, 408, "timeout", "the request body did not arrive in time")),
    bodyLimit({ maxBytes, onTooLarge: (c) => refuse(c, 413, "too_large", `body larger than ${maxBytes} bytes`) }),
  );

  app.post("/webhooks/gitlab", async (c) => {
    const reject = (status: 400 | 401 | 413 | 503, reason: string, error: string) => refuse(c, status, reason, error);
    const bytes = c.get("body");
    const derived = c.get("secretIndex") === undefined;
    const eventHeader = c.req.header("x-gitlab-event");

    const parsed = parsedBody(bytes);
    if (!parsed) return derived ? refuseToken(c, "token_scope") : reject(400, "malformed", "body is not valid JSON");
    const { text, payload } = parsed;
    if (payload === null || typeof payload !== "object" || Array.isArray(payload)) {
      return derived ? refuseToken(c, "token_scope") : reject(400, "malformed", "body must be a JSON object");
    }
    if (derived && !derivedTokenCovers(c.req.header("x-gitlab-token") ?? "", secrets, scopePathsOf(payload, eventHeader))) {
      return refuseToken(c, "token_scope");
    }

    const id = deliveryIdFor(c.req.header("idempotency-key"), bytes);
    const kind = eventKindOf(payload, eventHeader);
    if (!kind || !isKnownKind(kind)) {
      metrics.webhooksReceived.inc({ kind: "unknown" });
      logger.info({ delivery: id, kind: kind ?? null, event: eventHeader }, "webhook of an unknown kind ignored");
      return c.json({ id, ignored: true }, 202);
    }

    const data: EventJobData = { kind, eventHeader, receivedAt: now(), body: text };
    // Redis gets under a second; then the webhook goes to the database spool instead.
    const within = <T>(write: Promise<T>) => withTimeout(write, ENQUEUE_TIMEOUT_MS);
    if ((await acceptEvent({ intake, redis: deps.redis, spool: deps.spool, logger, within }, id, data, bytes)) === "refused") {
      return reject(503, "queue_unavailable", "neither the queue nor its spool can take the webhook now");
    }
    metrics.webhooksReceived.inc({ kind });
    return c.json({ id }, 202);
  });

  return app;
}
