// Release events: created, updated, deleted.
import type { Locale } from "../src/config.js";
import { t, type MessageKey } from "../src/i18n/index.js";
import type { Notification } from "../src/notification.js";
import { escapeInline, link, linkMarkdown, shortSha } from "../src/text/markdown.js";
import { buildPost, COLORS, eventKey, excerpt, keyPart, projectUrl, shortHash, timeKey } from "./common.js";
import type { ReleasePayload } from "./payloads.js";

const LOOK: Record<string, { key: Extract<MessageKey, `release.${string}`>; color: string }> = {
  create: { key: "release.create", color: COLORS.success },
  update: { key: "release.update", color: COLORS.info },
  delete: { key: "release.delete", color: COLORS.muted },
};
const SHOWN_ASSETS = 5;

export function release(p: ReleasePayload): Notification[] {
  const look = Object.hasOwn(LOOK, p.action) ? LOOK[p.action] : undefined;
  if (!look) return [];
  const projectPath = p.project.path_with_namespace;
  const webUrl = p.project.web_url ?? p.project.homepage;
  const name = p.name || p.tag;
  const deleted = p.action === "delete";
  const actor = p.user ? { username: p.user.username, name: p.user.name, avatarUrl: p.user.avatar_url } : undefined;
  // Release payloads carry no time of update: an edit is told apart by what it says.
  const version = p.action === "update" ? `${timeKey(p.updated_at ?? p.created_at)}.${shortHash(`${p.name ?? ""}\n${p.description ?? ""}`)}` : timeKey(p.updated_at ?? p.created_at);

  const render = (locale: Locale) => {
    const releaseText = deleted ? escapeInline(name) : link(name, p.url);
    const tag = link(p.tag, projectUrl(webUrl, "-", "tags", p.tag));
    const summary = look.key === "release.create" ? t(locale, look.key, { release: releaseText, tag }) : t(locale, look.key, { release: releaseText });
    const text = deleted ? undefined : excerpt(locale, p.description, p.url);
    const links = p.assets?.links ?? [];
    const assets = links
      .slice(0, SHOWN_ASSETS)
      .map((l) => link(l.name || l.url, l.url, 80))
      .join(", ");
    const moreAssets = links.length > SHOWN_ASSETS ? ` ${t(locale, "common.and_more", { count: links.length - SHOWN_ASSETS })}` : "";
    return buildPost({
      project: { path: projectPath, webUrl },
      summary,
      color: look.color,
      actor,
      title: deleted ? undefined : name,
      titleLink: p.url,
      text,
      fields: [
        { title: t(locale, "field.tag"), value: p.action === "update" ? tag : "" },
        { title: t(locale, "field.commit"), value: p.commit && !deleted ? linkMarkdown(shortSha(p.commit.id), p.commit.url) : "" },
        { title: t(locale, "field.assets"), value: deleted ? "" : assets + moreAssets, short: false },
      ],
    });
  };

  return [
    {
      feature: "releases",
      projectPath,
      eventKey: eventKey("release", keyPart(p.project.id), keyPart(p.tag), keyPart(p.action), version),
      labels: [],
      defaultBranch: p.project.default_branch ?? undefined,
      confidential: false,
      actorUsername: p.user?.username ?? undefined,
      render,
    },
  ];
}
