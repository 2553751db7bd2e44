import { SqliteIntrospector, type Kysely, type Migration } from "kysely";

/**
 * webhook_spool: webhooks accepted while Redis did not answer, waiting to be replayed into the events
 * queue in the order they arrived (`seq`). One row per delivery id: a repeated delivery is spooled once.
 */
export const webhookSpool: Migration = {
  async up(db: Kysely<unknown>) {
    // The arrival sequence is numbered by the database, so replicas sharing PostgreSQL agree on it;
    // SQLite and PostgreSQL spell an auto-numbered key differently.
    const sqlite = db.introspection instanceof SqliteIntrospector;
    await db.schema
      .createTable("webhook_spool")
      .addColumn("seq", sqlite ? "integer" : "bigint", (c) => (sqlite ? c.primaryKey().autoIncrement() : c.primaryKey().generatedAlwaysAsIdentity()))
      .addColumn("delivery_id", "text", (c) => c.notNull().unique())
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("event_header", "text")
      .addColumn("received_at", "bigint", (c) => c.notNull())
      .addColumn("body", "text", (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable("webhook_spool").execute();
  },
};
