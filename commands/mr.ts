// `/gitlab mr list|show|approve|unapprove|merge`: merge requests read and acted on as the person who
// typed the command (their own GitLab account; GitLab decides what they may do). A merge is checked
// first against GitLab's own verdict (`detailed_merge_status`) so the person learns in one sentence
// what blocks it; approving and merging are also checked against what GitLab says the person may do
// (`user_can_approve`, `user.can_merge`), because GitLab answers those refusals with 401, which would
// read as a revoked connection.
import type { Locale } from "../src/config.js";
import type { GitlabApi } from "../src/gitlab/client.js";
import { t, type MessageKey } from "../src/i18n/index.js";
import { escapeInline, linkMarkdown } from "../src/text/markdown.js";
import { announce, onGitlab, projectVisibility } from "./act.js";
import { localeOf } from "./locale.js";
import { projectArgument, statusText } from "./pipeline.js";
import { formatMergeRequestReference, parseMergeRequestReference, type ObjectReference } from "./references.js";
import { CommandError, ephemeral, mentionUser, requireGitlab, usageError, type Command, type CommandContext } from "./types.js";

/** Items shown per list of `mr list`. */
const LISTED = 5;
const WHEN_PIPELINE_SUCCEEDS = "--when-pipeline-succeeds";

interface MergeRequestView {
  iid: number;
  title: string;
  state: string;
  web_url: string;
  draft?: boolean;
  source_branch: string;
  target_branch: string;
  sha: string;
  detailed_merge_status?: string;
  /** What GitLab before 15.6 says instead of detailed_merge_status. */
  merge_status?: string;
  merge_when_pipeline_succeeds?: boolean;
  author?: { username?: string };
  references?: { full?: string };
  head_pipeline?: { status?: string } | null;
  user?: { can_merge?: boolean };
}

interface ApprovalsView {
  approvals_required?: number;
  approved_by?: { user?: { username?: string } }[];
  user_has_approved?: boolean;
  user_can_approve?: boolean;
}

/** How many approved, and of how many required where GitLab says (Free tier GitLab does not). */
function approvalsText(locale: Locale, approvals: ApprovalsView): string {
  const count = (approvals.approved_by ?? []).length;
  if (approvals.approvals_required === undefined) return t(locale, "cmd.mr.approvals.count", { count });
  return t(locale, "cmd.mr.approvals.of_required", { count, required: approvals.approvals_required });
}

/** "[group/project!7 Title](url)", safe Markdown. */
function titled(ref: ObjectReference, mr: Pick<MergeRequestView, "title" | "web_url">): string {
  return linkMarkdown(escapeInline(`${formatMergeRequestReference(ref)} ${mr.title}`, 200), mr.web_url);
}

/** The one merge request named by the first argument (`group/project!7` or its URL); `extra` words allowed after it. */
async function mergeRequestArgument(ctx: CommandContext, allowed: readonly string[] = []): Promise<ObjectReference> {
  const words = ctx.args.filter((a) => !allowed.includes(a.toLowerCase()));
  if (words.length !== 1) throw usageError();
  const ref = parseMergeRequestReference(words[0], requireGitlab(ctx, await localeOf(ctx)).gitlabUrl);
  if (!ref) throw usageError(t(await localeOf(ctx), "cmd.mr.bad_reference", { text: escapeInline(words[0], 100) }));
  return ref;
}

/** GitLab's verdict on merging; from the older `merge_status` on a GitLab without `detailed_merge_status` (before 15.6). */
function mergeStatusOf(mr: MergeRequestView): string | undefined {
  if (mr.detailed_merge_status) return mr.detailed_merge_status;
  if (mr.merge_status === "can_be_merged") return "mergeable";
  if (mr.merge_status === "cannot_be_merged") return mr.draft ? "draft_status" : "conflict";
  return mr.merge_status;
}

function showMergeRequest(api: GitlabApi, ref: ObjectReference): Promise<MergeRequestView> {
  return api.MergeRequests.show(ref.project, ref.iid) as unknown as Promise<MergeRequestView>;
}

