// 2. Webhook-to-post: the whole bot (role all) against the Mattermost simulator, one channel
// subscribed; N distinct "open" merge-request events at an even rate. Latency per event is the
// simulator's create_at of its post (Date.now() when the create was handled) minus the send time.
import { join } from "node:path";
import { startMattermostSim } from "../../test/support/mattermost-sim.js";
import { dropPrefix, uniquePrefix } from "../../test/support/redis.js";
import { botEnv, subscribedChannel, webhookHeaders } from "../lib/bot-setup.js";
import { stageBreakdown } from "../lib/breakdown.js";
import { startChild } from "../lib/child.js";
import { cpuMeter } from "../lib/cpu.js";
import type { BenchContext, Figure } from "../lib/context.js";
import { paced } from "../lib/paced.js";
import { distinctMergeRequests, MR_EVENT_HEADER, PROJECT_PATH } from "../lib/payload.js";
import { round, summarize } from "../lib/stats.js";
import { mapRound } from "./ingress.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function latencyPhase(ctx: BenchContext): Promise<{ figures: Figure[]; detail: Record<string, unknown> }> {
  const count = ctx.quick ? 500 : 2000;
  const rate = 200;
  const warmCount = 100;
  const events = distinctMergeRequests();
  const headers = webhookHeaders(MR_EVENT_HEADER);
  const sentAt = new Map<number, number>();

  const sim = await startMattermostSim();
  const prefix = uniquePrefix("bench-latency");
  let bot: Awaited<ReturnType<typeof startChild>> | undefined;
  try {
    const env = botEnv({ prefix, dir: ctx.dir, mattermostUrl: sim.url, botToken: sim.botToken });
    const channel = await subscribedChannel(sim, env.DATABASE_URL!, PROJECT_PATH, "merges");
    bot = await startChild({
      mode: "bot",
      role: "all",
      env,
      logFile: join(ctx.dir, "bot-latency.log"),
      nodeFlags: ctx.nodeFlags,
      compiled: ctx.compiled,
    });
    const send = (first: number, n: number) =>
      paced({
        url: `${bot!.url}/webhooks/gitlab`,
        rate,
        count: n,
        first,
        body: (i) => events.body(i),
        headers: (i) => ({ ...headers, "idempotency-key": `latency-${i}` }),
        onSend: (i, at) => sentAt.set(i, at),
      });
    const waitPosts = async (n: number, ms: number) => {
      const deadline = Date.now() + ms;
      while (sim.posts(channel.id).length < n && Date.now() < deadline) await sleep(100);
      return sim.posts(channel.id);
    };

    ctx.log(`latency: ${warmCount} warm-up events, then ${count} events at ${rate}/s through the whole bot`);
    await send(0, warmCount);
    await waitPosts(warmCount, 20_000);
    await bot.stats();
    const meter = await cpuMeter();
    const acks = await send(warmCount, count);
    const posts = await waitPosts(warmCount + count, 30_000);
    const process = await bot.stats();
    const others = await meter();

    const latencies: number[] = [];
    const postedAt = new Map<number, number>();
    for (const p of posts) {
      const i = events.indexOfPost(p);
      if (i === undefined || i < warmCount || postedAt.has(i)) continue;
      postedAt.set(i, p.create_at);
      latencies.push(p.create_at - sentAt.get(i)!);
    }
    const stages = await stageBreakdown(prefix, { key: (i) => `latency-${i}`, indexOf: events.indexOf, sentAt, postedAt });
    const s = summarize(latencies);
    const ack = summarize(acks.service);
    const violations = sim.violations.length;
    const figures: Figure[] = [
      { name: "webhook-to-post p50", value: round(s.p50, 1), unit: "ms", target: "<= 30 ms", meets: s.p50 <= 30 },
      { name: "webhook-to-post p99", value: round(s.p99, 1), unit: "ms", target: "<= 100 ms", meets: s.p99 <= 100 },
      { name: "webhook-to-post events posted", value: s.count, unit: `of ${count}`, target: `= ${count}`, meets: s.count === count },
    ];
    return {
      figures,
      detail: {
        events: count,
        rate_per_s: rate,
        warmup_events: warmCount,
        role: "all",
        posted: s.count,
        webhook_to_post_ms: mapRound({ ...s }),
        ack_ms_during_run: mapRound({ ...ack }),
        ack_statuses: acks.statuses,
        stages_ms_last_1000: stages.stages,
        events_wait_series_s_ms: stages.eventsWaitSeries,
        bot_cpu_ms_per_event: round((process.cpu_user_ms + process.cpu_system_ms) / count, 2),
        bot_process: process,
        cpu_ms: { bot: process.cpu_user_ms + process.cpu_system_ms, ...others, wall: process.wall_ms },
        simulator_violations: violations,
      },
    };
  } finally {
    await bot?.stop();
    await sim.close();
    await dropPrefix(prefix);
  }
}
