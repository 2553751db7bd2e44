import type { Kysely, Migration } from "kysely";

export const initial: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("subscriptions")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("channel_id", "text", (c) => c.notNull())
      .addColumn("team_id", "text")
      .addColumn("path", "text", (c) => c.notNull())
      .addColumn("features", "text", (c) => c.notNull())
      .addColumn("created_by", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addUniqueConstraint("subscriptions_channel_path", ["channel_id", "path"])
      .execute();
    // The router looks subscriptions up by the event's project path and its ancestor groups.
    await db.schema.createIndex("subscriptions_by_path").on("subscriptions").column("path").execute();

    await db.schema
      .createTable("thread_roots")
      .addColumn("channel_id", "text", (c) => c.notNull())
      .addColumn("thread_key", "text", (c) => c.notNull())
      .addColumn("post_id", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("thread_roots_pk", ["channel_id", "thread_key"])
      .execute();

    await db.schema
      .createTable("deliveries")
      .addColumn("job_id", "text", (c) => c.primaryKey())
      .addColumn("channel_id", "text", (c) => c.notNull())
      .addColumn("post_id", "text")
      .addColumn("started_at", "bigint", (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable("deliveries").execute();
    await db.schema.dropTable("thread_roots").execute();
    await db.schema.dropTable("subscriptions").execute();
  },
};
