import { reusedQuery } from "./compiled.js";
import type { Db } from "./db.js";

/** post_id of a thread whose root post is being made: the row is then one delivery's claim on making it. */
const UNPOSTED = "";

type ThreadParams = { channelId: string; threadKey: string };

/** A thread's row: its root post (or a claim on making it), the root's state, when it was claimed. */
const selectRoot = reusedQuery((db, p: ThreadParams) =>
  db
    .selectFrom("thread_roots")
    .select(["post_id", "root_state", "created_at"])
    .where("channel_id", "=", p.channelId)
    .where("thread_key", "=", p.threadKey),
);

export async function findThreadRoot(db: Db, channelId: string, threadKey: string): Promise<string | undefined> {
  const row = await selectRoot.first(db, { channelId, threadKey });
  return row && row.post_id !== UNPOSTED ? row.post_id : undefined;
}

/** Where a post about a thread goes: a reply to its root, the root itself, or nowhere yet. */
export type ThreadPosition = { kind: "reply"; rootId: string } | { kind: "root" } | { kind: "wait" };

const insertRootClaim = reusedQuery((db, p: ThreadParams & { createdAt: string; state: string }) =>
  db
    .insertInto("thread_roots")
    .values({ channel_id: p.channelId, thread_key: p.threadKey, post_id: UNPOSTED, created_at: p.createdAt, root_state: p.state })
    .onConflict((oc) => oc.columns(["channel_id", "thread_key"]).doNothing()),
);

const takeOverRootClaim = reusedQuery((db, p: ThreadParams & { createdAt: string; state: string; claimedAt: string }) =>
  db
    .updateTable("thread_roots")
    .set({ created_at: p.createdAt, root_state: p.state })
    .where("channel_id", "=", p.channelId)
    .where("thread_key", "=", p.threadKey)
    .where("post_id", "=", UNPOSTED)
    .where("created_at", "=", p.claimedAt),
);

/**
 * Decides, in the database, which delivery posts a thread's root: the first to claim it (first writer
 * wins). The claim holds the root's state, so the holder's own retry recognises it. A claim older than
 * `staleAfterMs` belongs to a delivery that died or gave up, and is taken over by one of those waiting.
 */
export async function claimThreadRoot(db: Db, channelId: string, threadKey: string, claim: { state: string; at: number; staleAfterMs: number }): Promise<ThreadPosition> {
  const thread = { channelId, threadKey };
  const createdAt = new Date(claim.at).toISOString();
  for (let attempt = 0; attempt < 3; attempt++) {
    const row = await selectRoot.first(db, thread);
    if (!row) {
      if ((await insertRootClaim.affected(db, { ...thread, createdAt, state: claim.state })) > 0) return { kind: "root" };
      continue; // another delivery claimed it first: read back what it holds
    }
    if (row.post_id !== UNPOSTED) return { kind: "reply", rootId: row.post_id };
    if (row.root_state === claim.state) return { kind: "root" };
    if (Date.parse(row.created_at) > claim.at - claim.staleAfterMs) return { kind: "wait" };
    if ((await takeOverRootClaim.affected(db, { ...thread, createdAt, state: claim.state, claimedAt: row.created_at })) > 0) return { kind: "root" };
  }
  return { kind: "wait" };
}

const completeRootClaim = reusedQuery((db, p: ThreadParams & { state: string; postId: string }) =>
  db
    .updateTable("thread_roots")
    .set({ post_id: p.postId })
    .where("channel_id", "=", p.channelId)
    .where("thread_key", "=", p.threadKey)
    .where("post_id", "=", UNPOSTED)
    .where("root_state", "=", p.state),
);

/** Records the root post made under a claim; false when the claim was taken over meanwhile. */
export async function completeThreadRoot(db: Db, channelId: string, threadKey: string, state: string, postId: string): Promise<boolean> {
  return (await completeRootClaim.affected(db, { channelId, threadKey, state, postId })) > 0;
}

/** Forgets a root post that no longer exists (deleted in Mattermost): the next post starts the thread again. */
export async function forgetThreadRoot(db: Db, channelId: string, threadKey: string, postId: string): Promise<void> {
  await db.deleteFrom("thread_roots").where("channel_id", "=", channelId).where("thread_key", "=", threadKey).where("post_id", "=", postId).execute();
}

export async function findRootState(db: Db, channelId: string, threadKey: string): Promise<string | undefined> {
  const row = await selectRoot.first(db, { channelId, threadKey });
  return row?.root_state ?? undefined;
}

const compareAndSetRootState = reusedQuery((db, p: ThreadParams & { expected: string; next: string }) =>
  db
    .updateTable("thread_roots")
    .set({ root_state: p.next })
    .where("channel_id", "=", p.channelId)
    .where("thread_key", "=", p.threadKey)
    .where("root_state", "=", p.expected),
);

/** Replaces the root state only if it is still `expected` (another worker may have changed it). */
export async function replaceRootState(db: Db, channelId: string, threadKey: string, expected: string, next: string): Promise<boolean> {
  return (await compareAndSetRootState.affected(db, { channelId, threadKey, expected, next })) > 0;
}
