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

export function job(p: JobPayload): Notification[] {
  if (p.build_status === "manual") return manualDeployJob(p);
  if (p.build_status !== "failed") return [];
  const projectPath = jobProjectPath(p);
  const webUrl = p.project?.web_url ?? p.repository?.homepage;
  const allowed = p.build_allow_failure === true;
  const isTag = p.tag === true;
  const actor = { username: p.user?.username, name: p.user?.name, avatarUrl: p.user?.avatar_url };
  const jobUrl = projectUrl(webUrl, "-", "jobs", p.build_id);

  const render = (locale: Locale) => {
    const vars = {
      job: link(p.build_name || `#${p.build_id}`, jobUrl, 120),
      ref: link(p.ref, projectUrl(webUrl, "-", isTag ? "tags" : "tree", p.ref)),
    };
    return buildPost({
      project: { path: projectPath, webUrl },
      summary: t(locale, allowed ? "job.failed_allowed" : "job.failed", vars),
      color: allowed ? COLORS.warning : COLORS.failed,
      actor,
      fields: [
        { title: t(locale, "field.stage"), value: escapeInline(p.build_stage, 60) },
        { title: t(locale, "field.failure_reason"), value: escapeInline(p.build_failure_reason?.replace(/_/g, " "), 80) },
        { title: t(locale, "field.duration"), value: formatDuration(locale, p.build_duration) ?? "" },
        { title: t(locale, "field.pipeline"), value: p.pipeline_id != null ? linkMarkdown(`#${p.pipeline_id}`, projectUrl(webUrl, "-", "pipelines", p.pipeline_id)) : "" },
        { title: t(locale, "field.merge_request"), value: p.merge_request ? link(`!${p.merge_request.iid} ${p.merge_request.title ?? ""}`.trim(), p.merge_request.url) : "" },
      ],
    });
  };

  return [
    {
      feature: "jobs",
      projectPath,
      eventKey: eventKey("build", keyPart(p.build_id), keyPart(p.build_status)),
      labels: [],
      branch: isTag ? undefined : p.ref,
      defaultBranch: p.project?.default_branch ?? undefined,
      confidential: false,
      actorUsername: p.user?.username ?? undefined,
      status: p.build_status,
      threadKey: p.merge_request ? `${projectPath}!${p.merge_request.iid}` : undefined,
      render,
    },
  ];
}

/**
 * A manual job that deploys (its payload names an environment it starts) waits for someone: posted
 * with a Play button. Manual jobs that deploy nothing, or stop an environment, are not posted.
 */
function manualDeployJob(p: JobPayload): Notification[] {
  const environment = p.environment?.name;
  if (!environment || (p.environment?.action ?? "start") !== "start") return [];
  const projectPath = jobProjectPath(p);
  const webUrl = p.project?.web_url ?? p.repository?.homepage;
  const isTag = p.tag === true;
  const actor = { username: p.user?.username, name: p.user?.name, avatarUrl: p.user?.avatar_url };

  const render = (locale: Locale) =>
    buildPost({
      project: { path: projectPath, webUrl },
      summary: t(locale, "job.manual_deploy", {
        job: link(p.build_name || `#${p.build_id}`, projectUrl(webUrl, "-", "jobs", p.build_id), 120),
        ref: link(p.ref, projectUrl(webUrl, "-", isTag ? "tags" : "tree", p.ref)),
        environment: escapeInline(environment, 80),
      }),
      color: COLORS.info,
      actor,
      fields: [
        { title: t(locale, "field.stage"), value: escapeInline(p.build_stage, 60) },
        { title: t(locale, "field.pipeline"), value: p.pipeline_id != null ? linkMarkdown(`#${p.pipeline_id}`, projectUrl(webUrl, "-", "pipelines", p.pipeline_id)) : "" },
        { title: t(locale, "field.merge_request"), value: p.merge_request ? link(`!${p.merge_request.iid} ${p.merge_request.title ?? ""}`.trim(), p.merge_request.url) : "" },
      ],
    });

  return [
    {
      feature: "jobs",
      projectPath,
      eventKey: eventKey("build", keyPart(p.build_id), "manual"),
      labels: [],
      branch: isTag ? undefined : p.ref,
      defaultBranch: p.project?.default_branch ?? undefined,
      confidential: false,
      actorUsername: p.user?.username ?? undefined,
      status: p.build_status,
      threadKey: p.merge_request ? `${projectPath}!${p.merge_request.iid}` : undefined,
      actions: [{ kind: "job.play", project: projectPath, id: p.build_id }],
      render,
    },
  ];
}
