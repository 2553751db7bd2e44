import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../src/store/db.js";
import { migrateToLatest } from "../../src/store/db.js";
import { deleteSubscription, findSubscriptionsForPaths, listSubscriptions, upsertSubscription } from "../../src/store/subscriptions.js";
import { claimThreadRoot, completeThreadRoot, findThreadRoot } from "../../src/store/thread-roots.js";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../support/db.js";

describe.each(databaseKinds)("store on %s", (kind) => {
  let t: TestDatabase;
  let db: Db;
  beforeAll(async () => {
    t = await createTestDatabase(kind);
    db = t.db;
  });
  afterAll(() => t.drop());

  it("migrations are idempotent", async () => {
    expect((await migrateToLatest(db)).applied).toEqual([]);
  });

  it("adds, replaces, lists, finds by path and deletes subscriptions", async () => {
    const first = await upsertSubscription(db, { channelId: "c1", path: "/Org/App/", features: "issues", createdBy: "u1" });
    expect(first.created).toBe(true);
    expect(first.subscription.path).toBe("org/app");
    const again = await upsertSubscription(db, { channelId: "c1", path: "ORG/app", features: "merges", createdBy: "u2" });
    expect(again.created).toBe(false);
    await upsertSubscription(db, { channelId: "c2", path: "org", features: "pushes", createdBy: "u1" });

    expect((await listSubscriptions(db, { channelId: "c1" })).map((s) => [s.path, s.features])).toEqual([["org/app", "merges"]]);
    expect(await listSubscriptions(db)).toHaveLength(2);
    const found = await findSubscriptionsForPaths(db, ["org/app", "org"]);
    expect(found.map((s) => s.channel_id).sort()).toEqual(["c1", "c2"]);
    expect(await findSubscriptionsForPaths(db, [])).toEqual([]);

    expect(await deleteSubscription(db, "c1", "Org/App")).toBe(true);
    expect(await deleteSubscription(db, "c1", "org/app")).toBe(false);
    expect(await listSubscriptions(db, { channelId: "c1" })).toEqual([]);
  });

  it("lets one of two racing workers make the thread root", async () => {
    const at = Date.now();
    const [a, b] = await Promise.all(
      ["a", "b"].map((who) => claimThreadRoot(db, "c1", "org/app!1", { state: `claim-${who}`, at, staleAfterMs: 60_000 })),
    );
    expect([a!.kind, b!.kind].sort()).toEqual(["root", "wait"]);
    const winner = a!.kind === "root" ? "a" : "b";
    expect(await completeThreadRoot(db, "c1", "org/app!1", `claim-${winner}`, `post-${winner}`)).toBe(true);
    expect(await findThreadRoot(db, "c1", "org/app!1")).toBe(`post-${winner}`);
    expect(await findThreadRoot(db, "c1", "org/app!2")).toBeUndefined();
  });
});