function showApprovals(api: GitlabApi, ref: ObjectReference): Promise<ApprovalsView> {
  return api.MergeRequestApprovals.showConfiguration(ref.project, { mergerequestIId: ref.iid }) as unknown as Promise<ApprovalsView>;
}

// ---- mr list ----

interface Listed {
  total: number;
  items: MergeRequestView[];
}

function listed(answer: unknown): Listed {
  const { data, paginationInfo } = answer as { data?: unknown; paginationInfo?: { total?: number } };
  const items = Array.isArray(data) ? (data as MergeRequestView[]) : [];
  const total = Number.isFinite(paginationInfo?.total) ? Math.max(Number(paginationInfo?.total), items.length) : items.length;
  return { total, items };
}

function listSection(locale: Locale, key: "cmd.mr.list.reviews" | "cmd.mr.list.mine" | "cmd.mr.list.assigned", list: Listed, moreUrl: string): string {
  const heading = t(locale, key, { count: list.total });
  if (list.total === 0) return `${heading}\n${t(locale, "cmd.mr.list.none")}`;
  const lines = list.items.map((mr) => {
    const ref = escapeInline(mr.references?.full ?? `!${mr.iid}`, 200);
    const author = mr.author?.username ? ` · ${escapeInline(`@${mr.author.username}`, 80)}` : "";
    return `- ${linkMarkdown(`${ref} ${escapeInline(mr.title, 160)}`, mr.web_url)}${author}`;
  });
  if (list.total > list.items.length) lines.push(`- ${linkMarkdown(t(locale, "common.and_more", { count: list.total - list.items.length }), moreUrl)}`);
  return [heading, ...lines].join("\n");
}

export const mrList: Command = {
  name: "mr list",
  usage: "mr list [<project>]",
  summary: "command.summary.mr_list",
  needs: ["connected"],
  async run(ctx) {
    const locale = await localeOf(ctx);
    if (ctx.args.length > 1) throw usageError();
    const project = ctx.args[0] === undefined ? undefined : await projectArgument(ctx, ctx.args[0]);
    const base = requireGitlab(ctx, locale).gitlabUrl.replace(/\/+$/, "");
    const object = project ?? t(locale, "cmd.mr.list.object");
    const { lists, username } = await onGitlab(ctx, { object }, async (api, link) => {
      const options = { state: "opened" as const, perPage: LISTED, page: 1, showExpanded: true as const };
      const list = (which: { scope: "all" | "created_by_me" | "assigned_to_me"; reviewerId?: number }) =>
        project ? api.MergeRequests.all({ projectId: project, ...options, ...which }) : api.MergeRequests.all({ ...options, ...which });
      const answers = await Promise.all([list({ scope: "all", reviewerId: link.gitlabUserId }), list({ scope: "created_by_me" }), list({ scope: "assigned_to_me" })]);
      return { lists: answers.map(listed), username: encodeURIComponent(link.gitlabUsername) };
    });
    const where = project ? `${base}/${project}/-/merge_requests` : `${base}/dashboard/merge_requests`;
    const title = project ? t(locale, "cmd.mr.list.title_in", { project: escapeInline(project, 200) }) : t(locale, "cmd.mr.list.title");
    return ephemeral(
      [
        title,
        listSection(locale, "cmd.mr.list.reviews", lists[0]!, `${where}?reviewer_username=${username}`),
        listSection(locale, "cmd.mr.list.mine", lists[1]!, `${where}?author_username=${username}`),
        listSection(locale, "cmd.mr.list.assigned", lists[2]!, `${where}?assignee_username=${username}`),
      ].join("\n\n"),
    );
  },
};

// ---- mr show ----

