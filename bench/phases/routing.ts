// 6. Routing over many subscriptions: the events worker's lookup (findSubscriptionsForPaths over the
// event's path and its ancestor groups, then routeToChannels) timed directly against a real database
// holding N subscriptions: SQLite (a file, as the bot keeps it) and PostgreSQL when one answers.
import { performance } from "node:perf_hooks";
import type { Notification } from "../../src/notification.js";
import { ancestorPaths, routeToChannels } from "../../src/routing/router.js";
import { migrateToLatest, openDatabase, type Db } from "../../src/store/db.js";
import { findSubscriptionsForPaths, upsertSubscription } from "../../src/store/subscriptions.js";
import { createTestDatabase, postgresAvailable } from "../../test/support/db.js";
import type { BenchContext, Figure } from "../lib/context.js";
import { round, summarize } from "../lib/stats.js";
import { mapRound } from "./ingress.js";

const GROUPS = 1000;
/** Channels subscribed to each project, and to each group (the rest of the subscriptions). */
const CHANNELS_PER_PROJECT = 9;
const CHANNELS_PER_GROUP = 10;
/** Concurrent writes while filling (PostgreSQL answers them on its pool). */
const FILL_CONCURRENCY = 8;

/** N subscriptions: projects g<k>/p<i> with 9 channels each, their groups with 10 each. */
function layout(total: number): { projects: string[]; rows: { channel: string; path: string }[] } {
  const groups = Math.min(GROUPS, Math.max(1, Math.floor(total / 100)));
  const groupRows = groups * CHANNELS_PER_GROUP;
  const projectCount = Math.floor((total - groupRows) / CHANNELS_PER_PROJECT);
  const projects = Array.from({ length: projectCount }, (_, i) => `g${i % groups}/p${i}`);
  const rows: { channel: string; path: string }[] = [];
  for (let g = 0; g < groups; g++) for (let c = 0; c < CHANNELS_PER_GROUP; c++) rows.push({ channel: `group-channel-${g}-${c}`, path: `g${g}` });
  for (const p of projects) for (let c = 0; c < CHANNELS_PER_PROJECT; c++) rows.push({ channel: `project-channel-${p}-${c}`, path: p });
  return { projects, rows };
}

async function fill(db: Db, rows: { channel: string; path: string }[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: FILL_CONCURRENCY }, async () => {
      while (next < rows.length) {
        const row = rows[next++]!;
        await upsertSubscription(db, { channelId: row.channel, teamId: "bench-team", path: row.path, features: "merges,pushes", createdBy: "bench-user", kind: "project", visibility: "public" });
      }
    }),
  );
}

async function timeLookups(db: Db, projects: string[], events: number) {
  const times: number[] = [];
  let targets = 0;
  for (let i = 0; i < events; i++) {
    // A spread of projects, the same for both databases.
    const path = projects[(i * 7919) % projects.length]!;
    const n: Notification = {
      feature: "merges",
      projectPath: path,
      eventKey: `bench/${i}`,
      labels: [],
      confidential: false,
      render: () => {
        throw new Error("routing does not render");
      },
    };
    const started = performance.now();
    const candidates = await findSubscriptionsForPaths(db, ancestorPaths(n.projectPath));
    targets += routeToChannels(n, candidates).length;
    times.push(performance.now() - started);
  }
  return { times, targets };
}

export async function routingPhase(ctx: BenchContext): Promise<{ figures: Figure[]; detail: Record<string, unknown> }> {
  const total = ctx.quick ? 10_000 : 100_000;
  const events = ctx.quick ? 500 : 5000;
  const { projects, rows } = layout(total);
  const kinds: ("sqlite" | "postgres")[] = postgresAvailable ? ["sqlite", "postgres"] : ["sqlite"];
  const figures: Figure[] = [];
  const detail: Record<string, unknown> = { subscriptions: rows.length, projects: projects.length, events, targets_per_event: CHANNELS_PER_PROJECT + CHANNELS_PER_GROUP };
  for (const kind of kinds) {
    const store =
      kind === "sqlite"
        ? await (async () => {
            const { db } = openDatabase(`sqlite:${ctx.dir}/routing.sqlite`);
            await migrateToLatest(db);
            return { db, drop: () => db.destroy() };
          })()
        : await createTestDatabase("postgres");
    try {
      ctx.log(`routing: filling ${kind} with ${rows.length} subscriptions`);
      const fillStarted = Date.now();
      await fill(store.db, rows);
      const fillSeconds = round((Date.now() - fillStarted) / 1000, 1);
      ctx.log(`routing: ${kind}: ${events} lookups (after ${Math.min(events, 200)} to warm up)`);
      await timeLookups(store.db, projects, Math.min(events, 200));
      const { times, targets } = await timeLookups(store.db, projects, events);
      const s = summarize(times);
      figures.push({
        name: `routing lookup over ${rows.length} subscriptions, ${kind}`,
        value: round(s.mean, 3),
        unit: `ms per event mean (p50 ${round(s.p50, 3)}, p99 ${round(s.p99, 3)} ms)`,
        target: "<= 1 ms",
        meets: s.mean <= 1,
      });
      detail[kind] = { fill_seconds: fillSeconds, lookup_ms: mapRound({ ...s }), targets_per_event: round(targets / events, 1) };
    } finally {
      await store.drop();
    }
  }
  return { figures, detail };
}
