// What the router learns from an event beyond subscriptions: which merge request a branch belongs
// to (its pushes and pipelines reply in the MR's thread) and whether a passing pipeline fixed a
// failing ref (for `pipelines:failed`).
import type { Notification } from "../notification.js";
import type { Db } from "../store/db.js";
import { findOpenMergeRequest, forgetMergeRequest, saveOpenMergeRequest } from "../store/merge-request-branches.js";
import { recordRefStatus } from "../store/ref-statuses.js";

interface MergeRequestFacts {
  project?: { path_with_namespace?: string };
  object_attributes?: { iid?: number; state?: string; source_branch?: string; source_project_id?: number; target_project_id?: number };
}

interface PipelineFacts {
  object_attributes?: { id?: number; ref?: string };
}

const BRANCH_FEATURES = new Set(["pushes", "pipelines", "jobs"]);

async function trackMergeRequest(db: Db, payload: MergeRequestFacts): Promise<void> {
  const a = payload.object_attributes;
  const project = payload.project?.path_with_namespace;
  if (!a?.iid || !a.source_branch || !project) return;
  // A merge request from a fork has its branch in another project: pushes here are not its pushes.
  if (a.source_project_id !== undefined && a.target_project_id !== undefined && a.source_project_id !== a.target_project_id) return;
  if (a.state === "opened") await saveOpenMergeRequest(db, project, a.source_branch, a.iid);
  else if (a.state) await forgetMergeRequest(db, project, a.source_branch, a.iid);
}

export async function linkNotifications(db: Db, kind: string, payload: unknown, notifications: Notification[]): Promise<void> {
  if (kind === "merge_request") await trackMergeRequest(db, payload as MergeRequestFacts);
  for (const n of notifications) {
    if (!n.threadKey && n.branch && BRANCH_FEATURES.has(n.feature)) {
      const iid = await findOpenMergeRequest(db, n.projectPath, n.branch);
      if (iid !== undefined) n.threadKey = `${n.projectPath}!${iid}`;
    }
    if (kind === "pipeline" && n.feature === "pipelines" && n.status) {
      const a = (payload as PipelineFacts).object_attributes;
      if (a?.id !== undefined && a.ref) {
        const before = await recordRefStatus(db, n.projectPath, a.ref, a.id, n.status);
        if (n.status === "success" && before === "failed") n.status = "fixed";
      }
    }
  }
}
