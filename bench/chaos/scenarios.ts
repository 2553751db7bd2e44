// The chaos scenarios. Each builds its own world (Redis of its own, Mattermost simulator, database,
// compiled bot), breaks one thing while a stream of webhooks runs, and reports what reached the channel.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createTestDatabase, postgresAvailable } from "../../test/support/db.js";
import { fixture } from "../../test/support/fixtures.js";
import { startMattermostSim, type MattermostSim, type SimChannel } from "../../test/support/mattermost-sim.js";
import { botEnv, subscribedChannel, webhookHeaders } from "../lib/bot-setup.js";
import { PROJECT_PATH } from "../lib/payload.js";
import { round, summarize } from "../lib/stats.js";
import { pollHealthz } from "./healthz-poller.js";
import { botProcess, compiledCli, compiledMain, errorLines, startRedis, type BotProcess, type OwnRedis } from "./processes.js";
import { answersLine, drain, newStream, range, tallyLine, type Stream } from "./stream.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ChaosContext {
  quick: boolean;
  /** Temp directory of the run; each scenario works in a folder of it. */
  dir: string;
  log(line: string): void;
}

export interface Outcome {
  /** The `scenario: sent N / posted once N / lost N / duplicated N` line. */
  line: string;
  /** Further measured figures, one per line. */
  details: string[];
  ok: boolean;
}

/** What the delivery queue's backoff starts from when DELIVERY_RETRY_BASE_MS is not set (src/queue/queues.ts). */
const DEFAULT_RETRY_BASE_MS = 2000;
const PREFIX = "chaos";

interface World {
  dir: string;
  redis: OwnRedis;
  sim: MattermostSim;
  channel: SimChannel;
  env: Record<string, string>;
  bot(name?: string, extraEnv?: Record<string, string>): Promise<BotProcess>;
}

async function withWorld(ctx: ChaosContext, name: string, o: { postgres?: boolean }, run: (w: World) => Promise<Outcome>): Promise<Outcome> {
  const dir = join(ctx.dir, name);
  mkdirSync(dir, { recursive: true });
  const redis = await startRedis(dir);
  const sim = await startMattermostSim();
  const database = o.postgres ? await createTestDatabase("postgres") : undefined;
  const bots: BotProcess[] = [];
  try {
    const env: Record<string, string> = { ...botEnv({ prefix: PREFIX, dir, mattermostUrl: sim.url, botToken: sim.botToken }), REDIS_URL: redis.url };
    if (database) env.DATABASE_URL = database.url;
    const channel = await subscribedChannel(sim, env.DATABASE_URL!, PROJECT_PATH, "merges");
    const world: World = {
      dir,
      redis,
      sim,
      channel,
      env,
      async bot(botName = "bot", extraEnv = {}) {
        const bot = await botProcess({ env: { ...env, ...extraEnv }, logFile: join(dir, `${botName}.log`), cwd: dir });
        bots.push(bot);
        return bot;
      },
    };
    const outcome = await run(world);
    const errors = bots.flatMap((b) => errorLines(b.logFile));
    if (errors.length) outcome.details.push(`${errors.length} error-level log lines, first: ${errors[0]!.slice(0, 300)}`);
    if (sim.violations.length) outcome.details.push(`${sim.violations.length} requests Mattermost would refuse, first: ${sim.violations[0]!.slice(0, 300)}`);
    return outcome;
  } finally {
    await Promise.allSettled(bots.map((b) => b.kill()));
    await sim.close();
    await redis.close();
    if (database) {
      await database.drop().catch((error: Error) => ctx.log(`${name}: dropping its PostgreSQL database failed: ${error.message}`));
    }
  }
}

/** Drain settings: the posts of the stream's webhooks in the subscribed channel are the progress. */
function settle(w: World, stream: Stream, ms: number) {
  return { ms, expected: stream.count, posted: () => w.sim.posts(w.channel.id).length };
}

