// Project and group access tokens about to expire. Only the token's name is shown, never anything
// that could stand for the token itself.
import type { Locale } from "../src/config.js";
import { t } from "../src/i18n/index.js";
import type { Notification } from "../src/notification.js";
import { escapeInline, linkMarkdown } from "../src/text/markdown.js";
import { buildPost, COLORS, eventKey, keyPart, projectUrl } from "./common.js";
import { dateText } from "./dates.js";
import type { AccessTokenPayload } from "./payloads.js";

export function accessToken(p: AccessTokenPayload): Notification[] {
  const a = p.object_attributes;
  const project = p.project;
  // The schema makes sure there is a project or a group.
  const path = project ? project.path_with_namespace : (p.group?.full_path ?? "");
  const webUrl = project ? (project.web_url ?? project.homepage) : undefined;
  // Group payloads carry no URL at all; a project's token settings are below the project.
  const settingsUrl = projectUrl(webUrl, "-", "settings", "access_tokens");
  const owner = project ? keyPart(`project-${project.id}`) : keyPart(`group-${p.group?.group_id ?? path}`);

  const render = (locale: Locale) =>
    buildPost({
      project: { path, webUrl },
      summary: t(locale, project ? "access_token.project" : "access_token.group", {
        token: linkMarkdown(escapeInline(a.name, 100), settingsUrl),
        date: dateText(a.expires_at),
      }),
      color: COLORS.warning,
    });

  return [
    {
      feature: "access_tokens",
      projectPath: path,
      eventKey: eventKey("access_token", owner, keyPart(a.id), "expiring", keyPart(a.expires_at), ...(a.interval ? [keyPart(a.interval)] : [])),
      labels: [],
      defaultBranch: project?.default_branch ?? undefined,
      confidential: false,
      render,
    },
  ];
}