type BlockedKey = Exclude<Extract<MessageKey, `cmd.mr.blocked.${string}`>, "cmd.mr.blocked.other">;
const BLOCKERS: Record<string, BlockedKey> = {
  not_open: "cmd.mr.blocked.not_open",
  draft_status: "cmd.mr.blocked.draft_status",
  discussions_not_resolved: "cmd.mr.blocked.discussions_not_resolved",
  ci_must_pass: "cmd.mr.blocked.ci_must_pass",
  ci_still_running: "cmd.mr.blocked.ci_still_running",
  conflict: "cmd.mr.blocked.conflict",
  need_rebase: "cmd.mr.blocked.need_rebase",
  not_approved: "cmd.mr.blocked.not_approved",
  requested_changes: "cmd.mr.blocked.requested_changes",
  merge_request_blocked: "cmd.mr.blocked.merge_request_blocked",
  status_checks_must_pass: "cmd.mr.blocked.status_checks_must_pass",
  commits_status: "cmd.mr.blocked.commits_status",
  // GitLab has not finished working the status out.
  checking: "cmd.mr.blocked.checking",
  unchecked: "cmd.mr.blocked.checking",
  preparing: "cmd.mr.blocked.checking",
  approvals_syncing: "cmd.mr.blocked.checking",
};

/** One sentence saying what keeps the merge request from merging, in the person's language. */
function blockerSentence(locale: Locale, status: string | undefined, mr: string): string {
  const key = BLOCKERS[status ?? "unchecked"];
  if (key) return t(locale, key, { mr });
  return t(locale, "cmd.mr.blocked.other", { mr, status: escapeInline(status, 60) });
}

export const mrShow: Command = {
  name: "mr show",
  usage: "mr show <project>!<iid>",
  summary: "command.summary.mr_show",
  needs: ["connected"],
  async run(ctx) {
    const ref = await mergeRequestArgument(ctx);
    const locale = await localeOf(ctx);
    const { mr, approvals } = await onGitlab(ctx, { object: formatMergeRequestReference(ref) }, async (api) => {
      const [mr, approvals] = await Promise.all([showMergeRequest(api, ref), showApprovals(api, ref)]);
      return { mr, approvals };
    });
    const approvedBy = (approvals.approved_by ?? []).map((a) => escapeInline(`@${a.user?.username ?? "?"}`, 80));
    const verdict = mergeStatusOf(mr);
    const status = verdict === "mergeable" ? t(locale, "cmd.mr.show.mergeable") : blockerSentence(locale, verdict, escapeInline(formatMergeRequestReference(ref), 200));
    const lines = [
      `**${titled(ref, mr)}**`,
      t(locale, "cmd.mr.show.summary", {
        state: mr.state === "opened" || mr.state === "merged" || mr.state === "closed" ? t(locale, `thread.state.${mr.state}`) : escapeInline(mr.state, 40),
        author: escapeInline(`@${mr.author?.username ?? "?"}`, 80),
        source: escapeInline(mr.source_branch, 120),
        target: escapeInline(mr.target_branch, 120),
      }),
      t(locale, "cmd.mr.show.pipeline", { status: mr.head_pipeline?.status ? statusText(locale, mr.head_pipeline.status) : t(locale, "cmd.mr.show.no_pipeline") }),
      t(locale, "cmd.mr.show.approvals", { approvals: approvalsText(locale, approvals), who: approvedBy.join(", ") || "—" }),
    ];
    if (mr.state === "opened") lines.push(status);
    if (mr.merge_when_pipeline_succeeds) lines.push(t(locale, "cmd.mr.show.auto_merge"));
    return ephemeral(lines.join("\n"));
  },
};

// ---- mr approve / unapprove ----

function approvalCommand(verb: "approve" | "unapprove"): Command {
  return {
    name: `mr ${verb}`,
    usage: `mr ${verb} <project>!<iid>`,
    summary: verb === "approve" ? "command.summary.mr_approve" : "command.summary.mr_unapprove",
    needs: ["connected"],
    async run(ctx) {
      const ref = await mergeRequestArgument(ctx);
      const locale = await localeOf(ctx);
      const what = escapeInline(formatMergeRequestReference(ref), 200);
      const object = formatMergeRequestReference(ref);
      const before = await onGitlab(ctx, { object }, async (api) => ({ mr: await showMergeRequest(api, ref), approvals: await showApprovals(api, ref) }));
      if (verb === "approve") {
        if (before.approvals.user_has_approved) throw new CommandError("already_approved", t(locale, "cmd.mr.approve.already", { mr: what }));
        if (!before.approvals.user_can_approve) throw new CommandError("forbidden", t(locale, "cmd.mr.approve.not_allowed", { mr: what }));
      } else if (!before.approvals.user_has_approved) {
        throw new CommandError("not_approved", t(locale, "cmd.mr.unapprove.not_approved", { mr: what }));
      }
      const after = await onGitlab(ctx, { object, action: `mr.${verb}` }, async (api) => {
        const answer = verb === "approve" ? await api.MergeRequestApprovals.approve(ref.project, ref.iid) : await api.MergeRequestApprovals.unapprove(ref.project, ref.iid);
        return answer as unknown as ApprovalsView;
      });
      const key = verb === "approve" ? "cmd.mr.approve.done" : "cmd.mr.unapprove.done";
      return announce(ctx, projectVisibility(ctx, ref.project), (lang) => t(lang, key, { who: mentionUser(ctx.userName), mr: titled(ref, before.mr), approvals: approvalsText(lang, after) }));
    },
  };
}

