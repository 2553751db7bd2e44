// 4. Throughput against the floor, in one run: THE FLOOR (bench/floor.ts: Hono route, BullMQ, two
// workers, undici post; nothing else) and the compiled bot as `npm start` runs it (node
// dist/src/main.js, its default role, its default settings), each on a fresh Redis prefix and its own
// channel of the same Mattermost simulator. Each gets N distinct merge-request webhooks from 16
// connections (closed loop: a connection sends its next webhook when the previous one is answered);
// events per second count from the first send until every event's post is in the simulator. Then
// each takes a steady 500 webhooks/s (open loop) while its workers drain them: the answers' p99.
import { fork, spawn, type ChildProcess } from "node:child_process";
import { openSync, readdirSync, readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { buildBot as buildCompiledBot } from "../chaos/processes.js";
import { startMattermostSim, type MattermostSim, type SimChannel } from "../../test/support/mattermost-sim.js";
import { dropPrefix, redisUrl, uniquePrefix } from "../../test/support/redis.js";
import { botEnv, subscribedChannel, webhookHeaders } from "../lib/bot-setup.js";
import { cpuMeter } from "../lib/cpu.js";
import type { BenchContext, Figure } from "../lib/context.js";
import { paced } from "../lib/paced.js";
import { distinctMergeRequests, MR_EVENT_HEADER, PROJECT_PATH } from "../lib/payload.js";
import { round, summarize } from "../lib/stats.js";
import { mapRound } from "./ingress.js";

const CONNECTIONS = 16;
const STEADY_RATE = 500;
const WARM_UP = 200;
const root = new URL("../../", import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Target {
  url: string;
  /** Process ids of the target and the processes it started (for their CPU time). */
  pids(): number[];
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The fields of a `/proc/.../stat` file after the command name (field 4 of stat(5) is index 1); undefined when it is gone. */
function statFields(path: string): string[] | undefined {
  try {
    const stat = readFileSync(path, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** user + system CPU ms from stat fields (clock ticks of 10 ms). */
const cpuMsIn = (fields: string[]) => ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;

/** user + system CPU ms of a process (Linux /proc; 0 when it is gone). */
function cpuMsOf(pid: number): number {
  const fields = statFields(`/proc/${pid}/stat`);
  return fields ? cpuMsIn(fields) : 0;
}

/** CPU ms by thread: the main thread, a thread at nice 19 (the bot's worker side), and the rest. */
interface ThreadCpu {
  main: number;
  worker_side: number;
  /** V8's helpers (garbage collection, optimizing compiler) and libuv's pool. */
  helpers: number;
}

/** user + system CPU ms of each thread of the processes, grouped (Linux /proc; threads gone are missed). */
function threadCpuMsOf(pids: number[]): ThreadCpu {
  const sum: ThreadCpu = { main: 0, worker_side: 0, helpers: 0 };
  for (const pid of pids) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      const fields = statFields(`/proc/${pid}/task/${tid}/stat`);
      if (!fields) continue;
      if (Number(tid) === pid) sum.main += cpuMsIn(fields);
      else if (Number(fields[16]) === 19) sum.worker_side += cpuMsIn(fields);
      else sum.helpers += cpuMsIn(fields);
    }
  }
  return sum;
}

/** The process and its direct children (a role that forks; the default runs its workers in a thread). */
function processTree(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (/^\d+$/.test(entry) && Number(statFields(`/proc/${entry}/stat`)?.[1]) === pid) children.push(Number(entry));
  }
  return [pid, ...children];
}

function exitOf(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once("exit", () => resolve()));
}

async function startFloor(ctx: BenchContext, sim: MattermostSim, channel: SimChannel, prefix: string): Promise<Target> {
  const log = openSync(join(ctx.dir, "throughput-floor.log"), "a");
  const child = fork(new URL("../floor.ts", import.meta.url).pathname, [], {
    execArgv: ["--import", "tsx"],
    env: {
      ...process.env,
      FLOOR: JSON.stringify({ redisUrl, prefix, mattermostUrl: sim.url, botToken: sim.botToken, channelId: channel.id, eventsConcurrency: 4, deliveryConcurrency: 8 }),
    },
    stdio: ["ignore", log, log, "ipc"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("message", (m: { port: number }) => resolve(m.port));
    child.once("exit", (code) => reject(new Error(`the floor exited with ${code}; see throughput-floor.log`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pids: () => [child.pid!],
    async stop() {
      child.send({ type: "stop" });
      const kill = setTimeout(() => child.kill("SIGKILL"), 20_000);
      await exitOf(child);
      clearTimeout(kill);
    },
  };
}

/** The node flags `npm start` gives the bot: package.json's "start" ends `node <flags> dist/src/main.js`. */
function startScriptNodeFlags(): string[] {
  const start = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { scripts: { start: string } }).scripts.start;
  const node = start.lastIndexOf("node ");
  const main = start.indexOf("dist/src/main.js", node);
  if (node < 0 || main < 0) throw new Error(`package.json "start" does not end with node ... dist/src/main.js: ${start}`);
  return start.slice(node + "node ".length, main).split(" ").filter(Boolean);
}

/** The compiled bot as `npm start` runs it: built by tsc, then `node <the start script's flags> dist/src/main.js` with its settings in the environment. */
export async function startCompiledBot(ctx: BenchContext, env: Record<string, string>): Promise<Target & { nodeFlags: string[] }> {
  const port = await freePort();
  const log = openSync(join(ctx.dir, "throughput-bot.log"), "a");
  const nodeFlags = [...startScriptNodeFlags(), ...ctx.nodeFlags];
  const child = spawn(process.execPath, [...nodeFlags, join(root, "dist/src/main.js")], {
    // A directory without a .env: only these settings count.
    cwd: ctx.dir,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", log, log],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the bot exited with ${child.exitCode}; see throughput-bot.log`);
    const ready = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) throw new Error("the bot was not ready within 30 s; see throughput-bot.log");
    await sleep(200);
  }
  return {
    url,
    nodeFlags,
    pids: () => processTree(child.pid!),
    async stop() {
      child.kill("SIGTERM");
      const kill = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exitOf(child);
      clearTimeout(kill);
    },
  };
}

/** Webhooks first..first+count-1 by `connections` connections, each sending its next when answered; answer times in ms. */
async function closedLoop(url: string, first: number, count: number, body: (i: number) => string, headers: (i: number) => Record<string, string>) {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const target = new URL(`${url}/webhooks/gitlab`);
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let next = first;
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const text = body(i);
      const started = performance.now();
      const req = request(
        { agent, host: target.hostname, port: target.port, path: target.pathname, method: "POST", headers: { "content-length": String(Buffer.byteLength(text)), ...headers(i) } },
        (res) => {
          res.resume();
          res.on("end", () => {
            latencies.push(performance.now() - started);
            statuses[String(res.statusCode)] = (statuses[String(res.statusCode)] ?? 0) + 1;
            resolve();
          });
        },
      );
      req.on("error", () => {
        statuses.error = (statuses.error ?? 0) + 1;
        resolve();
      });
      req.end(text);
    });
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (next < first + count) await one(next++);
    }),
  );
  agent.destroy();
  return { latencies, statuses };
}

interface PipelineRun {
  events: number;
  events_per_s: number;
  posted_once: number;
  posted_total: number;
  answer_ms: Record<string, number>;
  answer_statuses: Record<string, number>;
  cpu_ms_per_event: number;
  /** The same CPU by thread: where the bot's time goes beside the floor's, read from outside. */
  cpu_ms_per_event_by_thread: ThreadCpu;
  generator_and_redis_cpu_ms: { generator_ms: number; redis_ms: number };
  steady: {
    rate: number;
    events: number;
    /** From each webhook's scheduled send time (a late generator counts against the target). */
    answer_ms: Record<string, number>;
    /** From the actual write: what the server alone took. */
    service_ms: Record<string, number>;
    generator_lag_p99_ms: number;
    statuses: Record<string, number>;
    posted_once: number;
  };
}

async function measure(ctx: BenchContext, what: string, target: Target, sim: MattermostSim, channel: SimChannel, count: number, steadyCount: number): Promise<PipelineRun> {
  const events = distinctMergeRequests();
  const headers = webhookHeaders(MR_EVENT_HEADER);
  const run = `${what}-${Date.now().toString(36)}`;
  const header = (i: number) => ({ ...headers, "idempotency-key": `${run}-${i}` });
  /**
   * Events posted so far in the target's channel, read from the simulator's request log (each request
   * once): copying its posts (sim.posts clones every post) each poll would load the shared cores.
   */
  const seen = new Set<number>();
  let scanned = 0;
  const progress = () => {
    const requests = sim.requests;
    for (; scanned < requests.length; scanned++) {
      const r = requests[scanned]!;
      if (r.method !== "POST" || r.path !== "/api/v4/posts" || r.status !== 201) continue;
      const post = r.body as { channel_id?: string; message?: string; props?: unknown };
      if (post.channel_id !== channel.id) continue;
      const i = events.indexOfPost(post);
      if (i !== undefined) seen.add(i);
    }
  };
  /** Once all are in (or time is up): the channel's posts as stored, each event's count, and the last post's time. */
  const final = () => {
    const counts = new Map<number, number>();
    let last = 0;
    const posts = sim.posts(channel.id);
    for (const p of posts) {
      const i = events.indexOfPost(p);
      if (i !== undefined) counts.set(i, (counts.get(i) ?? 0) + 1);
      last = Math.max(last, p.create_at);
    }
    return { counts, total: posts.length, last };
  };
  const waitPosted = async (from: number, to: number, ms: number) => {
    const deadline = Date.now() + ms;
    for (;;) {
      progress();
      let missing = 0;
      for (let i = from; i < to; i++) if (!seen.has(i)) missing++;
      if (missing === 0 || Date.now() > deadline) return final();
      await sleep(250);
    }
  };
  const postedOnce = (t: ReturnType<typeof final>, from: number, to: number) => {
    let once = 0;
    for (let i = from; i < to; i++) if (t.counts.get(i) === 1) once++;
    return once;
  };

  ctx.log(`throughput: ${what}: ${WARM_UP} warm-up events`);
  await closedLoop(target.url, 0, WARM_UP, events.body, header);
  await waitPosted(0, WARM_UP, 60_000);

  ctx.log(`throughput: ${what}: ${count} events by ${CONNECTIONS} connections, until each is posted`);
  const meter = await cpuMeter();
  const cpuBefore = target.pids().reduce((s, p) => s + cpuMsOf(p), 0);
  const threadsBefore = threadCpuMsOf(target.pids());
  const t0 = Date.now();
  const answers = await closedLoop(target.url, WARM_UP, count, events.body, header);
  const posted = await waitPosted(WARM_UP, WARM_UP + count, 10 * 60_000);
  const seconds = (posted.last - t0) / 1000;
  const cpu = target.pids().reduce((s, p) => s + cpuMsOf(p), 0) - cpuBefore;
  const threadsAfter = threadCpuMsOf(target.pids());
  const others = await meter();
  const once = postedOnce(posted, WARM_UP, WARM_UP + count);

  const first = WARM_UP + count;
  ctx.log(`throughput: ${what}: ${steadyCount} events at a steady ${STEADY_RATE}/s while the workers drain`);
  const steady = await paced({ url: `${target.url}/webhooks/gitlab`, rate: STEADY_RATE, count: steadyCount, first, body: events.body, headers: header });
  const drained = await waitPosted(first, first + steadyCount, 5 * 60_000);
  const steadyOnce = postedOnce(drained, first, first + steadyCount);
  return {
    events: count,
    events_per_s: round(once / seconds, 1),
    posted_once: once,
    posted_total: drained.total,
    answer_ms: mapRound({ ...summarize(answers.latencies) }),
    answer_statuses: answers.statuses,
    cpu_ms_per_event: round(cpu / count, 2),
    cpu_ms_per_event_by_thread: {
      main: round((threadsAfter.main - threadsBefore.main) / count, 2),
      worker_side: round((threadsAfter.worker_side - threadsBefore.worker_side) / count, 2),
      helpers: round((threadsAfter.helpers - threadsBefore.helpers) / count, 2),
    },
    generator_and_redis_cpu_ms: others,
    steady: {
      rate: STEADY_RATE,
      events: steadyCount,
      answer_ms: mapRound({ ...summarize(steady.latencies) }),
      service_ms: mapRound({ ...summarize(steady.service) }),
      generator_lag_p99_ms: round(summarize(steady.lag).p99, 2),
      statuses: { ...steady.statuses, ...(steady.errors ? { errors: steady.errors } : {}) }, posted_once: steadyOnce },
  };
}

/** "ms main, ms worker side, ms helpers" after the main thread's figure. */
function byThread(t: ThreadCpu): string {
  return `ms main / ${t.worker_side} ms worker side / ${t.helpers} ms V8 and libuv helpers`;
}

let built = false;
/** dist/ compiled as `npm run build` does, once per bench run (the phases that start the compiled bot share it). */
export function buildBot(ctx: BenchContext): void {
  if (built) return;
  ctx.log("building the bot as npm start does (npm run build)");
  const build = buildCompiledBot();
  // Type errors in files others are editing still emit JavaScript: say so, and measure what was emitted.
  if (!build.ok) ctx.log(`build reported errors (JavaScript emitted anyway):\n${build.output.split("\n").slice(0, 5).join("\n")}`);
  built = true;
}

export async function throughputPhase(ctx: BenchContext): Promise<{ figures: Figure[]; detail: Record<string, unknown> }> {
  const count = ctx.quick ? 2000 : 20_000;
  const steadyCount = STEADY_RATE * (ctx.quick ? 3 : 10);
  buildBot(ctx);

  const sim = await startMattermostSim();
  const floorPrefix = uniquePrefix("bench-floor");
  const botPrefix = uniquePrefix("bench-throughput");
  try {
    const env = botEnv({ prefix: botPrefix, dir: ctx.dir, mattermostUrl: sim.url, botToken: sim.botToken });
    // The settings npm start would have: the log level too.
    delete env.LOG_LEVEL;
    const botChannel = await subscribedChannel(sim, env.DATABASE_URL!, PROJECT_PATH, "merges");
    const floorChannel = sim.addChannel({ name: "bench-floor", team_id: botChannel.team_id });

    const floorTarget = await startFloor(ctx, sim, floorChannel, floorPrefix);
    let floor: PipelineRun;
    try {
      floor = await measure(ctx, "floor", floorTarget, sim, floorChannel, count, steadyCount);
    } finally {
      await floorTarget.stop();
    }
    const botTarget = await startCompiledBot(ctx, env);
    let bot: PipelineRun;
    try {
      bot = await measure(ctx, "bot", botTarget, sim, botChannel, count, steadyCount);
    } finally {
      await botTarget.stop();
    }

    const ratio = round(bot.events_per_s / floor.events_per_s, 2);
    const allOnce = bot.posted_once === count && bot.steady.posted_once === steadyCount && bot.posted_total === WARM_UP + count + steadyCount;
    const figures: Figure[] = [
      { name: "throughput floor events/s", value: floor.events_per_s, unit: `events/s (${floor.cpu_ms_per_event} ms CPU/event)` },
      { name: "throughput bot events/s", value: bot.events_per_s, unit: `events/s (${bot.cpu_ms_per_event} ms CPU/event)` },
      { name: "throughput CPU/event by thread, floor", value: floor.cpu_ms_per_event_by_thread.main, unit: byThread(floor.cpu_ms_per_event_by_thread) },
      { name: "throughput CPU/event by thread, bot", value: bot.cpu_ms_per_event_by_thread.main, unit: byThread(bot.cpu_ms_per_event_by_thread) },
      { name: "throughput ratio bot / floor", value: ratio, unit: "", target: ">= 0.8", meets: ratio >= 0.8 },
      { name: "throughput every event posted once (bot)", value: bot.posted_once, unit: `of ${count}, ${bot.posted_total} posts in all`, target: "all, once", meets: allOnce },
      { name: "throughput answers p50 / p99 floor", value: floor.answer_ms.p50!, unit: `ms / ${floor.answer_ms.p99} ms` },
      { name: "throughput answers p50 / p99 bot", value: bot.answer_ms.p50!, unit: `ms / ${bot.answer_ms.p99} ms` },
      { name: `answers p99 at ${STEADY_RATE}/s while draining, floor`, value: floor.steady.answer_ms.p99!, unit: `ms (generator lag p99 ${floor.steady.generator_lag_p99_ms} ms)` },
      { name: `answers p99 at ${STEADY_RATE}/s while draining, bot`, value: bot.steady.answer_ms.p99!, unit: `ms (generator lag p99 ${bot.steady.generator_lag_p99_ms} ms)`, target: "<= 20 ms", meets: bot.steady.answer_ms.p99! <= 20 },
    ];
    return { figures, detail: { connections: CONNECTIONS, warm_up_events: WARM_UP, floor, bot, ratio, simulator_violations: sim.violations.slice(0, 20) } };
  } finally {
    await sim.close();
    await dropPrefix(floorPrefix);
    await dropPrefix(botPrefix);
  }
}
