// Which open merge request a branch belongs to, so its pushes and pipelines join the MR's thread.
import type { Db } from "./db.js";

export async function saveOpenMergeRequest(db: Db, projectPath: string, sourceBranch: string, iid: number): Promise<void> {
  const values = { project_path: projectPath.toLowerCase(), source_branch: sourceBranch, iid, updated_at: new Date().toISOString() };
  await db
    .insertInto("open_merge_requests")
    .values(values)
    .onConflict((oc) => oc.columns(["project_path", "source_branch"]).doUpdateSet({ iid, updated_at: values.updated_at }))
    .execute();
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

export async function findOpenMergeRequest(db: Db, projectPath: string, branch: string): Promise<number | undefined> {
  const row = await db
    .selectFrom("open_merge_requests")
    .select("iid")
    .where("project_path", "=", projectPath.toLowerCase())
    .where("source_branch", "=", branch)
    .executeTakeFirst();
  return row ? Number(row.iid) : undefined;
}
