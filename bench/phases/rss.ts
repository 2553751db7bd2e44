// 8. Memory of the bot as `npm start` runs it (role all: one process, the HTTP side in its main thread
// and the workers in a worker thread; with the node flags of the "start" script): the sum of the VmRSS
// (Linux /proc) of its processes while and after it takes N distinct webhooks, sent by autocannon as
// fast as they are acknowledged, with the default WEBHOOK_MAX_BYTES.
import autocannon from "autocannon";
import { readFileSync } from "node:fs";
import { benchStage, subscribedChannel, webhookHeaders } from "../lib/bot-setup.js";
import type { BenchContext, Figure } from "../lib/context.js";
import { distinctMergeRequests, MR_EVENT_HEADER, PROJECT_PATH } from "../lib/payload.js";
import { mb, round } from "../lib/stats.js";
import { buildBot, startCompiledBot } from "./throughput.js";

const LIMIT = 200 * 1024 * 1024;
const CONNECTIONS = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resident set of one process in bytes (0 when it is gone). */
function rssOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const at = status.indexOf("VmRSS:");
    return at < 0 ? 0 : Number.parseInt(status.slice(at + "VmRSS:".length).trim(), 10) * 1024;
  } catch {
    return 0;
  }
}

export async function rssPhase(ctx: BenchContext): Promise<{ figures: Figure[]; detail: Record<string, unknown> }> {
  const count = ctx.quick ? 5000 : 50_000;
  const drainMs = ctx.quick ? 60_000 : 10 * 60_000;
  buildBot(ctx);
  const stage = await benchStage(ctx.dir, "rss");
  const { sim, prefix, env } = stage;
  try {
    const channel = await subscribedChannel(sim, env.DATABASE_URL, PROJECT_PATH, "merges");
    const bot = await startCompiledBot(ctx, env);
    let sampling = true;
    try {
      const processes = bot.pids();
      if (processes.length > 1) ctx.log(`rss: ${processes.length} processes (${processes.join(", ")}): their RSS is summed`);
      const read = () => processes.map(rssOf);
      const idle = read();
      let peak = 0;
      let peakEach = idle;
      let posted = 0;
      const t0 = Date.now();
      const samples: { t: number; rss_mb: number[]; posts: number }[] = [];
      const sampler = (async () => {
        while (sampling) {
          const each = read();
          const sum = each.reduce((a, b) => a + b, 0);
          if (sum > peak) {
            peak = sum;
            peakEach = each;
          }
          samples.push({ t: round((Date.now() - t0) / 1000, 1), rss_mb: each.map(mb), posts: posted });
          await sleep(250);
        }
      })();

      const events = distinctMergeRequests();
      let n = 0;
      ctx.log(`rss: ${count} webhooks (autocannon, ${CONNECTIONS} connections) to the compiled bot (node ${bot.nodeFlags.join(" ")} dist/src/main.js, process ${processes[0]})`);
      const sent = await autocannon({
        url: `${bot.url}/webhooks/gitlab`,
        connections: CONNECTIONS,
        amount: count,
        timeout: 30,
        requests: [
          {
            method: "POST",
            path: "/webhooks/gitlab",
            headers: webhookHeaders(MR_EVENT_HEADER),
            setupRequest: (req) => {
              const i = n++;
              return { ...req, body: events.body(i), headers: { ...req.headers, "idempotency-key": `rss-${prefix}-${i}` } };
            },
          },
        ],
      });
      const afterSend = read();
      ctx.log(`rss: sent in ${round((Date.now() - t0) / 1000)} s; waiting up to ${drainMs / 1000} s for the posts`);
      const deadline = Date.now() + drainMs;
      for (;;) {
        posted = sim.posts(channel.id).length;
        // The simulator's request log is the load generator's memory, not the bot's.
        sim.requests.length = 0;
        if (posted >= count || Date.now() > deadline) break;
        await sleep(1000);
      }
      const drainSeconds = round((Date.now() - t0) / 1000, 1);
      sampling = false;
      await sampler;
      const after = read();
      const sum = (each: number[]) => each.reduce((a, b) => a + b, 0);
      const allPosted = posted >= count;
      const figures: Figure[] = [
        { name: "RSS idle, the bot's processes", value: mb(sum(idle)), unit: `MB (${idle.map(mb).join(" + ")})` },
        { name: `RSS peak during ${count} webhooks`, value: mb(peak), unit: `MB (${peakEach.map(mb).join(" + ")})`, target: "<= 200 MB", meets: peak <= LIMIT },
        {
          name: allPosted ? `RSS after ${count} webhooks, all posted` : `RSS after ${count} webhooks (${posted} posted)`,
          value: mb(sum(after)),
          unit: `MB (${after.map(mb).join(" + ")})`,
          target: "<= 200 MB",
          meets: sum(after) <= LIMIT,
        },
      ];
      return {
        figures,
        detail: {
          webhooks: count,
          role: "all (npm start: HTTP side and worker thread in one process), compiled",
          node_flags: bot.nodeFlags,
          processes,
          connections: CONNECTIONS,
          send_req_per_s: round(sent.requests.average),
          send_non2xx: sent.non2xx,
          send_errors: sent.errors + sent.timeouts,
          posted,
          seconds_to_last_post: drainSeconds,
          rss_mb: { idle: idle.map(mb), after_send: afterSend.map(mb), peak: peakEach.map(mb), after: after.map(mb) },
          samples: samples.filter((_, i) => i % 4 === 0),
          simulator_violations: sim.violations.slice(0, 20),
        },
      };
    } finally {
      sampling = false;
      await bot.stop();
    }
  } finally {
    await stage.close();
  }
}
