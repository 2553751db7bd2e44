// `npm run chaos [-- --quick] [-- --only <name>[,<name>]] [-- --keep]`: real processes (the compiled
// bot, a Redis of its own, PostgreSQL for two-processes) broken on purpose while webhooks stream in.
// Prints one line per scenario, `name: sent N / posted once N / lost N / duplicated N`, with measured
// details below it, and exits non-zero on any loss, duplicate or failed check. Not part of `npm test`.
//   --quick  small counts and short outages, to check the harness in about two minutes
//   --only   run some scenarios: sigkill, redis-outage, mattermost-outage, two-processes, hostile
//   --keep   keep the temp directory (bot and Redis logs, SQLite files)
//   --no-build  run dist/ as it is (a second run right after a first)
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { round } from "../lib/stats.js";
import { buildBot, redisServerInstalled } from "./processes.js";
import { SCENARIOS, type ChaosContext } from "./scenarios.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const keep = args.includes("--keep");
const skipBuild = args.includes("--no-build");
const onlyAt = args.findIndex((a) => a === "--only" || a.startsWith("--only="));
const onlyValue = onlyAt < 0 ? undefined : args[onlyAt]!.includes("=") ? args[onlyAt]!.split("=")[1] : args[onlyAt + 1];
const only = onlyValue?.split(",").filter(Boolean);
const names = Object.keys(SCENARIOS) as (keyof typeof SCENARIOS)[];
const unknown = only?.filter((n) => !names.includes(n as keyof typeof SCENARIOS)) ?? [];
if (onlyAt >= 0 && (!only?.length || unknown.length)) {
  console.error(`--only takes scenario names among: ${names.join(", ")}${unknown.length ? ` (unknown: ${unknown.join(", ")})` : ""}`);
  process.exit(2);
}
if (!redisServerInstalled()) {
  console.error("chaos needs the redis-server binary (on Debian/Ubuntu: sudo apt-get install -y redis-server)");
  process.exit(2);
}

const started = Date.now();
const log = (line: string) => console.error(`[${round((Date.now() - started) / 1000, 1)} s] ${line}`);
console.log(
  `gitlab-mattermost-bot chaos (${quick ? "quick" : "full"}) ${new Date().toISOString()}; ${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, node ${process.version}, load average ${loadavg().map((l) => round(l, 2)).join(" ")}`,
);

if (!skipBuild) {
  log("npm run build");
  const build = buildBot();
  if (!build.ok) log(`npm run build reported errors; running what it emitted:\n${build.output.split("\n").slice(0, 5).join("\n")}`);
}

const dir = mkdtempSync(join(tmpdir(), "gmm-chaos-"));
const ctx: ChaosContext = { quick, dir, log };
let failed = false;
try {
  for (const name of names.filter((n) => !only || only.includes(n))) {
    const t0 = Date.now();
    try {
      const outcome = await SCENARIOS[name](ctx);
      console.log(outcome.line);
      for (const d of outcome.details) console.log(`  ${d}`);
      console.log(`  ${outcome.ok ? "ok" : "FAILED"} (${round((Date.now() - t0) / 1000, 0)} s)`);
      failed ||= !outcome.ok;
    } catch (error) {
      console.log(`${name}: could not run: ${(error as Error).stack ?? String(error)}`);
      failed = true;
    }
  }
} finally {
  if (keep) log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
console.log(`chaos: ${failed ? "FAILED" : "ok"} in ${round((Date.now() - started) / 1000, 0)} s`);
process.exit(failed ? 1 : 0);
