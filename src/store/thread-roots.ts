import type { Db } from "./db.js";

export async function findThreadRoot(db: Db, channelId: string, threadKey: string): Promise<string | undefined> {
  const row = await db
    .selectFrom("thread_roots")
    .select("post_id")
    .where("channel_id", "=", channelId)
    .where("thread_key", "=", threadKey)
    .executeTakeFirst();
  return row?.post_id;
}

/** Records the root post of a thread; the first writer wins, so two workers agree on one root. */
export async function saveThreadRoot(db: Db, channelId: string, threadKey: string, postId: string, rootState?: string): Promise<string> {
  await db
    .insertInto("thread_roots")
    .values({ channel_id: channelId, thread_key: threadKey, post_id: postId, created_at: new Date().toISOString(), root_state: rootState ?? null })
    .onConflict((oc) => oc.columns(["channel_id", "thread_key"]).doNothing())
    .execute();
  return (await findThreadRoot(db, channelId, threadKey)) ?? postId;
}

export async function findRootState(db: Db, channelId: string, threadKey: string): Promise<string | undefined> {
  const row = await db
    .selectFrom("thread_roots")
    .select("root_state")
    .where("channel_id", "=", channelId)
    .where("thread_key", "=", threadKey)
    .executeTakeFirst();
  return row?.root_state ?? undefined;
}

/** Replaces the root state only if it is still `expected` (another worker may have changed it). */
export async function replaceRootState(db: Db, channelId: string, threadKey: string, expected: string, next: string): Promise<boolean> {
  const result = await db
    .updateTable("thread_roots")
    .set({ root_state: next })
    .where("channel_id", "=", channelId)
    .where("thread_key", "=", threadKey)
    .where("root_state", "=", expected)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
