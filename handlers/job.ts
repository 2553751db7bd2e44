// Job events (object_kind "build"): posted when a job failed (a failure allowed by `allow_failure`
// is a warning), and when a manual job that deploys waits to be played.
import type { Locale } from "../src/config.js";
import { t } from "../src/i18n/index.js";
import type { Notification } from "../src/notification.js";
import { escapeInline, link, linkMarkdown } from "../src/text/markdown.js";
import { trimSlashes } from "../src/text/slashes.js";
import { buildPost, COLORS, eventKey, formatDuration, keyPart, PayloadError, projectUrl } from "./common.js";
import type { JobPayload } from "./payloads.js";

/** The project path from the payload's project, else from the repository's homepage URL. */
export function jobProjectPath(p: JobPayload): string {
  if (p.project?.path_with_namespace) return p.project.path_with_namespace;
  const homepage = p.repository?.homepage;
  if (homepage && URL.canParse(homepage)) {
    // A malformed escape (`%zz`) in a stranger's URL is a payload problem, not a reason to retry the job.
    let decoded: string | undefined;
    try {
      decoded = decodeURIComponent(new URL(homepage).pathname);
    } catch {
      decoded = undefined;
    }
    const path = decoded === undefined ? "" : trimSlashes(decoded);
    if (path) return path;
  }
  throw new PayloadError("neither project.path_with_namespace nor repository.homepage", "build");
}

/** What a job post says whatever its state: where it ran, who ran it, and the links around it. */
function jobContext(p: JobPayload) {
  const projectPath = jobProjectPath(p);
  const webUrl = p.project?.web_url ?? p.repository?.homepage;
  const isTag = p.tag === true;
  return {
    projectPath,
    webUrl,
    actor: { username: p.user?.username, name: p.user?.name, avatarUrl: p.user?.avatar_url },
    job: link(p.build_name || `#${p.build_id}`, projectUrl(webUrl, "-", "jobs", p.build_id), 120),
    ref: link(p.ref, projectUrl(webUrl, "-", isTag ? "tags" : "tree", p.ref)),
    stageField: (locale: Locale) => ({ title: t(locale, "field.stage"), value: escapeInline(p.build_stage, 60) }),
    pipelineField: (locale: Locale) => ({
      title: t(locale, "field.pipeline"),
      value: p.pipeline_id != null ? linkMarkdown(`#${p.pipeline_id}`, projectUrl(webUrl, "-", "pipelines", p.pipeline_id)) : "",
    }),
    mergeRequestField: (locale: Locale) => ({
      title: t(locale, "field.merge_request"),
      value: p.merge_request ? link(`!${p.merge_request.iid} ${p.merge_request.title ?? ""}`.trim(), p.merge_request.url) : "",
    }),
    /** The notification's fields but its key, words and buttons. */
    notification: {
      feature: "jobs" as const,
      projectPath,
      labels: [],
      branch: isTag ? undefined : p.ref,
      defaultBranch: p.project?.default_branch ?? undefined,
      confidential: false,
      actorUsername: p.user?.username ?? undefined,
      status: p.build_status,
      threadKey: p.merge_request ? `${projectPath}!${p.merge_request.iid}` : undefined,
    },
  };
}

export function job(p: JobPayload): Notification[] {
  if (p.build_status === "manual") return manualDeployJob(p);
  if (p.build_status !== "failed") return [];
  const c = jobContext(p);
  const allowed = p.build_allow_failure === true;
  const render = (locale: Locale) =>
    buildPost({
      project: { path: c.projectPath, webUrl: c.webUrl },
      summary: t(locale, allowed ? "job.failed_allowed" : "job.failed", { job: c.job, ref: c.ref }),
      color: allowed ? COLORS.warning : COLORS.failed,
      actor: c.actor,
      fields: [
        c.stageField(locale),
        { title: t(locale, "field.failure_reason"), value: escapeInline(p.build_failure_reason?.replace(/_/g, " "), 80) },
        { title: t(locale, "field.duration"), value: formatDuration(locale, p.build_duration) ?? "" },
        c.pipelineField(locale),
        c.mergeRequestField(locale),
      ],
    });
  return [{ ...c.notification, eventKey: eventKey("build", keyPart(p.build_id), keyPart(p.build_status)), render }];
}

/**
 * A manual job that deploys (its payload names an environment it starts) waits for someone: posted
 * with a Play button. Manual jobs that deploy nothing, or stop an environment, are not posted.
 */
function manualDeployJob(p: JobPayload): Notification[] {
  const environment = p.environment?.name;
  if (!environment || (p.environment?.action ?? "start") !== "start") return [];
  const c = jobContext(p);
  const render = (locale: Locale) =>
    buildPost({
      project: { path: c.projectPath, webUrl: c.webUrl },
      summary: t(locale, "job.manual_deploy", { job: c.job, ref: c.ref, environment: escapeInline(environment, 80) }),
      color: COLORS.info,
      actor: c.actor,
      fields: [c.stageField(locale), c.pipelineField(locale), c.mergeRequestField(locale)],
    });
  return [
    {
      ...c.notification,
      eventKey: eventKey("build", keyPart(p.build_id), "manual"),
      actions: [{ kind: "job.play", project: c.projectPath, id: p.build_id }],
      render,
    },
  ];
}
