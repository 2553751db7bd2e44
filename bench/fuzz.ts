// `npm run fuzz [-- --quick] [-- --count N] [-- --seed N] [-- --no-build] [-- --keep]`: mutations of
// every fixture in test/fixtures/gitlab-webhooks/ sent through POST /webhooks/gitlab of the compiled bot
// (a Redis of its own, the Mattermost simulator, two private channels subscribed to every feature, one
// in English and one in Simplified Chinese). Findings: a 5xx answer, an
// error-level line in the bot's log, a post Mattermost would refuse, a handler that throws anything but
// PayloadError, and posts (as posted, and as rendered in both languages) that bench/fuzz-check.ts
// rejects. Each finding's input is shrunk to the edits that matter and written under
// bench/results/fuzz-findings/. Exit 1 on any finding. Not part of `npm test`.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { notificationsFor, PayloadError } from "../handlers/index.js";
import { LOCALES } from "../src/config.js";
import { FEATURES, type PostContent } from "../src/notification.js";
import { deliveryIdFor, deliveryJobId } from "../src/queue/jobs.js";
import { DELIVERY_PROP } from "../src/queue/delivery-worker.js";
import { migrateToLatest, openDatabase } from "../src/store/db.js";
import { upsertSubscription } from "../src/store/subscriptions.js";
import { fixture, fixtureIndex } from "../test/support/fixtures.js";
import { startMattermostSim } from "../test/support/mattermost-sim.js";
import { botProcess, buildBot, errorLines, startRedis } from "./chaos/processes.js";
import { drain } from "./chaos/stream.js";
import { payloadHosts, checkPost, type PostFinding } from "./fuzz-check.js";
import { applyEdits, mutate, random, type Edit } from "./fuzz-mutate.js";
import { botEnv, webhookHeaders } from "./lib/bot-setup.js";
import { round } from "./lib/stats.js";

const args = process.argv.slice(2);
const valueOf = (name: string) => {
  const at = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (at < 0) return undefined;
  return args[at]!.includes("=") ? args[at]!.split("=")[1] : args[at + 1];
};
const quick = args.includes("--quick");
const keep = args.includes("--keep");
const count = Number(valueOf("--count") ?? (quick ? 1000 : 10_000));
const seed = Number(valueOf("--seed") ?? 1);
const CONCURRENCY = 8;
const findingsDir = new URL("./results/fuzz-findings/", import.meta.url).pathname;
const started = Date.now();
const log = (line: string) => console.error(`[${round((Date.now() - started) / 1000, 1)} s] ${line}`);

interface Sample {
  file: string;
  event: string;
  /** The fixture with this sample's own ids and times (so its event is not taken for another's). */
  base: unknown;
  edits: Edit[];
}

interface Finding {
  kind: string;
  detail: string;
  sample: number;
}

const fixtures = fixtureIndex.filter((e) => e.file.endsWith(".json")).map((e) => ({ file: e.file, event: e.x_gitlab_event, payload: fixture(e.file) }));

/** Ids and times that make up event keys, made distinct per sample wherever the fixture has them. */
function distinctEvent(payload: unknown, k: number): unknown {
  const copy = structuredClone(payload) as Record<string, unknown>;
  const time = new Date(Date.UTC(2031, 0, 1) + k * 1000).toISOString();
  const stamp = (o: Record<string, unknown> | undefined) => {
    if (!o || typeof o !== "object") return;
    if (typeof o.id === "number") o.id = 50_000_000 + k;
    for (const f of ["updated_at", "created_at"]) if (typeof o[f] === "string") o[f] = time;
    for (const f of ["build_id", "deployment_id", "version_id"]) if (typeof o[f] === "number") o[f] = 60_000_000 + k;
    if (typeof o.after === "string") o.after = k.toString(16).padStart(40, "0");
  };
  stamp(copy);
  stamp(copy.object_attributes as Record<string, unknown> | undefined);
  return copy;
}

const samples: Sample[] = [];
for (let k = 0; k < count; k++) {
  const f = fixtures[k % fixtures.length]!;
  const base = distinctEvent(f.payload, k);
  samples.push({ file: f.file, event: f.event, base, edits: mutate(base, random(seed * 1_000_003 + k)) });
}
const payloadOf = (s: Sample) => applyEdits(s.base, s.edits);

