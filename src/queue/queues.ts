import { Queue, type BackoffStrategy, type QueueOptions } from "bullmq";
import type { Redis } from "ioredis";
import { DEDUPE_TTL_MS, DELIVERIES_QUEUE, EVENTS_QUEUE, type DeliveryJobData, type EventJobData, type IdentifiedEvent } from "./jobs.js";

export type EventQueue = Queue<EventJobData>;
export type DeliveryQueue = Queue<DeliveryJobData>;

/** Finished jobs are trimmed; failed ones stay for `gitlab-mm queue retry-failed`, within bounds so a long outage cannot fill Redis. */
export const RETAINED_JOBS = {
  removeOnComplete: { age: 3600, count: 1000 },
  removeOnFail: { age: 14 * 24 * 3600, count: 10_000 },
};

/** The first retry's delay unless DELIVERY_RETRY_BASE_MS says otherwise. */
export const DEFAULT_RETRY_BASE_MS = 2000;
/** Our backoff type: the delay doubles from the job's base delay up to a cap (see retryDelayMs). */
export const CAPPED_BACKOFF = "capped-exponential";
// Both in units of the base delay, so a shorter base (tests) compresses the whole schedule:
// at the default 2 s base, tries are at most 10 minutes apart and go on for 48 hours, the length of
// an outage over a weekend that someone notices on Monday.
const CAP_IN_BASES = 300;
const BUDGET_IN_BASES = 86_400;

/** How long to wait before try number `attemptsMade + 1`. */
export function retryDelayMs(attemptsMade: number, baseMs: number): number {
  const cap = baseMs * CAP_IN_BASES;
  // Past 2^30 the cap has long been reached; this also keeps the power finite.
  return Math.min(cap, baseMs * 2 ** Math.min(30, Math.max(0, attemptsMade - 1)));
}

/** The number of tries whose waits add up to the whole retry budget. */
export function retryAttempts(): number {
  let waited = 0;
  let attempts = 1;
  while (waited < BUDGET_IN_BASES) waited += retryDelayMs(attempts++, 1);
  return attempts;
}

/** Registered on the workers (BullMQ asks the worker, not the queue, for custom backoff types). */
export const backoffStrategy: BackoffStrategy = (attemptsMade, _type, _error, job) => {
  const base = job?.opts.backoff && typeof job.opts.backoff === "object" ? (job.opts.backoff.delay ?? DEFAULT_RETRY_BASE_MS) : DEFAULT_RETRY_BASE_MS;
  return retryDelayMs(attemptsMade, base);
};

export interface QueueSettings {
  /** DELIVERY_RETRY_BASE_MS: the first retry's delay; the cap and the budget scale with it. */
  retryBaseMs?: number;
}

export function openQueues(connection: Redis, prefix: string, settings: QueueSettings = {}): { events: EventQueue; deliveries: DeliveryQueue } {
  const base: QueueOptions = { connection, prefix };
  // Event jobs fail mostly when the database is away, and posts when Mattermost is: both wait it out.
  // A payload no handler can read is refused at once (UnrecoverableError), whatever the budget.
  const retried = { attempts: retryAttempts(), backoff: { type: CAPPED_BACKOFF, delay: settings.retryBaseMs ?? DEFAULT_RETRY_BASE_MS }, ...RETAINED_JOBS };
  const events: EventQueue = new Queue<EventJobData>(EVENTS_QUEUE, { ...base, defaultJobOptions: retried });
  const deliveries: DeliveryQueue = new Queue<DeliveryJobData>(DELIVERIES_QUEUE, { ...base, defaultJobOptions: retried });
  return { events, deliveries };
}

/**
 * Gives events to the events queue under their delivery ids, marked retried (their posts go through
 * the deliveries queue). Deduplication keeps an id for a day after its job is gone, so an event
 * handed over twice is queued once.
 */
export async function handOverEvents(events: EventQueue, webhooks: readonly IdentifiedEvent[], delayMs = 0): Promise<void> {
  await events.addBulk(
    webhooks.map(({ id, data }) => ({ name: data.kind, data: { ...data, retried: true }, opts: { jobId: id, deduplication: { id, ttl: DEDUPE_TTL_MS }, delay: delayMs } })),
  );
}
