// Job counts for /metrics and `gitlab-mm queue stats`, and the replay behind `gitlab-mm queue retry-failed`.
import type { JobState, Queue } from "bullmq";
import type { Redis } from "ioredis";
import { webhookIntake, type WebhookIntake } from "./intake.js";
import { openPersonalQueue } from "./personal.js";
import { openQueues } from "./queues.js";

export const JOB_STATES = ["waiting", "active", "delayed", "prioritized", "waiting-children", "failed", "completed"] as const satisfies readonly JobState[];

export const QUEUE_NAMES = ["events", "deliveries", "personal"] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];
export type StateCounts = Record<(typeof JOB_STATES)[number], number>;
export type QueueStats = Partial<Record<QueueName, StateCounts>>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each queue has its own job data type
export type QueueSet = Partial<Record<QueueName, Queue<any>>>;

/**
 * Counts per state. Webhooks in the intake (src/queue/intake.ts) are events too: those in its list
 * are waiting, those a consumer holds are active.
 */
export async function jobCounts(queues: QueueSet, intake: Pick<WebhookIntake, "counts">): Promise<QueueStats> {
  const stats: QueueStats = {};
  await Promise.all(
    QUEUE_NAMES.map(async (name) => {
      const queue = queues[name];
      if (!queue) return;
      const counts = (await queue.getJobCounts(...JOB_STATES)) as StateCounts;
      if (name === "events") {
        const { waiting, held } = await intake.counts();
        counts.waiting += waiting;
        counts.active += held;
      }
      stats[name] = counts;
    }),
  );
  return stats;
}

async function withQueues<T>(connection: Redis, prefix: string, use: (q: Required<QueueSet>) => Promise<T>): Promise<T> {
  const queues = { ...openQueues(connection, prefix), personal: openPersonalQueue(connection, prefix) };
  try {
    return await use(queues);
  } finally {
    await Promise.all(Object.values(queues).map((q) => q.close()));
  }
}

export function queueStats(connection: Redis, prefix: string): Promise<QueueStats> {
  return withQueues(connection, prefix, (queues) => jobCounts(queues, webhookIntake(connection, prefix)));
}

/** Moves every failed job of every queue back to waiting; returns how many per queue. */
export function retryFailed(connection: Redis, prefix: string): Promise<Record<QueueName, number>> {
  return withQueues(connection, prefix, async (queues) => {
    const result = { events: 0, deliveries: 0, personal: 0 };
    for (const name of QUEUE_NAMES) {
      result[name] = await queues[name].getJobCountByTypes("failed");
      // Retried jobs keep their ids, so a replayed delivery still cannot post twice.
      await queues[name].retryJobs({ state: "failed", count: 1000 });
    }
    return result;
  });
}