/** What the handlers make of a payload in every language, and what is wrong with it; no I/O. */
function renderCheck(payload: unknown, event: string): { posts: number; eventKeys: string[]; findings: PostFinding[] | { kind: "handler-threw"; detail: string }[] } {
  try {
    const { notifications } = notificationsFor(payload, event);
    const hosts = payloadHosts(payload);
    const findings: PostFinding[] = [];
    let posts = 0;
    for (const n of notifications) {
      for (const locale of LOCALES) {
        findings.push(...checkPost(n.render(locale), hosts).map((f) => ({ ...f, detail: `${locale}: ${f.detail}` })));
        posts++;
      }
    }
    return { posts, eventKeys: notifications.map((n) => n.eventKey), findings };
  } catch (error) {
    if (error instanceof PayloadError) return { posts: 0, eventKeys: [], findings: [] };
    return { posts: 0, eventKeys: [], findings: [{ kind: "handler-threw", detail: (error as Error).stack?.split("\n").slice(0, 3).join(" | ") ?? String(error) }] };
  }
}

/** The fewest edits (and shortest strings in them) that still give a finding of `kind` in-process. */
function shrink(s: Sample, kind: string): Edit[] {
  const reproduces = (edits: Edit[]) => renderCheck(applyEdits(s.base, edits), s.event).findings.some((f) => f.kind === kind);
  let edits = s.edits;
  if (!reproduces(edits)) return edits;
  for (let i = edits.length - 1; i >= 0; i--) {
    const without = edits.filter((_, j) => j !== i);
    if (reproduces(without)) edits = without;
  }
  return edits.map((edit, i) => {
    if (edit.op !== "set" || typeof edit.value !== "string") return edit;
    let value = edit.value;
    for (let step = 0; step < 24 && value.length > 16; step++) {
      const half = value.slice(0, Math.ceil(value.length / 2));
      const tail = value.slice(Math.floor(value.length / 2));
      const trial = (v: string) => reproduces(edits.map((e, j) => (j === i ? { ...e, value: v } : e)));
      if (trial(half)) value = half;
      else if (trial(tail)) value = tail;
      else break;
    }
    edits = edits.map((e, j) => (j === i ? { ...e, value } : e));
    return edits[i]!;
  });
}

