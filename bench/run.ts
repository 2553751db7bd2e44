// `npm run bench [-- --quick] [-- --only=ingress,latency,memory] [-- --profile] [-- --keep]`
// Prints figures beside their targets and writes them to bench/results/latest.json. Not a test:
// nothing here fails on a missed target.
//   --quick    short runs (3 s, 500 events, 5,000 webhooks, 2,000 against the floor) to check the harness
//   --only=    run some phases (ingress, latency, memory, throughput: the compiled bot against bench/floor.ts;
//              fanout, routing, commands, rss: the other targets, on the compiled bot or the store)
//   --diagnose also measure the ingress baseline that reads the body as a web stream
//   --profile  bot children run with --cpu-prof; profiles land in bench/results/profiles/
//   --compiled run the bot (and baselines) as an esbuild bundle under plain node, not under tsx
//   --node-flags="--max-old-space-size=128 ..."  extra node flags for the bot processes
//   --keep     keep the temp directory (SQLite files, child logs)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem, tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchContext, Figure } from "./lib/context.js";
import { round } from "./lib/stats.js";
import { ingressPhase } from "./phases/ingress.js";
import { latencyPhase } from "./phases/latency.js";
import { memoryPhase } from "./phases/memory.js";
import { throughputPhase } from "./phases/throughput.js";
import { fanoutPhase } from "./phases/fanout.js";
import { routingPhase } from "./phases/routing.js";
import { commandsPhase } from "./phases/commands.js";
import { rssPhase } from "./phases/rss.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const diagnose = args.includes("--diagnose");
const profile = args.includes("--profile");
const keep = args.includes("--keep");
const compiled = args.includes("--compiled");
const extraFlags = args.find((a) => a.startsWith("--node-flags="))?.slice("--node-flags=".length).split(/\s+/).filter(Boolean) ?? [];
const only = args.find((a) => a.startsWith("--only="))?.slice("--only=".length).split(",");
const resultsDir = new URL("./results/", import.meta.url).pathname;
const profilesDir = join(resultsDir, "profiles");

const phases = [
  { name: "ingress", run: ingressPhase },
  { name: "latency", run: latencyPhase },
  { name: "memory", run: memoryPhase },
  { name: "throughput", run: throughputPhase },
  { name: "fanout", run: fanoutPhase },
  { name: "routing", run: routingPhase },
  { name: "commands", run: commandsPhase },
  { name: "rss", run: rssPhase },
].filter((p) => !only || only.includes(p.name));

const started = Date.now();
const dir = mkdtempSync(join(tmpdir(), "gmm-bench-"));
if (profile) mkdirSync(profilesDir, { recursive: true });
const ctx: BenchContext = {
  quick,
  diagnose,
  dir,
  nodeFlags: [...extraFlags, ...(profile ? ["--cpu-prof", "--cpu-prof-dir", profilesDir] : [])],
  compiled,
  log: (line) => console.error(`[${round((Date.now() - started) / 1000, 1)} s] ${line}`),
};

const machine = {
  cpus: cpus().length,
  model: cpus()[0]?.model ?? "unknown",
  total_memory_mb: Math.round(totalmem() / 1024 / 1024),
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  /** Other work on the same two cores makes every figure worse; the bench says so rather than waits. */
  load_average_at_start: loadavg().map((l) => round(l, 2)),
};
if (machine.load_average_at_start[0]! > 1) ctx.log(`warning: load average ${machine.load_average_at_start[0]} at start: other processes share the cores`);

const figures: Figure[] = [];
const details: Record<string, unknown> = {};
const failures: Record<string, string> = {};
try {
  for (const phase of phases) {
    try {
      const r = await phase.run(ctx);
      figures.push(...r.figures);
      details[phase.name] = r.detail;
    } catch (error) {
      failures[phase.name] = (error as Error).stack ?? String(error);
      ctx.log(`${phase.name} failed: ${(error as Error).message}`);
    }
  }
} finally {
  if (keep) ctx.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

const seconds = round((Date.now() - started) / 1000, 1);
const pad = (s: string, n: number) => (s.length >= n ? s : s + " ".repeat(n - s.length));
const lines = [
  `gitlab-mattermost-bot bench (${quick ? "quick" : "full"}, ${seconds} s; bot ${compiled ? "compiled, plain node" : "under tsx, as npm start runs it"}${extraFlags.length ? `, node ${extraFlags.join(" ")}` : ""})`,
  `machine: ${machine.cpus} x ${machine.model}, ${machine.total_memory_mb} MB, node ${machine.node}, ${machine.platform}; load generator on the same cores; load average at start ${machine.load_average_at_start.join(" ")}`,
  "",
  `${pad("figure", 48)} ${pad("value", 30)} ${pad("target", 12)} meets`,
  ...figures.map((f) => `${pad(f.name, 48)} ${pad(`${f.value} ${f.unit}`.trim(), 30)} ${pad(f.target ?? "", 12)} ${f.meets === undefined ? "" : f.meets ? "yes" : "NO"}`),
  ...Object.entries(failures).map(([name, e]) => `${name}: FAILED (${e.split("\n")[0]})`),
];
console.log(lines.join("\n"));

mkdirSync(resultsDir, { recursive: true });
writeFileSync(
  join(resultsDir, "latest.json"),
  `${JSON.stringify({ mode: quick ? "quick" : "full", bot_runtime: compiled ? "esbuild bundle, plain node" : "tsx", bot_node_flags: extraFlags, started_at: new Date(started).toISOString(), seconds, machine, figures, details, failures }, null, 2)}\n`,
);
console.log(`\nwritten: bench/results/latest.json`);
