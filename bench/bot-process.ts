// The process under test, forked by bench/run.ts so the load generator's memory and event loop are
// not counted. BENCH_CHILD (JSON) says what to serve on POST /webhooks/gitlab:
//   bare          a Hono route on @hono/node-server that only answers 202 (the ingress baseline)
//   bare-web      + reads the body through Request.body.getReader() and JSON.parses it (as the bot does)
//   bare-node     + reads the body from the Node IncomingMessage (c.env.incoming) and JSON.parses it
//   bare-bullmq   bare-node + the bot's id, kind and BullMQ add (same queue options), no pino/metrics
//   bot           the real bot: startBot(loadConfig(env), port 0, role)
// IPC: sends {type:"ready",port}; {type:"mem",gc?} -> process.memoryUsage() (after a full GC when
// asked: the child runs with --expose-gc); {type:"stats"} -> CPU, GC pauses and event-loop delay since
// the previous stats request; {type:"stop"} stops and exits.
import type { IncomingMessage } from "node:http";
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { serve, type HttpBindings } from "@hono/node-server";
import { Hono } from "hono";
import { eventKindOf } from "../handlers/index.js";
import { loadConfig } from "../src/config.js";
import { createLogger } from "../src/logger.js";
import { startBot } from "../src/main.js";
import { producerConnection, waitReady } from "../src/queue/connection.js";
import { DEDUPE_TTL_MS, deliveryIdFor } from "../src/queue/jobs.js";
import { openQueues } from "../src/queue/queues.js";

export type ChildMode = "bare" | "bare-web" | "bare-node" | "bare-bullmq" | "bot";

interface ChildSpec {
  mode: ChildMode;
  role?: "all" | "web" | "worker";
  env?: Record<string, string>;
}

export interface ProcessStats {
  cpu_user_ms: number;
  cpu_system_ms: number;
  wall_ms: number;
  gc_count: number;
  gc_total_ms: number;
  gc_max_ms: number;
  loop_delay_p50_ms: number;
  loop_delay_p99_ms: number;
  loop_delay_max_ms: number;
}

export type ChildMessage =
  | { type: "ready"; port: number }
  | { type: "mem"; usage: NodeJS.MemoryUsage }
  | { type: "stats"; stats: ProcessStats }
  | { type: "stopped" };

const spec = JSON.parse(process.env.BENCH_CHILD ?? "{}") as ChildSpec;
const send = (m: ChildMessage) => process.send?.(m);

async function readWeb(request: Request): Promise<Uint8Array> {
  const reader = request.body!.getReader();
  const chunks: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

function readNode(incoming: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (c: Buffer) => chunks.push(c));
    incoming.on("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    incoming.on("error", reject);
  });
}

async function bare(mode: Exclude<ChildMode, "bot">, env: Record<string, string>): Promise<{ port: number; stop(): Promise<void> }> {
  const app = new Hono<{ Bindings: HttpBindings }>();
  let close = async () => {};
  if (mode === "bare") app.post("/webhooks/gitlab", (c) => c.body(null, 202));
  if (mode === "bare-web") app.post("/webhooks/gitlab", async (c) => (JSON.parse(new TextDecoder().decode(await readWeb(c.req.raw))), c.body(null, 202)));
  if (mode === "bare-node") app.post("/webhooks/gitlab", async (c) => (JSON.parse((await readNode(c.env.incoming)).toString("utf8")), c.body(null, 202)));
  if (mode === "bare-bullmq") {
    const config = loadConfig(env);
    const redis = producerConnection(config.redisUrl);
    await waitReady(redis);
    const queues = openQueues(redis, config.queuePrefix);
    close = async () => {
      await Promise.all([queues.events.close(), queues.deliveries.close()]);
      await redis.quit();
    };
    app.post("/webhooks/gitlab", async (c) => {
      const bytes = await readNode(c.env.incoming);
      const text = bytes.toString("utf8");
      const payload: unknown = JSON.parse(text);
      const id = deliveryIdFor(c.req.header("idempotency-key"), bytes);
      const kind = eventKindOf(payload, c.req.header("x-gitlab-event")) ?? "unknown";
      await queues.events.add(kind, { kind, receivedAt: Date.now(), body: text }, { jobId: id, deduplication: { id, ttl: DEDUPE_TTL_MS } });
      return c.json({ id }, 202);
    });
  }
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) =>
      resolve({ port: info.port, stop: async () => (await new Promise<void>((r) => server.close(() => r())), await close()) }),
    );
  });
}

async function start(): Promise<{ port: number; stop(): Promise<void> }> {
  if (spec.mode !== "bot") return bare(spec.mode, spec.env ?? {});
  const config = { ...loadConfig(spec.env ?? {}), port: 0 };
  if (spec.role) config.role = spec.role;
  return startBot(config, createLogger(config.logLevel));
}

// Process figures between two stats requests.
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
let gc = { count: 0, total: 0, max: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gc.count++;
    gc.total += e.duration;
    gc.max = Math.max(gc.max, e.duration);
  }
}).observe({ entryTypes: ["gc"] });
let cpuMark = process.cpuUsage();
let wallMark = Date.now();

function takeStats(): ProcessStats {
  const cpu = process.cpuUsage(cpuMark);
  const stats: ProcessStats = {
    cpu_user_ms: Math.round(cpu.user / 1000),
    cpu_system_ms: Math.round(cpu.system / 1000),
    wall_ms: Date.now() - wallMark,
    gc_count: gc.count,
    gc_total_ms: Math.round(gc.total),
    gc_max_ms: Math.round(gc.max * 10) / 10,
    loop_delay_p50_ms: Math.round(loopDelay.percentile(50) / 1e4) / 100,
    loop_delay_p99_ms: Math.round(loopDelay.percentile(99) / 1e4) / 100,
    loop_delay_max_ms: Math.round(loopDelay.max / 1e4) / 100,
  };
  cpuMark = process.cpuUsage();
  wallMark = Date.now();
  gc = { count: 0, total: 0, max: 0 };
  loopDelay.reset();
  return stats;
}

const running = await start();
process.on("message", (raw) => {
  const m = raw as { type: string; gc?: boolean };
  if (m.type === "mem") {
    const collect = (globalThis as { gc?: () => void }).gc;
    if (m.gc && collect) collect();
    send({ type: "mem", usage: process.memoryUsage() });
  } else if (m.type === "stats") {
    send({ type: "stats", stats: takeStats() });
  } else if (m.type === "stop") {
    void running
      .stop()
      .catch((error: Error) => console.error(`stop failed: ${error.message}`))
      .finally(() => {
        send({ type: "stopped" });
        process.exit(0);
      });
  }
});
send({ type: "ready", port: running.port });
