// POST /webhooks/gitlab (SPEC.md): verify, size-check, parse, name the delivery, enqueue, answer 202.
// No Mattermost or GitLab call here: the only write is to Redis, or to the database spool when Redis does not answer.
import type { HttpBindings } from "@hono/node-server";
import { Hono } from "hono";
import type { Redis } from "ioredis";
import { eventKindOf, isKnownKind } from "../../handlers/index.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../metrics.js";
import { acceptEvent } from "../queue/accept-event.js";
import { deliveryIdFor, type EventJobData } from "../queue/jobs.js";
import type { EventQueue } from "../queue/queues.js";
import type { Db } from "../store/db.js";
import { secretMatches } from "./verify-token.js";

export interface WebhookDeps {
  events: EventQueue;
  /** The connection `events` writes through: while it is not ready, webhooks go straight to the spool. */
  redis?: Redis;
  /** Keeps webhooks Redis does not take (src/queue/accept-event.ts); without it they are refused with 503. */
  spool?: Db;
  secrets: readonly string[];
  maxBytes: number;
  logger: Logger;
  metrics: Metrics;
  /** Injected clock, for tests. */
  now?: () => number;
}

const ENQUEUE_TIMEOUT_MS = 900;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** Collects chunks, stopping as soon as they pass `maxBytes` (chunked bodies have no Content-Length). */
async function collectLimited(chunks: AsyncIterable<Uint8Array>, maxBytes: number, stop: () => void): Promise<Uint8Array | "too_large"> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      stop();
      return "too_large";
    }
    parts.push(chunk);
  }
  if (parts.length === 1) return parts[0]!;
  return Buffer.concat(parts, size);
}

/**
 * The body as bytes. Under @hono/node-server it is read straight from Node's request: building the
 * web Request stream for it costs more than the rest of the route (see bench/). Elsewhere (tests with
 * app.request()) it comes from the web Request.
 */
function readLimited(request: Request, env: unknown, maxBytes: number): Promise<Uint8Array | "too_large"> {
  const incoming = (env as Partial<HttpBindings> | undefined)?.incoming;
  if (incoming && typeof incoming.on === "function") {
    return collectLimited(incoming, maxBytes, () => incoming.resume());
  }
  if (!request.body) return Promise.resolve(new Uint8Array());
  const body = request.body;
  const reader = body.getReader();
  const iterate = async function* () {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  };
  return collectLimited(iterate(), maxBytes, () => void reader.cancel().catch(() => {}));
}

export function webhookRoutes(deps: WebhookDeps): Hono {
  const { events, secrets, maxBytes, logger, metrics } = deps;
  const now = deps.now ?? Date.now;
  const app = new Hono();

  app.post("/webhooks/gitlab", async (c) => {
    const reject = (status: 400 | 401 | 413 | 503, reason: string, error: string) => {
      metrics.webhooksRejected.inc({ reason });
      return c.json({ error }, status);
    };

    // A failed token check never logs the payload (and never the token).
    if (!secretMatches(c.req.header("x-gitlab-token"), secrets)) {
      logger.warn({ reason: "token", event: c.req.header("x-gitlab-event") }, "webhook refused: wrong or missing X-Gitlab-Token");
      return reject(401, "token", "X-Gitlab-Token is missing or wrong");
    }

    const declared = Number(c.req.header("content-length") ?? "0");
    if (declared > maxBytes) return reject(413, "too_large", `body larger than ${maxBytes} bytes`);
    const bytes = await readLimited(c.req.raw, c.env, maxBytes);
    if (bytes === "too_large") return reject(413, "too_large", `body larger than ${maxBytes} bytes`);

    let text: string;
    let payload: unknown;
    try {
      text = decoder.decode(bytes);
      payload = JSON.parse(text);
    } catch {
      return reject(400, "malformed", "body is not valid JSON");
    }
    if (payload === null || typeof payload !== "object" || Array.isArray(payload)) {
      return reject(400, "malformed", "body must be a JSON object");
    }

    const eventHeader = c.req.header("x-gitlab-event");
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
    if ((await acceptEvent({ events, redis: deps.redis, spool: deps.spool, logger, within }, id, data)) === "refused") {
      return reject(503, "queue_unavailable", "neither the queue nor its spool can take the webhook now");
    }
    metrics.webhooksReceived.inc({ kind });
    return c.json({ id }, 202);
  });

  return app;
}
