// Push events: new branch, deleted branch, or commits pushed (at most five listed, then "and N more"
// and the compare link). A push that adds no commit and neither creates nor deletes a branch is silent.
import type { Locale } from "../src/config.js";
import { t } from "../src/i18n/index.js";
import type { Notification } from "../src/notification.js";
import { escapeInline, link, linkMarkdown, shortSha } from "../src/text/markdown.js";
import { actorMarkdown, buildPost, COLORS, eventKey, firstLine, keyPart, projectUrl, ZERO_SHA, type Actor } from "./common.js";
import type { PushPayload } from "./payloads.js";

const SHOWN_COMMITS = 5;

/** "refs/heads/feature/x" -> "feature/x" (other refs as they are). */
export function branchOf(ref: string): string {
  return ref.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : ref;
}

export function push(p: PushPayload): Notification[] {
  const branch = branchOf(p.ref);
  const created = ZERO_SHA.test(p.before);
  const deleted = ZERO_SHA.test(p.after);
  const commits = p.commits ?? [];
  const total = Math.max(p.total_commits_count ?? 0, commits.length);
  if (!created && !deleted && total === 0) return [];

  const projectPath = p.project.path_with_namespace;
  const webUrl = p.project.web_url ?? p.project.homepage;
  const actor: Actor = { username: p.user_username, name: p.user_name, avatarUrl: p.user_avatar };
  const defaultBranch = p.project.default_branch ?? undefined;

  const render = (locale: Locale) => {
    const actorText = actorMarkdown(actor);
    const branchText = deleted ? escapeInline(branch) : link(branch, projectUrl(webUrl, "-", "tree", branch));
    let summary: string;
    if (deleted) summary = t(locale, "push.deleted_branch", { actor: actorText, branch: branchText });
    else if (created) summary = t(locale, "push.new_branch", { actor: actorText, branch: branchText });
    else summary = t(locale, total === 1 ? "push.pushed_one" : "push.pushed_other", { actor: actorText, count: total, branch: branchText });

    const lines = deleted
      ? []
      : commits.slice(0, SHOWN_COMMITS).map((c) => {
          const author = c.author?.name ? ` - ${escapeInline(c.author.name, 80)}` : "";
          return `${linkMarkdown(shortSha(c.id), c.url)} ${escapeInline(firstLine(c.title || c.message), 120)}${author}`;
        });
    const more = total - Math.min(commits.length, SHOWN_COMMITS);
    if (!deleted && more > 0 && lines.length > 0) lines.push(t(locale, more === 1 ? "push.more_commits_one" : "push.more_commits_other", { count: more }));
    if (!deleted) {
      const compareUrl = created
        ? defaultBranch && defaultBranch !== branch
          ? projectUrl(webUrl, "-", "compare", `${defaultBranch}...${branch}`)
          : undefined
        : projectUrl(webUrl, "-", "compare", `${p.before}...${p.after}`);
      const compare = compareUrl ? linkMarkdown(t(locale, "common.compare"), compareUrl) : "";
      if (compare && lines.length > 0) lines.push(compare);
    }
    return buildPost({
      project: { path: projectPath, webUrl },
      summary,
      color: deleted ? COLORS.muted : COLORS.info,
      actor,
      text: lines.join("\n"),
    });
  };

  return [
    {
      feature: "pushes",
      projectPath,
      eventKey: eventKey("push", keyPart(p.project_id), keyPart(p.ref), `${keyPart(p.before)}..${keyPart(p.after)}`),
      labels: [],
      branch,
      defaultBranch,
      protectedBranch: p.ref_protected ?? undefined,
      confidential: false,
      actorUsername: actor.username ?? undefined,
      render,
    },
  ];
}
