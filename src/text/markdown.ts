// Safe text for Mattermost Markdown. Every string that comes from a GitLab payload (titles, comments,
// branch names, usernames shown as text) goes through one of these before it reaches a post, so it
// cannot ping anyone, inject a link or image, or break the post's layout.

/** Zero-width space: placed after every "@" so Mattermost sees no mention (`@all`, `@channel`, `@user`). */
export const ZWSP = "\u200B";

/** Body excerpts (comments, descriptions) are cut at this many characters. */
export const EXCERPT_MAX_CHARS = 500;
/** One-line values (titles, branch names, job names) are cut at this many characters. */
export const INLINE_MAX_CHARS = 250;
const EXCERPT_MAX_LINES = 12;
/** Longer URLs are not linked (browsers and proxies refuse them; they would crowd out the post). */
export const MAX_URL_CHARS = 2048;
const ELLIPSIS = "…";

// Control characters (but tab and newline, handled apart), bidi overrides/isolates and the BOM: they
// can hide or reorder text.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const INVISIBLE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069\uFEFF]/g;
const HTML_COMMENT = /<!--[\s\S]*?(?:-->|$)/g;
// A tag (`<b>`, `</div>`, `<img src=x>`) or an autolink (`<http://x>`, `<a@b.c>`).
const HTML_TAG = /<\/?[A-Za-z][^<>]*>|<[A-Za-z][A-Za-z0-9+.-]*:[^<>\s]*>/g;

/**
 * Removes HTML tags, comments and autolinks, repeatedly, so `<scr<b>ipt>` leaves no tag behind. Past
 * ten rounds of nesting (only an attack nests that deep), every angle bracket goes.
 */
export function stripHtml(s: string): string {
  let out = s.replace(HTML_COMMENT, "");
  for (let round = 0; round < 10; round++) {
    const next = out.replace(HTML_TAG, "");
    if (next === out) return out;
    out = next;
  }
  return out.replace(/[<>]/g, "");
}

/** Cuts to at most `maxChars` UTF-16 units, "…" included, never inside a surrogate pair. */
export function truncate(s: string, maxChars: number): string {
  if (s.length <= maxChars) return s;
  if (maxChars <= 0) return "";
  let end = maxChars - ELLIPSIS.length;
  const code = s.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  // Never end on a bare "@" (its zero-width space cut off) or on an escaping backslash. A loop, not
  // /[@\\]+$/: that retries a long run of them from each of its characters.
  end = Math.max(0, end);
  while (end > 0 && (s[end - 1] === "@" || s[end - 1] === "\\")) end--;
  return s.slice(0, end).trimEnd() + ELLIPSIS;
}

/** `@x` -> `@\u200Bx` wherever a mention could start; idempotent. */
export function neutralizeMentions(s: string): string {
  return s.replace(/@(?!\u200B)/g, `@${ZWSP}`);
}

/** What of a user string is worth reading: posts show at most a few hundred characters of it. */
const READ_MAX_CHARS = 20_000;

function clean(s: unknown): string {
  if (s === null || s === undefined) return "";
  return stripHtml(String(s).slice(0, READ_MAX_CHARS)).replace(INVISIBLE, "");
}

