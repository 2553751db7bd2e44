// Comment events on issues, merge requests, commits and snippets. System notes and edits are not posted.
// Internal notes, and any note on a confidential issue, are confidential.
import type { Locale } from "../src/config.js";
import { t } from "../src/i18n/index.js";
import type { Feature, Notification } from "../src/notification.js";
import { escapeInline, linkMarkdown, shortSha } from "../src/text/markdown.js";
import { actorMarkdown, buildPost, COLORS, eventKey, excerpt, firstLine, keyPart, labelTitles, PayloadError, projectUrl, timeKey } from "./common.js";
import { nounOf } from "./issue.js";
import type { NotePayload } from "./payloads.js";

const FEATURES: Record<string, Feature> = {
  Issue: "issue_comments",
  MergeRequest: "merge_request_comments",
  Commit: "commit_comments",
  Snippet: "snippet_comments",
};

export function note(p: NotePayload): Notification[] {
  const a = p.object_attributes;
  const feature = Object.hasOwn(FEATURES, a.noteable_type) ? FEATURES[a.noteable_type] : undefined;
  if (!feature || a.system === true) return [];
  if (a.action && a.action !== "create") return [];
  const projectPath = p.project.path_with_namespace;
  const webUrl = p.project.web_url ?? p.project.homepage;
  const actor = { username: p.user?.username, name: p.user?.name, avatarUrl: p.user?.avatar_url };
  const internal = a.internal === true || a.confidential === true;

  let labels: string[] = [];
  let threadKey: string | undefined;
  let confidential = internal;
  // What the note is about: the text of its link (raw) and where the link goes.
  let target: { text: string; url?: string | null; sha?: string } | undefined;
  if (feature === "issue_comments") {
    if (!p.issue) throw new PayloadError("a note on an issue without the issue object", "note");
    labels = labelTitles(p.issue.labels);
    threadKey = `${projectPath}#${p.issue.iid}`;
    confidential ||= p.issue.confidential === true;
    target = { text: `#${p.issue.iid} ${p.issue.title ?? ""}`, url: p.issue.url ?? projectUrl(webUrl, "-", "issues", p.issue.iid) };
  } else if (feature === "merge_request_comments") {
    if (!p.merge_request) throw new PayloadError("a note on a merge request without the merge_request object", "note");
    labels = labelTitles(p.merge_request.labels);
    threadKey = `${projectPath}!${p.merge_request.iid}`;
    target = { text: `!${p.merge_request.iid} ${p.merge_request.title ?? ""}`, url: p.merge_request.url ?? projectUrl(webUrl, "-", "merge_requests", p.merge_request.iid) };
  } else if (feature === "commit_comments") {
    const sha = p.commit?.id ?? a.commit_id ?? "";
    target = { text: firstLine(p.commit?.message), url: p.commit?.url ?? projectUrl(webUrl, "-", "commit", sha), sha };
  } else {
    target = { text: p.snippet ? `$${p.snippet.id} ${p.snippet.title ?? ""}` : "", url: p.snippet?.url };
  }
  const subject = target;

  const render = (locale: Locale) => {
    const label = subject.sha !== undefined ? `${shortSha(subject.sha)} ${escapeInline(subject.text, 120)}`.trim() : escapeInline(subject.text);
    const vars = { actor: actorMarkdown(actor), target: linkMarkdown(label, a.url ?? subject.url) };
    const summary =
      feature === "issue_comments"
        ? t(locale, "note.issue", { ...vars, noun: nounOf(locale, p.issue?.type) })
        : feature === "merge_request_comments"
          ? t(locale, "note.merge_request", vars)
          : feature === "commit_comments"
            ? t(locale, "note.commit", vars)
            : t(locale, "note.snippet", vars);
    const text = excerpt(locale, a.note, a.url);
    return buildPost({
      project: { path: projectPath, webUrl },
      summary,
      color: COLORS.info,
      actor,
      text,
      footer: internal ? t(locale, "common.internal_note") : confidential ? t(locale, "common.confidential") : undefined,
    });
  };

  return [
    {
      feature,
      projectPath,
      eventKey: eventKey("note", keyPart(a.id), timeKey(a.updated_at ?? a.created_at)),
      labels,
      defaultBranch: p.project.default_branch ?? undefined,
      confidential,
      actorUsername: p.user?.username ?? undefined,
      threadKey,
      render,
    },
  ];
}
