// What the delivery-worker tests share: a Mattermost simulator, a real database, a real deliveries queue
// on its own Redis prefix, and a delivery worker posting from it, all closed again by `close()`.
import type { Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "../../../src/logger.js";
import { createLogger } from "../../../src/logger.js";
import { createMattermostClient, type MattermostApi } from "../../../src/mattermost/client.js";
import { createMetrics, type Metrics } from "../../../src/metrics.js";
import { waitReady, workerConnection } from "../../../src/queue/connection.js";
import { createDeliverer, startDeliveryWorker, type Deliverer } from "../../../src/queue/delivery-worker.js";
import type { DeliveryJobData } from "../../../src/queue/jobs.js";
import { openQueues, type DeliveryQueue, type EventQueue } from "../../../src/queue/queues.js";
import { createTestDatabase, type TestDatabase } from "../../support/db.js";
import { startMattermostSim, type MattermostSim, type SimRateLimit } from "../../support/mattermost-sim.js";
import { dropPrefix, redisUrl, uniquePrefix } from "../../support/redis.js";

export interface DeliveryTestbed {
  sim: MattermostSim;
  t: TestDatabase;
  prefix: string;
  producer: Redis;
  deliveries: DeliveryQueue;
  events: EventQueue;
  mattermost: MattermostApi;
  metrics: Metrics;
  /** The worker's deliverer, to share with an events worker that posts directly. */
  deliver: Deliverer;
  worker: Worker<DeliveryJobData>;
  /** The worker's Redis connection (an events worker may share it). */
  consumer: Redis;
  close(): Promise<void>;
}

export interface DeliveryTestbedOptions {
  name: string;
  database?: "sqlite" | "postgres";
  logger?: Logger;
  /** DELIVERY_RETRY_BASE_MS of the queues (compresses the retry schedule). */
  retryBaseMs?: number;
  concurrency?: number;
  postsPerSecond?: number;
  rateLimit?: SimRateLimit;
}

export async function startDeliveryTestbed(options: DeliveryTestbedOptions): Promise<DeliveryTestbed> {
  const sim = await startMattermostSim({ rateLimit: options.rateLimit });
  const t = await createTestDatabase(options.database ?? "sqlite");
  const prefix = uniquePrefix(options.name);
  // Patient connections: on a busy test machine a producer's 800 ms command timeout is no verdict on the code.
  const producer = workerConnection(redisUrl);
  const consumer = workerConnection(redisUrl);
  await waitReady(producer);
  const { deliveries, events } = openQueues(producer, prefix, { retryBaseMs: options.retryBaseMs });
  const mattermost = createMattermostClient(sim.url, sim.botToken);
  const metrics = createMetrics();
  const delivery = { db: t.db, mattermost, botUserId: sim.bot.id, logger: options.logger ?? createLogger("silent"), metrics };
  const deliver = createDeliverer(delivery);
  const worker = startDeliveryWorker({
    ...delivery,
    deliver,
    connection: consumer,
    prefix,
    concurrency: options.concurrency,
    postsPerSecond: options.postsPerSecond,
  });
  return {
    sim,
    t,
    prefix,
    producer,
    deliveries,
    events,
    mattermost,
    metrics,
    deliver,
    worker,
    consumer,
    async close() {
      await worker.close();
      await Promise.all([deliveries.close(), events.close()]);
      producer.disconnect();
      consumer.disconnect();
      await dropPrefix(prefix);
      await sim.close();
      await t.drop();
    },
  };
}
