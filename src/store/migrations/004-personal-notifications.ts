import type { Kysely, Migration } from "kysely";

/**
 * Personal notifications:
 * - merge_request_people: who a merge request concerns (author, assignees, reviewers), as its latest
 *   event said, for events whose payload does not say (pipelines, comments);
 * - digest_items: direct messages held for a user whose digest is on, until their digest is sent.
 */
export const personalNotifications: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("merge_request_people")
      .addColumn("thread_key", "text", (c) => c.primaryKey())
      .addColumn("author_id", "bigint")
      .addColumn("assignee_ids", "text", (c) => c.notNull())
      .addColumn("reviewer_ids", "text", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("digest_items")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("mattermost_user_id", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("reason", "text", (c) => c.notNull())
      .addColumn("message", "text", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("digest_items_by_user").on("digest_items").columns(["mattermost_user_id", "created_at"]).execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable("digest_items").execute();
    await db.schema.dropTable("merge_request_people").execute();
  },
};
