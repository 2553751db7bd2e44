// Wiki page events: created, updated, deleted.
import type { Locale } from "../src/config.js";
import { t, type MessageKey } from "../src/i18n/index.js";
import type { Notification } from "../src/notification.js";
import { escapeBlock, escapeInline, link, linkMarkdown } from "../src/text/markdown.js";
import { actorMarkdown, buildPost, COLORS, eventKey, keyPart, shortHash } from "./common.js";
import type { WikiPagePayload } from "./payloads.js";

const LOOK: Record<string, { key: Extract<MessageKey, `wiki.${string}`>; color: string }> = {
  create: { key: "wiki.create", color: COLORS.success },
  update: { key: "wiki.update", color: COLORS.info },
  delete: { key: "wiki.delete", color: COLORS.muted },
};

export function wikiPage(p: WikiPagePayload): Notification[] {
  const a = p.object_attributes;
  const look = Object.hasOwn(LOOK, a.action) ? LOOK[a.action] : undefined;
  if (!look) return [];
  const projectPath = p.project.path_with_namespace;
  const deleted = a.action === "delete";
  const actor = { username: p.user?.username, name: p.user?.name, avatarUrl: p.user?.avatar_url };
  // A deleted page has no new version: its last content tells it apart.
  const version = a.version_id ? keyPart(a.version_id) : shortHash(`${a.title}\n${a.content ?? ""}`);

  const render = (locale: Locale) => {
    const page = deleted ? escapeInline(a.title) : link(a.title, a.url);
    const diff = a.action === "update" && a.diff_url ? linkMarkdown(t(locale, "common.view_changes"), a.diff_url) : "";
    const message = escapeBlock(a.message, 300);
    return buildPost({
      project: { path: projectPath, webUrl: p.project.web_url },
      summary: t(locale, look.key, { actor: actorMarkdown(actor), page }),
      color: look.color,
      actor,
      text: [message, diff].filter(Boolean).join("\n"),
    });
  };

  return [
    {
      feature: "wiki",
      projectPath,
      eventKey: eventKey("wiki_page", keyPart(p.project.id), keyPart(a.slug), keyPart(a.action), version),
      labels: [],
      defaultBranch: p.project.default_branch ?? undefined,
      confidential: false,
      actorUsername: p.user?.username ?? undefined,
      render,
    },
  ];
}
