// Real databases for tests: SQLite always (in memory), PostgreSQL when one answers (DATABASE_URL_PG,
// else the local server at 127.0.0.1:5432). In CI PostgreSQL is required, so a missing server fails.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { migrateToLatest, openDatabase, type Db } from "../../src/store/db.js";

const adminUrl = process.env.DATABASE_URL_PG ?? "postgres://postgres@127.0.0.1:5432/postgres";

async function postgresAnswers(): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 1500 });
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export const postgresAvailable: boolean = await postgresAnswers();
if (!postgresAvailable && process.env.CI) {
  throw new Error(`CI needs PostgreSQL at ${adminUrl} (set DATABASE_URL_PG)`);
}

/** The database kinds every store test runs against. */
export const databaseKinds: ("sqlite" | "postgres")[] = postgresAvailable ? ["sqlite", "postgres"] : ["sqlite"];

export interface TestDatabase {
  db: Db;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database: an in-memory SQLite, or a new PostgreSQL database dropped afterwards. */
export async function createTestDatabase(kind: "sqlite" | "postgres"): Promise<TestDatabase> {
  if (kind === "sqlite") {
    const url = "sqlite::memory:";
    const { db } = openDatabase(url);
    await migrateToLatest(db);
    return { db, url, drop: () => db.destroy() };
  }
  const name = `gmm_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const { db } = openDatabase(url.toString());
  await migrateToLatest(db);
  return {
    db,
    url: url.toString(),
    async drop() {
      await db.destroy();
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** A SQLite file database (for tests that need two processes, such as the CLI, to share it). */
export function sqliteFileUrl(dir: string): string {
  return `sqlite:${dir}/bot-${randomBytes(4).toString("hex")}.sqlite`;
}
