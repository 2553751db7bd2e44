import type { Db } from "./db.js";

export interface DeliveryRecord {
  postId: string | null;
  startedAt: number;
}

export async function findDelivery(db: Db, jobId: string): Promise<DeliveryRecord | undefined> {
  const row = await db.selectFrom("deliveries").select(["post_id", "started_at"]).where("job_id", "=", jobId).executeTakeFirst();
  return row ? { postId: row.post_id, startedAt: Number(row.started_at) } : undefined;
}

/**
 * Records a first attempt as started, before the post is sent, and returns undefined; when the delivery
 * was attempted before, leaves its record as it is and returns it (one write in the common case).
 */
export async function startDelivery(db: Db, jobId: string, channelId: string, at: number): Promise<DeliveryRecord | undefined> {
  const inserted = await db
    .insertInto("deliveries")
    .values({ job_id: jobId, channel_id: channelId, post_id: null, started_at: at })
    .onConflict((oc) => oc.column("job_id").doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) return undefined;
  return findDelivery(db, jobId);
}

/** Marks an attempt as started, before the post is sent. */
export async function markDeliveryStarted(db: Db, jobId: string, channelId: string, at: number): Promise<void> {
  await db
    .insertInto("deliveries")
    .values({ job_id: jobId, channel_id: channelId, post_id: null, started_at: at })
    .onConflict((oc) => oc.column("job_id").doUpdateSet({ started_at: at }))
    .execute();
}

export async function markDeliveryDone(db: Db, jobId: string, postId: string): Promise<void> {
  await db.updateTable("deliveries").set({ post_id: postId }).where("job_id", "=", jobId).execute();
}

/** Records older than this are removed; job ids are only deduplicated for a day anyway. */
export async function pruneDeliveries(db: Db, olderThan: number): Promise<number> {
  const result = await db.deleteFrom("deliveries").where("started_at", "<", olderThan).executeTakeFirst();
  return Number(result.numDeletedRows);
}
