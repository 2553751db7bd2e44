import { randomUUID } from "node:crypto";
import { reusedQuery } from "./compiled.js";
import type { Db } from "./db.js";
import type { SubscriptionsTable } from "./schema.js";

export type Subscription = SubscriptionsTable;

export interface NewSubscription {
  channelId: string;
  teamId?: string | null;
  path: string;
  features: string;
  createdBy: string;
  /** What GitLab said of the path when the subscriber added it (omit when not checked). */
  kind?: "project" | "group";
  visibility?: "public" | "internal" | "private";
}

/** Paths are stored lower-case without surrounding slashes: GitLab paths match regardless of case. */
export function normalizePath(path: string): string {
  return path.trim().replace(/^\/+|\/+$/g, "").toLowerCase();
}

/** Adds a subscription, or replaces the features of the one the channel already has for that path. */
export async function upsertSubscription(db: Db, s: NewSubscription): Promise<{ created: boolean; subscription: Subscription }> {
  const path = normalizePath(s.path);
  return db.transaction().execute(async (trx) => {
    const existing = await trx
      .selectFrom("subscriptions")
      .selectAll()
      .where("channel_id", "=", s.channelId)
      .where("path", "=", path)
      .executeTakeFirst();
    if (existing) {
      // A checked re-subscription makes its subscriber the one whose GitLab access vouches for it.
      const checked = s.visibility === undefined ? {} : { created_by: s.createdBy, kind: s.kind ?? null, visibility: s.visibility };
      await trx.updateTable("subscriptions").set({ features: s.features, ...checked }).where("id", "=", existing.id).execute();
      return { created: false, subscription: { ...existing, features: s.features, ...checked } };
    }
    const row: Subscription = {
      id: randomUUID(),
      channel_id: s.channelId,
      team_id: s.teamId ?? null,
      path,
      features: s.features,
      created_by: s.createdBy,
      created_at: new Date().toISOString(),
      kind: s.kind ?? null,
      visibility: s.visibility ?? null,
    };
    await trx.insertInto("subscriptions").values(row).execute();
    return { created: true, subscription: row };
  });
}

export async function listSubscriptions(db: Db, filter: { channelId?: string } = {}): Promise<Subscription[]> {
  let q = db.selectFrom("subscriptions").selectAll();
  if (filter.channelId) q = q.where("channel_id", "=", filter.channelId);
  return q.orderBy("channel_id").orderBy("path").execute();
}

export async function deleteSubscription(db: Db, channelId: string, path: string): Promise<boolean> {
  const result = await db
    .deleteFrom("subscriptions")
    .where("channel_id", "=", channelId)
    .where("path", "=", normalizePath(path))
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

const selectSubscriptionsForPaths = reusedQuery((db, p: { paths: string[] }) =>
  db.selectFrom("subscriptions").selectAll().where("path", "in", p.paths),
);

/** Subscriptions on any of the given (normalised) paths, through the path index. */
export async function findSubscriptionsForPaths(db: Db, paths: string[]): Promise<Subscription[]> {
  if (paths.length === 0) return [];
  return (await selectSubscriptionsForPaths.run(db, { paths })).rows;
}