async function main(): Promise<number> {
  console.log(
    `gitlab-mattermost-bot fuzz ${new Date().toISOString()}: ${count} payloads from ${fixtures.length} fixtures, seed ${seed}; ${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, node ${process.version}, load average ${loadavg().map((l) => round(l, 2)).join(" ")}`,
  );
  if (!args.includes("--no-build")) {
    log("npm run build");
    const build = buildBot();
    if (!build.ok) log(`npm run build reported errors; running what it emitted:\n${build.output.split("\n").slice(0, 3).join("\n")}`);
  }
  const findings: Finding[] = [];
  const add = (sample: number, kind: string, detail: string) => findings.push({ kind, detail, sample });

  // In-process first: every payload rendered in both languages, and which post ids each may make.
  log("rendering every payload in-process (en and zh-CN)");
  let rendered = 0;
  const eventKeysOf: string[][] = [];
  samples.forEach((s, k) => {
    const r = renderCheck(payloadOf(s), s.event);
    rendered += r.posts;
    eventKeysOf[k] = r.eventKeys;
    for (const f of r.findings) add(k, f.kind, f.detail);
  });

  const dir = mkdtempSync(join(tmpdir(), "gmm-fuzz-"));
  const redis = await startRedis(dir);
  const sim = await startMattermostSim();
  let livePosts = 0;
  try {
    const env: Record<string, string> = { ...botEnv({ prefix: "fuzz", dir, mattermostUrl: sim.url, botToken: sim.botToken }), REDIS_URL: redis.url, LOG_LEVEL: "warn" };
    const team = sim.addTeam("fuzz");
    const admin = sim.addUser({ username: "fuzzadmin", roles: "system_user system_admin" });
    // Private, so events of private projects and confidential ones reach them too.
    const english = sim.addChannel({ name: "fuzz-en", type: "P", team_id: team.id });
    const chinese = sim.addChannel({ name: "fuzz-zh", type: "P", team_id: team.id });
    const namespaces = new Set<string>();
    for (const f of fixtures) {
      try {
        for (const n of notificationsFor(f.payload, f.event).notifications) namespaces.add(n.projectPath.split("/")[0]!);
      } catch {
        // a fixture without notifications subscribes nothing
      }
    }
    const { db } = openDatabase(env.DATABASE_URL!);
    try {
      await migrateToLatest(db);
      for (const path of namespaces) {
        await upsertSubscription(db, { channelId: english.id, teamId: team.id, path, features: FEATURES.join(","), createdBy: admin.id });
        await upsertSubscription(db, { channelId: chinese.id, teamId: team.id, path, features: `${FEATURES.join(",")},lang:zh-CN`, createdBy: admin.id });
      }
    } finally {
      await db.destroy();
    }
    const sampleOfPost = new Map<string, number>();
    const sampleOfEventJob = new Map<string, number>();
    eventKeysOf.forEach((keys, k) => {
      sampleOfEventJob.set(deliveryIdFor(`fuzz-${k}`, ""), k);
      for (const key of keys) for (const c of [english.id, chinese.id]) sampleOfPost.set(deliveryJobId(key, c), k);
    });

    const bot = await botProcess({ env, logFile: join(dir, "bot.log"), cwd: dir });
    await bot.start();
    log(`sending ${count} payloads to the compiled bot, ${CONCURRENCY} at a time; subscribed: ${[...namespaces].join(", ")}`);
    let next = 0;
    const statuses: Record<string, number> = {};
    const sender = async () => {
      for (let k = next++; k < count; k = next++) {
        const s = samples[k]!;
        const status = await fetch(`${bot.url}/webhooks/gitlab`, {
          method: "POST",
          headers: { ...webhookHeaders(s.event), "idempotency-key": `fuzz-${k}` },
          body: JSON.stringify(payloadOf(s)),
          signal: AbortSignal.timeout(30_000),
        }).then(
          async (r) => (await r.arrayBuffer(), r.status),
          () => 0,
        );
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status >= 500 || status === 0) add(k, "http-5xx", status === 0 ? "no answer within 30 s" : `answered ${status}`);
        // The simulator keeps every request; only the posts matter here.
        if (k % 500 === 0) sim.requests.length = 0;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, sender));
    log(`answers: ${JSON.stringify(statuses)}; waiting for the queues to drain`);
    const drained = await drain(redis.url, "fuzz", { ms: 300_000, expected: Number.POSITIVE_INFINITY, posted: () => sim.posts().length, quietMs: 10_000 });
    if (!drained.drained) log(`queues not drained: ${drained.pending} jobs pending`);
    await bot.stop();

    for (const post of sim.posts()) {
      livePosts++;
      const jobId = String(post.props[DELIVERY_PROP] ?? "");
      const k = sampleOfPost.get(jobId) ?? -1;
      const hosts = k >= 0 ? payloadHosts(payloadOf(samples[k]!)) : new Set<string>();
      const content: PostContent = { message: post.message, attachments: (post.props.attachments as PostContent["attachments"]) ?? [] };
      for (const f of checkPost(content, hosts)) add(k, `posted:${f.kind}`, `${post.channel_id === chinese.id ? "zh-CN channel" : "en channel"}: ${f.detail}`);
    }
    for (const v of sim.violations) add(-1, "mattermost-refused", v.slice(0, 400));
    for (const line of errorLines(join(dir, "bot.log"))) {
      let k = -1;
      try {
        const entry = JSON.parse(line) as { delivery?: string; job?: string };
        k = sampleOfEventJob.get(entry.delivery ?? "") ?? sampleOfPost.get(entry.job ?? "") ?? -1;
      } catch {
        // not JSON: node's own output (a crash)
      }
      add(k, "bot-log-error", line.slice(0, 400));
    }
  } finally {
    await sim.close();
    await redis.close();
    if (keep) log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }

  // One entry per kind of finding on each fixture, with how often it happened.
  const groups = new Map<string, Finding[]>();
  for (const f of findings) {
    const file = f.sample >= 0 ? samples[f.sample]!.file : "-";
    const key = `${f.kind}|${file}|${f.detail.replace(/\d+/g, "N").slice(0, 120)}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  console.log(`fuzz: ${count} payloads, ${livePosts} posts checked, ${groups.size} findings`);
  console.log(`  (${rendered} posts also rendered in-process in ${LOCALES.join(" and ")}; ${findings.length} occurrences in all; ${round((Date.now() - started) / 1000, 0)} s)`);
  // Findings of an earlier run would read as this one's.
  rmSync(findingsDir, { recursive: true, force: true });
  if (groups.size > 0) mkdirSync(findingsDir, { recursive: true });
  let n = 0;
  for (const group of groups.values()) {
    const first = group[0]!;
    n++;
    let written = "";
    if (first.sample >= 0) {
      const s = samples[first.sample]!;
      const edits = shrink(s, first.kind.replace(/^posted:/, ""));
      const name = `${String(n).padStart(3, "0")}-${first.kind.replace(/[^a-z0-9-]/gi, "-")}-${s.file}`;
      writeFileSync(join(findingsDir, name), `${JSON.stringify(applyEdits(s.base, edits), null, 2)}\n`);
      writeFileSync(join(findingsDir, `${name.replace(/\.json$/, "")}.edits.json`), `${JSON.stringify({ fixture: s.file, event: s.event, finding: first, edits }, null, 2)}\n`);
      written = ` -> bench/results/fuzz-findings/${name} (X-Gitlab-Event: ${s.event}; ${edits.length} edit${edits.length === 1 ? "" : "s"} of the fixture)`;
    }
    console.log(`  ${n}. ${first.kind} x ${group.length}: ${first.detail.slice(0, 240)}${written}`);
  }
  return groups.size === 0 ? 0 : 1;
}

process.exit(await main());
