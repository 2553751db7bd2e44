// `gitlab-mm backup <file>` / `restore <file>`: every table as JSON, portable between SQLite and
// PostgreSQL (so a backup also moves a bot from one to the other). GitLab tokens stay encrypted.
import { sql } from "kysely";
import type { Db } from "./db.js";
import { migrateToLatest, migrationStatus } from "./db.js";
import type { Database } from "./schema.js";

/** Every table that holds the bot's state, in an order that restores cleanly. */
export const BACKUP_TABLES = [
  "subscriptions",
  "thread_roots",
  "deliveries",
  "user_links",
  "user_settings",
  "open_merge_requests",
  "ref_statuses",
  "merge_request_people",
  "digest_items",
] as const satisfies readonly (keyof Database)[];

/**
 * Tables deliberately left out of backups: what a running bot holds only until it has passed it on.
 * Every table of the schema is in exactly one of the two lists (test/store/backup.test.ts checks it),
 * so a new table is never silently missing from backups.
 * - webhook_spool: webhooks accepted while Redis did not answer; the bot that spooled them replays
 *   them into its queue, and a copy restored elsewhere would post them a second time.
 */
export const TRANSIENT_TABLES = ["webhook_spool"] as const satisfies readonly (keyof Database)[];

type TableName = (typeof BACKUP_TABLES)[number];

export interface Backup {
  format: "gitlab-mattermost-bot-backup";
  version: 1;
  createdAt: string;
  /** The migrations the source database had: a restore needs a target with exactly these. */
  migrations: string[];
  tables: Record<TableName, Record<string, unknown>[]>;
}

export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackupError";
  }
}

/** The backup, and the transient tables it leaves out that hold rows now (with their counts). */
export async function createBackup(db: Db): Promise<{ backup: Backup; leftOut: { name: string; rows: number }[] }> {
  const { newer } = await migrateToLatest(db);
  if (newer?.length) {
    throw new BackupError(`a newer version of the bot migrated this database (${newer.join(", ")}), so this version does not know all its tables: back it up with that version`);
  }
  const { applied } = await migrationStatus(db);
  const tables = {} as Backup["tables"];
  for (const table of BACKUP_TABLES) tables[table] = (await db.selectFrom(table).selectAll().execute()) as Record<string, unknown>[];
  const transient: readonly string[] = TRANSIENT_TABLES;
  const leftOut = (await nonEmptyTables(db)).filter((t) => transient.includes(t.name));
  return {
    backup: { format: "gitlab-mattermost-bot-backup", version: 1, createdAt: new Date().toISOString(), migrations: applied.map((m) => m.name), tables },
    leftOut,
  };
}

/** Checks what a file holds before anything is written. */
export function parseBackup(text: string): Backup {
  let data: Partial<Backup>;
  try {
    data = JSON.parse(text) as Partial<Backup>;
  } catch {
    throw new BackupError("not a backup: the file is not JSON");
  }
  if (data?.format !== "gitlab-mattermost-bot-backup" || data.version !== 1 || typeof data.tables !== "object" || data.tables === null) {
    throw new BackupError("not a gitlab-mm backup (format or version unknown)");
  }
  if (!Array.isArray(data.migrations) || !data.migrations.every((m) => typeof m === "string")) {
    throw new BackupError("the backup does not say which migrations its database had");
  }
  for (const table of BACKUP_TABLES) {
    // A table an earlier version kept out of backups (transient then) is simply empty.
    data.tables[table] ??= [];
    if (!Array.isArray(data.tables[table])) throw new BackupError(`the backup's table ${table} is not a list of rows`);
  }
  return data as Backup;
}

/** Every table of the database's schema but Kysely's own, in name order. */
export async function schemaTables(db: Db): Promise<{ schema?: string; name: string }[]> {
  const tables = await db.introspection.getTables();
  return tables
    .filter((t) => !t.isView)
    .map((t) => ({ schema: t.schema, name: t.name }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The tables that hold rows, with their counts. */
async function nonEmptyTables(db: Db): Promise<{ name: string; rows: number }[]> {
  const found: { name: string; rows: number }[] = [];
  for (const t of await schemaTables(db)) {
    const table = sql.table(t.schema ? `${t.schema}.${t.name}` : t.name);
    const { rows } = await sql<{ n: number | string }>`select count(*) as n from ${table}`.execute(db);
    const n = Number(rows[0]?.n ?? 0);
    if (n > 0) found.push({ name: t.name, rows: n });
  }
  return found;
}

/** Why the backup's schema and the target's differ, in one line, or undefined when they are the same. */
function schemaMismatch(backup: readonly string[], thisVersion: readonly string[], unknownToThisVersion: readonly string[]): string | undefined {
  if (unknownToThisVersion.length) {
    return `a newer version of the bot migrated the target database (${unknownToThisVersion.join(", ")}): restore with that version`;
  }
  const onlyInBackup = backup.filter((m) => !thisVersion.includes(m));
  if (onlyInBackup.length) return `the backup comes from a newer version of the bot (migrations ${onlyInBackup.join(", ")}): upgrade the bot first, then restore`;
  const onlyInTarget = thisVersion.filter((m) => !backup.includes(m));
  if (onlyInTarget.length) {
    const newest = [...backup].sort().at(-1) ?? "none";
    return `the backup comes from an older version of the bot (newest migration ${newest}; this version adds ${onlyInTarget.join(", ")}): restore it with the version whose newest migration is ${newest} into an empty database, then upgrade the bot and run \`gitlab-mm migrate\``;
  }
  return undefined;
}

/**
 * Writes the backup's rows into the target, in one transaction, and returns rows per table. The
 * backup must have exactly this version's migrations (rows of another schema would skip what the
 * migrations in between do to them), and no rows unless `force`, which replaces them.
 */
export async function restoreBackup(db: Db, backup: Backup, opts: { force?: boolean } = {}): Promise<Record<TableName, number>> {
  // Both checks come before the target is migrated, so a refused restore leaves it as it was.
  const status = await migrationStatus(db);
  const thisVersion = [...status.applied.map((m) => m.name), ...status.pending];
  const mismatch = schemaMismatch(backup.migrations, thisVersion, status.newer.map((m) => m.name));
  if (mismatch) throw new BackupError(mismatch);
  if (!opts.force) {
    const occupied = await nonEmptyTables(db);
    if (occupied.length) {
      const what = occupied.map((t) => `${t.name}: ${t.rows}`).join(", ");
      throw new BackupError(`the target database is not empty (${what}): restore into an empty database, or add --force to replace its rows`);
    }
  }
  await migrateToLatest(db);
  const counts = {} as Record<TableName, number>;
  await db.transaction().execute(async (trx) => {
    for (const table of [...BACKUP_TABLES].reverse()) await trx.deleteFrom(table).execute();
    for (const table of BACKUP_TABLES) {
      const rows = backup.tables[table];
      counts[table] = rows.length;
      // Batches keep each statement under the databases' parameter limits.
      for (let i = 0; i < rows.length; i += 200) {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- rows come from this very schema
        await trx.insertInto(table).values(rows.slice(i, i + 200) as any).execute();
      }
    }
  });
  return counts;
}
