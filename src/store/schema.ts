// Table types for Kysely. Timestamps are ISO-8601 text so SQLite and PostgreSQL read back the same thing.
import type { Generated } from "kysely";

export interface SubscriptionsTable {
  id: string;
  channel_id: string;
  team_id: string | null;
  /** Project or group path, lower-cased, without leading or trailing slash. */
  path: string;
  /** The feature list as the user gave it, normalised (see src/routing/features.ts). */
  features: string;
  created_by: string;
  created_at: string;
}

export interface ThreadRootsTable {
  channel_id: string;
  /** What the thread is about, e.g. "group/project!12" or "group/project#3". */
  thread_key: string;
  post_id: string;
  created_at: string;
}

/** One row per delivery job that started posting: how a retry after a crash knows what happened. */
export interface DeliveriesTable {
  job_id: string;
  channel_id: string;
  /** Set once Mattermost confirmed the post. */
  post_id: string | null;
  /** When the last attempt started (ms since epoch). */
  started_at: number;
}

export interface Database {
  deliveries: DeliveriesTable;
  subscriptions: SubscriptionsTable;
  thread_roots: ThreadRootsTable;
}

export type Row<T> = { [K in keyof T]: T[K] extends Generated<infer U> ? U : T[K] };
