// Feature flag events: turned on or off.
import type { Locale } from "../src/config.js";
import { t } from "../src/i18n/index.js";
import type { Notification } from "../src/notification.js";
import { escapeBlock, link } from "../src/text/markdown.js";
import { actorMarkdown, buildPost, COLORS, eventKey, keyPart, projectUrl } from "./common.js";
import type { FeatureFlagPayload } from "./payloads.js";

export function featureFlag(p: FeatureFlagPayload): Notification[] {
  const a = p.object_attributes;
  const projectPath = p.project.path_with_namespace;
  const webUrl = p.project.web_url ?? p.project.homepage;
  const state = a.active ? "on" : "off";
  const actor = { username: p.user?.username, name: p.user?.name, avatarUrl: p.user?.avatar_url };
  // The payload carries the flag's id, not the iid its page is addressed by: link the project's list.
  const flagsUrl = projectUrl(webUrl, "-", "feature_flags");

  const render = (locale: Locale) =>
    buildPost({
      project: { path: projectPath, webUrl },
      summary: t(locale, a.active ? "feature_flag.on" : "feature_flag.off", { actor: actorMarkdown(actor), flag: link(a.name, flagsUrl) }),
      color: a.active ? COLORS.success : COLORS.muted,
      actor,
      text: a.description ? escapeBlock(a.description, 300) : undefined,
    });

  return [
    {
      feature: "feature_flags",
      projectPath,
      // No time in the payload: turning a flag on twice within the queue's memory posts once.
      eventKey: eventKey("feature_flag", keyPart(p.project.id), keyPart(a.id), state),
      labels: [],
      defaultBranch: p.project.default_branch ?? undefined,
      confidential: false,
      actorUsername: p.user?.username ?? undefined,
      render,
    },
  ];
}
