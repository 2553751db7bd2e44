// What the admin CLI asks of a bot: one interface, answered either where the bot's database and Redis
// are (local-backend.ts; also what the admin API runs) or over the admin API (remote-backend.ts). The
// CLI formats the answers itself, so `gitlab-mm <command>` prints the same in both modes.
import type { PreviewOptions } from "../preview.js";
import type { QueueName, QueueStats } from "../queue/admin.js";
import type { MigrationStatus } from "../store/db.js";

export interface SubscriptionEntry {
  channelId: string;
  path: string;
  features: string;
}

/** A connected account as an administrator may see it: never a token. */
export interface ConnectedUser {
  mattermostUserId: string;
  gitlabUsername: string;
  gitlabUserId: number;
  /** When the access token expires (ms since epoch). */
  expiresAt: number;
  createdAt: string;
}

/** Validated input: the path is a normalised GitLab path, the features canonical text. */
export interface SubscriptionChange {
  channelId: string;
  path: string;
  features: string;
}

export interface AdminBackend {
  migrationStatus(): Promise<MigrationStatus>;
  listSubscriptions(channelId?: string): Promise<SubscriptionEntry[]>;
  /** Adds the subscription, or replaces the features of the channel's one for that path. */
  addSubscription(change: SubscriptionChange): Promise<{ created: boolean }>;
  /** False when the channel had no subscription to the path. */
  deleteSubscription(channelId: string, path: string): Promise<boolean>;
  listUsers(): Promise<ConnectedUser[]>;
  /** Webhooks waiting in the database for Redis to answer (known even while Redis is down). */
  spooledWebhooks(): Promise<number>;
  queueStats(): Promise<QueueStats>;
  retryFailed(): Promise<Record<QueueName, number>>;
  /** The post(s) a webhook body would make; PreviewError (or the handler's error) when it makes none. */
  preview(payload: string, options: PreviewOptions): Promise<string>;
}
