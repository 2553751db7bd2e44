// Webhooks accepted while Redis did not answer, kept until the replayer has put them into the queue.
import { writeDurably, type Db } from "./db.js";

export interface SpooledWebhook {
  deliveryId: string;
  kind: string;
  eventHeader?: string;
  receivedAt: number;
  body: string;
}

/**
 * Keeps a webhook, on disk before it resolves (the caller then answers GitLab 202, and GitLab never
 * sends it again). False when a webhook with that delivery id is already spooled: it is kept once.
 */
export async function spoolWebhook(db: Db, webhook: SpooledWebhook): Promise<boolean> {
  const result = await writeDurably(db, (conn) =>
    conn
      .insertInto("webhook_spool")
      .values({
        delivery_id: webhook.deliveryId,
        kind: webhook.kind,
        event_header: webhook.eventHeader ?? null,
        received_at: webhook.receivedAt,
        body: webhook.body,
      })
      .onConflict((oc) => oc.column("delivery_id").doNothing())
      .executeTakeFirst(),
  );
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/** The `limit` oldest spooled webhooks, in arrival order. */
export async function oldestSpooled(db: Db, limit: number): Promise<SpooledWebhook[]> {
  const rows = await db.selectFrom("webhook_spool").selectAll().orderBy("seq").limit(limit).execute();
  return rows.map((r) => ({
    deliveryId: r.delivery_id,
    kind: r.kind,
    ...(r.event_header === null ? {} : { eventHeader: r.event_header }),
    receivedAt: Number(r.received_at),
    body: r.body,
  }));
}

export async function deleteSpooled(db: Db, deliveryIds: readonly string[]): Promise<void> {
  for (let i = 0; i < deliveryIds.length; i += 500) {
    await db.deleteFrom("webhook_spool").where("delivery_id", "in", deliveryIds.slice(i, i + 500)).execute();
  }
}

export async function countSpooled(db: Db): Promise<number> {
  const { count } = await db.selectFrom("webhook_spool").select((eb) => eb.fn.countAll<string | number>().as("count")).executeTakeFirstOrThrow();
  return Number(count);
}
