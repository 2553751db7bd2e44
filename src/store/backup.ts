// `gitlab-mm backup <file>` / `restore <file>`: every table as JSON, portable between SQLite and
// PostgreSQL (so a backup also moves a bot from one to the other). GitLab tokens stay encrypted.
import type { Db } from "./db.js";
import { migrateToLatest } from "./db.js";
import { migrationProvider } from "./migrations/index.js";
import type { Database } from "./schema.js";

/** Every table, in an order that restores cleanly. */
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

type TableName = (typeof BACKUP_TABLES)[number];

export interface Backup {
  format: "gitlab-mattermost-bot-backup";
  version: 1;
  createdAt: string;
  /** The schema the rows belong to: a restore needs the same migrations. */
  migrations: string[];
  tables: Record<TableName, Record<string, unknown>[]>;
}

async function migrationNames(): Promise<string[]> {
  return Object.keys(await migrationProvider.getMigrations()).sort();
}

export async function createBackup(db: Db): Promise<Backup> {
  await migrateToLatest(db);
  const tables = {} as Backup["tables"];
  for (const table of BACKUP_TABLES) tables[table] = (await db.selectFrom(table).selectAll().execute()) as Record<string, unknown>[];
  return { format: "gitlab-mattermost-bot-backup", version: 1, createdAt: new Date().toISOString(), migrations: await migrationNames(), tables };
}

export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackupError";
  }
}

/** Checks what a file holds before anything is written. */
export async function parseBackup(text: string): Promise<Backup> {
  let data: Partial<Backup>;
  try {
    data = JSON.parse(text) as Partial<Backup>;
  } catch {
    throw new BackupError("not a backup: the file is not JSON");
  }
  if (data?.format !== "gitlab-mattermost-bot-backup" || data.version !== 1 || typeof data.tables !== "object" || data.tables === null) {
    throw new BackupError("not a gitlab-mm backup (format or version unknown)");
  }
  const known = await migrationNames();
  const newer = (data.migrations ?? []).filter((m) => !known.includes(m));
  if (newer.length) throw new BackupError(`the backup comes from a newer version of the bot (migrations ${newer.join(", ")}); upgrade first`);
  for (const table of BACKUP_TABLES) {
    // A table the backup's older schema did not have yet is simply empty.
    data.tables[table] ??= [];
    if (!Array.isArray(data.tables[table])) throw new BackupError(`the backup's table ${table} is not a list of rows`);
  }
  return data as Backup;
}

/** Replaces every row of every table with the backup's, in one transaction. Returns rows per table. */
export async function restoreBackup(db: Db, backup: Backup): Promise<Record<TableName, number>> {
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
