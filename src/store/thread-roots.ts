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
export async function saveThreadRoot(db: Db, channelId: string, threadKey: string, postId: string): Promise<string> {
  await db
    .insertInto("thread_roots")
    .values({ channel_id: channelId, thread_key: threadKey, post_id: postId, created_at: new Date().toISOString() })
    .onConflict((oc) => oc.columns(["channel_id", "thread_key"]).doNothing())
    .execute();
  return (await findThreadRoot(db, channelId, threadKey)) ?? postId;
}
