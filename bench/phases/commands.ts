// 7. Local slash commands: `/gitlab help`, `/gitlab subscriptions list` and `/gitlab settings` (the
// bot answers them from its database, without GitLab) sent to the compiled bot as `npm start` runs
// it, at an even rate (open loop, answer times from the scheduled send): p99 against the target.
import { benchStage, COMMAND_TOKEN, subscribedChannel } from "../lib/bot-setup.js";
import type { BenchContext, Figure } from "../lib/context.js";
import { paced } from "../lib/paced.js";
import { PROJECT_PATH } from "../lib/payload.js";
import { round, summarize } from "../lib/stats.js";
import { mapRound } from "./ingress.js";
import { buildBot, startCompiledBot } from "./throughput.js";

const RATE = 50;
const TEXTS = ["help", "subscriptions list", "settings"];

export async function commandsPhase(ctx: BenchContext): Promise<{ figures: Figure[]; detail: Record<string, unknown> }> {
  const seconds = ctx.quick ? 5 : 30;
  buildBot(ctx);
  const stage = await benchStage(ctx.dir, "commands");
  const { sim, env } = stage;
  try {
    const channel = await subscribedChannel(sim, env.DATABASE_URL, PROJECT_PATH, "merges");
    const person = sim.addUser({ username: "benchperson" });
    sim.addMember(channel.id, person.id, { admin: true });
    const form = (i: number) =>
      new URLSearchParams({
        token: COMMAND_TOKEN,
        team_id: channel.team_id,
        team_domain: "bench",
        channel_id: channel.id,
        channel_name: channel.name,
        user_id: person.id,
        user_name: person.username,
        command: "/gitlab",
        text: TEXTS[i % TEXTS.length]!,
        response_url: sim.commandResponseUrl(),
        trigger_id: `bench-${i}`,
      }).toString();
    const headers = () => ({ "content-type": "application/x-www-form-urlencoded" });
    const bot = await startCompiledBot(ctx, env);
    try {
      // Each command once, to see that it is answered (not refused) before timing it.
      const samples: Record<string, string> = {};
      for (let i = 0; i < TEXTS.length; i++) {
        const res = await fetch(`${bot.url}/mattermost/command`, { method: "POST", headers: headers(), body: form(i) });
        const reply = (await res.json()) as { text?: string };
        samples[TEXTS[i]!] = `${res.status}: ${(reply.text ?? "").slice(0, 120)}`;
        if (res.status !== 200 || !reply.text) throw new Error(`/gitlab ${TEXTS[i]} was not answered: ${samples[TEXTS[i]!]}`);
      }
      ctx.log(`commands: ${TEXTS.map((t) => `/gitlab ${t}`).join(", ")} in turn at an even ${RATE}/s for 2 s warm-up + ${seconds} s`);
      const url = `${bot.url}/mattermost/command`;
      await paced({ url, rate: RATE, count: RATE * 2, body: form, headers });
      const r = await paced({ url, rate: RATE, count: RATE * seconds, first: RATE * 2, body: form, headers });
      const s = summarize(r.latencies);
      const figures: Figure[] = [
        {
          name: `/gitlab local commands at ${RATE}/s, p99`,
          value: round(s.p99, 2),
          unit: `ms (p50 ${round(s.p50, 2)} ms, max ${round(s.max, 1)} ms; ${r.statuses["200"] ?? 0} of ${RATE * seconds} answered 200)`,
          target: "<= 50 ms",
          meets: s.p99 <= 50 && r.statuses["200"] === RATE * seconds,
        },
      ];
      return {
        figures,
        detail: {
          rate: RATE,
          commands: RATE * seconds,
          texts: TEXTS,
          answer_ms: mapRound({ ...s }),
          service_ms: mapRound({ ...summarize(r.service) }),
          generator_lag_p99_ms: round(summarize(r.lag).p99, 2),
          statuses: { ...r.statuses, ...(r.errors ? { errors: r.errors } : {}) },
          sample_answers: samples,
          simulator_violations: sim.violations.slice(0, 20),
        },
      };
    } finally {
      await bot.stop();
    }
  } finally {
    await stage.close();
  }
}
