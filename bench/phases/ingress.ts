// 1. Ingress: a ~10 KB merge-request body POSTed by autocannon to a bare Hono route, to one that also
// adds the BullMQ job (what the bot cannot do without), and to the bot's POST /webhooks/gitlab (role
// web, so no worker competes); then the bot at a fixed 500 req/s. With --diagnose, also the web-stream
// body read (see bot-process.ts).
import autocannon, { type Options, type Result } from "autocannon";
import { join } from "node:path";
import { dropPrefix, uniquePrefix } from "../../test/support/redis.js";
import type { ChildMode, ProcessStats } from "../bot-process.js";
import { botEnv, webhookHeaders } from "../lib/bot-setup.js";
import { startChild, type ChildHandle } from "../lib/child.js";
import { cpuMeter } from "../lib/cpu.js";
import type { BenchContext, Figure } from "../lib/context.js";
import { paced } from "../lib/paced.js";
import { MR_EVENT_HEADER, paddedMergeRequest } from "../lib/payload.js";
import { round, summarize } from "../lib/stats.js";

const CONNECTIONS = 50;
const FIXED_RATE = 500;

interface CannonFigures {
  reqPerSec: number;
  p50: number;
  p99: number;
  max: number;
  total: number;
  non2xx: number;
  errors: number;
  /** CPU the server process spent per request (user + system). */
  cpuMsPerRequest: number;
  server: ProcessStats;
  /** CPU of the load generator and of Redis during the run. */
  others?: { generator_ms: number; redis_ms: number };
}

function figuresOf(r: Result, server: ProcessStats, others?: CannonFigures["others"]): CannonFigures {
  return {
    reqPerSec: round(r.requests.average),
    p50: r.latency.p50,
    p99: r.latency.p99,
    max: r.latency.max,
    total: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    cpuMsPerRequest: round((server.cpu_user_ms + server.cpu_system_ms) / Math.max(1, r.requests.total), 3),
    server,
    others,
  };
}

export function mapRound(s: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, round(v, 2)]));
}

