// Direct messages held for a user's digest, until one grouped message sends them.
import type { Db } from "./db.js";

export interface DigestItem {
  id: string;
  mattermostUserId: string;
  createdAt: number;
  reason: string;
  message: string;
}

/** Holds an item; holding the same id again (a retried event) changes nothing. */
export async function holdDigestItem(db: Db, item: DigestItem): Promise<void> {
  await db
    .insertInto("digest_items")
    .values({ id: item.id, mattermost_user_id: item.mattermostUserId, created_at: item.createdAt, reason: item.reason, message: item.message })
    .onConflict((oc) => oc.column("id").doNothing())
    .execute();
}

/** A user's held items, oldest first. */
export async function listDigestItems(db: Db, mattermostUserId: string): Promise<DigestItem[]> {
  const rows = await db
    .selectFrom("digest_items")
    .selectAll()
    .where("mattermost_user_id", "=", mattermostUserId)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  return rows.map((r) => ({ id: r.id, mattermostUserId: r.mattermost_user_id, createdAt: Number(r.created_at), reason: r.reason, message: r.message }));
}

export async function deleteDigestItems(db: Db, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 500) {
    await db.deleteFrom("digest_items").where("id", "in", ids.slice(i, i + 500)).execute();
  }
}
