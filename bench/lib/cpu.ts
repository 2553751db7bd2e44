// CPU spent by the load generator (this process, with the simulator) and by Redis, for the
// "who used the two cores" line beside each measured run.
import { Redis } from "ioredis";
import { redisUrl } from "../../test/support/redis.js";

async function redisCpuMs(): Promise<number> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const info = await redis.info("cpu");
    const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(info)?.[1] ?? 0);
    return (field("used_cpu_user") + field("used_cpu_sys")) * 1000;
  } finally {
    redis.disconnect();
  }
}

/** Starts counting; the returned function gives CPU ms of this process and of Redis since then. */
export async function cpuMeter(): Promise<() => Promise<{ generator_ms: number; redis_ms: number }>> {
  const own = process.cpuUsage();
  const redis = await redisCpuMs();
  return async () => {
    const d = process.cpuUsage(own);
    return { generator_ms: Math.round((d.user + d.system) / 1000), redis_ms: Math.round((await redisCpuMs()) - redis) };
  };
}
