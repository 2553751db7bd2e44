// POST /webhooks/gitlab (SPEC.md): verify, size-check, parse, name the delivery, enqueue, answer 202.
// No Mattermost or GitLab call here: the only network call is the Redis write.
import { Hono } from "hono";
import { eventKindOf, isKnownKind } from "../../handlers/index.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../metrics.js";
import { DEDUPE_TTL_MS, deliveryIdFor, type EventJobData } from "../queue/jobs.js";
import type { EventQueue } from "../queue/queues.js";
import { secretMatches } from "./verify-token.js";

export interface WebhookDeps {
  events: EventQueue;
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

/** Reads the body, stopping as soon as it passes `maxBytes` (chunked bodies have no Content-Length). */
async function readLimited(request: Request, maxBytes: number): Promise<Uint8Array | "too_large"> {
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      return "too_large";
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  return Buffer.concat(chunks, size);
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
    const bytes = await readLimited(c.req.raw, maxBytes);
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
    try {
      // Deduplication keeps the id for a day after the job is gone: GitLab's retries are queued once.
      // If Redis hangs, answer 503 within a second; should the write land later, GitLab's retry is a duplicate.
      await withTimeout(events.add(kind, data, { jobId: id, deduplication: { id, ttl: DEDUPE_TTL_MS } }), ENQUEUE_TIMEOUT_MS);
    } catch (error) {
      logger.error({ delivery: id, err: (error as Error).message }, "webhook not queued: Redis unavailable");
      return reject(503, "queue_unavailable", "queue unavailable, GitLab will retry");
    }
    metrics.webhooksReceived.inc({ kind });
    return c.json({ id }, 202);
  });

  return app;
}
