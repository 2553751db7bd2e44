// Which open merge request a branch belongs to, so its pushes and pipelines join the MR's thread.
import { reusedQuery } from "./compiled.js";
import type { Db } from "./db.js";

const upsertOpenMergeRequest = reusedQuery((db, p: { project: string; sourceBranch: string; iid: number; updatedAt: string }) =>
  db
    .insertInto("open_merge_requests")
    .values({ project_path: p.project, source_branch: p.sourceBranch, iid: p.iid, updated_at: p.updatedAt })
    .onConflict((oc) => oc.columns(["project_path", "source_branch"]).doUpdateSet({ iid: p.iid, updated_at: p.updatedAt })),
);

export async function saveOpenMergeRequest(db: Db, projectPath: string, sourceBranch: string, iid: number): Promise<void> {
  await upsertOpenMergeRequest.run(db, { project: projectPath.toLowerCase(), sourceBranch, iid, updatedAt: new Date().toISOString() });
}

/** Forgets the branch, unless another merge request from it has taken its place since. */
export async function forgetMergeRequest(db: Db, projectPath: string, sourceBranch: string, iid: number): Promise<void> {
  await db
    .deleteFrom("open_merge_requests")
    .where("project_path", "=", projectPath.toLowerCase())
    .where("source_branch", "=", sourceBranch)
    .where("iid", "=", iid)
    .execute();
}

const selectOpenMergeRequest = reusedQuery((db, p: { project: string; branch: string }) =>
  db.selectFrom("open_merge_requests").select("iid").where("project_path", "=", p.project).where("source_branch", "=", p.branch),
);

export async function findOpenMergeRequest(db: Db, projectPath: string, branch: string): Promise<number | undefined> {
  const row = await selectOpenMergeRequest.first(db, { project: projectPath.toLowerCase(), branch });
  return row ? Number(row.iid) : undefined;
}
