// Group member events (group hooks, feature `members`): added, changed, removed, access requested,
// access request denied. The payload names the member but not who acted, and never shows the e-mail.
import type { Locale } from "../src/config.js";
import { t, type MessageKey } from "../src/i18n/index.js";
import type { Notification } from "../src/notification.js";
import { escapeInline } from "../src/text/markdown.js";
import { actorMarkdown, buildPost, COLORS, eventKey, keyPart, timeKey } from "./common.js";
import { dateText } from "./dates.js";
import type { MemberPayload } from "./payloads.js";

const LOOK: Record<string, { key: Extract<MessageKey, `member.${string}`>; color: string; role: boolean }> = {
  user_add_to_group: { key: "member.add", color: COLORS.success, role: true },
  user_update_for_group: { key: "member.update", color: COLORS.info, role: true },
  user_remove_from_group: { key: "member.remove", color: COLORS.muted, role: false },
  user_access_request_to_group: { key: "member.access_request", color: COLORS.info, role: true },
  user_access_request_denied_for_group: { key: "member.access_denied", color: COLORS.muted, role: false },
};

const ROLES: Record<string, Extract<MessageKey, `role.${string}`>> = {
  "minimal access": "role.minimal_access",
  guest: "role.guest",
  planner: "role.planner",
  reporter: "role.reporter",
  developer: "role.developer",
  maintainer: "role.maintainer",
  owner: "role.owner",
};

/** GitLab's role name ("Developer") in the reader's language; a role we do not know, as written. */
export function roleName(locale: Locale, access: string | null | undefined): string {
  const name = (access ?? "").trim().toLowerCase();
  const key = Object.hasOwn(ROLES, name) ? ROLES[name] : undefined;
  return key ? t(locale, key) : escapeInline(access, 60);
}

export function member(p: MemberPayload): Notification[] {
  const look = Object.hasOwn(LOOK, p.event_name) ? LOOK[p.event_name] : undefined;
  if (!look) return [];
  // The payload has only the group's own path segment, which is its full path for a top-level group.
  const groupPath = p.group_path;
  const user = { username: p.user_username, name: p.user_name };
  const requested = p.event_name === "user_access_request_to_group";

  const render = (locale: Locale) =>
    buildPost({
      project: { path: groupPath },
      summary: t(locale, look.key, { user: actorMarkdown(user), group: escapeInline(p.group_name || groupPath) }),
      color: look.color,
      // Only an access request is the member's own doing.
      actor: requested ? user : undefined,
      fields: [
        { title: t(locale, "field.role"), value: look.role ? roleName(locale, p.group_access) : "" },
        { title: t(locale, "field.expires"), value: look.role && !requested ? dateText(p.expires_at) : "" },
      ],
    });

  return [
    {
      feature: "members",
      projectPath: groupPath,
      eventKey: eventKey("member", keyPart(p.group_id), keyPart(p.user_id), keyPart(p.event_name), timeKey(p.updated_at ?? p.created_at)),
      labels: [],
      confidential: false,
      actorUsername: requested ? (p.user_username ?? undefined) : undefined,
      render,
    },
  ];
}
