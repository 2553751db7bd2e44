// Taking a webhook in: into the intake (src/queue/intake.ts), or, when Redis does not take it, into
// the database spool (src/store/webhook-spool.ts) that src/queue/spool-replayer.ts drains later.
// GitLab never retries a delivery it saw fail and disables a hook after four failures in a row, so an
// answer of 202 must mean the webhook is kept; 503 is left for when Redis and the database both fail.
import type { Redis } from "ioredis";
import type { Logger } from "../logger.js";
import type { Db } from "../store/db.js";
import { spoolWebhook } from "../store/webhook-spool.js";
import type { WebhookIntake } from "./intake.js";
import type { EventJobData } from "./jobs.js";

export interface AcceptEventDeps {
  intake: WebhookIntake;
  /** The connection the intake writes through: while it is not ready, Redis is not tried at all. */
  redis?: Pick<Redis, "status">;
  /** Where an event waits when Redis does not take it; without one, such an event is refused. */
  spool?: Db;
  logger: Logger;
  /** Bounds each write: one that has not answered in time counts as failed. */
  within: <T>(write: Promise<T>) => Promise<T>;
}

export type Acceptance = "queued" | "spooled" | "refused";

/** `bodyBytes`: the body as it came, when the caller has it (`data.body` in UTF-8), kept as it is. */
export async function acceptEvent(deps: AcceptEventDeps, id: string, data: EventJobData, bodyBytes?: Uint8Array): Promise<Acceptance> {
  const { intake, redis, spool, logger, within } = deps;
  let redisError: string;
  if (redis && redis.status !== "ready") {
    // Reconnecting (a restart, a failover): a write now would fail or wait for nothing.
    redisError = `Redis connection ${redis.status}`;
  } else {
    try {
      await within(intake.take(id, data, bodyBytes));
      return "queued";
    } catch (error) {
      // Should this write still land later, the replayed copy is a duplicate and is ignored.
      redisError = (error as Error).message;
    }
  }
  if (!spool) {
    logger.error({ delivery: id, err: redisError }, "webhook refused: Redis unavailable and no spool");
    return "refused";
  }
  try {
    const fresh = await within(spoolWebhook(spool, { deliveryId: id, kind: data.kind, eventHeader: data.eventHeader, receivedAt: data.receivedAt, body: data.body }));
    logger.warn({ delivery: id, err: redisError, repeated: !fresh }, "webhook spooled in the database: Redis unavailable");
    return "spooled";
  } catch (error) {
    logger.error({ delivery: id, err: redisError, spoolErr: (error as Error).message }, "webhook refused: neither Redis nor the spool took it");
    return "refused";
  }
}
