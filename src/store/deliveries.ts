import { reusedQuery } from "./compiled.js";
import type { Db } from "./db.js";

export interface DeliveryRecord {
  postId: string | null;
  startedAt: number;
}

const selectDelivery = reusedQuery((db, p: { jobId: string }) =>
  db.selectFrom("deliveries").select(["post_id", "started_at"]).where("job_id", "=", p.jobId),
);

export async function findDelivery(db: Db, jobId: string): Promise<DeliveryRecord | undefined> {
  const row = await selectDelivery.first(db, { jobId });
  return row ? { postId: row.post_id, startedAt: Number(row.started_at) } : undefined;
}

const insertDeliveryIfNew = reusedQuery((db, p: { jobId: string; channelId: string; at: number }) =>
  db
    .insertInto("deliveries")
    .values({ job_id: p.jobId, channel_id: p.channelId, post_id: null, started_at: p.at })
    .onConflict((oc) => oc.column("job_id").doNothing()),
);

/**
 * Records a first attempt as started, before the post is sent, and returns undefined; when the delivery
 * was attempted before, leaves its record as it is and returns it (one write in the common case).
 */
export async function startDelivery(db: Db, jobId: string, channelId: string, at: number): Promise<DeliveryRecord | undefined> {
  if ((await insertDeliveryIfNew.affected(db, { jobId, channelId, at })) > 0) return undefined;
  return findDelivery(db, jobId);
}

const upsertDeliveryStart = reusedQuery((db, p: { jobId: string; channelId: string; at: number }) =>
  db
    .insertInto("deliveries")
    .values({ job_id: p.jobId, channel_id: p.channelId, post_id: null, started_at: p.at })
    .onConflict((oc) => oc.column("job_id").doUpdateSet({ started_at: p.at })),
);

/** Marks an attempt as started, before the post is sent. */
export async function markDeliveryStarted(db: Db, jobId: string, channelId: string, at: number): Promise<void> {
  await upsertDeliveryStart.run(db, { jobId, channelId, at });
}

const setDeliveryPost = reusedQuery((db, p: { jobId: string; postId: string }) =>
  db.updateTable("deliveries").set({ post_id: p.postId }).where("job_id", "=", p.jobId),
);

export async function markDeliveryDone(db: Db, jobId: string, postId: string): Promise<void> {
  await setDeliveryPost.run(db, { jobId, postId });
}

/** Records older than this are removed; job ids are only deduplicated for a day anyway. */
export async function pruneDeliveries(db: Db, olderThan: number): Promise<number> {
  const result = await db.deleteFrom("deliveries").where("started_at", "<", olderThan).executeTakeFirst();
  return Number(result.numDeletedRows);
}
