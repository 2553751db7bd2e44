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
  /** "project" or "group" as GitLab said when the subscriber added it; null when not checked (admin CLI, older rows). */
  kind: string | null;
  /** "public", "internal" or "private" as GitLab said then; null when not checked. */
  visibility: string | null;
}

export interface ThreadRootsTable {
  channel_id: string;
  /** What the thread is about, e.g. "group/project!12" or "group/project#3". */
  thread_key: string;
  post_id: string;
  created_at: string;
  /** JSON of what the root post shows now (state, approvals, last pipeline); see src/routing/thread-state.ts. */
  root_state: string | null;
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

export interface UserLinksTable {
  mattermost_user_id: string;
  gitlab_user_id: number;
  /** As GitLab spells it; compared without regard to case. */
  gitlab_username: string;
  /** AES-256-GCM ciphertext (src/crypto.ts), never the token itself. */
  access_token: string;
  refresh_token: string;
  /** When the access token expires (ms since epoch). */
  expires_at: number;
  created_at: string;
  updated_at: string;
}

export interface UserSettingsTable {
  mattermost_user_id: string;
  /** 0 or 1 (SQLite has no boolean). */
  notifications: number;
  reminders: number;
  /** Hour of the daily reminder in the user's Mattermost time zone, 0-23. */
  reminder_hour: number;
  reminder_weekends: number;
  digest: "off" | "15m" | "1h" | "1d";
  /** "en" or "zh-CN"; null: the user's Mattermost locale. */
  language: string | null;
  updated_at: string;
}

export interface OpenMergeRequestsTable {
  project_path: string;
  source_branch: string;
  iid: number;
  updated_at: string;
}

export interface RefStatusesTable {
  project_path: string;
  ref: string;
  status: string;
  pipeline_id: number;
  previous_status: string | null;
}

/** Who a merge request concerns, as its latest event said (thread_key "group/project!iid"). */
export interface MergeRequestPeopleTable {
  thread_key: string;
  author_id: number | null;
  /** JSON arrays of GitLab user ids. */
  assignee_ids: string;
  reviewer_ids: string;
  /** The merge request's updated_at from the payload: an older event never overwrites a newer one. */
  updated_at: string;
}

/** A direct message held for a user's digest. */
export interface DigestItemsTable {
  /** The id the direct message's delivery job would have had: a retried event holds it once. */
  id: string;
  mattermost_user_id: string;
  /** ms since epoch. */
  created_at: number;
  /** Why it concerns them (handlers/recipients PersonalReason). */
  reason: string;
  /** The line the digest shows, in their language (Markdown, already safe). */
  message: string;
}

/** A webhook accepted while Redis did not answer, until the replayer has queued it. */
export interface WebhookSpoolTable {
  /** Arrival order, numbered by the database. */
  seq: Generated<number>;
  /** The id its job gets in the events queue (src/queue/jobs.ts deliveryIdFor). */
  delivery_id: string;
  kind: string;
  /** X-Gitlab-Event header, when GitLab sent one. */
  event_header: string | null;
  /** ms since epoch. */
  received_at: number;
  /** The body exactly as GitLab sent it. */
  body: string;
}

export interface Database {
  webhook_spool: WebhookSpoolTable;
  merge_request_people: MergeRequestPeopleTable;
  digest_items: DigestItemsTable;
  user_links: UserLinksTable;
  user_settings: UserSettingsTable;
  open_merge_requests: OpenMergeRequestsTable;
  ref_statuses: RefStatusesTable;
  deliveries: DeliveriesTable;
  subscriptions: SubscriptionsTable;
  thread_roots: ThreadRootsTable;
}

export type Row<T> = { [K in keyof T]: T[K] extends Generated<infer U> ? U : T[K] };
