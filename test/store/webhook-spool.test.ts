import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeDurably } from "../../src/store/db.js";
import { countSpooled, deleteSpooled, oldestSpooled, spoolWebhook, type SpooledWebhook } from "../../src/store/webhook-spool.js";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../support/db.js";

function webhook(n: number, extra: Partial<SpooledWebhook> = {}): SpooledWebhook {
  return { deliveryId: `wh-${n}`, kind: "push", eventHeader: "Push Hook", receivedAt: 1_700_000_000_000 + n, body: `{"n":${n}}`, ...extra };
}

describe.each(databaseKinds)("webhook spool on %s", (kind) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await test.drop();
  });

  it("keeps webhooks in arrival order, each delivery id once", async () => {
    // Arrival order is the order of spooling, not of ids or receive times.
    expect(await spoolWebhook(test.db, webhook(3))).toBe(true);
    expect(await spoolWebhook(test.db, webhook(1, { eventHeader: undefined }))).toBe(true);
    expect(await spoolWebhook(test.db, webhook(2))).toBe(true);
    expect(await spoolWebhook(test.db, webhook(3, { body: '{"again":true}' }))).toBe(false);

    expect(await countSpooled(test.db)).toBe(3);
    expect(await oldestSpooled(test.db, 10)).toEqual([webhook(3), webhook(1, { eventHeader: undefined }), webhook(2)]);
    expect((await oldestSpooled(test.db, 2)).map((w) => w.deliveryId)).toEqual(["wh-3", "wh-1"]);
  });

  it("deletes only the rows named", async () => {
    await deleteSpooled(test.db, ["wh-3", "wh-2"]);
    await deleteSpooled(test.db, []);
    expect((await oldestSpooled(test.db, 10)).map((w) => w.deliveryId)).toEqual(["wh-1"]);
    await deleteSpooled(test.db, ["wh-1"]);
    expect(await countSpooled(test.db)).toBe(0);
  });

  it("numbers later arrivals after earlier ones, even after the spool emptied", async () => {
    await spoolWebhook(test.db, webhook(10));
    await spoolWebhook(test.db, webhook(9));
    expect((await oldestSpooled(test.db, 10)).map((w) => w.deliveryId)).toEqual(["wh-10", "wh-9"]);
    await deleteSpooled(test.db, ["wh-10", "wh-9"]);
  });
});

describe("writeDurably on SQLite", () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase("sqlite");
  });
  afterAll(async () => {
    await test.drop();
  });

  const synchronous = async (db: TestDatabase["db"]) => (await sql<{ synchronous: number }>`pragma synchronous`.execute(db)).rows[0]?.synchronous;

  it("commits under synchronous FULL and leaves the cheaper NORMAL for every other write", async () => {
    const NORMAL = 1;
    const FULL = 2;
    expect(await synchronous(test.db)).toBe(NORMAL);
    expect(await writeDurably(test.db, (conn) => synchronous(conn))).toBe(FULL);
    expect(await synchronous(test.db)).toBe(NORMAL);
    await expect(writeDurably(test.db, () => Promise.reject(new Error("write failed")))).rejects.toThrow("write failed");
    expect(await synchronous(test.db)).toBe(NORMAL);
  });
});
