// Where webhook-to-post time goes, read back from BullMQ: the completed jobs the queues retain
// (removeOnComplete keeps the last 1000) carry timestamp (added), processedOn and finishedOn.
import { Redis } from "ioredis";
import { openQueues } from "../../src/queue/queues.js";
import { deliveryIdFor, type DeliveryJobData, type EventJobData } from "../../src/queue/jobs.js";
import { redisUrl } from "../../test/support/redis.js";
import { round, summarize } from "./stats.js";

export interface StageInput {
  /** Idempotency-Key of event i. */
  key(i: number): string;
  /** Event index named by a post text. */
  indexOf(text: string): number | undefined;
  sentAt: Map<number, number>;
  postedAt: Map<number, number>;
}

export interface Breakdown {
  stages: Record<string, { p50: number; p99: number; count: number }>;
  /** Every 25th event in send order: seconds since the first, and its wait for the events worker (ms). */
  eventsWaitSeries: [number, number][];
}

export async function stageBreakdown(prefix: string, input: StageInput): Promise<Breakdown> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const queues = openQueues(redis, prefix);
  try {
    const [events, deliveries] = await Promise.all([
      queues.events.getJobs(["completed"], 0, 5000),
      queues.deliveries.getJobs(["completed"], 0, 5000),
    ]);
    const eventById = new Map(events.map((j) => [j.id, j]));
    const waits: [number, number][] = [];
    const stages: Record<string, number[]> = {
      "1 send -> route enqueues (receivedAt)": [],
      "2 receivedAt -> event job added": [],
      "3 event job added -> picked by events worker": [],
      "4 events worker run (parse, handler, route, addBulk)": [],
      "5 event done -> delivery picked by delivery worker": [],
      "6 delivery worker: picked -> post created (sim)": [],
      "7 post created -> delivery job finished": [],
    };
    const add = (name: string, v: number | undefined) => {
      if (v !== undefined && Number.isFinite(v)) stages[name]!.push(v);
    };
    for (const d of deliveries) {
      const data = d.data as DeliveryJobData;
      const i = input.indexOf(`${data.post.message} ${JSON.stringify(data.post.attachments ?? [])}`);
      if (i === undefined || !input.sentAt.has(i)) continue;
      const e = eventById.get(deliveryIdFor(input.key(i), ""));
      const sent = input.sentAt.get(i)!;
      const posted = input.postedAt.get(i);
      add("1 send -> route enqueues (receivedAt)", data.receivedAt - sent);
      if (e) {
        const edata = e.data as EventJobData;
        add("2 receivedAt -> event job added", e.timestamp - edata.receivedAt);
        add("3 event job added -> picked by events worker", (e.processedOn ?? Number.NaN) - e.timestamp);
        waits.push([sent, (e.processedOn ?? Number.NaN) - e.timestamp]);
        add("4 events worker run (parse, handler, route, addBulk)", (e.finishedOn ?? Number.NaN) - (e.processedOn ?? Number.NaN));
        add("5 event done -> delivery picked by delivery worker", (d.processedOn ?? Number.NaN) - (e.finishedOn ?? Number.NaN));
      }
      if (posted !== undefined) {
        add("6 delivery worker: picked -> post created (sim)", posted - (d.processedOn ?? Number.NaN));
        add("7 post created -> delivery job finished", (d.finishedOn ?? Number.NaN) - posted);
      }
    }
    waits.sort((a, b) => a[0] - b[0]);
    const t0 = waits[0]?.[0] ?? 0;
    return {
      stages: Object.fromEntries(
        Object.entries(stages).map(([k, v]) => {
          const s = summarize(v);
          return [k, { p50: round(s.p50, 1), p99: round(s.p99, 1), count: s.count }];
        }),
      ),
      eventsWaitSeries: waits.filter((_, i) => i % 25 === 0).map(([t, w]) => [round((t - t0) / 1000, 2), w]),
    };
  } finally {
    await Promise.all([queues.events.close(), queues.deliveries.close()]);
    redis.disconnect();
  }
}
