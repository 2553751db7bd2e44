// Drains the webhook spool (src/store/webhook-spool.ts) into the intake once Redis answers again.
// Every process runs one, whatever its role: a web-only process spools, and with SQLite its spool is
// a file no other host reads. A Redis lock lets one process at a time take a batch from the head of
// the spool, so rows are queued once and in arrival order; should the lock lapse mid-batch, the
// intake's deduplication by delivery id still keeps each webhook once. A row is deleted only after
// the intake has it.
import type { Redis } from "ioredis";
import type { Logger } from "../logger.js";
import type { Metrics } from "../metrics.js";
import { tryLock } from "../redis-lock.js";
import type { Db } from "../store/db.js";
import { countSpooled, deleteSpooled, oldestSpooled, type SpooledWebhook } from "../store/webhook-spool.js";
import type { WebhookIntake } from "./intake.js";
import type { EventJobData } from "./jobs.js";
import { repeatEvery } from "./repeat.js";

export interface SpoolReplayerDeps {
  db: Db;
  intake: WebhookIntake;
  /** The connection the intake writes through; it also holds the replay lock. */
  redis: Redis;
  /** QUEUE_PREFIX: the lock's key lives beside the queues'. */
  keyPrefix: string;
  logger: Logger;
  /** Its spool-size gauge is kept current. */
  metrics?: Metrics;
  /** How often to look at the spool; default 1 s. */
  intervalMs?: number;
  /** Rows taken under one lock; default 200. */
  batchSize?: number;
  /** How long the replay lock lives unless released; default LOCK_TTL_MS (tests shorten it). */
  lockTtlMs?: number;
}

export interface SpoolReplayer {
  /** Queues one batch from the head of the spool if this process gets the lock; returns how many. */
  replayBatch(): Promise<number>;
  /** Queues batches until one comes back short (spool empty, lock elsewhere, Redis not ready); returns how many. */
  drain(): Promise<number>;
}

// Far longer than a batch takes (each add is bounded by the producer's command timeout).
const LOCK_TTL_MS = 30_000;

function jobDataOf(webhook: SpooledWebhook): EventJobData {
  return { kind: webhook.kind, eventHeader: webhook.eventHeader, receivedAt: webhook.receivedAt, body: webhook.body };
}

export function spoolReplayer(deps: Omit<SpoolReplayerDeps, "logger" | "metrics" | "intervalMs">): SpoolReplayer {
  const { db, intake, redis } = deps;
  const batchSize = deps.batchSize ?? 200;
  const lockKey = `${deps.keyPrefix}:webhook-spool:replay-lock`;

  async function replayBatch(): Promise<number> {
    if (redis.status !== "ready") return 0;
    const lock = await tryLock(redis, lockKey, deps.lockTtlMs ?? LOCK_TTL_MS);
    if (!lock) return 0;
    let queued: string[] = [];
    try {
      const webhooks = await oldestSpooled(db, batchSize);
      await intake.takeAll(webhooks.map((webhook) => ({ id: webhook.deliveryId, data: jobDataOf(webhook) })));
      queued = webhooks.map((webhook) => webhook.deliveryId);
    } finally {
      try {
        await deleteSpooled(db, queued);
      } finally {
        await lock.release().catch(() => {
          // It lapses by itself.
        });
      }
    }
    return queued.length;
  }

  async function drain(): Promise<number> {
    let replayed = 0;
    for (;;) {
      const queued = await replayBatch();
      replayed += queued;
      if (queued < batchSize) return replayed;
    }
  }

  return { replayBatch, drain };
}

/** Replays the spool at start and then every interval, until stopped. */
export function startSpoolReplayer(deps: SpoolReplayerDeps): { stop(): Promise<void> } {
  const { db, logger, metrics } = deps;
  const intervalMs = deps.intervalMs ?? 1000;
  const replayer = spoolReplayer(deps);
  let failing = false;

  async function tick(): Promise<void> {
    try {
      const replayed = await replayer.drain();
      if (replayed > 0) logger.info({ replayed }, "spooled webhooks queued");
      failing = false;
    } catch (error) {
      // Once per outage: it is tried again every interval.
      if (!failing) logger.warn({ err: (error as Error).message }, "spooled webhooks not queued yet");
      failing = true;
    }
    if (metrics) {
      await countSpooled(db).then(
        (count) => metrics.spooledWebhooks.set(count),
        () => metrics.spooledWebhooks.reset(),
      );
    }
  }

  return repeatEvery(tick, intervalMs);
}
