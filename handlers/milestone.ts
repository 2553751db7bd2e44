// Milestone events: created, closed, reopened. (GitLab also sends `delete`; not posted.)
import type { Locale } from "../src/config.js";
import { t, type MessageKey } from "../src/i18n/index.js";
import type { Notification } from "../src/notification.js";
import { escapeBlock, link } from "../src/text/markdown.js";
import { buildPost, COLORS, eventKey, keyPart, projectUrl, timeKey } from "./common.js";
import { dateText } from "./dates.js";
import type { MilestonePayload } from "./payloads.js";

const LOOK: Record<string, { key: Extract<MessageKey, `milestone.${string}`>; color: string }> = {
  create: { key: "milestone.create", color: COLORS.success },
  close: { key: "milestone.close", color: COLORS.muted },
  reopen: { key: "milestone.reopen", color: COLORS.opened },
};

export function milestone(p: MilestonePayload): Notification[] {
  const look = Object.hasOwn(LOOK, p.action) ? LOOK[p.action] : undefined;
  if (!look) return [];
  const a = p.object_attributes;
  const projectPath = p.project.path_with_namespace;
  const webUrl = p.project.web_url ?? p.project.homepage;
  // The payload has no URL of the milestone; GitLab's page for it is below the project's.
  const url = a.iid != null ? projectUrl(webUrl, "-", "milestones", a.iid) : projectUrl(webUrl, "-", "milestones");

  const render = (locale: Locale) =>
    buildPost({
      project: { path: projectPath, webUrl },
      summary: t(locale, look.key, { milestone: link(a.title, url) }),
      color: look.color,
      text: p.action === "create" && a.description ? escapeBlock(a.description, 300) : undefined,
      fields: [
        { title: t(locale, "field.start_date"), value: dateText(a.start_date) },
        { title: t(locale, "field.due_date"), value: dateText(a.due_date) },
      ],
    });

  return [
    {
      feature: "milestones",
      projectPath,
      eventKey: eventKey("milestone", keyPart(p.project.id), keyPart(a.id), keyPart(p.action), timeKey(a.updated_at ?? a.created_at)),
      labels: [],
      defaultBranch: p.project.default_branch ?? undefined,
      confidential: false,
      render,
    },
  ];
}
