// Real Redis for tests; each test run gets its own key prefix so files never see each other's queues.
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";

export const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

export function uniquePrefix(name = "t"): string {
  return `gmmtest-${name}-${randomBytes(4).toString("hex")}`;
}

/** Deletes every key under a prefix (call in afterAll). */
export async function dropPrefix(prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}
