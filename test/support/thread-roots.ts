// A thread root as the delivery worker leaves it once posted (claimed, then completed with its post
// id), for tests that need one in the database.
import type { Db } from "../../src/store/db.js";
import { claimThreadRoot, completeThreadRoot } from "../../src/store/thread-roots.js";

export async function postedThreadRoot(db: Db, channelId: string, threadKey: string, postId: string, rootState: string): Promise<void> {
  const position = await claimThreadRoot(db, channelId, threadKey, { state: rootState, at: Date.now(), staleAfterMs: 60_000 });
  if (position.kind !== "root" || !(await completeThreadRoot(db, channelId, threadKey, rootState, postId))) {
    throw new Error(`the thread ${threadKey} in ${channelId} already has a root`);
  }
}