// Every character CommonMark or Mattermost gives a meaning inside a line: emphasis, code, links and
// images (via "["), tables, HTML and entities, LaTeX. A backslash makes each one literal.
const MARKDOWN_SPECIAL = /[\\`*_~[\]<>|&$]/g;
// At the start of a line, before a space or the end: headings, list items, setext underlines and
// thematic breaks, ordered lists ("*" and ">" are escaped everywhere).
const LINE_START = /^(?:#{1,6}|[-+=]+|\d{1,9}[.)])(?=\s|$)/;

function escapeLine(line: string): string {
  const escaped = line.replace(MARKDOWN_SPECIAL, "\\$&").replace(LINE_START, (m) => (/^\d/.test(m) ? `${m.slice(0, -1)}\\${m.slice(-1)}` : `\\${m}`));
  return neutralizeMentions(escaped);
}

/**
 * A user string as one line of Markdown: tags stripped, newlines and runs of spaces folded into one
 * space, cut at `maxChars` (counted before escaping), every Markdown character escaped, mentions defused.
 */
export function escapeInline(s: unknown, maxChars = INLINE_MAX_CHARS): string {
  const flat = clean(s).replace(/\s+/g, " ").trim();
  return escapeLine(truncate(flat, maxChars));
}

/**
 * The lines of a user text as an excerpt shows them: no indentation, no blank-line runs. Reading stops
 * at the first line past `maxLines` (whatever follows cannot change the excerpt, only that it is cut).
 */
function blockLines(s: unknown, maxLines: number): string[] {
  const kept: string[] = [];
  for (const raw of clean(s).replace(/\r\n?|[\u2028\u2029\u0085]/g, "\n").split("\n")) {
    const line = raw.replace(/[^\S\n]+/g, " ").trim();
    if (line === "" && (kept.length === 0 || kept[kept.length - 1] === "")) continue;
    kept.push(line);
    if (line !== "" && kept.length > maxLines) break;
  }
  while (kept.length > 0 && kept[kept.length - 1] === "") kept.pop();
  return kept;
}

/**
 * A user text (comment, description, commit message) as a block of Markdown lines: indentation and
 * blank-line runs removed (no code blocks or huge gaps), at most `maxChars` characters and 12 lines,
 * each line escaped like {@link escapeInline}; `cut` says whether text was left out (the text then
 * ends with "…", and a post should link to the rest).
 */
export function excerptOf(s: unknown, maxChars = EXCERPT_MAX_CHARS): { text: string; cut: boolean } {
  if (typeof s === "string" && s.length > EXCERPT_WINDOW_CHARS) {
    // Most long texts fill an excerpt from their beginning: read only that, when that is sure to give
    // the same excerpt. Without "<" or ">" in it, nothing in the window can be part of a tag or comment
    // that ends past it, so what the window gives is the start of what the whole text gives; when that
    // is already more than an excerpt shows, the excerpt is the same. Otherwise the whole text is read.
    const window = s.slice(0, EXCERPT_WINDOW_CHARS);
    if (!window.includes("<") && !window.includes(">")) {
      const early = wholeExcerptOf(window, maxChars);
      if (early.cut) return early;
    }
  }
  return wholeExcerptOf(s, maxChars);
}

/** How much of a long text {@link excerptOf} reads first: four excerpts' worth. */
const EXCERPT_WINDOW_CHARS = 4 * EXCERPT_MAX_CHARS;

/** {@link excerptOf}, reading the whole text (up to READ_MAX_CHARS). */
export function wholeExcerptOf(s: unknown, maxChars = EXCERPT_MAX_CHARS): { text: string; cut: boolean } {
  const lines = blockLines(s, EXCERPT_MAX_LINES);
  const joined = lines.slice(0, EXCERPT_MAX_LINES).join("\n");
  const moreLines = lines.length > EXCERPT_MAX_LINES;
  let text = joined;
  if (text.length > maxChars) text = truncate(text, maxChars);
  else if (moreLines) text = truncate(text + ELLIPSIS, maxChars);
  return { text: text.split("\n").map(escapeLine).join("\n"), cut: moreLines || joined.length > maxChars };
}

/** {@link excerptOf}'s text alone. */
export function escapeBlock(s: unknown, maxChars = EXCERPT_MAX_CHARS): string {
  return excerptOf(s, maxChars).text;
}

/**
 * The URL to put in a Markdown link, or undefined when it is not an absolute http(s) URL. Characters
 * that could end the link destination or open new Markdown (spaces, parentheses, brackets, angle
 * brackets, backslashes, quotes) are percent-encoded.
 */
export function safeUrl(url: unknown): string | undefined {
  if (typeof url !== "string") return undefined;
  const u = url.trim();
  // eslint-disable-next-line no-control-regex -- a URL with control characters is refused
  if (u.length > MAX_URL_CHARS || !/^https?:\/\/[^/?#\s]/i.test(u) || !URL.canParse(u) || /[\u0000-\u001F\u007F]/.test(u)) return undefined;
  return u.replace(/[\s()<>[\]\\`"']/g, (c) => (c === "(" || c === ")" || c === "'" ? `%${c.charCodeAt(0).toString(16).toUpperCase()}` : encodeURIComponent(c)));
}

