// Checks the kustomize base in deploy/kubernetes without a cluster:
// - assembly: kustomization.yaml lists files that exist, and every file is listed;
// - schema: each object against the Kubernetes API schemas shipped in kubernetes-models (types,
//   required fields, enums), and, by compiling it as a TypeScript literal of that model's type,
//   no unknown field (a misspelt key the API server's strict field validation would refuse);
// - wiring: selectors match pod labels, the HPA, ConfigMap and Secret references exist, probes
//   point at the bot's /healthz and /readyz, pods run as the image's user.
// Prints one line; exits 1 with the problems.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { parseAllDocuments, parse } from "yaml";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
// Another folder may be named (the check's own negative runs use a broken copy).
const base = process.argv[2] ?? join(repo, "deploy", "kubernetes");
const problems = [];

const kustomization = parse(readFileSync(join(base, "kustomization.yaml"), "utf8"));
const listed = kustomization.resources ?? [];
for (const file of listed) if (!existsSync(join(base, file))) problems.push(`kustomization.yaml lists ${file}, which does not exist`);
for (const file of readdirSync(base)) {
  if (/\.ya?ml$/.test(file) && file !== "kustomization.yaml" && !listed.includes(file)) problems.push(`${file} is not listed in kustomization.yaml`);
}

const objects = [];
for (const file of listed.filter((f) => existsSync(join(base, f)))) {
  for (const document of parseAllDocuments(readFileSync(join(base, file), "utf8"))) {
    if (document.errors.length) problems.push(`${file}: ${document.errors[0].message}`);
    else if (document.contents) objects.push({ file, object: document.toJSON() });
  }
}

/** kubernetes-models' module for an apiVersion and kind: "apps/v1" + "Deployment" → kubernetes-models/apps/v1/Deployment. */
const modelPath = (apiVersion, kind) => `kubernetes-models/${apiVersion}/${kind}`;

for (const { file, object } of objects) {
  const where = `${file} ${object.kind}/${object.metadata?.name}`;
  let Model;
  try {
    Model = (await import(modelPath(object.apiVersion, object.kind)))[object.kind];
  } catch {
    problems.push(`${where}: no Kubernetes schema for ${object.apiVersion} ${object.kind}`);
    continue;
  }
  try {
    new Model(object).validate();
  } catch (error) {
    problems.push(`${where}: ${error.message}`);
  }
}

// Unknown fields: each object becomes `const o: I<Kind> = <object>;`, and TypeScript's excess
// property check names any key the model does not have, at any depth.
const cacheDir = join(repo, "node_modules", ".cache", "gitlab-mm-deploy-check");
mkdirSync(cacheDir, { recursive: true });
const source = join(cacheDir, "manifests.ts");
const lines = [];
const origins = [];
objects.forEach(({ file, object }, i) => {
  lines.push(`import type { I${object.kind} as T${i} } from "${modelPath(object.apiVersion, object.kind)}";`);
  origins.push(`${file} ${object.kind}/${object.metadata?.name}`);
});
objects.forEach(({ object }, i) => lines.push(`export const o${i}: T${i} = ${JSON.stringify(object)};`));
writeFileSync(source, `${lines.join("\n")}\n`);
const program = ts.createProgram([source], {
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  types: [],
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
});
for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
  const line = diagnostic.file && diagnostic.start !== undefined ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line : -1;
  const origin = line >= objects.length ? origins[line - objects.length] : "import";
  problems.push(`${origin}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, " ")}`);
}

