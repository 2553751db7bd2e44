// The store calls the worker makes for each merge-request event and its post, run in one process on a
// SQLite file (as the bot opens it), for one or more copies of src/store/ side by side, in alternating
// blocks so that the load of the shared cores falls on each alike. Prints µs per call (wall time: the
// calls are synchronous underneath, and reading the CPU clock per call would cost more than a µs) and
// µs of CPU per event (process.cpuUsage over each block).
//
//   npx tsx bench/experiments/store-hot-path.ts [--events=2000] [--rounds=5] <store dir> [<store dir> ...]
//
// e.g. a copy of HEAD's store beside the working tree's (the copy needs node_modules beside it):
//   mkdir -p /tmp/before && git archive HEAD src/store | tar -x -C /tmp/before && ln -s "$PWD/node_modules" /tmp/before/
//   npx tsx bench/experiments/store-hot-path.ts /tmp/before/src/store src/store
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type * as DbModule from "../../src/store/db.js";
import type * as Deliveries from "../../src/store/deliveries.js";
import type * as Branches from "../../src/store/merge-request-branches.js";
import type * as People from "../../src/store/merge-request-people.js";
import type * as RefStatuses from "../../src/store/ref-statuses.js";
import type * as Subscriptions from "../../src/store/subscriptions.js";
import type * as ThreadRoots from "../../src/store/thread-roots.js";
import type * as UserLinks from "../../src/store/user-links.js";
import type * as UserSettings from "../../src/store/user-settings.js";

type Store = typeof DbModule &
  typeof Deliveries &
  typeof Branches &
  typeof People &
  typeof RefStatuses &
  typeof Subscriptions &
  typeof ThreadRoots &
  typeof UserLinks &
  typeof UserSettings;

const MODULES = ["db", "deliveries", "merge-request-branches", "merge-request-people", "ref-statuses", "subscriptions", "thread-roots", "user-links", "user-settings"];

