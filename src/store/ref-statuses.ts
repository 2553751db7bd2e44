// The last finished pipeline per project and ref, so a success right after a failure reads as "fixed".
import { reusedQuery } from "./compiled.js";
import type { Db } from "./db.js";

type RefParams = { project: string; ref: string };

const selectRefStatus = reusedQuery((db, p: RefParams) =>
  db.selectFrom("ref_statuses").selectAll().where("project_path", "=", p.project).where("ref", "=", p.ref),
);

const insertFirstRefStatus = reusedQuery((db, p: RefParams & { status: string; pipelineId: number }) =>
  db
    .insertInto("ref_statuses")
    .values({ project_path: p.project, ref: p.ref, status: p.status, pipeline_id: p.pipelineId, previous_status: null })
    .onConflict((oc) => oc.columns(["project_path", "ref"]).doNothing()),
);

const updateRefStatus = reusedQuery((db, p: RefParams & { status: string; pipelineId: number; previousStatus: string }) =>
  db
    .updateTable("ref_statuses")
    .set({ status: p.status, pipeline_id: p.pipelineId, previous_status: p.previousStatus })
    .where("project_path", "=", p.project)
    .where("ref", "=", p.ref),
);

/**
 * Records a finished pipeline and returns the status of the ref before it (undefined when unknown).
 * Asking again about the same pipeline and status gives the same answer (a retried pipeline that
 * went from failed to success is a new status); a pipeline older than the one recorded changes nothing.
 */
export async function recordRefStatus(db: Db, projectPath: string, ref: string, pipelineId: number, status: string): Promise<string | undefined> {
  const place = { project: projectPath.toLowerCase(), ref };
  return db.transaction().execute(async (trx) => {
    const row = await selectRefStatus.first(db, place, trx);
    if (!row) {
      await insertFirstRefStatus.run(db, { ...place, status, pipelineId }, trx);
      return undefined;
    }
    const recorded = Number(row.pipeline_id);
    // The same pipeline with the same status again: a retried event job, give the first answer.
    if (recorded === pipelineId && row.status === status) return row.previous_status ?? undefined;
    if (recorded > pipelineId) return undefined;
    await updateRefStatus.run(db, { ...place, status, pipelineId, previousStatus: row.status }, trx);
    return row.status;
  });
}
