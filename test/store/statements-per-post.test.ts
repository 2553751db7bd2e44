// What a post costs the database: a first attempt is recorded by one statement, and a delivery that
// wins the claim on a new thread's root makes it with a read and an insert (no read back).
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect, type SqliteDatabase } from "kysely";
import { afterEach, expect, it } from "vitest";
import { migrateToLatest, reusingStatements, type Db } from "../../src/store/db.js";
import { startDelivery } from "../../src/store/deliveries.js";
import type { Database } from "../../src/store/schema.js";
import { claimThreadRoot } from "../../src/store/thread-roots.js";

/** A SQLite database whose statements are counted as they run. */
function countingDatabase(): { db: Db; ran: string[] } {
  const ran: string[] = [];
  const cache = reusingStatements(new SQLite(":memory:"));
  const counting: SqliteDatabase = {
    close: () => cache.close(),
    prepare(text) {
      const statement = cache.prepare(text);
      return {
        reader: statement.reader,
        all: (parameters) => (ran.push(text), statement.all(parameters)),
        run: (parameters) => (ran.push(text), statement.run(parameters)),
        iterate: (parameters) => (ran.push(text), statement.iterate(parameters)),
      };
    },
  };
  return { db: new Kysely<Database>({ dialect: new SqliteDialect({ database: counting }) }), ran };
}

let opened: Db | undefined;
afterEach(async () => {
  await opened?.destroy();
  opened = undefined;
});

it("records a first attempt with one statement and claims a new thread's root with two", async () => {
  const { db, ran } = countingDatabase();
  opened = db;
  await migrateToLatest(db);

  ran.length = 0;
  expect(await startDelivery(db, "post-1", "chan", 1000)).toBeUndefined();
  expect(ran).toHaveLength(1);

  ran.length = 0;
  expect(await claimThreadRoot(db, "chan", "g/p!1", { state: "s", at: Date.now(), staleAfterMs: 60_000 })).toEqual({ kind: "root" });
  expect(ran.map((text) => text.split(" ")[0])).toEqual(["select", "insert"]);
});