export async function ingressPhase(ctx: BenchContext): Promise<{ figures: Figure[]; detail: Record<string, unknown> }> {
  const warm = ctx.quick ? 1 : 2;
  const duration = ctx.quick ? 3 : 10;
  const body = paddedMergeRequest();
  const headers = webhookHeaders(MR_EVENT_HEADER);
  let n = 0;
  const run = Date.now().toString(36);
  const key = () => `bench-${run}-${n++}`;

  const cannon = (url: string, seconds: number, extra: Partial<Options> = {}) =>
    autocannon({
      url: `${url}/webhooks/gitlab`,
      connections: CONNECTIONS,
      duration: seconds,
      requests: [
        {
          method: "POST",
          path: "/webhooks/gitlab",
          headers,
          body,
          // A new Idempotency-Key per request: each one is a new delivery that the bot really enqueues.
          setupRequest: (req) => ({ ...req, headers: { ...req.headers, "idempotency-key": key() } }),
        },
      ],
      ...extra,
    });

  const saturate = async (child: ChildHandle, what: string, seconds = duration) => {
    ctx.log(`ingress: ${what}: ${warm} s warm-up, ${seconds} s at ${CONNECTIONS} connections`);
    await cannon(child.url, warm);
    await child.stats();
    const meter = await cpuMeter();
    const r = await cannon(child.url, seconds);
    return figuresOf(r, await child.stats(), await meter());
  };

  const withChild = async <T>(mode: ChildMode, use: (child: ChildHandle) => Promise<T>, bot = false): Promise<T> => {
    const prefix = uniquePrefix(`bench-ingress-${mode}`);
    const child = await startChild({
      mode,
      role: bot ? "web" : undefined,
      env: botEnv({ prefix, dir: ctx.dir, mattermostUrl: "http://127.0.0.1:9", botToken: "unused-web-role" }),
      logFile: join(ctx.dir, `ingress-${mode}.log`),
      nodeFlags: bot ? ctx.nodeFlags : [],
      compiled: ctx.compiled,
    });
    try {
      return await use(child);
    } finally {
      await child.stop();
      await dropPrefix(prefix);
    }
  };

  const bare = await withChild("bare", (c) => saturate(c, "bare Hono route"));
  // The fair baseline: the bot must read and parse each body, so the target compares with a route that does too.
  const readParse = await withChild("bare-node", (c) => saturate(c, "bare Hono route reading and parsing the body"));

  // The floor of any route that queues the webhook: read, parse, BullMQ add; the bot's ratio to it is its own overhead.
  const bullmqAdd = await withChild("bare-bullmq", (c) => saturate(c, "bare Hono route reading, parsing and adding the BullMQ job"));

  const diagnostics: Partial<Record<ChildMode, CannonFigures>> = {};
  if (ctx.diagnose) diagnostics["bare-web"] = await withChild("bare-web", (c) => saturate(c, "bare-web", Math.min(duration, 5)));

  const bot = await withChild(
    "bot",
    async (child) => {
      // The fixed rates first, while the queue is short (role web: nothing takes the jobs). A running
      // bot has taken many webhooks before: a saturating warm-up first, so V8 has optimized the route.
      ctx.log(`ingress: bot at an even ${FIXED_RATE} req/s (open loop) for ${duration} s, after ${warm} s at ${CONNECTIONS} connections`);
      const openLoop = (count: number) =>
        paced({ url: `${child.url}/webhooks/gitlab`, rate: FIXED_RATE, count, body: () => body, headers: () => ({ ...headers, "idempotency-key": key() }) });
      await cannon(child.url, warm);
      await openLoop(FIXED_RATE * warm);
      await child.stats();
      const r = await openLoop(FIXED_RATE * duration);
      const openStats = await child.stats();
      const open = summarize(r.latencies);

      ctx.log(`ingress: bot at autocannon overallRate ${FIXED_RATE} for ${duration} s`);
      const fixed = figuresOf(await cannon(child.url, duration, { overallRate: FIXED_RATE, ignoreCoordinatedOmission: true }), await child.stats());

      const saturated = await saturate(child, "bot POST /webhooks/gitlab (role web)");
      return {
        saturated,
        fixed,
        open,
        openDetail: {
          ...mapRound({ ...open }),
          generator_lag_p99_ms: round(summarize(r.lag).p99, 2),
          statuses: { ...r.statuses, ...(r.errors ? { errors: r.errors } : {}) },
          cpu_ms_per_request: round((openStats.cpu_user_ms + openStats.cpu_system_ms) / (FIXED_RATE * duration), 3),
          server: openStats,
        },
      };
    },
    true,
  );

  const ratio = round(bot.saturated.reqPerSec / bare.reqPerSec, 2);
  const ratioReadParse = round(bot.saturated.reqPerSec / readParse.reqPerSec, 2);
  const ratioBullmqAdd = round(bot.saturated.reqPerSec / bullmqAdd.reqPerSec, 2);
  // Others' work on the shared cores moves req/s far more than CPU per request.
  const cpuRatioReadParse = round(readParse.cpuMsPerRequest / Math.max(0.001, bot.saturated.cpuMsPerRequest), 2);
  const redisMsPerRequest = (f: CannonFigures) => round((f.others?.redis_ms ?? 0) / Math.max(1, f.total), 3);
  const figures: Figure[] = [
    { name: "ingress bare Hono req/s", value: bare.reqPerSec, unit: "req/s" },
    { name: "ingress bare Hono p50 / p99", value: bare.p50, unit: `ms / ${bare.p99} ms` },
    { name: "ingress read+parse Hono req/s", value: readParse.reqPerSec, unit: `req/s, p50 ${readParse.p50} ms / p99 ${readParse.p99} ms` },
    { name: "ingress read+parse+BullMQ add Hono req/s", value: bullmqAdd.reqPerSec, unit: `req/s, ${bullmqAdd.cpuMsPerRequest} ms CPU/req, Redis ${redisMsPerRequest(bullmqAdd)} ms/req` },
    { name: "ingress bot req/s", value: bot.saturated.reqPerSec, unit: "req/s" },
    { name: "ingress bot p50 / p99", value: bot.saturated.p50, unit: `ms / ${bot.saturated.p99} ms` },
    { name: "ingress ratio bot / bare", value: ratio, unit: "", target: ">= 0.8", meets: ratio >= 0.8 },
    { name: "ingress ratio bot / read+parse route", value: ratioReadParse, unit: "", target: ">= 0.8", meets: ratioReadParse >= 0.8 },
    { name: "ingress ratio bot / read+parse+BullMQ add route", value: ratioBullmqAdd, unit: "" },
    { name: "ingress CPU per request, read+parse route / bot", value: cpuRatioReadParse, unit: "(the ratio's steadier proxy)" },
    { name: "ingress bot CPU per webhook (saturated)", value: bot.saturated.cpuMsPerRequest, unit: `ms, Redis ${redisMsPerRequest(bot.saturated)} ms` },
    ...Object.entries(diagnostics).map(([mode, f]) => ({ name: `ingress ${mode} req/s (diagnose)`, value: f.reqPerSec, unit: `req/s, ${f.cpuMsPerRequest} ms CPU/req` })),
    { name: `ack p50 at ${FIXED_RATE} req/s (even, open loop)`, value: round(bot.open.p50, 2), unit: "ms" },
    { name: `ack p99 at ${FIXED_RATE} req/s (even, open loop)`, value: round(bot.open.p99, 2), unit: "ms", target: "<= 20 ms", meets: bot.open.p99 <= 20 },
    { name: `ack p50 / p99 at autocannon overallRate ${FIXED_RATE}`, value: bot.fixed.p50, unit: `ms / ${bot.fixed.p99} ms (bursty)` },
  ];
  return {
    figures,
    detail: {
      body_bytes: body.length,
      connections: CONNECTIONS,
      warmup_s: warm,
      duration_s: duration,
      bare,
      read_parse: readParse,
      read_parse_bullmq_add: bullmqAdd,
      bot: bot.saturated,
      ratio,
      ratio_read_parse: ratioReadParse,
      ratio_bullmq_add: ratioBullmqAdd,
      cpu_ratio_read_parse: cpuRatioReadParse,
      diagnostics,
      bot_open_loop_500: bot.openDetail,
      bot_autocannon_overall_rate_500: bot.fixed,
    },
  };
}