// Wiring between the objects, and with the image and the bot.
const byKind = (kind) => objects.map((o) => o.object).filter((o) => o.kind === kind);
const names = (kind) => new Set(byKind(kind).map((o) => o.metadata?.name));
const matches = (selector, labels) => Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
const dockerfile = readFileSync(join(repo, "deploy", "Dockerfile"), "utf8");
const imageUid = Number(/^ARG APP_UID=(\d+)$/m.exec(dockerfile)?.[1]);
const imageGid = Number(/^ARG APP_GID=(\d+)$/m.exec(dockerfile)?.[1]);
const deployments = byKind("Deployment");
for (const d of deployments) {
  const where = `Deployment/${d.metadata.name}`;
  const pod = d.spec.template;
  if (!matches(d.spec.selector?.matchLabels, pod.metadata?.labels)) problems.push(`${where}: selector does not match its pod labels`);
  const security = pod.spec.securityContext ?? {};
  if (security.runAsNonRoot !== true) problems.push(`${where}: runAsNonRoot is not true`);
  if (security.runAsUser !== imageUid || security.runAsGroup !== imageGid) problems.push(`${where}: runs as ${security.runAsUser}:${security.runAsGroup}, the image's user is ${imageUid}:${imageGid}`);
  for (const c of pod.spec.containers) {
    const cs = c.securityContext ?? {};
    if (cs.readOnlyRootFilesystem !== true) problems.push(`${where} ${c.name}: root filesystem is not read-only`);
    if (cs.allowPrivilegeEscalation !== false) problems.push(`${where} ${c.name}: privilege escalation is allowed`);
    if (!cs.capabilities?.drop?.includes("ALL")) problems.push(`${where} ${c.name}: capabilities are not all dropped`);
    for (const source of c.envFrom ?? []) {
      if (source.configMapRef && !names("ConfigMap").has(source.configMapRef.name)) problems.push(`${where}: ConfigMap ${source.configMapRef.name} is not in the base`);
      if (source.secretRef && !names("Secret").has(source.secretRef.name)) problems.push(`${where}: Secret ${source.secretRef.name} is not in the base`);
    }
    const role = c.env?.find((e) => e.name === "ROLE")?.value;
    if (role === "web") {
      if (c.livenessProbe?.httpGet?.path !== "/healthz") problems.push(`${where}: liveness probe is not GET /healthz`);
      if (c.readinessProbe?.httpGet?.path !== "/readyz") problems.push(`${where}: readiness probe is not GET /readyz`);
    } else if (role === "worker") {
      if (c.livenessProbe?.httpGet || c.readinessProbe?.httpGet) problems.push(`${where}: a worker serves no /healthz or /readyz, so those probes would always fail`);
    } else problems.push(`${where}: ROLE is neither web nor worker`);
  }
}
// Prometheus scrapes the port the annotation names: the bot's METRICS_PORT (else PORT), declared on the pod.
const settings = byKind("ConfigMap").find((c) => c.metadata.name === "gitlab-mattermost-bot-config")?.data ?? {};
const metricsPort = Number(settings.METRICS_PORT || settings.PORT || 8080);
for (const d of deployments) {
  const scraped = d.spec.template.metadata?.annotations?.["prometheus.io/port"];
  const declared = d.spec.template.spec.containers.flatMap((c) => c.ports ?? []);
  if (scraped === undefined) problems.push(`Deployment/${d.metadata.name}: no prometheus.io/port annotation`);
  else if (Number(scraped) !== metricsPort) problems.push(`Deployment/${d.metadata.name}: Prometheus would scrape ${scraped}, the bot serves /metrics on ${metricsPort}`);
  else if (!declared.some((p) => p.containerPort === metricsPort)) problems.push(`Deployment/${d.metadata.name}: metrics port ${metricsPort} is not a container port`);
}
const podsOf = (selector) => deployments.filter((d) => matches(selector, d.spec.template.metadata?.labels));
for (const s of byKind("Service")) {
  if (podsOf(s.spec.selector).length === 0) problems.push(`Service/${s.metadata.name}: selects no pods of the base`);
  if (settings.METRICS_PORT && s.spec.ports.some((p) => p.targetPort === "metrics" || Number(p.targetPort) === metricsPort)) problems.push(`Service/${s.metadata.name}: exposes the metrics port`);
}
for (const p of byKind("PodDisruptionBudget")) if (podsOf(p.spec.selector?.matchLabels).length === 0) problems.push(`PodDisruptionBudget/${p.metadata.name}: selects no pods of the base`);
for (const h of byKind("HorizontalPodAutoscaler")) {
  const target = h.spec.scaleTargetRef;
  if (!deployments.some((d) => target.kind === "Deployment" && d.metadata.name === target.name)) problems.push(`HorizontalPodAutoscaler/${h.metadata.name}: scales ${target.kind}/${target.name}, which is not in the base`);
}

if (problems.length) {
  console.log(`kubernetes: FAILED (${problems.length} problem${problems.length === 1 ? "" : "s"})`);
  for (const p of problems) console.log(`  ${p}`);
  process.exit(1);
}
console.log(`kubernetes: ok (${objects.length} objects in ${listed.length} files, valid against kubernetes-models' Kubernetes schemas, no unknown fields, wiring consistent)`);
