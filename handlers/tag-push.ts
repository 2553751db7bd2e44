// Tag push events: a tag created or deleted.
import type { Locale } from "../src/config.js";
import { t } from "../src/i18n/index.js";
import type { Notification } from "../src/notification.js";
import { escapeBlock, escapeInline, link, linkMarkdown, shortSha } from "../src/text/markdown.js";
import { actorMarkdown, buildPost, COLORS, eventKey, keyPart, projectUrl, ZERO_SHA, type Actor } from "./common.js";
import type { TagPushPayload } from "./payloads.js";

export function tagPush(p: TagPushPayload): Notification[] {
  const tag = p.ref.startsWith("refs/tags/") ? p.ref.slice("refs/tags/".length) : p.ref;
  const deleted = ZERO_SHA.test(p.after);
  const projectPath = p.project.path_with_namespace;
  const webUrl = p.project.web_url ?? p.project.homepage;
  const actor: Actor = { username: p.user_username, name: p.user_name, avatarUrl: p.user_avatar };
  const sha = p.checkout_sha || p.after;

  const render = (locale: Locale) => {
    const actorText = actorMarkdown(actor);
    const summary = deleted
      ? t(locale, "tag.deleted", { actor: actorText, tag: escapeInline(tag) })
      : t(locale, "tag.pushed", { actor: actorText, tag: link(tag, projectUrl(webUrl, "-", "tags", tag)) });
    const fields = deleted ? [] : [{ title: t(locale, "field.commit"), value: linkMarkdown(shortSha(sha), projectUrl(webUrl, "-", "commit", sha)) }];
    return buildPost({
      project: { path: projectPath, webUrl },
      summary,
      color: deleted ? COLORS.muted : COLORS.info,
      actor,
      text: deleted ? undefined : escapeBlock(p.message),
      fields,
    });
  };

  return [
    {
      feature: "tags",
      projectPath,
      eventKey: eventKey("tag_push", keyPart(p.project_id), keyPart(p.ref), `${keyPart(p.before)}..${keyPart(p.after)}`),
      labels: [],
      defaultBranch: p.project.default_branch ?? undefined,
      confidential: false,
      actorUsername: actor.username ?? undefined,
      render,
    },
  ];
}
