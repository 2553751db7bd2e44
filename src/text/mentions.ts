// `@mentions` in GitLab Markdown (descriptions, comments, commit and tag messages), found in one pass
// over a capped text. Anyone can write these texts, so nothing here may take more than linear time: no
// regular expression runs over them, and every search only moves forward.

/**
 * Only this much of a text is scanned. GitLab accepts descriptions and comments of about a million
 * characters; people mention others near the top, and the cap keeps one event's work small.
 */
export const MENTION_SCAN_MAX_CHARS = 64 * 1024;
/** At most this many people are mentioned by one text (and one event): the first ones, each once. */
export const MAX_MENTIONS = 100;
/** GitLab refuses longer usernames, so a longer name mentions nobody. */
const MAX_USERNAME_CHARS = 255;

/** Usernames that mention a group of people, not a person. */
const GROUP_MENTIONS = new Set(["all", "here", "channel", "everyone"]);

function isWordChar(c: string | undefined): boolean {
  return c !== undefined && ((c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c === "_");
}

function isNameChar(c: string | undefined): boolean {
  return isWordChar(c) || c === "." || c === "-";
}

/** Characters that make a following "@" part of a word, an e-mail address, a path or a literal backtick. */
function joinsMention(c: string | undefined): boolean {
  return isWordChar(c) || (c !== undefined && ".+-/@`".includes(c));
}

function isAllDigits(s: string): boolean {
  for (const c of s) if (c < "0" || c > "9") return false;
  return true;
}

function isBlank(line: string): boolean {
  for (const c of line) if (c !== " " && c !== "\t" && c !== "\r") return false;
  return true;
}

/** The text cut at the cap, without a name the cut may have split ("@bo" of "@bob"). */
function capped(text: string): string {
  if (text.length <= MENTION_SCAN_MAX_CHARS) return text;
  let end = MENTION_SCAN_MAX_CHARS;
  while (end > 0 && isNameChar(text[end - 1])) end--;
  return text.slice(0, end);
}

interface Fence {
  char: string;
  length: number;
}

/** The fence a line opens (up to three spaces, then three or more "`" or "~"), as CommonMark reads it. */
function openingFence(line: string): Fence | undefined {
  let i = 0;
  while (i < 3 && line[i] === " ") i++;
  const char = line[i];
  if (char !== "`" && char !== "~") return undefined;
  let end = i;
  while (line[end] === char) end++;
  if (end - i < 3) return undefined;
  // A backtick fence's info string holds no backtick: "```a```" is a code span, not a fence.
  if (char === "`" && line.includes("`", end)) return undefined;
  return { char, length: end - i };
}

function closesFence(line: string, fence: Fence): boolean {
  let i = 0;
  while (i < 3 && line[i] === " ") i++;
  let end = i;
  while (line[end] === fence.char) end++;
  return end - i >= fence.length && isBlank(line.slice(end));
}

/**
 * The lines of the text with every line of fenced code blocks (an unclosed fence runs to the end) and
 * every indented line made empty, so code blocks end paragraphs and hide what they hold.
 */
function proseLines(text: string): string[] {
  const lines = text.split("\n");
  let fence: Fence | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (fence) {
      if (closesFence(line, fence)) fence = undefined;
      lines[i] = "";
    } else if ((fence = openingFence(line))) {
      lines[i] = "";
    } else if (line.startsWith("    ") || line.startsWith("\t")) {
      lines[i] = "";
    }
  }
  return lines;
}

/** Whether `text` holds `word` at `at`, compared without ASCII case. */
function hasWordAt(text: string, at: number, word: string): boolean {
  if (at + word.length > text.length) return false;
  for (let i = 0; i < word.length; i++) if ((text[at + i] as string).toLowerCase() !== word[i]) return false;
  return true;
}

/**
 * Finds, moving only forward, the next "</code>" or "</pre>" (any case) at or after a position: a search
 * that found nothing is remembered, so many unclosed "<code>" tags cost one scan, not one each.
 */
class CloserSearch {
  private foundAt = -1;
  constructor(
    private readonly text: string,
    private readonly closer: string,
  ) {}
  from(position: number): number {
    if (this.foundAt === Number.POSITIVE_INFINITY || this.foundAt >= position) return this.foundAt;
    let at = this.text.indexOf("</", position);
    while (at !== -1 && !hasWordAt(this.text, at, this.closer)) at = this.text.indexOf("</", at + 2);
    this.foundAt = at === -1 ? Number.POSITIVE_INFINITY : at;
    return this.foundAt;
  }
}

