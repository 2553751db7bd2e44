// What the webhook intake (src/queue/intake.ts) keeps in its list, read as the consumers would.
import type { Redis } from "ioredis";
import { decodeEntry, intakeKeys } from "../../src/queue/intake.js";
import type { EventJobData } from "../../src/queue/jobs.js";

export async function keptWebhooks(redis: Redis, prefix: string): Promise<Map<string, EventJobData>> {
  const entries = await redis.lrange(intakeKeys(prefix).list, 0, -1);
  return new Map(entries.map((entry) => decodeEntry(entry)).map(({ id, data }) => [id, data]));
}
