// On SQLite the writes of one turn of the event loop share one commit (GroupCommit in src/store/db.ts):
// a write runs at once, its caller hears of it only once it is committed (another connection to the
// file sees it then), a failing write fails alone, and Kysely's own queries and transactions, and
// closing the database, commit what is open first. Real SQLite files, two connections to each.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { reusedQuery } from "../../src/store/compiled.js";
import { migrateToLatest, openDatabase, type Db } from "../../src/store/db.js";

const insert = reusedQuery((d, p: { job: string; channel: string }) => d.insertInto("deliveries").values({ job_id: p.job, channel_id: p.channel, post_id: null, started_at: 1 }));

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function twoConnections(): Promise<{ db: Db; other: SQLite.Database; jobs: () => string[] }> {
  const dir = mkdtempSync(join(tmpdir(), "group-commit-"));
  const { db } = openDatabase(`sqlite:${join(dir, "bot.sqlite")}`);
  await migrateToLatest(db);
  const other = new SQLite(join(dir, "bot.sqlite"), { readonly: true });
  cleanups.push(
    () => rmSync(dir, { recursive: true, force: true }),
    () => db.destroy(),
    () => other.close(),
  );
  const read = other.prepare("select job_id from deliveries order by job_id");
  return { db, other, jobs: () => (read.all() as { job_id: string }[]).map((r) => r.job_id) };
}

describe("SQLite group commit", () => {
  it("commits the writes of one turn together, and answers each caller only after the commit", async () => {
    const { db, jobs } = await twoConnections();
    const seenAtAnswer: string[][] = [];
    const writes = ["a", "b", "c"].map((job) => insert.run(db, { job, channel: "c1" }).then(() => seenAtAnswer.push(jobs())));
    // Written, not yet committed: the file's other reader does not see them.
    expect(jobs()).toEqual([]);
    await Promise.all(writes);
    expect(seenAtAnswer).toEqual([
      ["a", "b", "c"],
      ["a", "b", "c"],
      ["a", "b", "c"],
    ]);
  });

  it("fails a write alone: the others of its turn are committed", async () => {
    const { db, jobs } = await twoConnections();
    await insert.run(db, { job: "taken", channel: "c1" });
    const results = await Promise.allSettled([insert.run(db, { job: "x", channel: "c1" }), insert.run(db, { job: "taken", channel: "c2" }), insert.run(db, { job: "y", channel: "c1" })]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(jobs()).toEqual(["taken", "x", "y"]);
  });

  it("fails every write of its turn when SQLite rolls the whole transaction back, and goes on after", async () => {
    const { db, jobs } = await twoConnections();
    // What a full disk or an I/O error does to the open transaction, on demand.
    await sql`create trigger doom before insert on deliveries when new.job_id = 'doom' begin select raise(rollback, 'rolled back'); end`.execute(db);
    const results = await Promise.allSettled([
      insert.run(db, { job: "before", channel: "c1" }),
      insert.run(db, { job: "doom", channel: "c1" }),
      // Written after the rollback in the same turn: in a group of its own, and told the truth about it.
      insert.run(db, { job: "same-turn", channel: "c1" }),
    ]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "fulfilled"]);
    expect(jobs()).toEqual(["same-turn"]);
    await insert.run(db, { job: "after", channel: "c1" });
    expect(jobs()).toEqual(["after", "same-turn"]);
  });

  it("commits an open group before a Kysely transaction or query takes the connection", async () => {
    const { db, jobs } = await twoConnections();
    const grouped = insert.run(db, { job: "grouped", channel: "c1" });
    await db.transaction().execute(async (trx) => {
      await trx.insertInto("deliveries").values({ job_id: "in-transaction", channel_id: "c1", post_id: null, started_at: 2 }).execute();
    });
    await grouped;
    expect(jobs()).toEqual(["grouped", "in-transaction"]);
    const again = insert.run(db, { job: "again", channel: "c1" });
    expect(await db.selectFrom("deliveries").select("job_id").where("job_id", "=", "again").execute()).toEqual([{ job_id: "again" }]);
    await again;
  });

  it("commits what is open when the database is closed", async () => {
    const { db, jobs } = await twoConnections();
    const pending = insert.run(db, { job: "last", channel: "c1" });
    await db.destroy();
    await pending;
    expect(jobs()).toEqual(["last"]);
  });
});
