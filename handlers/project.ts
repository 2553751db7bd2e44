// A project created or deleted in a group (group hooks, feature `projects`).
import type { Locale } from "../src/config.js";
import { t, type MessageKey } from "../src/i18n/index.js";
import type { Notification } from "../src/notification.js";
import { escapeInline } from "../src/text/markdown.js";
import { buildPost, COLORS, eventKey, keyPart, timeKey } from "./common.js";
import type { ProjectEventPayload } from "./payloads.js";

const LOOK: Record<string, { key: Extract<MessageKey, `project.${string}`>; color: string }> = {
  project_create: { key: "project.create", color: COLORS.success },
  project_destroy: { key: "project.destroy", color: COLORS.muted },
};

const VISIBILITY: Record<string, Extract<MessageKey, `visibility.${string}`>> = {
  private: "visibility.private",
  internal: "visibility.internal",
  public: "visibility.public",
};

export function projectEvent(p: ProjectEventPayload): Notification[] {
  const look = Object.hasOwn(LOOK, p.event_name) ? LOOK[p.event_name] : undefined;
  if (!look) return [];
  const created = p.event_name === "project_create";
  // The project's own path: subscriptions to its groups get it, and so does a channel subscribed to
  // the project itself (which learns that it is gone). The payload has no URL to link.
  const projectPath = p.path_with_namespace;
  const visibility = (p.project_visibility ?? "").toLowerCase();
  const owners = (p.owners ?? []).map((o) => o.name).filter((name): name is string => Boolean(name));

  const render = (locale: Locale) =>
    buildPost({
      project: { path: projectPath },
      summary: t(locale, look.key, { project: escapeInline(p.name || p.path || projectPath) }),
      color: look.color,
      fields: created
        ? [
            { title: t(locale, "field.visibility"), value: Object.hasOwn(VISIBILITY, visibility) ? t(locale, VISIBILITY[visibility]!) : escapeInline(p.project_visibility, 40) },
            {
              title: t(locale, "field.owners"),
              value: owners.slice(0, 10).map((name) => escapeInline(name, 100)).join(", ") + (owners.length > 10 ? ` ${t(locale, "common.and_more", { count: owners.length - 10 })}` : ""),
            },
          ]
        : [],
    });

  return [
    {
      feature: "projects",
      projectPath,
      eventKey: eventKey("project", keyPart(p.project_id), keyPart(p.event_name), timeKey(p.updated_at ?? p.created_at)),
      labels: [],
      confidential: false,
      render,
    },
  ];
}
