// GitLab references as people type them in commands: a project `group/sub/project`, an issue
// `group/sub/project#12`, a merge request `group/sub/project!7`, also as a GitLab URL
// (`https://gitlab.example.com/group/project/-/issues/12`) pasted from the browser. Parsed by splitting,
// never by a backtracking pattern; the text is a stranger's and is capped first.

/** GitLab allows long paths, but nothing near this: a longer word is not a reference. */
const MAX_REFERENCE_CHARS = 1024;
const MAX_IID = 2_147_483_647;

function isPathSegment(segment: string): boolean {
  if (segment === "" || segment === "." || segment === "..") return false;
  for (const ch of segment) {
    const ok = (ch >= "a" && ch <= "z") || (ch >= "A" && ch <= "Z") || (ch >= "0" && ch <= "9") || ch === "_" || ch === "." || ch === "-";
    if (!ok) return false;
  }
  return true;
}

/** A project or group path as GitLab spells it (case kept: GitLab matches it without regard to case). */
export function parseProjectPath(text: string | undefined): string | undefined {
  if (!text || text.length > MAX_REFERENCE_CHARS) return undefined;
  const segments = text.split("/");
  return segments.every(isPathSegment) ? text : undefined;
}

function parseIid(text: string): number | undefined {
  if (text === "" || text.length > 10) return undefined;
  for (const ch of text) if (ch < "0" || ch > "9") return undefined;
  const n = Number(text);
  return n >= 1 && n <= MAX_IID ? n : undefined;
}

export interface ObjectReference {
  project: string;
  iid: number;
}

/** The path after the host of a URL of `gitlabUrl` (also under a sub-path), else undefined. */
function pathOnGitlab(text: string, gitlabUrl: string | undefined): string | undefined {
  if (!gitlabUrl || !URL.canParse(text)) return undefined;
  const url = new URL(text);
  const base = new URL(gitlabUrl.endsWith("/") ? gitlabUrl : `${gitlabUrl}/`);
  if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname)) return undefined;
  return url.pathname.slice(base.pathname.length);
}

function parseReference(text: string | undefined, sigil: "#" | "!", kind: "issues" | "merge_requests", gitlabUrl?: string): ObjectReference | undefined {
  if (!text || text.length > MAX_REFERENCE_CHARS) return undefined;
  const onGitlab = pathOnGitlab(text, gitlabUrl);
  if (onGitlab !== undefined) {
    // group/project/-/issues/12 (trailing slash or fragment tolerated by URL parsing above)
    const marker = `/-/${kind}/`;
    const at = onGitlab.indexOf(marker);
    if (at <= 0) return undefined;
    const project = parseProjectPath(onGitlab.slice(0, at));
    const iid = parseIid(onGitlab.slice(at + marker.length).replace(/\/$/, ""));
    return project && iid ? { project, iid } : undefined;
  }
  const at = text.lastIndexOf(sigil);
  if (at <= 0) return undefined;
  const project = parseProjectPath(text.slice(0, at));
  const iid = parseIid(text.slice(at + 1));
  return project && iid ? { project, iid } : undefined;
}

/** `group/project#12` or the issue's GitLab URL. */
export function parseIssueReference(text: string | undefined, gitlabUrl?: string): ObjectReference | undefined {
  return parseReference(text, "#", "issues", gitlabUrl);
}

/** `group/project!7` or the merge request's GitLab URL. */
export function parseMergeRequestReference(text: string | undefined, gitlabUrl?: string): ObjectReference | undefined {
  return parseReference(text, "!", "merge_requests", gitlabUrl);
}

export function formatIssueReference(ref: ObjectReference): string {
  return `${ref.project}#${ref.iid}`;
}

export function formatMergeRequestReference(ref: ObjectReference): string {
  return `${ref.project}!${ref.iid}`;
}
