// `gitlab-mm preview`: the post(s) a webhook payload would produce, without database, Redis or
// Mattermost, so an admin can see a notification before subscribing anyone.
import { readFile } from "node:fs/promises";
import { notificationsFor } from "../handlers/index.js";
import { LOCALES, type Locale } from "./config.js";
import type { MessageAttachment, Notification, PostContent } from "./notification.js";

export interface PreviewOptions {
  /** Language of the posts (default `en`). */
  lang?: Locale;
  /** The X-Gitlab-Event header GitLab would send, for payloads that name no kind. */
  eventHeader?: string;
  /** JSON instead of text. */
  json?: boolean;
}

/** A payload that cannot be previewed: not JSON, or of a kind the bot has no handler for. */
export class PreviewError extends Error {
  constructor(
    readonly code: "unreadable" | "invalid_json" | "unknown_kind",
    message: string,
  ) {
    super(message);
    this.name = "PreviewError";
  }
}

/** What routing sees of a notification, for the reader to know which subscriptions get it. */
function routing(n: Notification) {
  return {
    feature: n.feature,
    projectPath: n.projectPath,
    eventKey: n.eventKey,
    labels: n.labels,
    ...(n.branch !== undefined ? { branch: n.branch } : {}),
    confidential: n.confidential,
    ...(n.threadKey !== undefined ? { threadKey: n.threadKey } : {}),
  };
}

function indent(text: string, prefix = "    "): string {
  return text
    .split("\n")
    .map((line) => prefix + line)
    .join("\n");
}

function attachmentText(a: MessageAttachment, index: number, count: number): string[] {
  const lines = [count > 1 ? `Attachment ${index + 1} of ${count}:` : "Attachment:"];
  if (a.color) lines.push(`  Color:    ${a.color}`);
  if (a.author_name) lines.push(`  Author:   ${a.author_name}${a.author_icon ? ` (${a.author_icon})` : ""}`);
  if (a.pretext) lines.push("  Pretext:", indent(a.pretext));
  if (a.title) lines.push(`  Title:    ${a.title}${a.title_link ? ` (${a.title_link})` : ""}`);
  if (a.text) lines.push("  Text:", indent(a.text));
  if (a.fields?.length) {
    lines.push("  Fields:");
    for (const f of a.fields) lines.push(`    ${f.title}: ${f.value}`);
  }
  if (a.footer) lines.push(`  Footer:   ${a.footer}`);
  lines.push(`  Fallback: ${a.fallback}`);
  return lines;
}

function postText(n: Notification, post: PostContent, index: number, count: number): string {
  const r = routing(n);
  const facts = [
    `feature ${r.feature}`,
    `path ${r.projectPath}`,
    r.labels.length ? `labels ${r.labels.join(", ")}` : "",
    r.branch !== undefined ? `branch ${r.branch}` : "",
    r.confidential ? "confidential" : "",
    r.threadKey ? `thread ${r.threadKey}` : "",
  ].filter(Boolean);
  const lines = [`Post ${index + 1} of ${count} (${facts.join("; ")})`, "Message:", indent(post.message, "  ")];
  const attachments = post.attachments ?? [];
  attachments.forEach((a, i) => lines.push(...attachmentText(a, i, attachments.length)));
  return lines.join("\n");
}

/**
 * The post(s) `text` (a webhook body) would produce, in `lang`: readable text, or JSON with `json`.
 * Throws PreviewError for text that is not JSON or an event kind without handler, and the handler's
 * PayloadError for a payload that lacks what its handler needs.
 */
export function previewPayload(text: string, options: PreviewOptions = {}): string {
  const lang = options.lang ?? "en";
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (error) {
    throw new PreviewError("invalid_json", `not valid JSON: ${(error as Error).message.split("\n")[0]}`);
  }
  const { kind, known, notifications } = notificationsFor(payload, options.eventHeader);
  if (!known) {
    throw new PreviewError(
      "unknown_kind",
      kind === undefined ? "no handler for event kind (none): the payload names no object_kind or event_name; pass --event \"<X-Gitlab-Event>\"" : `no handler for event kind ${kind}`,
    );
  }
  const posts = notifications.map((n) => ({ n, post: n.render(lang) }));
  if (options.json) {
    return JSON.stringify({ kind, lang, posts: posts.map(({ n, post }) => ({ ...routing(n), post })) }, null, 2);
  }
  const head = `Event kind ${kind}, language ${lang}: ${posts.length === 1 ? "1 post" : `${posts.length} posts`}`;
  if (posts.length === 0) return `${head} (the bot does not post this event, e.g. a job that passed or an action it leaves out).`;
  return [head, ...posts.map(({ n, post }, i) => postText(n, post, i, posts.length))].join("\n\n");
}

/** `--lang` as a locale, or undefined when it names none we have (matched without regard to case). */
export function previewLocale(value: string | undefined): Locale | undefined {
  if (value === undefined) return "en";
  return LOCALES.find((l) => l.toLowerCase() === value.toLowerCase());
}

/**
 * A payload file's text for {@link previewPayload}, read where the CLI runs (also with --url, which
 * sends the text to the bot); PreviewError ("unreadable") when it cannot be read.
 */
export async function readPayloadFile(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : code === "EACCES" ? "permission denied" : (code ?? (error as Error).message);
    throw new PreviewError("unreadable", `cannot read ${path}: ${why}`);
  }
}