export const mrApprove = approvalCommand("approve");
export const mrUnapprove = approvalCommand("unapprove");

// ---- mr merge ----

const PIPELINE_ACTIVE = new Set(["created", "waiting_for_resource", "preparing", "pending", "running", "scheduled"]);

export const mrMerge: Command = {
  name: "mr merge",
  usage: `mr merge <project>!<iid> [${WHEN_PIPELINE_SUCCEEDS}]`,
  summary: "command.summary.mr_merge",
  needs: ["connected"],
  async run(ctx) {
    const ref = await mergeRequestArgument(ctx, [WHEN_PIPELINE_SUCCEEDS]);
    const whenPipelineSucceeds = ctx.args.some((a) => a.toLowerCase() === WHEN_PIPELINE_SUCCEEDS);
    const locale = await localeOf(ctx);
    const object = formatMergeRequestReference(ref);
    const what = escapeInline(object, 200);
    const mr = await onGitlab(ctx, { object }, (api) => showMergeRequest(api, ref));
    if (mr.state === "merged") throw new CommandError("already_merged", t(locale, "cmd.mr.merge.already", { mr: what }));
    if (mr.state !== "opened") throw new CommandError("not_open", blockerSentence(locale, "not_open", what));
    if (mr.user?.can_merge === false) throw new CommandError("forbidden", t(locale, "cmd.mr.merge.not_allowed", { mr: what, branch: escapeInline(mr.target_branch, 120) }));
    const pipelineRunning = PIPELINE_ACTIVE.has(mr.head_pipeline?.status ?? "");
    const status = mergeStatusOf(mr);
    // Auto-merge waits for the pipeline only; every other check must already pass.
    const waitForPipeline = whenPipelineSucceeds && pipelineRunning && (status === "mergeable" || status === "ci_still_running");
    if (!waitForPipeline && status !== "mergeable") {
      // One sentence: a running pipeline is the one blocker the flag can wait out, so it is named.
      const sentence = status === "ci_still_running" ? t(locale, "cmd.mr.merge.still_running", { mr: what, flag: `\`${WHEN_PIPELINE_SUCCEEDS}\`` }) : blockerSentence(locale, status, what);
      throw new CommandError("blocked", sentence);
    }
    // `sha`: merge exactly what was checked (GitLab answers 409 if the branch moved meanwhile).
    const merged = await onGitlab(ctx, { object, action: waitForPipeline ? "mr.auto_merge" : "mr.merge" }, async (api) => {
      const options = waitForPipeline ? { sha: mr.sha, autoMerge: true, mergeWhenPipelineSucceeds: true } : { sha: mr.sha };
      return (await api.MergeRequests.merge(ref.project, ref.iid, options)) as unknown as MergeRequestView;
    });
    const vars = { who: mentionUser(ctx.userName), mr: titled(ref, mr), target: escapeInline(mr.target_branch, 120) };
    const key = merged.state === "merged" ? "cmd.mr.merge.done" : merged.merge_when_pipeline_succeeds ? "cmd.mr.merge.auto" : "cmd.mr.merge.accepted";
    return announce(ctx, projectVisibility(ctx, ref.project), (lang) => t(lang, key, vars));
  },
};