/** Restarts a bot that exited on its own (as systemd's Restart=always would) and counts the exits. */
function supervise(bot: BotProcess): { crashes: () => number; stop(): Promise<void> } {
  let crashes = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      if (!bot.running()) {
        crashes++;
        await bot.start().catch(() => sleep(1000));
      }
      await sleep(250);
    }
  })();
  return {
    crashes: () => crashes,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

function finish(name: string, stream: Stream, w: World, extra: string[], ok = true, drained?: Awaited<ReturnType<typeof drain>>): Outcome {
  const t = stream.tally(w.sim, w.channel.id);
  const details = [answersLine(t), ...extra];
  if (drained && !drained.drained) details.push(`queues not drained: ${drained.pending} jobs still pending`);
  if (drained?.failed) details.push(`${drained.failed} jobs failed for good (gitlab-mm queue retry-failed would replay them)`);
  return { line: tallyLine(name, t), details, ok: ok && t.lost === 0 && t.duplicated === 0 };
}

export async function sigkill(ctx: ChaosContext): Promise<Outcome> {
  const count = ctx.quick ? 500 : 5000;
  const rate = 100;
  return withWorld(ctx, "sigkill", {}, async (w) => {
    const bot = await w.bot();
    await bot.start();
    const stream = newStream("sigkill", count);
    let streaming = true;
    const restarts: number[] = [];
    const killer = (async () => {
      while (streaming) {
        await sleep(2000);
        if (!streaming) break;
        await bot.kill();
        const t0 = performance.now();
        await bot.start();
        restarts.push(performance.now() - t0);
      }
    })();
    ctx.log(`sigkill: ${count} webhooks at ${rate}/s, the bot killed with SIGKILL every 2 s and started again`);
    await stream.send({ url: bot.url, rate, indices: range(0, count) });
    streaming = false;
    await killer;
    await stream.resendUnanswered(() => bot.url, 60_000);
    const drained = await drain(w.redis.url, PREFIX, settle(w, stream, 180_000));
    const r = summarize(restarts);
    return finish("sigkill", stream, w, [`${restarts.length} kills; start-up to /readyz p50 ${round(r.p50, 0)} ms, max ${round(r.max, 0)} ms`], true, drained);
  });
}

export async function redisOutage(ctx: ChaosContext): Promise<Outcome> {
  const count = ctx.quick ? 600 : 3000;
  const rate = 50;
  const outageMs = ctx.quick ? 5000 : 30_000;
  return withWorld(ctx, "redis-outage", {}, async (w) => {
    const bot = await w.bot();
    await bot.start();
    const supervisor = supervise(bot);
    const stream = newStream("redis-outage", count);
    const startAt = ((count / rate) * 1000 - outageMs) / 2;
    ctx.log(`redis-outage: ${count} webhooks at ${rate}/s; Redis shut down after ${round(startAt / 1000, 0)} s for ${outageMs / 1000} s`);
    const outage = (async () => {
      await sleep(startAt);
      await w.redis.shutdown();
      await sleep(outageMs);
      await w.redis.restart();
    })();
    await stream.send({ url: bot.url, rate, indices: range(0, count) });
    await outage;
    await stream.resendUnanswered(() => bot.url, 60_000);
    const drained = await drain(w.redis.url, PREFIX, settle(w, stream, 180_000));
    await supervisor.stop();
    const refused = [...stream.answers.values()].filter((s) => s !== undefined && (s < 200 || s > 299)).length;
    return finish("redis-outage", stream, w, [`${refused} webhooks answered with an error while Redis was down; bot exits ${supervisor.crashes()}`], true, drained);
  });
}

export async function mattermostOutage(ctx: ChaosContext): Promise<Outcome> {
  const count = ctx.quick ? 300 : 1500;
  const rate = 50;
  // Ten minutes of 503 in `realMs`: the backoff base shrinks by the same factor.
  const realMs = ctx.quick ? 5000 : 20_000;
  const retryBaseMs = Math.max(1, Math.round((DEFAULT_RETRY_BASE_MS * realMs) / 600_000));
  const storms = ctx.quick ? 2 : 3;
  const stormMs = ctx.quick ? 1000 : 3000;
  const knowsSetting = readFileSync(compiledMain.replace(/main\.js$/, "config.js"), "utf8").includes("DELIVERY_RETRY_BASE_MS");
  return withWorld(ctx, "mattermost-outage", {}, async (w) => {
    const bot = await w.bot("bot", { DELIVERY_RETRY_BASE_MS: String(retryBaseMs) });
    await bot.start();
    const supervisor = supervise(bot);
    const stream = newStream("mattermost-outage", count);
    ctx.log(`mattermost-outage: ${count} webhooks at ${rate}/s; Mattermost answers 503 for ${realMs / 1000} s (10 min at DELIVERY_RETRY_BASE_MS=${retryBaseMs}), then ${storms} 429 storms, then healthy`);
    const timeline = (async () => {
      await sleep(2000);
      w.sim.failNext({ status: 503, times: Number.MAX_SAFE_INTEGER });
      await sleep(realMs);
      w.sim.clearFailures();
      for (let s = 0; s < storms; s++) {
        w.sim.failNext({ status: 429, retryAfterSeconds: 1, times: Number.MAX_SAFE_INTEGER });
        await sleep(stormMs);
        w.sim.clearFailures();
        await sleep(2000);
      }
    })();
    await stream.send({ url: bot.url, rate, indices: range(0, count) });
    await timeline;
    await stream.resendUnanswered(() => bot.url, 60_000);
    const drained = await drain(w.redis.url, PREFIX, settle(w, stream, 240_000));
    await supervisor.stop();
    const statuses = new Map<number, number>();
    for (const r of w.sim.requests) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    const simAnswers = [...statuses].map(([s, n]) => `${s} x ${n}`).join(", ");
    const extra = [`Mattermost answered ${simAnswers}; bot exits ${supervisor.crashes()}`];
    if (!knowsSetting) extra.push(`the compiled bot does not read DELIVERY_RETRY_BASE_MS yet: backoff ran at its ${DEFAULT_RETRY_BASE_MS} ms base, so the outage was about ${round((realMs / 600_000) * 10, 1)} min of its time`);
    return finish("mattermost-outage", stream, w, extra, true, drained);
  });
}

export async function twoProcesses(ctx: ChaosContext): Promise<Outcome> {
  const count = ctx.quick ? 400 : 3000;
  const rate = 100;
  if (!postgresAvailable) {
    return { line: "two-processes: skipped: no PostgreSQL answers at DATABASE_URL_PG (default 127.0.0.1:5432)", details: [], ok: false };
  }
  return withWorld(ctx, "two-processes", { postgres: true }, async (w) => {
    const [a, b] = [await w.bot("bot-a"), await w.bot("bot-b")];
    await Promise.all([a.start(), b.start()]);
    const supervisors = [supervise(a), supervise(b)];
    const stream = newStream("two-processes", count);
    ctx.log(`two-processes: ${count} webhooks at ${rate}/s spread over two bots (ROLE=all) on one Redis and one PostgreSQL`);
    const all = range(0, count);
    await Promise.all([
      stream.send({ url: a.url, rate: rate / 2, indices: all.filter((i) => i % 2 === 0) }),
      stream.send({ url: b.url, rate: rate / 2, indices: all.filter((i) => i % 2 === 1) }),
    ]);
    await stream.resendUnanswered(() => a.url, 60_000);
    const drained = await drain(w.redis.url, PREFIX, settle(w, stream, 180_000));
    await Promise.all(supervisors.map((s) => s.stop()));
    return finish("two-processes", stream, w, [`bot exits ${supervisors.reduce((n, s) => n + s.crashes(), 0)}`], true, drained);
  });
}

/** The `gitlab-mm subscriptions add` of the compiled CLI, against the world's database. */
function cliSubscribe(w: World, channelId: string, path: string, features: string): void {
  const r = spawnSync(process.execPath, [compiledCli, "subscriptions", "add", "--channel", channelId, path, features], {
    cwd: w.dir,
    env: { PATH: process.env.PATH ?? "", DATABASE_URL: w.env.DATABASE_URL, REDIS_URL: w.env.REDIS_URL, LOG_LEVEL: "warn" },
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`gitlab-mm subscriptions add ${path} "${features}" failed: ${`${r.stdout}${r.stderr}`.trim()}`);
}

export const PATHOLOGICAL_GLOB = "*a*a*a*a*a*a*a*a*a*b";
const HEALTHZ_LIMIT_MS = 100;

export async function hostile(ctx: ChaosContext): Promise<Outcome> {
  const count = ctx.quick ? 300 : 1500;
  const rate = 50;
  return withWorld(ctx, "hostile", {}, async (w) => {
    // Private, so the subscription gets events of private projects too.
    const hostileChannel = w.sim.addChannel({ name: "hostile", type: "P", team_id: w.channel.team_id });
    const comment = fixture<{ project: { path_with_namespace: string }; object_attributes: { note: string; id: number } }>("note_merge_request.json");
    comment.object_attributes.note = `@x${"`".repeat(5000)}`;
    comment.object_attributes.id = 777_001;
    const push = fixture<{ project: { path_with_namespace: string }; ref: string; after: string; checkout_sha: string }>("push.json");
    push.ref = `refs/heads/${"a".repeat(5000)}`;
    cliSubscribe(w, hostileChannel.id, comment.project.path_with_namespace, "merge_request_comments");
    cliSubscribe(w, hostileChannel.id, push.project.path_with_namespace, `pushes branch:${PATHOLOGICAL_GLOB}`);

    const bot = await w.bot();
    await bot.start();
    const stream = newStream("hostile", count);
    const polls: { at: number; took: number }[] = [];
    let hung = false;
    let lastAnswer = Date.now();
    const poller = pollHealthz(bot.url, (p) => {
      polls.push(p);
      if (p.ok) lastAnswer = Date.now();
      else if (Date.now() - lastAnswer > 10_000 && bot.running() && !hung) {
        // The bot stopped answering altogether: kill it so the stream's requests end.
        hung = true;
        void bot.kill();
      }
    });
    const sendOne = async (body: unknown, event: string, key: string) =>
      fetch(`${bot.url}/webhooks/gitlab`, {
        method: "POST",
        headers: { ...webhookHeaders(event), "idempotency-key": key },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      }).then(
        (r) => String(r.status),
        (e: Error) => e.name,
      );
    ctx.log(`hostile: ${count} webhooks at ${rate}/s; a comment of @x and 5,000 backticks, and a push of a 5,000-character branch to a subscription with branch:${PATHOLOGICAL_GLOB}; /healthz polled every 50 ms`);
    const hostileAt = { comment: 3000, push: 6000 };
    const hostileSends = (async () => {
      await sleep(hostileAt.comment);
      const commentAnswer = await sendOne(comment, "Note Hook", "hostile-comment");
      await sleep(hostileAt.push - hostileAt.comment);
      const pushAnswer = await sendOne(push, "Push Hook", "hostile-push");
      return { commentAnswer, pushAnswer };
    })();
    await stream.send({ url: bot.url, rate, indices: range(0, count) });
    const answers = await hostileSends;
    const drained = hung ? undefined : await drain(w.redis.url, PREFIX, settle(w, stream, 120_000));
    await poller.stop();
    const s = summarize(polls.map((p) => p.took));
    const before = summarize(polls.filter((p) => p.at < hostileAt.comment).map((p) => p.took));
    const slow = polls.filter((p) => p.took > HEALTHZ_LIMIT_MS);
    const healthy = s.max <= HEALTHZ_LIMIT_MS && !hung;
    return finish(
      "hostile",
      stream,
      w,
      [
        `healthz: max ${round(s.max, 1)} ms, p99 ${round(s.p99, 1)} ms over ${s.count} polls; ${slow.length} over ${HEALTHZ_LIMIT_MS} ms${hung ? "; the bot stopped answering and was killed" : ""} -> ${healthy ? "ok" : "FAIL"}`,
        `healthz before the hostile webhooks: max ${round(before.max, 1)} ms; first answer over ${HEALTHZ_LIMIT_MS} ms at ${slow.length ? `${round(slow[0]!.at / 1000, 2)} s` : "-"} (comment sent at ${hostileAt.comment / 1000} s, push at ${hostileAt.push / 1000} s)`,
        `hostile webhooks answered: comment ${answers.commentAnswer}, push ${answers.pushAnswer}; posts in the hostile channel: ${w.sim.posts(hostileChannel.id).length} (expected 1: the comment; the branch does not match the glob)`,
      ],
      healthy,
      drained,
    );
  });
}

export const SCENARIOS = {
  sigkill,
  "redis-outage": redisOutage,
  "mattermost-outage": mattermostOutage,
  "two-processes": twoProcesses,
  hostile,
} satisfies Record<string, (ctx: ChaosContext) => Promise<Outcome>>;
