// A subgroup created or deleted in a group (group hooks, feature `projects`). It is told to the parent
// group's subscribers: the subgroup's own path has none yet (or none left).
import type { Locale } from "../src/config.js";
import { t, type MessageKey } from "../src/i18n/index.js";
import type { Notification } from "../src/notification.js";
import { escapeInline } from "../src/text/markdown.js";
import { buildPost, COLORS, eventKey, keyPart, timeKey } from "./common.js";
import type { SubgroupPayload } from "./payloads.js";

const LOOK: Record<string, { key: Extract<MessageKey, `subgroup.${string}`>; color: string }> = {
  subgroup_create: { key: "subgroup.create", color: COLORS.success },
  subgroup_destroy: { key: "subgroup.destroy", color: COLORS.muted },
};

export function subgroup(p: SubgroupPayload): Notification[] {
  const look = Object.hasOwn(LOOK, p.event_name) ? LOOK[p.event_name] : undefined;
  if (!look) return [];
  const parentPath = p.parent_full_path;

  const render = (locale: Locale) =>
    buildPost({
      project: { path: parentPath },
      summary: t(locale, look.key, { subgroup: escapeInline(p.full_path) }),
      color: look.color,
    });

  return [
    {
      feature: "projects",
      projectPath: parentPath,
      eventKey: eventKey("subgroup", keyPart(p.group_id), keyPart(p.event_name), timeKey(p.updated_at ?? p.created_at)),
      labels: [],
      confidential: false,
      render,
    },
  ];
}
