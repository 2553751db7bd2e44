// A stream of distinct merge-request webhooks (each one post in the subscribed channel), what the bot
// answered to each, and the count of posts per webhook in the simulator: sent / posted once / lost /
// duplicated. A webhook nobody answered (the process was down: connection refused or reset) is sent
// again with the same Idempotency-Key, as GitLab sends a delivery again; a webhook the bot answered,
// whatever the status, is not (the design promises an answered webhook is never lost).
import { Redis } from "ioredis";
import { webhookIntake } from "../../src/queue/intake.js";
import { openQueues } from "../../src/queue/queues.js";
import type { MattermostSim } from "../../test/support/mattermost-sim.js";
import { webhookHeaders } from "../lib/bot-setup.js";
import { paced } from "../lib/paced.js";
import { distinctMergeRequests, MR_EVENT_HEADER } from "../lib/payload.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const headers = webhookHeaders(MR_EVENT_HEADER);

export interface Stream {
  count: number;
  /** Last answer to each webhook sent: an HTTP status, or undefined when none came. */
  answers: Map<number, number | undefined>;
  /** Webhooks sent again because no answer came (each counted once per resend). */
  resent: number;
  send(o: { url: string; rate: number; indices: number[] }): Promise<void>;
  /** Sends every unanswered webhook again until each is answered or `ms` pass. */
  resendUnanswered(url: () => string, ms: number): Promise<void>;
  tally(sim: MattermostSim, channelId: string): Tally;
}

export interface Tally {
  sent: number;
  postedOnce: number;
  /** Answered by the bot, never posted. */
  lost: number;
  /** Posted more than once. */
  duplicated: number;
  /** Never answered (even after sending again) and never posted: GitLab would show it failed. */
  unanswered: number;
  /** Answers by status ("none" for no answer). */
  statuses: Record<string, number>;
  resent: number;
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, k) => from + k);
}

export function newStream(name: string, count: number): Stream {
  const events = distinctMergeRequests();
  const answers = new Map<number, number | undefined>();
  const send: Stream["send"] = async ({ url, rate, indices }) => {
    if (indices.length === 0) return;
    await paced({
      url: `${url}/webhooks/gitlab`,
      rate,
      count: indices.length,
      body: (j) => events.body(indices[j]!),
      headers: (j) => ({ ...headers, "idempotency-key": `${name}-${indices[j]}` }),
      onAnswer: (j, status) => answers.set(indices[j]!, status),
    });
  };
  const stream: Stream = {
    count,
    answers,
    resent: 0,
    send,
    async resendUnanswered(url, ms) {
      const deadline = Date.now() + ms;
      for (;;) {
        const unanswered = range(0, count).filter((i) => answers.has(i) && answers.get(i) === undefined);
        if (unanswered.length === 0 || Date.now() > deadline) return;
        stream.resent += unanswered.length;
        await send({ url: url(), rate: 200, indices: unanswered });
        await sleep(250);
      }
    },
    tally(sim, channelId) {
      const posts = new Map<number, number>();
      for (const p of sim.posts(channelId)) {
        const i = events.indexOfPost(p);
        if (i !== undefined) posts.set(i, (posts.get(i) ?? 0) + 1);
      }
      const t: Tally = { sent: count, postedOnce: 0, lost: 0, duplicated: 0, unanswered: 0, statuses: {}, resent: stream.resent };
      for (let i = 0; i < count; i++) {
        const n = posts.get(i) ?? 0;
        const status = answers.get(i);
        const key = status === undefined ? "none" : String(status);
        t.statuses[key] = (t.statuses[key] ?? 0) + 1;
        if (n === 1) t.postedOnce++;
        else if (n > 1) t.duplicated++;
        else if (status === undefined) t.unanswered++;
        else t.lost++;
      }
      return t;
    },
  };
  return stream;
}

export function tallyLine(name: string, t: Tally): string {
  return `${name}: sent ${t.sent} / posted once ${t.postedOnce} / lost ${t.lost} / duplicated ${t.duplicated}`;
}

export function answersLine(t: Tally): string {
  const statuses = Object.entries(t.statuses)
    .map(([status, n]) => `${status} x ${n}`)
    .join(", ");
  return `last answers ${statuses}; ${t.resent} sends again after no answer${t.unanswered ? `; ${t.unanswered} never answered nor posted` : ""}`;
}

/**
 * Waits until the bot's intake and queues hold no webhook or job waiting, active or delayed (checked twice, a second apart)
 * and no new post has come for `quietMs` (a webhook held outside the queues, e.g. in a spool, still
 * has to arrive), or every webhook is posted, or `ms` pass. Returns the jobs left and those failed for good.
 */
export async function drain(
  redisUrl: string,
  prefix: string,
  o: { ms: number; posted: () => number; expected: number; quietMs?: number },
): Promise<{ drained: boolean; pending: number; failed: number }> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const queues = openQueues(redis, prefix);
  const intake = webhookIntake(redis, prefix);
  const deadline = Date.now() + o.ms;
  const quietMs = o.quietMs ?? 15_000;
  const count = async () => {
    const { waiting, held } = await intake.counts();
    let pending = waiting + held;
    let failed = 0;
    for (const q of [queues.events, queues.deliveries]) {
      const c = await q.getJobCounts("wait", "active", "delayed", "prioritized", "waiting-children", "failed");
      pending += (c.wait ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0) + (c["waiting-children"] ?? 0);
      failed += c.failed ?? 0;
    }
    return { pending, failed };
  };
  try {
    let quietChecks = 0;
    let posted = o.posted();
    let lastPostAt = Date.now();
    for (;;) {
      const c = await count().catch(() => ({ pending: Number.NaN, failed: Number.NaN }));
      quietChecks = c.pending === 0 ? quietChecks + 1 : 0;
      const now = o.posted();
      if (now !== posted) [posted, lastPostAt] = [now, Date.now()];
      const settled = quietChecks >= 2 && (posted >= o.expected || Date.now() - lastPostAt >= quietMs);
      if (settled || Date.now() > deadline) return { drained: settled, ...c };
      await sleep(1000);
    }
  } finally {
    await Promise.all([queues.events.close(), queues.deliveries.close()]);
    redis.disconnect();
  }
}
