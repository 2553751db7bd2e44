// What each button does on GitLab, as the person who clicked (the client comes from actAsUser).
// Approving and merging are checked first against what GitLab says the person may do, because
// GitLab refuses those with 401, which would read as a revoked connection.
import type { Locale } from "../config.js";
import { GitlabActionError } from "../gitlab/act.js";
import type { GitlabApi } from "../gitlab/client.js";
import { t } from "../i18n/index.js";
import type { PostAction } from "../notification.js";

/** The object as people write it, for the audit line and the sentence when GitLab refuses. */
export function actionObject(action: PostAction): string {
  switch (action.kind) {
    case "mr.approve":
    case "mr.merge":
      return `${action.project}!${action.iid}`;
    case "issue.close":
    case "issue.reopen":
      return `${action.project}#${action.iid}`;
    case "pipeline.retry":
      return `${action.project} pipeline ${action.id}`;
    case "job.play":
      return `${action.project} job ${action.id}`;
  }
}

/** The buttons the post keeps after the action succeeded: others may still approve; a closed issue may be reopened. */
export function buttonsAfter(action: PostAction): PostAction[] {
  switch (action.kind) {
    case "mr.approve":
      return [action, { kind: "mr.merge", project: action.project, iid: action.iid }];
    case "issue.close":
      return [{ kind: "issue.reopen", project: action.project, iid: action.iid }];
    case "issue.reopen":
      return [{ kind: "issue.close", project: action.project, iid: action.iid }];
    case "mr.merge":
    case "pipeline.retry":
    case "job.play":
      return [];
  }
}

interface ApprovalsView {
  user_has_approved?: boolean;
  user_can_approve?: boolean;
}

interface MergeRequestView {
  state?: string;
  user?: { can_merge?: boolean };
}

/** Does the action; a refusal is thrown as GitlabActionError (`locale` words the bot's own reasons). */
export async function performAction(api: GitlabApi, action: PostAction, locale: Locale): Promise<void> {
  switch (action.kind) {
    case "mr.approve": {
      const approvals = (await api.MergeRequestApprovals.showConfiguration(action.project, { mergerequestIId: action.iid })) as unknown as ApprovalsView;
      if (approvals.user_has_approved) throw new GitlabActionError({ code: "conflict", detail: t(locale, "action.already_approved") });
      if (approvals.user_can_approve === false) throw new GitlabActionError({ code: "forbidden" });
      await api.MergeRequestApprovals.approve(action.project, action.iid);
      return;
    }
    case "mr.merge": {
      const mr = (await api.MergeRequests.show(action.project, action.iid)) as unknown as MergeRequestView;
      if (mr.state !== "opened") throw new GitlabActionError({ code: "conflict", detail: t(locale, "action.not_open", { state: String(mr.state ?? "?") }) });
      if (mr.user?.can_merge === false) throw new GitlabActionError({ code: "forbidden" });
      await api.MergeRequests.merge(action.project, action.iid);
      return;
    }
    case "issue.close":
    case "issue.reopen":
      await api.Issues.edit(action.project, action.iid, { stateEvent: action.kind === "issue.close" ? "close" : "reopen" });
      return;
    case "pipeline.retry":
      await api.Pipelines.retry(action.project, action.id);
      return;
    case "job.play":
      await api.Jobs.play(action.project, action.id);
      return;
  }
}
