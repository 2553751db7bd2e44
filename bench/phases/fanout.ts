// 5. Fan-out: one merge-request webhook to a project that N channels subscribe to, through the
// compiled bot as `npm start` runs it, until every channel has its post. Twice: against a simulator
// without a rate limit (target: all posted within 2 s), and with Mattermost's rate limit on (10/s,
// burst 100): how many 429s the bot drew, and whether every channel still got its post exactly once.
import type { SimRateLimit } from "../../test/support/mattermost-sim.js";
import { migrateToLatest, openDatabase } from "../../src/store/db.js";
import { upsertSubscription } from "../../src/store/subscriptions.js";
import { benchStage, webhookHeaders } from "../lib/bot-setup.js";
import type { BenchContext, Figure } from "../lib/context.js";
import { distinctMergeRequests, MR_EVENT_HEADER, PROJECT_PATH } from "../lib/payload.js";
import { round } from "../lib/stats.js";
import { buildBot, startCompiledBot } from "./throughput.js";

/** Mattermost's defaults (ServiceSettings RateLimitSettings). */
const MATTERMOST_RATE_LIMIT: SimRateLimit = { perSecond: 10, burst: 100 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface FanOutRun {
  channels: number;
  rate_limit: SimRateLimit | null;
  answer_status: number;
  /** From sending the webhook to the last channel's post (simulator's clock, same machine). */
  seconds_to_last_post: number;
  posted_once: number;
  posted_twice_or_more: number;
  missing: number;
  post_requests: number;
  rate_limited_429: number;
  /** 429s per post made: a bot that paces itself keeps this small. */
  share_429: number;
  simulator_violations: string[];
}

async function fanOut(ctx: BenchContext, channels: number, rateLimit: SimRateLimit | undefined, waitMs: number): Promise<FanOutRun> {
  const stage = await benchStage(ctx.dir, `fanout-${rateLimit ? "limited" : "free"}`, rateLimit);
  const { sim, prefix, env } = stage;
  try {
    const team = sim.addTeam("fanout");
    const admin = sim.addUser({ username: "fanoutadmin", roles: "system_user system_admin" });
    const ids = new Set<string>();
    const { db } = openDatabase(env.DATABASE_URL);
    try {
      await migrateToLatest(db);
      for (let i = 0; i < channels; i++) {
        const channel = sim.addChannel({ name: `fanout-${i}`, team_id: team.id });
        ids.add(channel.id);
        await upsertSubscription(db, { channelId: channel.id, teamId: team.id, path: PROJECT_PATH, features: "merges", createdBy: admin.id, kind: "project", visibility: "public" });
      }
    } finally {
      await db.destroy();
    }
    const bot = await startCompiledBot(ctx, env);
    try {
      // What the bot spent at start-up (signing in) is not the fan-out's.
      sim.requests.length = 0;
      const body = distinctMergeRequests().body(0);
      ctx.log(`fanout: one webhook to ${channels} channels${rateLimit ? `, Mattermost rate limit ${rateLimit.perSecond}/s burst ${rateLimit.burst}` : ", no rate limit"}`);
      const t0 = Date.now();
      const answer = await fetch(`${bot.url}/webhooks/gitlab`, { method: "POST", headers: { ...webhookHeaders(MR_EVENT_HEADER), "idempotency-key": `fanout-${prefix}` }, body });
      await answer.arrayBuffer();
      const deadline = Date.now() + waitMs;
      let scanned = 0;
      const reached = new Set<string>();
      while (reached.size < channels && Date.now() < deadline) {
        await sleep(50);
        for (; scanned < sim.requests.length; scanned++) {
          const r = sim.requests[scanned]!;
          if (r.method === "POST" && r.path === "/api/v4/posts" && r.status === 201) reached.add((r.body as { channel_id: string }).channel_id);
        }
      }
      // Posts arriving after the last one counted as reached would be duplicates: give them a moment.
      await sleep(1000);
      const counts = new Map<string, number>();
      let last = 0;
      for (const p of sim.posts()) {
        if (!ids.has(p.channel_id)) continue;
        counts.set(p.channel_id, (counts.get(p.channel_id) ?? 0) + 1);
        last = Math.max(last, p.create_at);
      }
      const limited = sim.requests.filter((r) => r.status === 429).length;
      const postRequests = sim.requests.filter((r) => r.method === "POST" && r.path === "/api/v4/posts").length;
      const once = [...counts.values()].filter((n) => n === 1).length;
      return {
        channels,
        rate_limit: rateLimit ?? null,
        answer_status: answer.status,
        seconds_to_last_post: round((last - t0) / 1000, 2),
        posted_once: once,
        posted_twice_or_more: [...counts.values()].filter((n) => n > 1).length,
        missing: channels - counts.size,
        post_requests: postRequests,
        rate_limited_429: limited,
        share_429: round(limited / Math.max(1, counts.size), 3),
        simulator_violations: sim.violations.slice(0, 20),
      };
    } finally {
      await bot.stop();
    }
  } finally {
    await stage.close();
  }
}

export async function fanoutPhase(ctx: BenchContext): Promise<{ figures: Figure[]; detail: Record<string, unknown> }> {
  const channels = ctx.quick ? 200 : 1000;
  buildBot(ctx);
  const free = await fanOut(ctx, channels, undefined, 60_000);
  // At 10/s after a burst of 100, N posts take (N - 100) / 10 s at the least.
  const limited = await fanOut(ctx, channels, MATTERMOST_RATE_LIMIT, ((channels - MATTERMOST_RATE_LIMIT.burst) / MATTERMOST_RATE_LIMIT.perSecond) * 1000 * 3 + 60_000);
  const least = round(Math.max(0, channels - MATTERMOST_RATE_LIMIT.burst) / MATTERMOST_RATE_LIMIT.perSecond, 1);
  const figures: Figure[] = [
    {
      name: `fan-out to ${channels} channels, no rate limit`,
      value: free.seconds_to_last_post,
      unit: `s to the last post (${free.posted_once} posted once, ${free.missing} missing)`,
      target: "<= 2 s",
      meets: free.seconds_to_last_post <= 2 && free.posted_once === channels,
    },
    {
      name: `fan-out to ${channels}, limit ${MATTERMOST_RATE_LIMIT.perSecond}/s burst ${MATTERMOST_RATE_LIMIT.burst}`,
      value: limited.seconds_to_last_post,
      unit: `s (at least ${least} s; ${limited.posted_once} posted once, ${limited.missing} missing)`,
    },
    {
      name: `fan-out 429s drawn under the rate limit`,
      value: limited.rate_limited_429,
      unit: `(${limited.share_429} per post)`,
      target: "small, all once",
      // No storm: fewer refusals than a tenth of the posts, and every channel posted exactly once.
      meets: limited.share_429 <= 0.1 && limited.posted_once === channels,
    },
  ];
  return { figures, detail: { without_rate_limit: free, with_rate_limit: limited } };
}
