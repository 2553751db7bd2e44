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

export interface Database {
  subscriptions: SubscriptionsTable;
  thread_roots: ThreadRootsTable;
}

export type Row<T> = { [K in keyof T]: T[K] extends Generated<infer U> ? U : T[K] };
