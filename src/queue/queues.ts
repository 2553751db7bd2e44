import { Queue, type QueueOptions } from "bullmq";
import type { Redis } from "ioredis";
import { DELIVERIES_QUEUE, EVENTS_QUEUE, type DeliveryJobData, type EventJobData } from "./jobs.js";

export type EventQueue = Queue<EventJobData>;
export type DeliveryQueue = Queue<DeliveryJobData>;

const retained = {
  // Failed jobs stay for `gitlab-mm queue retry-failed`; finished ones are trimmed.
  removeOnComplete: { age: 3600, count: 1000 },
  removeOnFail: { age: 14 * 24 * 3600 },
};

export function openQueues(connection: Redis, prefix: string): { events: EventQueue; deliveries: DeliveryQueue } {
  const base: QueueOptions = { connection, prefix };
  const events: EventQueue = new Queue<EventJobData>(EVENTS_QUEUE, {
    ...base,
    defaultJobOptions: { attempts: 8, backoff: { type: "exponential", delay: 1000 }, ...retained },
  });
  const deliveries: DeliveryQueue = new Queue<DeliveryJobData>(DELIVERIES_QUEUE, {
    ...base,
    // About a day of retries at most: 2s doubling, capped by BullMQ's exponential backoff growth.
    defaultJobOptions: { attempts: 15, backoff: { type: "exponential", delay: 2000 }, ...retained },
  });
  return { events, deliveries };
}
