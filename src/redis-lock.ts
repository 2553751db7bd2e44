// A short Redis lock between processes: SET NX PX with a random owner, released only by that owner (a
// holder whose lock lapsed must not release the next holder's). It lapses by itself if its holder dies.
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";

const RELEASE_IF_OWNER = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

export interface HeldLock {
  /** Releases the lock if this holder still has it. A failure is left to the TTL. */
  release(): Promise<void>;
}

/** Takes the lock at `key` for `ttlMs`, or answers undefined at once when another holder has it. */
export async function tryLock(redis: Redis, key: string, ttlMs: number): Promise<HeldLock | undefined> {
  const owner = randomBytes(16).toString("hex");
  if ((await redis.set(key, owner, "PX", ttlMs, "NX")) !== "OK") return undefined;
  return {
    async release() {
      await redis.eval(RELEASE_IF_OWNER, 1, key, owner);
    },
  };
}
