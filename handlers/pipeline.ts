// Pipeline events, posted only once finished: passed, passed with warnings (jobs allowed to fail did),
// failed, canceled; with duration, failed stages and up to ten failed jobs.
import type { Locale } from "../src/config.js";
import { t, type MessageKey } from "../src/i18n/index.js";
import type { Notification } from "../src/notification.js";
import { escapeInline, link, linkMarkdown } from "../src/text/markdown.js";
import { buildPost, COLORS, eventKey, firstLine, formatDuration, keyPart, projectUrl } from "./common.js";
import type { PipelinePayload } from "./payloads.js";

const SHOWN_JOBS = 10;
const FINISHED = new Set(["success", "failed", "canceled"]);

type Build = NonNullable<PipelinePayload["builds"]>[number];

export function pipeline(p: PipelinePayload): Notification[] {
  const a = p.object_attributes;
  if (!FINISHED.has(a.status)) return [];
  const projectPath = p.project.path_with_namespace;
  const webUrl = p.project.web_url ?? p.project.homepage;
  const builds = p.builds ?? [];
  const failedBuilds = builds.filter((b) => b.status === "failed");
  const blocking = failedBuilds.filter((b) => b.allow_failure !== true);
  const warning = a.status === "success" && failedBuilds.some((b) => b.allow_failure === true);
  const isTag = a.tag === true;
  const actor = { username: p.user?.username, name: p.user?.name, avatarUrl: p.user?.avatar_url };
  const pipelineUrl = a.url ?? projectUrl(webUrl, "-", "pipelines", a.id);

  const render = (locale: Locale) => {
    const key: MessageKey = warning ? "pipeline.warning" : (`pipeline.${a.status}` as "pipeline.success" | "pipeline.failed" | "pipeline.canceled");
    const color = a.status === "failed" ? COLORS.failed : a.status === "canceled" ? COLORS.muted : warning ? COLORS.warning : COLORS.success;
    const ref = link(a.ref, projectUrl(webUrl, "-", isTag ? "tags" : "tree", a.ref));
    const summary = t(locale, key, { pipeline: linkMarkdown(`#${a.id}`, pipelineUrl), ref });

    // The jobs to name: the failures that failed the pipeline, or those allowed to fail when it passed.
    const listed: Build[] = a.status === "success" ? (warning ? failedBuilds : []) : a.status === "failed" ? (blocking.length > 0 ? blocking : failedBuilds) : [];
    const stages = [...new Set(listed.map((b) => b.stage).filter((s): s is string => !!s))];
    const jobs = listed
      .slice(0, SHOWN_JOBS)
      .map((b) => link(b.name || `#${b.id}`, projectUrl(webUrl, "-", "jobs", b.id), 80))
      .join(", ");
    const moreJobs = listed.length > SHOWN_JOBS ? ` ${t(locale, "common.and_more", { count: listed.length - SHOWN_JOBS })}` : "";
    const commitLine = p.commit ? firstLine(p.commit.title || p.commit.message) : "";

    return buildPost({
      project: { path: projectPath, webUrl },
      summary,
      color,
      actor,
      title: a.name || commitLine || undefined,
      titleLink: pipelineUrl,
      fields: [
        { title: t(locale, "field.duration"), value: formatDuration(locale, a.duration) ?? "" },
        { title: t(locale, "field.merge_request"), value: p.merge_request ? link(`!${p.merge_request.iid} ${p.merge_request.title ?? ""}`.trim(), p.merge_request.url) : "" },
        { title: t(locale, "field.failed_stages"), value: a.status === "failed" ? stages.map((s) => escapeInline(s, 60)).join(", ") : "" },
        { title: t(locale, warning ? "field.failed_jobs_allowed" : "field.failed_jobs"), value: jobs + moreJobs, short: false },
      ],
    });
  };

  return [
    {
      feature: "pipelines",
      projectPath,
      eventKey: eventKey("pipeline", keyPart(a.id), keyPart(a.status)),
      labels: [],
      branch: isTag ? undefined : a.ref,
      defaultBranch: p.project.default_branch ?? undefined,
      confidential: false,
      actorUsername: p.user?.username ?? undefined,
      status: a.status,
      threadKey: p.merge_request ? `${projectPath}!${p.merge_request.iid}` : undefined,
      threadUpdate: { pipeline: { status: warning ? "success_with_warnings" : a.status, url: pipelineUrl } },
      actions: a.status === "failed" ? [{ kind: "pipeline.retry", project: projectPath, id: a.id }] : undefined,
      render,
    },
  ];
}
