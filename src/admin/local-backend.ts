// The admin backend over the bot's own database and Redis: what `gitlab-mm` runs on the bot's host,
// and what the admin API runs for `gitlab-mm --url`.
import type { Redis } from "ioredis";
import { queueStats, retryFailed } from "../queue/admin.js";
import { migrationStatus, type Db } from "../store/db.js";
import { deleteSubscription, listSubscriptions, upsertSubscription } from "../store/subscriptions.js";
import { listUserLinks } from "../store/user-links.js";
import { countSpooled } from "../store/webhook-spool.js";
import type { AdminBackend } from "./backend.js";

export interface LocalBackendDeps {
  /** The bot's database; `migrate: false` leaves the schema as it is (for `migrate --status`). */
  database(options?: { migrate?: boolean }): Promise<Db>;
  /** The queues' Redis and key prefix; rejects with RedisUnavailableError when Redis is away. */
  queues(): Promise<{ connection: Redis; prefix: string }>;
}

/** Redis does not answer; the message names it by URL, credentials masked. */
export class RedisUnavailableError extends Error {
  constructor(url: string) {
    super(`Redis at ${url.replace(/\/\/[^@]*@/, "//***@")} does not answer: start Redis or set REDIS_URL`);
    this.name = "RedisUnavailableError";
  }
}

export function createLocalBackend(deps: LocalBackendDeps): AdminBackend {
  return {
    async migrationStatus() {
      return migrationStatus(await deps.database({ migrate: false }));
    },
    async listSubscriptions(channelId) {
      const rows = await listSubscriptions(await deps.database(), { channelId });
      return rows.map((r) => ({ channelId: r.channel_id, path: r.path, features: r.features }));
    },
    async addSubscription({ channelId, path, features }) {
      const { created } = await upsertSubscription(await deps.database(), { channelId, path, features, createdBy: "cli" });
      return { created };
    },
    async deleteSubscription(channelId, path) {
      return deleteSubscription(await deps.database(), channelId, path);
    },
    async listUsers() {
      const links = await listUserLinks(await deps.database());
      return links.map((l) => ({ mattermostUserId: l.mattermostUserId, gitlabUsername: l.gitlabUsername, gitlabUserId: l.gitlabUserId, expiresAt: l.expiresAt, createdAt: l.createdAt }));
    },
    async spooledWebhooks() {
      return countSpooled(await deps.database());
    },
    async queueStats() {
      const { connection, prefix } = await deps.queues();
      return queueStats(connection, prefix);
    },
    async retryFailed() {
      const { connection, prefix } = await deps.queues();
      return retryFailed(connection, prefix);
    },
    async preview(payload, options) {
      // Loaded here: nothing else an administrator asks for needs the handlers.
      const { previewPayload } = await import("../preview.js");
      return previewPayload(payload, options);
    },
  };
}
