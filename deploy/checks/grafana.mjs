// Checks deploy/grafana/gitlab-mattermost-bot.json against the metrics the bot really exposes
// (src/metrics.ts with prom-client's default metrics): every series a query names exists and
// panels are well formed (exit 1 otherwise). A metric of the bot's own that no panel shows is
// named in the line but does not fail: adding a metric must not break CI, only ask for a panel.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { tsImport } from "tsx/esm/api";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
// Another file may be named (the check's own negative runs use a broken copy).
const file = process.argv[2] ?? join(repo, "deploy", "grafana", "gitlab-mattermost-bot.json");
const problems = [];

const { createMetrics } = await tsImport("../../src/metrics.ts", import.meta.url);
const { registry } = createMetrics({ defaults: true });
const withDefaults = await registry.getMetricsAsJSON();
const exposed = new Set();
for (const m of withDefaults) {
  exposed.add(m.name);
  if (m.type === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) exposed.add(m.name + suffix);
}
const own = createMetrics().registry.getMetricsAsJSON().then((list) => list.map((m) => m.name));

// PromQL words that are not series names.
const promql = new Set(["sum", "max", "min", "avg", "count", "rate", "irate", "increase", "histogram_quantile", "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "offset", "bool", "topk", "bottomk", "abs", "clamp_min", "clamp_max", "delta", "deriv", "label_values"]);

const dashboard = JSON.parse(readFileSync(file, "utf8"));
const used = new Set();
const ids = new Set();
for (const panel of dashboard.panels ?? []) {
  const where = `panel ${panel.id} "${panel.title}"`;
  if (ids.has(panel.id)) problems.push(`${where}: id used twice`);
  ids.add(panel.id);
  if (!panel.gridPos) problems.push(`${where}: no gridPos`);
  if (panel.datasource?.uid !== "${datasource}") problems.push(`${where}: does not use the $datasource variable`);
  for (const target of panel.targets ?? []) {
    // Label matchers, grouping clauses and range selectors hold no series names.
    const expr = target.expr.replace(/\{[^}]*\}/g, "").replace(/\b(by|without)\s*\([^)]*\)/g, "").replace(/\[[^\]]*\]/g, "");
    for (const [word] of expr.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
      if (promql.has(word)) continue;
      used.add(word);
      if (!exposed.has(word)) problems.push(`${where}: ${word} is not a metric the bot exposes`);
    }
  }
}
const unshown = (await own).filter((name) => ![...used].some((u) => u === name || u.startsWith(`${name}_`)));
const variables = new Set((dashboard.templating?.list ?? []).map((v) => v.name));
for (const v of ["datasource", "job"]) if (!variables.has(v)) problems.push(`no $${v} variable`);

if (problems.length) {
  console.log(`grafana: FAILED (${problems.length} problem${problems.length === 1 ? "" : "s"})`);
  for (const p of problems) console.log(`  ${p}`);
  process.exit(1);
}
const coverage = unshown.length ? `not yet on a panel: ${unshown.join(", ")}` : "every metric of src/metrics.ts shown";
console.log(`grafana: ok (${dashboard.panels.length} panels; ${used.size} series, all exposed by the bot; ${coverage})`);
