// Deployment events: started (running), succeeded, failed, canceled.
import type { Locale } from "../src/config.js";
import { t, type MessageKey } from "../src/i18n/index.js";
import type { Notification } from "../src/notification.js";
import { escapeInline, link, linkMarkdown, shortSha } from "../src/text/markdown.js";
import { buildPost, COLORS, eventKey, keyPart } from "./common.js";
import type { DeploymentPayload } from "./payloads.js";

const LOOK: Record<string, { key: Extract<MessageKey, `deployment.${string}`>; color: string }> = {
  running: { key: "deployment.running", color: COLORS.info },
  success: { key: "deployment.success", color: COLORS.success },
  failed: { key: "deployment.failed", color: COLORS.failed },
  canceled: { key: "deployment.canceled", color: COLORS.muted },
};

export function deployment(p: DeploymentPayload): Notification[] {
  const look = Object.hasOwn(LOOK, p.status) ? LOOK[p.status] : undefined;
  if (!look) return [];
  const projectPath = p.project.path_with_namespace;
  const actor = { username: p.user?.username, name: p.user?.name, avatarUrl: p.user?.avatar_url };

  const render = (locale: Locale) => {
    const environment = link(p.environment, p.environment_external_url);
    const commit = p.short_sha || p.commit_title ? `${linkMarkdown(shortSha(p.short_sha), p.commit_url)} ${escapeInline(p.commit_title, 120)}`.trim() : "";
    return buildPost({
      project: { path: projectPath, webUrl: p.project.web_url },
      summary: t(locale, look.key, { environment }),
      color: look.color,
      actor,
      fields: [
        { title: t(locale, "field.commit"), value: commit, short: false },
        { title: t(locale, "field.branch"), value: escapeInline(p.ref) },
        { title: t(locale, "field.job"), value: p.deployable_id != null ? linkMarkdown(`#${p.deployable_id}`, p.deployable_url) : "" },
      ],
    });
  };

  return [
    {
      feature: "deployments",
      projectPath,
      eventKey: eventKey("deployment", keyPart(p.deployment_id), keyPart(p.status)),
      labels: [],
      branch: p.ref ?? undefined,
      defaultBranch: p.project.default_branch ?? undefined,
      confidential: false,
      actorUsername: p.user?.username ?? undefined,
      status: p.status,
      render,
    },
  ];
}
