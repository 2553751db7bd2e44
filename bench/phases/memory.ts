// 3. Memory: RSS of the bot process (a child, role all against the simulator) while and after it
// takes N distinct webhooks, sent by autocannon as fast as the bot acknowledges them.
import autocannon from "autocannon";
import { join } from "node:path";
import { startMattermostSim } from "../../test/support/mattermost-sim.js";
import { dropPrefix, uniquePrefix } from "../../test/support/redis.js";
import { botEnv, subscribedChannel, webhookHeaders } from "../lib/bot-setup.js";
import { startChild } from "../lib/child.js";
import { cpuMeter } from "../lib/cpu.js";
import type { BenchContext, Figure } from "../lib/context.js";
import { distinctMergeRequests, MR_EVENT_HEADER, PROJECT_PATH } from "../lib/payload.js";
import { mb, round } from "../lib/stats.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function memoryPhase(ctx: BenchContext): Promise<{ figures: Figure[]; detail: Record<string, unknown> }> {
  const count = ctx.quick ? 5000 : 50_000;
  // The full 50,000 take longer to post than the bench may run (~5 min); RSS is read at the end either way.
  const drainMs = 60_000;
  const connections = 20;
  const events = distinctMergeRequests();
  const headers = webhookHeaders(MR_EVENT_HEADER);

  const sim = await startMattermostSim();
  const prefix = uniquePrefix("bench-memory");
  let bot: Awaited<ReturnType<typeof startChild>> | undefined;
  let sampling = true;
  try {
    const env = botEnv({ prefix, dir: ctx.dir, mattermostUrl: sim.url, botToken: sim.botToken });
    const channel = await subscribedChannel(sim, env.DATABASE_URL!, PROJECT_PATH, "merges");
    bot = await startChild({
      mode: "bot",
      role: "all",
      env,
      logFile: join(ctx.dir, "bot-memory.log"),
      nodeFlags: ctx.nodeFlags,
      compiled: ctx.compiled,
    });
    const child = bot;
    const idle = await child.memory(true);
    await child.stats();
    const meter = await cpuMeter();

    let peak = idle.rss;
    const samples: { t: number; rss_mb: number; posts: number }[] = [];
    const t0 = Date.now();
    let posted = 0;
    const sampler = (async () => {
      while (sampling) {
        const m = await child.memory().catch(() => undefined);
        if (m) {
          peak = Math.max(peak, m.rss);
          samples.push({ t: round((Date.now() - t0) / 1000, 1), rss_mb: mb(m.rss), posts: posted });
        }
        await sleep(1000);
      }
    })();

    ctx.log(`memory: ${count} webhooks (autocannon, ${connections} connections, as fast as acknowledged) to the bot (role all)`);
    let n = 0;
    const sent = await autocannon({
      url: `${child.url}/webhooks/gitlab`,
      connections,
      amount: count,
      timeout: 30,
      requests: [
        {
          method: "POST",
          path: "/webhooks/gitlab",
          headers,
          setupRequest: (req) => {
            const i = n++;
            return { ...req, body: events.body(i), headers: { ...req.headers, "idempotency-key": `memory-${i}` } };
          },
        },
      ],
    });
    const sendSeconds = (Date.now() - t0) / 1000;
    const afterSend = await child.memory();
    ctx.log(`memory: sent in ${round(sendSeconds)} s; waiting up to ${drainMs / 1000} s for the posts`);

    const deadline = Date.now() + drainMs;
    for (;;) {
      posted = sim.posts(channel.id).length;
      sim.requests.length = 0; // the simulator's request log is the load generator's memory, not the bot's
      if (posted >= count || Date.now() > deadline) break;
      await sleep(1000);
    }
    const drainSeconds = (Date.now() - t0) / 1000;
    sampling = false;
    await sampler;
    const process = await child.stats();
    const others = await meter();
    const afterDrain = await child.memory();
    const afterGc = await child.memory(true);

    const figures: Figure[] = [
      { name: `bot RSS idle (after start)`, value: mb(idle.rss), unit: "MB" },
      { name: `bot RSS peak during ${count} webhooks`, value: mb(peak), unit: "MB", target: "<= 200 MB", meets: peak <= 200 * 1024 * 1024 },
      {
        name: posted >= count ? `bot RSS after ${count} webhooks, all posted` : `bot RSS after ${count} webhooks (${posted} posted)`,
        value: mb(afterDrain.rss),
        unit: "MB",
        target: "<= 200 MB",
        meets: afterDrain.rss <= 200 * 1024 * 1024,
      },
      { name: `posts made of ${count} (role all, ${round(posted / drainSeconds)} posts/s)`, value: posted, unit: "posts" },
    ];
    return {
      figures,
      detail: {
        webhooks: count,
        role: "all (against the Mattermost simulator)",
        connections,
        send_seconds: round(sendSeconds, 1),
        send_req_per_s: round(sent.requests.average),
        send_non2xx: sent.non2xx,
        send_errors: sent.errors + sent.timeouts,
        ack_p50_ms: sent.latency.p50,
        ack_p99_ms: sent.latency.p99,
        posted,
        drained: posted >= count,
        seconds_to_last_post: round(drainSeconds, 1),
        pipeline_posts_per_s: round(posted / drainSeconds, 1),
        rss_mb: {
          idle: mb(idle.rss),
          peak: mb(peak),
          after_send: mb(afterSend.rss),
          after_drain: mb(afterDrain.rss),
          after_drain_gc: mb(afterGc.rss),
        },
        heap_used_mb: { idle: mb(idle.heapUsed), after_send: mb(afterSend.heapUsed), after_drain: mb(afterDrain.heapUsed), after_drain_gc: mb(afterGc.heapUsed) },
        bot_cpu_ms_per_webhook: round((process.cpu_user_ms + process.cpu_system_ms) / count, 2),
        bot_process: process,
        cpu_ms: { bot: process.cpu_user_ms + process.cpu_system_ms, ...others, wall: process.wall_ms },
        memory_usage_mb: Object.fromEntries(
          Object.entries({ idle, afterSend, afterDrain, afterGc }).map(([k, u]) => [k, Object.fromEntries(Object.entries(u).map(([f, v]) => [f, mb(v)]))]),
        ),
        samples,
        simulator_violations: sim.violations.length,
      },
    };
  } finally {
    sampling = false;
    await bot?.stop();
    await sim.close();
    await dropPrefix(prefix);
  }
}
