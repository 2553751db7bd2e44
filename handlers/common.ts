// What every handler shares: event keys, actors, the project link and the post's shape.
import type { Locale } from "../src/config.js";
import { t } from "../src/i18n/index.js";
import type { MessageAttachment, PostContent } from "../src/notification.js";
import { fitPost } from "../src/text/fit-post.js";
import { escapeInline, excerptOf, link, linkMarkdown, markdownToPlain, MAX_URL_CHARS, plain, safeUrl } from "../src/text/markdown.js";
import { trimTrailingSlashes } from "../src/text/slashes.js";

/** A payload of a known kind that lacks what its handler needs; retrying cannot help. */
export class PayloadError extends Error {
  readonly code = "payload_invalid";
  constructor(
    message: string,
    /** The event kind, when known. */
    readonly kind?: string,
  ) {
    super(kind ? `${kind} payload: ${message}` : message);
    this.name = "PayloadError";
  }
}

/** Attachment colours per state, GitLab's own palette. */
export const COLORS = {
  opened: "#1f78d1",
  info: "#1f78d1",
  merged: "#6e49cb",
  closed: "#dd2b0e",
  failed: "#dd2b0e",
  success: "#108548",
  warning: "#c17d10",
  muted: "#737278",
} as const;

export const ZERO_SHA = /^0+$/;

/**
 * One part of an event key: [A-Za-z0-9./-] kept, every other character written as `_` and its UTF-8
 * bytes in hex (so `_` itself is `_5F`): distinct inputs stay distinct.
 */
export function keyPart(value: string | number | null | undefined): string {
  const s = value === null || value === undefined ? "" : String(value);
  let out = "";
  for (const ch of s) {
    if (/[A-Za-z0-9./-]/.test(ch)) out += ch;
    else for (const byte of Buffer.from(ch, "utf8")) out += `_${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/**
 * A timestamp as a key part: "2013-12-03T17:23:34Z" and "2013-12-03 17:23:34 UTC" both give
 * "20131203T172334Z". Only stamps that name their zone are parsed (no dependence on the local zone).
 */
export function timeKey(value: string | null | undefined): string {
  if (!value) return "none";
  const zoned = /(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})$/i.test(value.trim());
  const ms = zoned ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) return keyPart(value);
  return new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.000Z$/, "Z");
}

/** Joins key parts that are already safe ([A-Za-z0-9._/#!-]). */
export function eventKey(kind: string, ...parts: string[]): string {
  return [kind, ...parts].join("/");
}

/** A short stable hash (FNV-1a, 32 bits, hex) to tell apart changes that carry no time of their own. */
export function shortHash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

export interface Actor {
  username?: string | null;
  name?: string | null;
  avatarUrl?: string | null;
}

/** "@\u200Busername" (never a mention) or, without a username, the escaped name. */
export function actorMarkdown(actor: Actor): string {
  if (actor.username) return escapeInline(`@${actor.username}`, 100);
  return escapeInline(actor.name || "GitLab", 100);
}

/** "@\u200Ba, @\u200Bb" for a list of users, at most `max` shown then "…and N more". */
export function userList(locale: Locale, users: readonly Actor[], max = 10): string {
  const shown = users.slice(0, max).map(actorMarkdown).join(", ");
  return users.length > max ? `${shown} ${t(locale, "common.and_more", { count: users.length - max })}` : shown;
}

/** Label titles, escaped, comma-separated (at most `max`). */
export function labelList(labels: readonly string[], max = 20): string {
  return labels
    .slice(0, max)
    .map((l) => escapeInline(l, 60))
    .join(", ");
}

export function labelTitles(...sources: (readonly { title: string }[] | null | undefined)[]): string[] {
  for (const source of sources) if (source && source.length > 0) return source.map((l) => l.title);
  return [];
}

/**
 * A URL below the project's web URL (path parts encoded), or undefined when the project has none or
 * the URL would be unreasonably long (a branch name is user text).
 */
export function projectUrl(webUrl: string | null | undefined, ...path: (string | number)[]): string | undefined {
  const base = safeUrl(webUrl);
  if (!base) return undefined;
  const url = [trimTrailingSlashes(base), ...path.map((p) => String(p).split("/").map(encodeURIComponent).join("/"))].join("/");
  return url.length <= MAX_URL_CHARS ? url : undefined;
}

/** "1h 2m", "3m 5s", "42s". */
export function formatDuration(locale: Locale, seconds: number | null | undefined): string | undefined {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return undefined;
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return t(locale, "duration.hours", { h, m });
  if (m > 0) return t(locale, "duration.minutes", { m, s });
  return t(locale, "duration.seconds", { s });
}

/** The first line of a commit message. */
export function firstLine(message: string | null | undefined): string {
  return (message ?? "").trim().split(/\r?\n/)[0] ?? "";
}

export interface PostParts {
  project: { path: string; webUrl?: string | null };
  /** Safe Markdown, one line: what happened. */
  summary: string;
  color: string;
  actor?: Actor;
  /** Raw text (made safe here). */
  title?: string;
  titleLink?: string | null;
  /** Safe Markdown. */
  text?: string;
  /** Titles from the catalog, values safe Markdown. */
  fields?: { title: string; value: string; short?: boolean }[];
  /** Raw text (made safe here). */
  footer?: string;
}

/**
 * The post: "**[group/project](url)**: <summary>" and one attachment with colour, author, title, text
 * and fields; the fallback is the plain reading of the message. Always fits Mattermost's limit.
 */
/** A user text (description, comment) as an excerpt, with a "Read more" link when it was cut. */
export function excerpt(locale: Locale, body: string | null | undefined, url: string | null | undefined): string | undefined {
  if (!body) return undefined;
  const { text, cut } = excerptOf(body);
  return cut ? `${text} ${linkMarkdown(t(locale, "common.read_more"), url)}` : text;
}

export function buildPost(parts: PostParts): PostContent {
  const projectLink = link(parts.project.path, parts.project.webUrl);
  const message = `**${projectLink}**: ${parts.summary}`;
  const attachment: MessageAttachment = {
    fallback: markdownToPlain(message, 1000),
    color: parts.color,
  };
  if (parts.actor) {
    const name = parts.actor.name || parts.actor.username;
    if (name) attachment.author_name = plain(name, 100);
    const icon = safeUrl(parts.actor.avatarUrl);
    if (icon) attachment.author_icon = icon;
  }
  if (parts.title) {
    // Mattermost shows a linked title as plain text, an unlinked one as (link-only) Markdown.
    const titleLink = safeUrl(parts.titleLink);
    attachment.title = titleLink ? plain(parts.title) : escapeInline(parts.title);
    if (titleLink) attachment.title_link = titleLink;
  }
  if (parts.text) attachment.text = parts.text;
  const fields = (parts.fields ?? []).filter((f) => f.value !== "");
  if (fields.length > 0) attachment.fields = fields.map((f) => ({ title: f.title, value: f.value, short: f.short ?? true }));
  if (parts.footer) attachment.footer = plain(parts.footer, 100);
  return fitPost({ message, attachments: [attachment] });
}