async function loadStore(dir: string): Promise<Store> {
  const parts = await Promise.all(MODULES.map((m) => import(pathToFileURL(join(resolve(dir), `${m}.ts`)).href) as Promise<object>));
  return Object.assign({}, ...parts) as Store;
}

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => Number(args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const eventsPerBlock = option("events", 2000);
const rounds = option("rounds", 5);
const dirs = args.filter((a) => !a.startsWith("--"));
if (dirs.length === 0) throw new Error("name at least one store directory, e.g. src/store");

/** µs spent in each store function, summed over a block. */
type Tally = Map<string, number>;

async function timed<T>(tally: Tally, name: string, call: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await call();
  tally.set(name, (tally.get(name) ?? 0) + (performance.now() - start) * 1000);
  return result;
}

const PROJECT = "bench-group/sub/project";
const ANCESTORS = ["bench-group", "bench-group/sub", PROJECT];
const CHANNEL = "channel-0";

async function seed(store: Store, db: DbModule.Db): Promise<void> {
  // Other projects' subscriptions and people, so that the reads go through their indexes as in the bot.
  for (let i = 0; i < 1000; i++) {
    await store.upsertSubscription(db, { channelId: `channel-${i % 50}`, path: i === 0 ? PROJECT : `group-${i}/project`, features: "merge_requests", createdBy: "bench" });
  }
  for (let i = 0; i < 200; i++) {
    await store.saveUserLink(db, { mattermostUserId: `mm-${i}`, gitlabUserId: i, gitlabUsername: `user${i}`, accessTokenEnc: "x", refreshTokenEnc: "y", expiresAt: 0 });
    await store.updateUserSettings(db, `mm-${i}`, { digest: "off" });
  }
}

/** One merge-request event: routing, what it remembers, the people it concerns, its post and thread root, a later update of that root. */
async function event(store: Store, db: DbModule.Db, n: number, tally: Tally): Promise<void> {
  const at = Date.now();
  const threadKey = `${PROJECT}!${n}`;
  const job = `job-${n}`;
  const state = JSON.stringify({ state: "opened", iid: n });
  await timed(tally, "findSubscriptionsForPaths", () => store.findSubscriptionsForPaths(db, ANCESTORS));
  await timed(tally, "saveOpenMergeRequest", () => store.saveOpenMergeRequest(db, PROJECT, `branch-${n}`, n));
  await timed(tally, "findOpenMergeRequest", () => store.findOpenMergeRequest(db, PROJECT, `branch-${n}`));
  const people = { authorId: n % 200, assigneeIds: [(n + 1) % 200], reviewerIds: [(n + 2) % 200, (n + 3) % 200] };
  await timed(tally, "saveMergeRequestPeople", () => store.saveMergeRequestPeople(db, threadKey, people, new Date(at).toISOString()));
  await timed(tally, "findMergeRequestPeople", () => store.findMergeRequestPeople(db, threadKey));
  await timed(tally, "findUserLinksByGitlabIds", () => store.findUserLinksByGitlabIds(db, [people.authorId, ...people.assigneeIds, ...people.reviewerIds]));
  await timed(tally, "findUserLinksByUsernames", () => store.findUserLinksByUsernames(db, [`user${n % 200}`]));
  await timed(tally, "getUserSettingsMany", () => store.getUserSettingsMany(db, [`mm-${(n + 1) % 200}`, `mm-${(n + 2) % 200}`, `mm-${(n + 3) % 200}`]));
  await timed(tally, "recordRefStatus", () => store.recordRefStatus(db, PROJECT, `branch-${n % 20}`, n, n % 3 === 0 ? "failed" : "success"));
  await timed(tally, "startDelivery", () => store.startDelivery(db, job, CHANNEL, at));
  await timed(tally, "claimThreadRoot", () => store.claimThreadRoot(db, CHANNEL, threadKey, { state, at, staleAfterMs: 60_000 }));
  await timed(tally, "completeThreadRoot", () => store.completeThreadRoot(db, CHANNEL, threadKey, state, `post-${n}`));
  await timed(tally, "markDeliveryDone", () => store.markDeliveryDone(db, job, `post-${n}`));
  await timed(tally, "markDeliveryStarted", () => store.markDeliveryStarted(db, `${job}-update`, CHANNEL, at));
  await timed(tally, "findThreadRoot", () => store.findThreadRoot(db, CHANNEL, threadKey));
  const stored = await timed(tally, "findRootState", () => store.findRootState(db, CHANNEL, threadKey));
  await timed(tally, "replaceRootState", () => store.replaceRootState(db, CHANNEL, threadKey, stored ?? "", JSON.stringify({ state: "merged", iid: n })));
}

const scratch = mkdtempSync(join(tmpdir(), "store-hot-path-"));
try {
  const variants = await Promise.all(
    dirs.map(async (dir, i) => {
      const store = await loadStore(dir);
      const { db } = store.openDatabase(`sqlite:${join(scratch, `variant-${i}.sqlite`)}`);
      await store.migrateToLatest(db);
      await seed(store, db);
      return { dir, store, db, blocks: [] as Tally[], cpu: [] as number[] };
    }),
  );
  let next = 0;
  // Warm-up: every query compiled and every function optimised before the blocks that count.
  for (const v of variants) for (let i = 0; i < 300; i++) await event(v.store, v.db, next++, new Map());
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      const tally: Tally = new Map();
      const start = process.cpuUsage();
      for (let i = 0; i < eventsPerBlock; i++) await event(v.store, v.db, next++, tally);
      const used = process.cpuUsage(start);
      v.cpu.push((used.user + used.system) / eventsPerBlock);
      v.blocks.push(tally);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

  const names = [...variants[0]!.blocks[0]!.keys()];
  console.log(`${eventsPerBlock} events x ${rounds} blocks per store; µs per call (wall), median of blocks (load average ${loadavg().map((l) => l.toFixed(2)).join(" ")})`);
  console.log(["function".padEnd(28), ...variants.map((v) => v.dir.slice(-28).padStart(30))].join(""));
  for (const name of names) {
    console.log([name.padEnd(28), ...variants.map((v) => median(v.blocks.map((t) => (t.get(name) ?? 0) / eventsPerBlock)).toFixed(1).padStart(30))].join(""));
  }
  console.log(["CPU µs per event (median)".padEnd(28), ...variants.map((v) => median(v.cpu).toFixed(1).padStart(30))].join(""));
  console.log(["CPU µs per event (blocks)".padEnd(28), ...variants.map((v) => v.cpu.map((c) => c.toFixed(0)).join(" ").padStart(30))].join(""));
  for (const v of variants.slice(1)) {
    // Blocks of the same round ran back to back, under about the same load: their ratio is the steadier figure.
    const ratios = v.cpu.map((c, round) => c / variants[0]!.cpu[round]!);
    console.log(`${v.dir} / ${variants[0]!.dir}, CPU per event, by round: ${ratios.map((r) => r.toFixed(2)).join(" ")} (median ${median(ratios).toFixed(2)})`);
  }
  for (const v of variants) await v.db.destroy();
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
