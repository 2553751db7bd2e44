// Redis connections, as BullMQ's guide says: producers fail fast (no offline queue, short command
// timeout) so the webhook route spools to the database instead of hanging; workers wait forever for Redis.
import { Redis } from "ioredis";

export function producerConnection(url: string): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 800,
    connectTimeout: 2000,
    // No auto-pipelining: the webhook route's one write per turn of the event loop is already a batch
    // (src/queue/intake.ts), and wrapping each command in a pipeline of its own cost the HTTP thread
    // about a quarter of its CPU per webhook at 500 webhooks/s (see bench/README.md).
    lazyConnect: false,
  });
}

export function workerConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableOfflineQueue: true });
}

/** Resolves once the connection is ready, or rejects after `ms`. */
export async function waitReady(redis: Redis, ms = 5000): Promise<void> {
  if (redis.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis did not answer within ${ms} ms`));
    }, ms);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off("ready", onReady);
    };
    redis.on("ready", onReady);
  });
}

/**
 * What in Redis' configuration puts queued jobs at risk, one line each (for the start-up log and
 * /readyz). Any `maxmemory-policy` but noeviction lets Redis drop jobs when memory runs out. Managed
 * Redis often refuses CONFIG GET: then nothing is known, and nothing is said.
 */
export async function redisConfigWarnings(redis: Redis): Promise<string[]> {
  let reply: unknown;
  try {
    reply = await redis.config("GET", "maxmemory-policy");
  } catch {
    return [];
  }
  // RESP2 answers [name, value]; RESP3 a map of name to value.
  const policy = Array.isArray(reply) ? reply[1] : reply instanceof Map ? reply.get("maxmemory-policy") : (reply as Record<string, unknown> | null)?.["maxmemory-policy"];
  return typeof policy === "string" && policy !== "noeviction" ? [`redis maxmemory-policy is ${policy}, not noeviction`] : [];
}