/**
 * The GitLab usernames `@mentioned` in Markdown, in order, each once (compared without case), at most
 * {@link MAX_MENTIONS}. Usernames may hold `.`, `_` and `-`; a trailing `.` or `-` ends the sentence,
 * not the name. Left out: mentions in fenced or indented code blocks, code spans and `<code>`/`<pre>`
 * elements, e-mail addresses, group paths (`@group/sub`) and group-wide mentions (`@all`, `@here`).
 * Only the first {@link MENTION_SCAN_MAX_CHARS} characters are read.
 */
export function mentionedUsernames(markdown: string | null | undefined): string[] {
  if (!markdown || !markdown.includes("@")) return [];
  const lines = proseLines(capped(markdown));
  const text = lines.join("\n");

  // Where each paragraph ends (a blank line): a code span never runs past it.
  const paragraphEnds: number[] = [];
  let offset = 0;
  for (const line of lines) {
    if (isBlank(line)) paragraphEnds.push(offset);
    offset += line.length + 1;
  }
  let paragraph = 0;

  // Backtick runs by length: a code span closes at the next run of exactly its opening's length.
  const runsByLength = new Map<number, { starts: number[]; next: number }>();
  for (let i = 0; i < text.length; ) {
    if (text[i] !== "`") {
      i++;
      continue;
    }
    const start = i;
    while (text[i] === "`") i++;
    const runs = runsByLength.get(i - start) ?? { starts: [], next: 0 };
    runs.starts.push(start);
    runsByLength.set(i - start, runs);
  }

  const codeCloser = new CloserSearch(text, "</code>");
  const preCloser = new CloserSearch(text, "</pre>");
  let tagEnd = -1;

  const seen = new Set<string>();
  const out: string[] = [];
  let previous: string | undefined;
  let i = 0;
  while (i < text.length && out.length < MAX_MENTIONS) {
    const c = text[i] as string;
    if (c === "`") {
      const start = i;
      while (text[i] === "`") i++;
      const runs = runsByLength.get(i - start) as { starts: number[]; next: number };
      while (runs.next < runs.starts.length && (runs.starts[runs.next] as number) < i) runs.next++;
      while (paragraph < paragraphEnds.length && (paragraphEnds[paragraph] as number) < start) paragraph++;
      const close = runs.starts[runs.next];
      if (close !== undefined && close < (paragraphEnds[paragraph] ?? text.length)) {
        i = close + (i - start);
        previous = " ";
      } else {
        previous = "`";
      }
      continue;
    }
    if (c === "<") {
      const tag = hasWordAt(text, i + 1, "code") ? "code" : hasWordAt(text, i + 1, "pre") ? "pre" : undefined;
      if (tag && !isWordChar(text[i + 1 + tag.length])) {
        if (tagEnd !== Number.POSITIVE_INFINITY && tagEnd < i) {
          const found = text.indexOf(">", i);
          tagEnd = found === -1 ? Number.POSITIVE_INFINITY : found;
        }
        const close = tagEnd === Number.POSITIVE_INFINITY ? tagEnd : (tag === "code" ? codeCloser : preCloser).from(tagEnd + 1);
        if (close !== Number.POSITIVE_INFINITY) {
          i = close + tag.length + 3;
          previous = " ";
          continue;
        }
      }
    }
    if (c === "@" && !joinsMention(previous) && isWordChar(text[i + 1])) {
      let end = i + 1;
      while (isNameChar(text[end])) end++;
      previous = text[end - 1];
      const nameStart = i + 1;
      i = end;
      if (text[end] === "/") continue;
      while (text[end - 1] === "." || text[end - 1] === "-") end--;
      const name = text.slice(nameStart, end);
      const key = name.toLowerCase();
      if (name.length > MAX_USERNAME_CHARS || GROUP_MENTIONS.has(key) || isAllDigits(name) || seen.has(key)) continue;
      seen.add(key);
      out.push(name);
      continue;
    }
    previous = c;
    i++;
  }
  return out;
}
