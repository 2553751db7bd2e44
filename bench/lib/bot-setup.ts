// What a bot child needs: its settings, and a channel subscribed through the real slash command route.
import { migrateToLatest, openDatabase } from "../../src/store/db.js";
import { upsertSubscription } from "../../src/store/subscriptions.js";
import { startMattermostSim, type MattermostSim, type SimChannel, type SimRateLimit } from "../../test/support/mattermost-sim.js";
import { dropPrefix, redisUrl, uniquePrefix } from "../../test/support/redis.js";

export const SECRET = "bench-webhook-secret";
export const COMMAND_TOKEN = "bench-command-token";

export function botEnv(o: { prefix: string; dir: string; mattermostUrl: string; botToken: string }): Record<string, string> {
  return {
    MATTERMOST_URL: o.mattermostUrl,
    MATTERMOST_BOT_TOKEN: o.botToken,
    MATTERMOST_COMMAND_TOKENS: COMMAND_TOKEN,
    GITLAB_WEBHOOK_SECRET: SECRET,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: o.prefix,
    DATABASE_URL: `sqlite:${o.dir}/bot.sqlite`,
    LOG_LEVEL: "warn",
  };
}

/**
 * What one bench bot runs against: a Mattermost simulator, a fresh Redis prefix, its settings with a
 * SQLite file of its own (`<dir>/<name>.sqlite`); `close()` stops the simulator and drops the prefix.
 */
export async function benchStage(
  dir: string,
  name: string,
  rateLimit?: SimRateLimit,
): Promise<{ sim: MattermostSim; prefix: string; env: Record<string, string> & { DATABASE_URL: string }; close(): Promise<void> }> {
  const sim = await startMattermostSim({ rateLimit });
  const prefix = uniquePrefix(`bench-${name}`);
  const env = { ...botEnv({ prefix, dir, mattermostUrl: sim.url, botToken: sim.botToken }), DATABASE_URL: `sqlite:${dir}/${name}.sqlite` };
  return {
    sim,
    prefix,
    env,
    async close() {
      await sim.close();
      await dropPrefix(prefix);
    },
  };
}

export function webhookHeaders(event: string): Record<string, string> {
  return { "content-type": "application/json", "x-gitlab-token": SECRET, "x-gitlab-event": event };
}

/**
 * A team and one channel in the simulator, subscribed to `path` by writing the subscription to the
 * bot's database before the bot starts (the slash command now also checks the path with GitLab, which
 * the bench does not simulate). Recorded as checked: GitLab said the project is public.
 */
export async function subscribedChannel(sim: MattermostSim, databaseUrl: string, path: string, features: string): Promise<SimChannel> {
  const team = sim.addTeam("bench");
  const admin = sim.addUser({ username: "benchadmin", roles: "system_user system_admin" });
  const channel = sim.addChannel({ name: "bench-merge-requests", team_id: team.id });
  const { db } = openDatabase(databaseUrl);
  try {
    await migrateToLatest(db);
    await upsertSubscription(db, { channelId: channel.id, teamId: team.id, path, features, createdBy: admin.id, kind: "project", visibility: "public" });
  } finally {
    await db.destroy();
  }
  return channel;
}
