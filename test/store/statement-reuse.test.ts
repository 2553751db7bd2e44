// Prepared statements are reused by SQL text (src/store/db.ts): a query run again after the schema
// changed (a migration while the bot runs) still sees the table as it is now, and many distinct
// queries do not break the cache.
import SQLite from "better-sqlite3";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { reusingStatements, STATEMENT_CACHE_SIZE } from "../../src/store/db.js";
import { databaseKinds, createTestDatabase, type TestDatabase } from "../support/db.js";

describe.each(databaseKinds)("reused statements on %s", (kind) => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.drop();
    t = undefined;
  });

  it("a query repeated after a column is added returns that column", async () => {
    t = await createTestDatabase(kind);
    await sql`create table reuse_probe (a integer)`.execute(t.db);
    await sql`insert into reuse_probe (a) values (1)`.execute(t.db);
    const read = () => sql<Record<string, unknown>>`select * from reuse_probe`.execute(t!.db).then((r) => r.rows);
    expect(await read()).toEqual([{ a: 1 }]);
    await sql`alter table reuse_probe add column b text default 'x'`.execute(t.db);
    expect(await read()).toEqual([{ a: 1, b: "x" }]);
  });

  it("more distinct queries than the cache holds still answer, each its own", async () => {
    t = await createTestDatabase(kind);
    for (let i = 0; i < 1200; i += 1) {
      const { rows } = await sql<{ n: number }>`select ${sql.lit(i)} as n`.execute(t.db);
      expect(Number(rows[0]!.n)).toBe(i);
    }
  });
});

describe("the statement cache in front of better-sqlite3", () => {
  it("prepares a SQL text once and hands back the same statement, until it holds too many", () => {
    const sqlite = new SQLite(":memory:");
    try {
      const cache = reusingStatements(sqlite);
      const first = cache.prepare("select 1 as n");
      expect(cache.prepare("select 1 as n")).toBe(first);
      expect(cache.prepare("select 2 as n")).not.toBe(first);
      for (let i = 0; i < STATEMENT_CACHE_SIZE; i += 1) cache.prepare(`select ${i + 10} as n`);
      // Past its size the cache starts over rather than grows: the text is prepared anew.
      expect(cache.prepare("select 1 as n")).not.toBe(first);
    } finally {
      sqlite.close();
    }
  });
});
