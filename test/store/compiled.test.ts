// Queries compiled once per database and run again with new values (src/store/compiled.ts): each run
// gets its own rows, values go where the builder named them whatever their order in the SQL, lists
// compile once per length, and a builder that misuses a value fails on its first run.
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_COMPILED_LIST_LENGTH, reusedQuery } from "../../src/store/compiled.js";
import { runOnIdleSqlite, type Db } from "../../src/store/db.js";
import { databaseKinds, createTestDatabase, type TestDatabase } from "../support/db.js";

async function addDeliveries(db: Db, rows: { job: string; channel: string; at: number }[]): Promise<void> {
  await db
    .insertInto("deliveries")
    .values(rows.map((r) => ({ job_id: r.job, channel_id: r.channel, post_id: null, started_at: r.at })))
    .execute();
}

describe.each(databaseKinds)("reused compiled queries on %s", (kind) => {
  const opened: TestDatabase[] = [];
  async function database(): Promise<Db> {
    const t = await createTestDatabase(kind);
    opened.push(t);
    return t.db;
  }
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((t) => t.drop()));
  });

  it("builds a query once and gives each run the rows of its own values", async () => {
    const db = await database();
    await addDeliveries(db, [
      { job: "a", channel: "c1", at: 10 },
      { job: "b", channel: "c1", at: 20 },
      { job: "c", channel: "c2", at: 30 },
    ]);
    let builds = 0;
    // The SQL takes the values in another order (started_at, then channel_id) than the caller names them.
    const query = reusedQuery((d, p: { channel: string; after: number }) => {
      builds += 1;
      return d.selectFrom("deliveries").select("job_id").where("started_at", ">", p.after).where("channel_id", "=", p.channel).orderBy("job_id");
    });
    const jobs = async (channel: string, after: number) => (await query.run(db, { channel, after })).rows.map((r) => r.job_id);
    expect(await jobs("c1", 0)).toEqual(["a", "b"]);
    expect(await jobs("c1", 15)).toEqual(["b"]);
    expect(await jobs("c2", 0)).toEqual(["c"]);
    expect(await jobs("c2", 30)).toEqual([]);
    expect(builds).toBe(1);
  });

  it("waits for a transaction in progress instead of running inside it", async () => {
    const db = await database();
    const insert = reusedQuery((d, p: { job: string }) => d.insertInto("deliveries").values({ job_id: p.job, channel_id: "c1", post_id: null, started_at: 1 }));
    let inserted: Promise<unknown> | undefined;
    const rolledBack = db.transaction().execute(async (trx) => {
      await trx.insertInto("deliveries").values({ job_id: "in-transaction", channel_id: "c1", post_id: null, started_at: 1 }).execute();
      // Another caller writes while the transaction holds the connection; then the transaction fails.
      inserted = insert.run(db, { job: "outside" });
      await new Promise((resolve) => setTimeout(resolve, 50));
      throw new Error("rolled back");
    });
    await expect(rolledBack).rejects.toThrow("rolled back");
    await inserted;
    const jobs = (await db.selectFrom("deliveries").select("job_id").execute()).map((r) => r.job_id);
    expect(jobs).toEqual(["outside"]);
  });

  it("runs at once on SQLite while nobody holds the connection, and leaves PostgreSQL to Kysely", async () => {
    const db = await database();
    const query = db.selectFrom("deliveries").select("job_id").compile();
    if (kind === "postgres") {
      expect(runOnIdleSqlite(db, query)).toBeUndefined();
      return;
    }
    expect(runOnIdleSqlite(db, query)).toEqual({ rows: [] });
    await db.connection().execute(async () => {
      expect(runOnIdleSqlite(db, query)).toBeUndefined();
    });
    expect(runOnIdleSqlite(db, query)).toEqual({ rows: [] });

    // A reused query takes that way: its write is done before the call gives control back, where
    // Kysely's way would still be waiting for its turn on the connection.
    const insert = reusedQuery((d, p: { job: string }) => d.insertInto("deliveries").values({ job_id: p.job, channel_id: "c1", post_id: null, started_at: 1 }));
    const pending = insert.run(db, { job: "at-once" });
    const read = runOnIdleSqlite(db, query);
    expect(read && "rows" in read ? read.rows : undefined).toEqual([{ job_id: "at-once" }]);
    await pending;
  });

  it("puts a value used twice in both places, keeps constants, and counts the rows a write changed", async () => {
    const db = await database();
    await addDeliveries(db, [{ job: "a", channel: "c1", at: 10 }]);
    const restart = reusedQuery((d, p: { job: string; channel: string; at: number }) =>
      d
        .insertInto("deliveries")
        .values({ job_id: p.job, channel_id: p.channel, post_id: null, started_at: p.at })
        .onConflict((oc) => oc.column("job_id").doUpdateSet({ started_at: p.at })),
    );
    expect(await restart.affected(db, { job: "a", channel: "c1", at: 40 })).toBe(1);
    expect(await restart.affected(db, { job: "b", channel: "c2", at: 50 })).toBe(1);
    const rows = await db.selectFrom("deliveries").selectAll().orderBy("job_id").execute();
    expect(rows.map((r) => [r.job_id, r.channel_id, r.post_id, Number(r.started_at)])).toEqual([
      ["a", "c1", null, 40],
      ["b", "c2", null, 50],
    ]);
    const select = reusedQuery((d, p: { job: string }) => d.selectFrom("deliveries").select("channel_id").where("job_id", "=", p.job));
    expect(await select.first(db, { job: "b" })).toEqual({ channel_id: "c2" });
    expect(await select.first(db, { job: "zzz" })).toBeUndefined();
  });

  it("compiles a list once per length, and builds a longer list than it keeps each time", async () => {
    const db = await database();
    const count = MAX_COMPILED_LIST_LENGTH + 5;
    await addDeliveries(db, Array.from({ length: count }, (_, i) => ({ job: `j${i}`, channel: "c", at: i })));
    let builds = 0;
    const query = reusedQuery((d, p: { jobs: string[]; channel: string }) => {
      builds += 1;
      return d.selectFrom("deliveries").select("job_id").where("job_id", "in", p.jobs).where("channel_id", "=", p.channel);
    });
    const found = async (jobs: string[]) => (await query.run(db, { jobs, channel: "c" })).rows.map((r) => r.job_id).sort();
    expect(await found(["j1", "j2"])).toEqual(["j1", "j2"]);
    expect(await found(["j3", "nope"])).toEqual(["j3"]);
    expect(await found(["j4"])).toEqual(["j4"]);
    expect(await found(["j5", "j6", "j7"])).toEqual(["j5", "j6", "j7"]);
    expect(await found(["j8"])).toEqual(["j8"]);
    expect(builds).toBe(3);
    const all = Array.from({ length: count }, (_, i) => `j${i}`);
    expect(await found(all)).toEqual([...all].sort());
    expect(await found(all)).toEqual([...all].sort());
    expect(builds).toBe(5);
  });

  it("keeps a compiled form per database, and runs it in a transaction of that database", async () => {
    const first = await database();
    const second = await database();
    await addDeliveries(first, [{ job: "a", channel: "in-first", at: 1 }]);
    await addDeliveries(second, [{ job: "a", channel: "in-second", at: 1 }]);
    const query = reusedQuery((d, p: { job: string }) => d.selectFrom("deliveries").select("channel_id").where("job_id", "=", p.job));
    expect(await query.first(first, { job: "a" })).toEqual({ channel_id: "in-first" });
    expect(await query.first(second, { job: "a" })).toEqual({ channel_id: "in-second" });
    await expect(
      first.transaction().execute(async (trx) => {
        await addDeliveries(trx, [{ job: "t", channel: "in-transaction", at: 2 }]);
        expect(await query.first(first, { job: "t" }, trx)).toEqual({ channel_id: "in-transaction" });
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    expect(await query.first(first, { job: "t" })).toBeUndefined();
  });

  it("refuses a builder that leaves a value out, changes one, or writes one into the SQL text", async () => {
    const db = await database();
    const unused = reusedQuery((d, p: { job: string; channel: string }) => d.selectFrom("deliveries").select("job_id").where("job_id", "=", p.job));
    await expect(unused.run(db, { job: "a", channel: "c" })).rejects.toThrow(/does not use channel/);
    const changed = reusedQuery((d, p: { job: string }) => d.selectFrom("deliveries").select("job_id").where("job_id", "like", `${p.job}%`));
    await expect(changed.run(db, { job: "a" })).rejects.toThrow(/changed a value/);
    const recased = reusedQuery((d, p: { job: string }) => d.selectFrom("deliveries").select("job_id").where("job_id", "=", p.job.toUpperCase()));
    await expect(recased.run(db, { job: "a" })).rejects.toThrow(/does not use job/);
    const inlined = reusedQuery((d, p: { job: string }) => d.selectFrom("deliveries").select("job_id").where("job_id", "=", sql.lit(p.job)));
    await expect(inlined.run(db, { job: "a" })).rejects.toThrow(/into its SQL text/);
  });
});
