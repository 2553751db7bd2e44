import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import SQLite from "better-sqlite3";
import {
  CompiledQuery,
  DEFAULT_MIGRATION_TABLE,
  Kysely,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  SqliteDriver,
  sql,
  type DatabaseConnection,
  type Driver,
  type SqliteDatabase,
  type SqliteDialectConfig,
  type SqliteStatement,
  type QueryResult,
} from "kysely";
import pg from "pg";
import { migrationProvider } from "./migrations/index.js";
import type { Database } from "./schema.js";

export type Db = Kysely<Database>;
export type DbKind = "sqlite" | "postgres";

/** `sqlite:<file>` (or `sqlite::memory:`) for the embedded default, `postgres://...` for PostgreSQL. */
export function openDatabase(url: string): { db: Db; kind: DbKind } {
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) {
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    // An idle connection that PostgreSQL drops (a restart, a failover) emits "error"; unhandled, that
    // would end the process. The pool replaces the connection on the next query, so nothing is lost.
    pool.on("error", () => {});
    return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), kind: "postgres" };
  }
  const file = url.replace(/^sqlite:(\/\/)?/, "");
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  const sqlite = new SQLite(file);
  sqlite.pragma("journal_mode = WAL");
  // With WAL this survives a crash of the process; only an OS crash may lose the last commits, which
  // the queue (in Redis) would replay. It makes each commit several times cheaper (bench/).
  sqlite.pragma(`synchronous = ${SQLITE_SYNCHRONOUS}`);
  // Several processes (server and CLI) may share the file: wait for a lock instead of failing.
  sqlite.pragma("busy_timeout = 5000");
  const database = reusingStatements(sqlite);
  const commits = new GroupCommit(sqlite);
  const dialect = new ImmediateSqliteDialect({ database }, commits);
  const db = new Kysely<Database>({ dialect });
  sqliteDatabases.set(db, { database, dialect, commits });
  return { db, kind: "sqlite" };
}

/** More distinct SQL texts than the bot has queries; past it the cache starts over rather than grows. */
export const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every query it runs; preparing costs as much as running the bot's small queries.
 * The same SQL text always gets the same prepared statement here (Kysely runs one query at a time on
 * the single SQLite connection, so a statement is never in use twice). Statements made invalid by a
 * schema change are re-prepared by SQLite itself.
 */
export function reusingStatements(sqlite: SQLite.Database): SqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    prepare(text) {
      let statement = statements.get(text);
      if (!statement) {
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.clear();
        statement = sqlite.prepare(text);
        statements.set(text, statement);
      }
      return statement;
    },
    close: () => sqlite.close(),
  };
}

const SQLITE_SYNCHRONOUS = "NORMAL";

interface SqliteHandle {
  database: SqliteDatabase;
  dialect: ImmediateSqliteDialect;
  commits: GroupCommit;
}

/**
 * The writes of one turn of the event loop in one SQLite transaction. Each commit appends every page
 * it changed to the write-ahead log, and the bot's writes are small (a row or two): committed one by
 * one, the same few pages were written again for each, which cost more than the writes themselves,
 * and the log filled (and was copied back into the database) that much sooner. A write runs at once,
 * so later reads see it; its caller hears of it only once it is committed, after the turn, so nothing
 * acts on a write a crash could still undo. Anything going through Kysely (a transaction, a query
 * while the connection is busy) commits the group first.
 */
class GroupCommit {
  #open: { committed: Promise<void>; resolve: () => void; reject: (error: unknown) => void } | undefined;
  readonly #sqlite: SQLite.Database;
  readonly #begin: SQLite.Statement;
  readonly #commit: SQLite.Statement;
  constructor(sqlite: SQLite.Database) {
    this.#sqlite = sqlite;
    this.#begin = sqlite.prepare("begin immediate");
    this.#commit = sqlite.prepare("commit");
  }

  /** Runs `write` inside the open group (opening one, which takes SQLite's write lock); resolves when the group commits. */
  write<T>(write: () => T): Promise<T> {
    if (!this.#open) {
      this.#begin.run();
      let resolve!: () => void;
      let reject!: (error: unknown) => void;
      const committed = new Promise<void>((res, rej) => ([resolve, reject] = [res, rej]));
      // Each write's caller hears of a failed commit through its own promise; this one may have none.
      committed.catch(() => {});
      this.#open = { committed, resolve, reject };
      setImmediate(() => this.commit());
    }
    const group = this.#open;
    let result: T;
    try {
      result = write();
    } catch (error) {
      // A failing statement undoes only itself and the group goes on, unless SQLite rolled the whole
      // transaction back (a full disk, an I/O error): then none of the group's writes stands.
      if (!this.#sqlite.inTransaction && this.#open === group) {
        this.#open = undefined;
        group.reject(error);
      }
      throw error;
    }
    return group.committed.then(() => result);
  }

