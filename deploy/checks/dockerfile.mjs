// A structural lint of deploy/Dockerfile where hadolint is not installed: named stages, the final
// stage running as a fixed non-root uid with a /healthz HEALTHCHECK and NODE_ENV=production, no
// dev dependencies, the compiled server as CMD, and the admin CLI on PATH with the sources
// bin/gitlab-mm.js imports. Prints one line; exits 1 with the problems.
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
// Another file may be named (the check's own negative runs use a broken copy).
const file = process.argv[2] ?? join(repo, "deploy", "Dockerfile");
const problems = [];

// Instructions, with continuation lines joined and comments dropped.
const instructions = [];
let pending = "";
for (const raw of readFileSync(file, "utf8").split("\n")) {
  const line = raw.trim();
  if (!pending && (line === "" || line.startsWith("#"))) continue;
  pending += `${line.endsWith("\\") ? line.slice(0, -1) : line} `;
  if (!line.endsWith("\\")) {
    const text = pending.trim();
    const space = text.indexOf(" ");
    instructions.push({ op: text.slice(0, space).toUpperCase(), args: text.slice(space + 1).trim() });
    pending = "";
  }
}

const stages = [];
for (const i of instructions) {
  if (i.op === "FROM") {
    const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(i.args);
    if (!match?.[2]) problems.push(`FROM ${i.args}: stage has no name (FROM ... AS <name>)`);
    stages.push({ name: match?.[2], instructions: [] });
  } else if (stages.length) stages.at(-1).instructions.push(i);
  else if (i.op !== "ARG") problems.push(`${i.op} before the first FROM`);
}
if (stages.length < 2) problems.push("not multi-stage (build and runtime stages)");
const names = stages.map((s) => s.name);
const final = stages.at(-1)?.instructions ?? [];
const all = (op) => final.filter((i) => i.op === op);
const args = Object.fromEntries(
  instructions.filter((i) => i.op === "ARG").map((i) => {
    const [name, value] = i.args.split("=");
    return [name, value];
  }),
);

for (const stage of stages) {
  for (const i of stage.instructions.filter((x) => x.op === "COPY")) {
    const from = /--from=(\S+)/.exec(i.args)?.[1];
    if (from && !names.includes(from)) problems.push(`COPY --from=${from}: no stage of that name`);
    if (!from) {
      const sources = i.args.split(/\s+/).filter((a) => !a.startsWith("--")).slice(0, -1);
      for (const s of sources) if (!existsSync(join(repo, s))) problems.push(`COPY ${s}: not in the build context`);
    }
  }
}

const user = all("USER").at(-1)?.args;
if (!user) problems.push("final stage has no USER (would run as root)");
else {
  const uid = user.split(":")[0].replace(/^\$\{?(\w+)\}?$/, (_, name) => args[name] ?? name);
  if (uid === "root" || uid === "0" || !/^\d+$/.test(uid)) problems.push(`USER ${user}: not a fixed non-root uid (got ${uid})`);
}
for (const name of ["APP_UID", "APP_GID"]) {
  if (!/^[1-9]\d*$/.test(args[name] ?? "")) problems.push(`ARG ${name} has no fixed non-zero default`);
}
const healthcheck = all("HEALTHCHECK").at(-1)?.args ?? "";
if (!healthcheck.includes("/healthz")) problems.push("final stage has no HEALTHCHECK on /healthz");
if (/\bcurl\b|\bwget\b/.test(healthcheck)) problems.push("HEALTHCHECK needs curl or wget, which the image does not have");
if (!all("ENV").some((i) => /\bNODE_ENV=production\b/.test(i.args))) problems.push("NODE_ENV=production is not set");
if (!instructions.some((i) => i.op === "RUN" && /npm (prune|ci)[^&]*--omit=dev/.test(i.args))) problems.push("dev dependencies are not left out (npm prune --omit=dev)");
if (!/dist\/src\/main\.js/.test(all("CMD").at(-1)?.args ?? "")) problems.push("CMD does not run the compiled server (dist/src/main.js)");
if (!all("VOLUME").some((i) => i.args.includes("/data"))) problems.push("no /data volume");

// The admin CLI: bin/gitlab-mm.js on PATH, and what it imports copied beside it.
if (!final.some((i) => i.op === "RUN" && /ln -s\S* \/app\/bin\/gitlab-mm\.js \/usr\/local\/bin\/gitlab-mm\b/.test(i.args))) problems.push("gitlab-mm is not linked onto PATH");
const copied = final.filter((i) => i.op === "COPY").map((i) => i.args.split(/\s+/).at(-1).replace(/^\.\//, "").replace(/\/$/, ""));
const cli = readFileSync(join(repo, "bin", "gitlab-mm.js"), "utf8");
for (const [, target] of cli.matchAll(/import\("\.\.\/([^/"]+)\//g)) {
  if (!copied.includes(target)) problems.push(`bin/gitlab-mm.js imports ../${target}/, which the final stage does not copy`);
}
if (!copied.includes("bin")) problems.push("bin/ is not copied into the final stage");
if ((statSync(join(repo, "bin", "gitlab-mm.js")).mode & 0o111) === 0) problems.push("bin/gitlab-mm.js is not executable, so the gitlab-mm link on PATH would not run");

if (problems.length) {
  console.log(`dockerfile: FAILED (${problems.length} problem${problems.length === 1 ? "" : "s"}; structural check, no hadolint)`);
  for (const p of problems) console.log(`  ${p}`);
  process.exit(1);
}
console.log(`dockerfile: ok (structural check, no hadolint: stages ${names.join(", ")}; USER ${user} = ${args.APP_UID}:${args.APP_GID}; HEALTHCHECK /healthz; CLI on PATH)`);
