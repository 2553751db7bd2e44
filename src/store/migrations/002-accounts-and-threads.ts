import type { Kysely, Migration } from "kysely";

export const accountsAndThreads: Migration = {
  async up(db: Kysely<unknown>) {
    // Mattermost user <-> GitLab user, with the GitLab OAuth tokens encrypted (src/crypto.ts).
    await db.schema
      .createTable("user_links")
      .addColumn("mattermost_user_id", "text", (c) => c.primaryKey())
      .addColumn("gitlab_user_id", "bigint", (c) => c.notNull().unique())
      .addColumn("gitlab_username", "text", (c) => c.notNull())
      .addColumn("access_token", "text", (c) => c.notNull())
      .addColumn("refresh_token", "text", (c) => c.notNull())
      .addColumn("expires_at", "bigint", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("user_links_by_username").on("user_links").column("gitlab_username").execute();

    await db.schema
      .createTable("user_settings")
      .addColumn("mattermost_user_id", "text", (c) => c.primaryKey())
      .addColumn("notifications", "integer", (c) => c.notNull().defaultTo(1))
      .addColumn("reminders", "integer", (c) => c.notNull().defaultTo(1))
      .addColumn("reminder_hour", "integer", (c) => c.notNull().defaultTo(9))
      .addColumn("reminder_weekends", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("digest", "text", (c) => c.notNull().defaultTo("off"))
      .addColumn("language", "text")
      .addColumn("updated_at", "text", (c) => c.notNull())
      .execute();

    // The current state a thread's root post shows (JSON), so later events can edit it.
    await db.schema.alterTable("thread_roots").addColumn("root_state", "text").execute();

    // Open merge requests by source branch: pushes and pipelines of that branch go to the MR's thread.
    await db.schema
      .createTable("open_merge_requests")
      .addColumn("project_path", "text", (c) => c.notNull())
      .addColumn("source_branch", "text", (c) => c.notNull())
      .addColumn("iid", "integer", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("open_merge_requests_pk", ["project_path", "source_branch"])
      .execute();

    // Last finished pipeline status per project and ref, for `pipelines:failed` ("fixed").
    await db.schema
      .createTable("ref_statuses")
      .addColumn("project_path", "text", (c) => c.notNull())
      .addColumn("ref", "text", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("pipeline_id", "bigint", (c) => c.notNull())
      // The status before this pipeline: a retried event job reads the same answer again.
      .addColumn("previous_status", "text")
      .addPrimaryKeyConstraint("ref_statuses_pk", ["project_path", "ref"])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable("ref_statuses").execute();
    await db.schema.dropTable("open_merge_requests").execute();
    await db.schema.alterTable("thread_roots").dropColumn("root_state").execute();
    await db.schema.dropTable("user_settings").execute();
    await db.schema.dropTable("user_links").execute();
  },
};
