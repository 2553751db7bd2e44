// What no post may contain, judged on Mattermost's own Markdown parser (@mattermost/commonmark, the
// parser of Mattermost's apps): a group mention (`at_mention` node for all, channel or here), a link or
// image the bot did not build (explicit links must be http(s) to a host the payload's URL or avatar
// fields name; a bare URL Mattermost links by itself must at least be http(s)), or the text `undefined`
// or `[object Object]` (a missing or mistyped field interpolated). Bare URLs are linked only for the
// schemes of Mattermost's default AutolinkedUrlSchemes setting, as its apps do.
import { Parser, type Node } from "@mattermost/commonmark";
import type { MessageAttachment, PostContent } from "../src/notification.js";

export interface PostFinding {
  kind: "group-mention" | "foreign-link" | "undefined-text" | "object-text";
  detail: string;
}

const GROUP_MENTIONS = new Set(["all", "channel", "here"]);
/** Mattermost's model.DefaultAutolinkedUrlSchemes: the schemes its apps link when a message names a bare URL. */
const AUTOLINKED_SCHEMES = new Set(["http", "https", "ftp", "mailto", "tel", "mattermost"]);
const autolinkedScheme = (url: string) => {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
  return scheme === undefined || AUTOLINKED_SCHEMES.has(scheme.toLowerCase());
};
const parser = new Parser({ urlFilter: autolinkedScheme });

/** Mattermost ends a mention name before trailing dots, dashes and underscores ("@all." mentions all). */
function mentionName(raw: string): string {
  let end = raw.length;
  while (end > 0 && ".-_".includes(raw[end - 1]!)) end--;
  return raw.slice(0, end).toLowerCase();
}

/** Hosts of the http(s) URLs under the payload's URL and avatar fields (web_url, url, homepage, avatar_url): GitLab's. */
export function payloadHosts(payload: unknown, out = new Set<string>()): Set<string> {
  if (payload === null || typeof payload !== "object") return out;
  for (const [key, value] of Object.entries(payload)) {
    if (typeof value === "string" && /url$|^homepage$|avatar/i.test(key) && /^https?:\/\//i.test(value) && URL.canParse(value)) out.add(new URL(value).host.toLowerCase());
    else payloadHosts(value, out);
  }
  return out;
}

function linkProblem(destination: string, hosts: ReadonlySet<string>): string | undefined {
  if (!/^https?:\/\//i.test(destination) || !URL.canParse(destination)) return `to ${JSON.stringify(destination.slice(0, 80))}`;
  const host = new URL(destination).host.toLowerCase();
  return hosts.has(host) ? undefined : `to ${host}, a host the payload's URL fields do not name`;
}

function decoded(uri: string): string {
  try {
    return decodeURI(uri);
  } catch {
    return uri;
  }
}

function textOf(node: Node): string {
  let out = "";
  const walker = node.walker();
  for (let e = walker.next(); e; e = walker.next()) if (e.entering && e.node.literal) out += e.node.literal;
  return out;
}

/** Findings in one Markdown text of a post, `where` naming the field. */
export function checkMarkdown(text: string, where: string, hosts: ReadonlySet<string>): PostFinding[] {
  const findings: PostFinding[] = [];
  if (/\bundefined\b/.test(text)) findings.push({ kind: "undefined-text", detail: `${where} contains "undefined"` });
  if (text.includes("[object Object]")) findings.push({ kind: "object-text", detail: `${where} contains "[object Object]"` });
  const walker = parser.parse(text).walker();
  for (let e = walker.next(); e; e = walker.next()) {
    if (!e.entering) continue;
    const node = e.node;
    if (node.type === "at_mention" && GROUP_MENTIONS.has(mentionName(node.mentionName ?? ""))) {
      findings.push({ kind: "group-mention", detail: `${where} mentions @${node.mentionName}` });
    } else if (node.type === "link" || node.type === "image") {
      const destination = node.destination ?? "";
      // A URL of an autolinked scheme that Mattermost linked by itself shows its own text; an explicit
      // link or image can disguise where it goes (and `<javascript:...>` is linked whatever its scheme).
      const text = textOf(node);
      const bare = node.type === "link" && autolinkedScheme(destination) && [destination, decoded(destination)].some((d) => d === text || d === `http://${text}`);
      const problem = bare ? undefined : linkProblem(destination, hosts);
      if (problem) findings.push({ kind: "foreign-link", detail: `${where}: ${node.type} ${problem}` });
    }
  }
  return findings;
}

function checkUrlField(value: string | undefined, where: string, hosts: ReadonlySet<string>): PostFinding[] {
  if (!value) return [];
  const problem = linkProblem(value, hosts);
  return problem ? [{ kind: "foreign-link", detail: `${where} points ${problem}` }] : [];
}

function checkPlain(value: string | undefined, where: string): PostFinding[] {
  if (!value) return [];
  const findings: PostFinding[] = [];
  if (/\bundefined\b/.test(value)) findings.push({ kind: "undefined-text", detail: `${where} contains "undefined"` });
  if (value.includes("[object Object]")) findings.push({ kind: "object-text", detail: `${where} contains "[object Object]"` });
  return findings;
}

function checkAttachment(a: MessageAttachment, at: string, hosts: ReadonlySet<string>): PostFinding[] {
  return [
    ...checkPlain(a.fallback, `${at}.fallback`),
    ...checkPlain(a.author_name, `${at}.author_name`),
    ...checkPlain(a.title, `${at}.title`),
    ...(a.pretext ? checkMarkdown(a.pretext, `${at}.pretext`, hosts) : []),
    ...(a.text ? checkMarkdown(a.text, `${at}.text`, hosts) : []),
    ...(a.footer ? checkMarkdown(a.footer, `${at}.footer`, hosts) : []),
    ...(a.fields ?? []).flatMap((f, i) => [...checkPlain(f.title, `${at}.fields[${i}].title`), ...checkMarkdown(f.value ?? "", `${at}.fields[${i}].value`, hosts)]),
    ...checkUrlField(a.title_link, `${at}.title_link`, hosts),
    ...checkUrlField(a.author_link, `${at}.author_link`, hosts),
    ...checkUrlField(a.author_icon, `${at}.author_icon`, hosts),
  ];
}

/** Every finding in a post: its message and each attachment's fields. */
export function checkPost(post: PostContent, hosts: ReadonlySet<string>): PostFinding[] {
  return [...checkMarkdown(post.message, "message", hosts), ...(post.attachments ?? []).flatMap((a, i) => checkAttachment(a, `attachments[${i}]`, hosts))];
}
