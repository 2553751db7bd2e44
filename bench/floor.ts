// THE FLOOR: the least any GitLab-to-Mattermost pipeline on this stack must do, to measure the bot
// against. A Hono route reads and parses the body and adds a BullMQ job; a worker turns each job
// into one delivery job; a second worker posts it to Mattermost with undici. No database, routing,
// formatting, logging or metrics. Forked by bench/phases/throughput.ts; FLOOR (JSON) says where to
// post; IPC: sends {type:"ready",port}, exits on {type:"stop"}.
import type { IncomingMessage } from "node:http";
import { serve, type HttpBindings } from "@hono/node-server";
import { Queue, Worker } from "bullmq";
import { Hono } from "hono";
import { Redis } from "ioredis";
import { Agent, request } from "undici";

interface FloorSpec {
  redisUrl: string;
  prefix: string;
  mattermostUrl: string;
  botToken: string;
  channelId: string;
  /** The bot's defaults: events worker 4, delivery worker DELIVERY_CONCURRENCY (8). */
  eventsConcurrency: number;
  deliveryConcurrency: number;
}

const spec = JSON.parse(process.env.FLOOR ?? "{}") as FloorSpec;

function readBody(incoming: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (c: Buffer) => chunks.push(c));
    incoming.on("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    incoming.on("error", reject);
  });
}

const producer = new Redis(spec.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, enableAutoPipelining: true });
const workerRedis = new Redis(spec.redisUrl, { maxRetriesPerRequest: null });
await new Promise<void>((resolve) => producer.once("ready", () => resolve()));
const events = new Queue<{ body: string }>("events", { connection: producer, prefix: spec.prefix, defaultJobOptions: { removeOnComplete: 1000 } });
const deliveries = new Queue<{ message: string }>("deliveries", { connection: producer, prefix: spec.prefix, defaultJobOptions: { removeOnComplete: 1000 } });

const app = new Hono<{ Bindings: HttpBindings }>();
app.post("/webhooks/gitlab", async (c) => {
  const text = (await readBody(c.env.incoming)).toString("utf8");
  JSON.parse(text);
  const job = await events.add("event", { body: text });
  return c.json({ id: job.id }, 202);
});

const eventsWorker = new Worker<{ body: string }>(
  "events",
  async (job) => {
    const payload = JSON.parse(job.data.body) as { object_attributes?: { title?: string } };
    // The title carries the event's number, by which the bench counts each event's post.
    await deliveries.add("post", { message: String(payload.object_attributes?.title ?? "") });
  },
  { connection: workerRedis, prefix: spec.prefix, concurrency: spec.eventsConcurrency },
);
const dispatcher = new Agent({ keepAliveTimeout: 30_000 });
const postsUrl = `${spec.mattermostUrl}/api/v4/posts`;
const deliveryWorker = new Worker<{ message: string }>(
  "deliveries",
  async (job) => {
    const res = await request(postsUrl, {
      method: "POST",
      dispatcher,
      headers: { authorization: `Bearer ${spec.botToken}`, "content-type": "application/json" },
      body: JSON.stringify({ channel_id: spec.channelId, message: job.data.message }),
    });
    await res.body.dump();
    if (res.statusCode >= 400) throw new Error(`Mattermost answered ${res.statusCode}`);
  },
  { connection: workerRedis, prefix: spec.prefix, concurrency: spec.deliveryConcurrency },
);

const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => process.send?.({ type: "ready", port: info.port }));
process.on("message", (m: { type?: string }) => {
  if (m.type !== "stop") return;
  void (async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all([eventsWorker.close(), deliveryWorker.close()]);
    await Promise.all([events.close(), deliveries.close()]);
    await dispatcher.close();
    producer.disconnect();
    workerRedis.disconnect();
    process.exit(0);
  })();
});