/** `[text](url)` with `text` escaped; just the escaped text when the URL is not a safe http(s) URL. */
export function link(text: unknown, url: unknown, maxChars = INLINE_MAX_CHARS): string {
  return linkMarkdown(escapeInline(text, maxChars), url);
}

/** `[markdown](url)` for link text that is already safe Markdown (built from escaped parts). */
export function linkMarkdown(markdown: string, url: unknown): string {
  const href = safeUrl(url);
  if (!href || markdown === "") return markdown;
  return `[${markdown}](${href})`;
}

/** A commit id shown short, in code style when it is a plain hex sha, else escaped text. */
export function shortSha(sha: unknown): string {
  const s = typeof sha === "string" ? sha : "";
  return /^[0-9a-f]{7,64}$/i.test(s) ? `\`${s.slice(0, 8)}\`` : escapeInline(s, 12);
}

/**
 * A user string as plain text (attachment fallback, push notifications, author names): tags stripped,
 * one line, cut, mentions defused and link syntax broken with invisible spaces, no backslashes.
 */
export function plain(s: unknown, maxChars = INLINE_MAX_CHARS): string {
  const flat = clean(s).replace(/\s+/g, " ").trim();
  return defang(truncate(flat, maxChars));
}

function defang(s: string): string {
  return neutralizeMentions(stripHtml(s))
    .replace(/\](?=[(:[])/g, `]${ZWSP}`)
    .replace(/!\[/g, `!${ZWSP}[`)
    .replace(/</g, `<${ZWSP}`);
}

/**
 * Links we built (`[text](url)`: every "[" and "]" of the text escaped, a destination without spaces
 * or parentheses) replaced by their text. One forward scan: an escaped "\\[" never starts a link, and a
 * failed link is left after reading its text once, where a regular expression would retry from each
 * escaped bracket inside it.
 */
function linksAsText(markdown: string): string {
  let out = "";
  // Text up to here is copied in one piece when a link is met or at the end, not character by character.
  let copiedTo = 0;
  let i = 0;
  while (i < markdown.length) {
    const c = markdown[i] as string;
    if (c === "\\") {
      i += 2;
      continue;
    }
    if (c === "[") {
      let textEnd = i + 1;
      while (textEnd < markdown.length && markdown[textEnd] !== "[" && markdown[textEnd] !== "]") textEnd += markdown[textEnd] === "\\" ? 2 : 1;
      if (markdown[textEnd] === "]" && markdown[textEnd + 1] === "(") {
        let urlEnd = textEnd + 2;
        while (urlEnd < markdown.length && !"()".includes(markdown[urlEnd] as string) && !/\s/.test(markdown[urlEnd] as string)) urlEnd++;
        if (markdown[urlEnd] === ")") {
          out += markdown.slice(copiedTo, i) + markdown.slice(i + 1, textEnd);
          i = urlEnd + 1;
          copiedTo = i;
          continue;
        }
      }
    }
    i++;
  }
  return out + markdown.slice(copiedTo);
}

/** The plain-text reading of Markdown built by these helpers: links become their text, escapes go. */
export function markdownToPlain(markdown: string, maxChars = Number.POSITIVE_INFINITY): string {
  const text = linksAsText(markdown)
    .replace(/(?<!\\)\*\*/g, "")
    .replace(/(?<!\\)`/g, "")
    .replace(/\\(.)/g, "$1")
    .replace(/\s+/g, " ")
    .trim();
  return defang(truncate(text, maxChars));
}
