// Checks deploy/docker-compose.yml where no `docker compose` binary runs: against the Compose
// Specification's JSON schema (deploy/schemas/compose-spec.json), then what the schema cannot
// know: files it mounts or builds from exist, services it names exist, and the settings the bot
// relies on (Redis durable, roles split, PostgreSQL named) are there. Prints one line; exits 1
// with the problems.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv } from "ajv";
import addFormats from "ajv-formats";
import { parse } from "yaml";

const deploy = join(dirname(fileURLToPath(import.meta.url)), "..");
// Another file may be named (the check's own negative runs use a broken copy).
const file = process.argv[2] ?? join(deploy, "docker-compose.yml");
const folder = dirname(file);
const problems = [];

// Compose files use YAML merge keys (<<) for the shared bot settings.
const compose = parse(readFileSync(file, "utf8"), { merge: true });
const schema = JSON.parse(readFileSync(join(deploy, "schemas", "compose-spec.json"), "utf8"));
// The schema names its draft by an https address Ajv does not know; Ajv's default draft is the same (07).
delete schema.$schema;
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats.default(ajv);
const validate = ajv.compile(schema);
if (!validate(compose)) {
  for (const e of validate.errors ?? []) problems.push(`schema: ${e.instancePath || "/"} ${e.message}${e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : ""}`);
}

const services = compose.services ?? {};
const volumes = compose.volumes ?? {};
for (const [name, service] of Object.entries(services)) {
  if (service.build) {
    const context = resolve(folder, service.build.context ?? ".");
    if (!existsSync(join(context, service.build.dockerfile ?? "Dockerfile"))) problems.push(`${name}: no Dockerfile at ${service.build.dockerfile} in ${context}`);
  }
  for (const mount of service.volumes ?? []) {
    const source = typeof mount === "string" ? mount.split(":")[0] : mount.source;
    if (source.startsWith(".") || source.startsWith("/")) {
      // certs/ holds the operator's own certificate and is not in the repository.
      if (!existsSync(resolve(folder, source)) && !source.endsWith("/certs")) problems.push(`${name}: mounts ${source}, which does not exist`);
    } else if (!(source in volumes)) problems.push(`${name}: volume ${source} is not declared`);
  }
  for (const needed of Object.keys(Array.isArray(service.depends_on) ? Object.fromEntries(service.depends_on.map((s) => [s, {}])) : (service.depends_on ?? {}))) {
    if (!(needed in services)) problems.push(`${name}: depends on ${needed}, which is not a service`);
  }
  if (!service.healthcheck && !service.build) problems.push(`${name}: no healthcheck`);
}

const bot = ["web", "worker"];
for (const role of bot) {
  const service = services[role];
  if (!service) {
    problems.push(`no ${role} service`);
    continue;
  }
  if (service.environment?.ROLE !== role) problems.push(`${role}: ROLE is not ${role}`);
  if (!/^postgres(ql)?:\/\/[^@]+@postgres:5432\//.test(service.environment?.DATABASE_URL ?? "")) problems.push(`${role}: DATABASE_URL does not point at the postgres service`);
  if (service.environment?.REDIS_URL !== "redis://redis:6379") problems.push(`${role}: REDIS_URL does not point at the redis service`);
  const metricsPort = service.environment?.METRICS_PORT;
  if (metricsPort && !(service.expose ?? []).map(String).includes(String(metricsPort))) problems.push(`${role}: METRICS_PORT ${metricsPort} is not exposed`);
  const probe = [service.healthcheck?.test ?? []].flat().join(" ");
  const probed = /127\.0\.0\.1:(\d+)\//.exec(probe)?.[1];
  if (probed && probed !== String(metricsPort) && probed !== String(service.environment?.PORT)) problems.push(`${role}: healthcheck asks port ${probed}, which the bot does not serve`);
  const envFiles = [service.env_file].flat();
  if (!envFiles.includes(".env")) problems.push(`${role}: env_file is not .env`);
}
const redisCommand = [services.redis?.command ?? []].flat().join(" ");
if (!/--appendonly yes\b/.test(redisCommand)) problems.push("redis: not started with --appendonly yes");
if (!/--maxmemory-policy noeviction\b/.test(redisCommand)) problems.push("redis: not started with --maxmemory-policy noeviction");
const nginxMounts = (services.nginx?.volumes ?? []).map((m) => (typeof m === "string" ? m.split(":")[0] : m.source));
if (!nginxMounts.includes("./nginx/gitlab-mattermost-bot.conf")) problems.push("nginx: does not mount ./nginx/gitlab-mattermost-bot.conf");

if (problems.length) {
  console.log(`compose: FAILED (${problems.length} problem${problems.length === 1 ? "" : "s"}; no docker compose binary, checked against the compose-spec JSON schema)`);
  for (const p of problems) console.log(`  ${p}`);
  process.exit(1);
}
console.log(`compose: ok (no docker compose binary: valid against the compose-spec JSON schema, ${Object.keys(services).length} services, mounts and settings consistent)`);