  /** Commits the open group, if any. */
  commit(): void {
    const group = this.#open;
    if (!group) return;
    this.#open = undefined;
    try {
      this.#commit.run();
      group.resolve();
    } catch (error) {
      if (this.#sqlite.inTransaction) this.#sqlite.prepare("rollback").run();
      group.reject(error);
    }
  }
}
const sqliteDatabases = new WeakMap<Db, SqliteHandle>();

/**
 * Runs a compiled query on a SQLite database at once, as Kysely's own SQLite connection would, when
 * nobody holds or waits for the connection; undefined otherwise (PostgreSQL, a transaction open or
 * queued), and the caller goes through Kysely. SQLite answers synchronously, so nothing can come in
 * between; Kysely's way costs more than the bot's small queries themselves (a lock, promises, a
 * connection handed out and back). The database has no Kysely plugins whose results this would skip.
 * A write joins the turn's group commit (GroupCommit) and resolves once that is committed.
 */
export function runOnIdleSqlite<O>(db: Db, query: CompiledQuery<O>): QueryResult<O> | Promise<QueryResult<O>> | undefined {
  const handle = sqliteDatabases.get(db);
  if (!handle?.dialect.connectionIdle()) return undefined;
  const statement = handle.database.prepare(query.sql);
  if (statement.reader) return { rows: statement.all(query.parameters) as O[] };
  return handle.commits.write(() => {
    const { changes, lastInsertRowid } = statement.run(query.parameters);
    return {
      numAffectedRows: changes === undefined || changes === null ? undefined : BigInt(changes),
      insertId: lastInsertRowid === undefined || lastInsertRowid === null ? undefined : BigInt(lastInsertRowid),
      rows: [],
    };
  });
}

/**
 * Transactions take SQLite's write lock when they begin. Kysely's plain `begin` reads first and
 * upgrades at the first write; in WAL mode that upgrade fails at once with "database is locked"
 * when another process wrote meanwhile, and no busy timeout helps, because waiting cannot make the
 * transaction's snapshot current again.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  readonly #commits: GroupCommit;
  #driver: ImmediateSqliteDriver | undefined;
  constructor(config: SqliteDialectConfig, commits: GroupCommit) {
    super(config);
    this.#config = config;
    this.#commits = commits;
  }
  override createDriver(): Driver {
    this.#driver = new ImmediateSqliteDriver(this.#config, this.#commits);
    return this.#driver;
  }
  /** Whether no query, transaction or held connection has the one connection or waits for it. */
  connectionIdle(): boolean {
    return this.#driver?.idle() ?? false;
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  /** Those holding the connection or waiting for it. */
  #claims = 0;
  readonly #commits: GroupCommit;
  constructor(config: SqliteDialectConfig, commits: GroupCommit) {
    super(config);
    this.#commits = commits;
  }
  idle(): boolean {
    return this.#claims === 0;
  }
  override async acquireConnection(): Promise<DatabaseConnection> {
    this.#claims++;
    try {
      const connection = await super.acquireConnection();
      // Kysely's queries and transactions run outside the group: it commits first.
      this.#commits.commit();
      return connection;
    } catch (error) {
      this.#claims--;
      throw error;
    }
  }
  override async destroy(): Promise<void> {
    this.#commits.commit();
    await super.destroy();
  }
  override async releaseConnection(): Promise<void> {
    this.#claims--;
    await super.releaseConnection();
  }
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }
}

/**
 * Runs `write` so that its commit is on disk when it resolves, even after an OS crash or power loss.
 * PostgreSQL always commits so. SQLite runs with synchronous NORMAL (above); only this write pays for
 * FULL, so the rest of the bot keeps its cheap commits (FULL syncs the whole log, earlier commits too).
 */
export async function writeDurably<T>(db: Db, write: (db: Db) => Promise<T>): Promise<T> {
  if (!sqliteDatabases.has(db)) return write(db);
  // One SQLite connection: holding it keeps other queries from running under FULL or the write under NORMAL.
  return db.connection().execute(async (connection) => {
    await sql`pragma synchronous = FULL`.execute(connection);
    try {
      return await write(connection);
    } finally {
      await sql.raw(`pragma synchronous = ${SQLITE_SYNCHRONOUS}`).execute(connection);
    }
  });
}

export interface MigrationOutcome {
  applied: string[];
  /** Migrations a newer version of the bot applied, which this version does not know (and leaves alone). */
  newer?: string[];
}

export interface RecordedMigration {
  name: string;
  /** When it was applied, as Kysely recorded it (ISO 8601). */
  appliedAt: string;
}

export interface MigrationStatus {
  /** This version's migrations the database has, in name order. */
  applied: RecordedMigration[];
  /** This version's migrations the database lacks, in the order they will run. */
  pending: string[];
  /** Migrations the database has that this version does not know: a newer version of the bot applied them. */
  newer: RecordedMigration[];
}

export async function migrationStatus(db: Db): Promise<MigrationStatus> {
  const known = Object.keys(await migrationProvider.getMigrations()).sort();
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  const recorded = tables.some((t) => t.name === DEFAULT_MIGRATION_TABLE)
    ? await db
        .withTables<{ [DEFAULT_MIGRATION_TABLE]: { name: string; timestamp: string } }>()
        .selectFrom(DEFAULT_MIGRATION_TABLE)
        .select(["name", "timestamp"])
        .orderBy("name")
        .execute()
    : [];
  const appliedAt = new Map(recorded.map((r) => [r.name, r.timestamp]));
  return {
    applied: known.filter((name) => appliedAt.has(name)).map((name) => ({ name, appliedAt: appliedAt.get(name)! })),
    pending: known.filter((name) => !appliedAt.has(name)),
    newer: recorded.filter((r) => !known.includes(r.name)).map((r) => ({ name: r.name, appliedAt: r.timestamp })),
  };
}

export async function migrateToLatest(db: Db): Promise<MigrationOutcome> {
  const status = await migrationStatus(db);
  if (status.newer.length > 0) {
    // A newer version of the bot migrated this database (during a rolling upgrade, or before a
    // rollback). Migrations only add, so this version still runs on it; Kysely's migrator would
    // refuse to start, as it does not know those migrations.
    if (status.pending.length === 0) return { applied: [], newer: status.newer.map((m) => m.name) };
    throw new Error(
      `database migrations ${status.pending.join(", ")} of this version were never applied, yet a newer version applied ${status.newer.map((m) => m.name).join(", ")}: run a version that knows them all`,
    );
  }
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName;
    throw new Error(`database migration ${failed ?? ""} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { applied: (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName) };
}

export async function pingDatabase(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}
