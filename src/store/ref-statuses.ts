// The last finished pipeline per project and ref, so a success right after a failure reads as "fixed".
import type { Db } from "./db.js";

/**
 * Records a finished pipeline and returns the status of the ref before it (undefined when unknown).
 * Asking again about the same pipeline and status gives the same answer (a retried pipeline that
 * went from failed to success is a new status); a pipeline older than the one recorded changes nothing.
 */
export async function recordRefStatus(db: Db, projectPath: string, ref: string, pipelineId: number, status: string): Promise<string | undefined> {
  const project = projectPath.toLowerCase();
  return db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom("ref_statuses").selectAll().where("project_path", "=", project).where("ref", "=", ref).executeTakeFirst();
    if (!row) {
      await trx
        .insertInto("ref_statuses")
        .values({ project_path: project, ref, status, pipeline_id: pipelineId, previous_status: null })
        .onConflict((oc) => oc.columns(["project_path", "ref"]).doNothing())
        .execute();
      return undefined;
    }
    const recorded = Number(row.pipeline_id);
    // The same pipeline with the same status again: a retried event job, give the first answer.
    if (recorded === pipelineId && row.status === status) return row.previous_status ?? undefined;
    if (recorded > pipelineId) return undefined;
    await trx
      .updateTable("ref_statuses")
      .set({ status, pipeline_id: pipelineId, previous_status: row.status })
      .where("project_path", "=", project)
      .where("ref", "=", ref)
      .execute();
    return row.status;
  });
}
