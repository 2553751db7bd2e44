// Job counts for /metrics and `gitlab-mm queue stats`, and the replay behind `gitlab-mm queue retry-failed`.
import type { JobState } from "bullmq";
import type { Redis } from "ioredis";
import { openQueues, type DeliveryQueue, type EventQueue } from "./queues.js";

export const JOB_STATES = ["waiting", "active", "delayed", "prioritized", "waiting-children", "failed", "completed"] as const satisfies readonly JobState[];

export type QueueName = "events" | "deliveries";
export type QueueStats = Record<QueueName, Record<(typeof JOB_STATES)[number], number>>;

export async function jobCounts(queues: { events: EventQueue; deliveries: DeliveryQueue }): Promise<QueueStats> {
  const [events, deliveries] = await Promise.all([queues.events.getJobCounts(...JOB_STATES), queues.deliveries.getJobCounts(...JOB_STATES)]);
  return { events, deliveries } as QueueStats;
}

async function withQueues<T>(connection: Redis, prefix: string, use: (q: ReturnType<typeof openQueues>) => Promise<T>): Promise<T> {
  const queues = openQueues(connection, prefix);
  try {
    return await use(queues);
  } finally {
    await Promise.all([queues.events.close(), queues.deliveries.close()]);
  }
}

export function queueStats(connection: Redis, prefix: string): Promise<QueueStats> {
  return withQueues(connection, prefix, jobCounts);
}

/** Moves every failed job of both queues back to waiting; returns how many per queue. */
export function retryFailed(connection: Redis, prefix: string): Promise<Record<QueueName, number>> {
  return withQueues(connection, prefix, async (queues) => {
    const result = { events: 0, deliveries: 0 };
    for (const name of ["events", "deliveries"] as const) {
      result[name] = await queues[name].getJobCountByTypes("failed");
      // Retried jobs keep their ids, so a replayed delivery still cannot post twice.
      await queues[name].retryJobs({ state: "failed", count: 1000 });
    }
    return result;
  });
}
