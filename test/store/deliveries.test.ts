import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findDelivery, markDeliveryDone, startDelivery } from "../../src/store/deliveries.js";
import { claimThreadRoot } from "../../src/store/thread-roots.js";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../support/db.js";

describe.each(databaseKinds)("delivery records on %s", (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(kind);
  });
  afterAll(() => t.drop());

  it("records a first attempt as started and hands an earlier attempt's record back unchanged", async () => {
    expect(await startDelivery(t.db, "post-a", "chan", 1000)).toBeUndefined();
    expect(await findDelivery(t.db, "post-a")).toEqual({ postId: null, startedAt: 1000 });
    expect(await startDelivery(t.db, "post-a", "chan", 2000)).toEqual({ postId: null, startedAt: 1000 });
    await markDeliveryDone(t.db, "post-a", "p1");
    expect(await startDelivery(t.db, "post-a", "chan", 3000)).toEqual({ postId: "p1", startedAt: 1000 });
  });

  it("gives a thread's root to the first claim and a wait to the next", async () => {
    const claim = (state: string) => claimThreadRoot(t.db, "chan", "g/p!9", { state, at: Date.now(), staleAfterMs: 60_000 });
    expect(await claim("first")).toEqual({ kind: "root" });
    expect(await claim("first")).toEqual({ kind: "root" });
    expect(await claim("second")).toEqual({ kind: "wait" });
  });
});
