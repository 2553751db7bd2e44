import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findOpenMergeRequest, forgetMergeRequest, saveOpenMergeRequest } from "../../src/store/merge-request-branches.js";
import { recordRefStatus } from "../../src/store/ref-statuses.js";
import { findRootState, replaceRootState } from "../../src/store/thread-roots.js";
import { postedThreadRoot } from "../support/thread-roots.js";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../support/db.js";

describe.each(databaseKinds)("thread bookkeeping on %s", (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(kind);
  });
  afterAll(() => t.drop());

  it("maps a branch to its open merge request until it closes", async () => {
    await saveOpenMergeRequest(t.db, "G/P", "feature", 3);
    expect(await findOpenMergeRequest(t.db, "g/p", "feature")).toBe(3);
    await saveOpenMergeRequest(t.db, "g/p", "feature", 4);
    await forgetMergeRequest(t.db, "g/p", "feature", 3);
    expect(await findOpenMergeRequest(t.db, "g/p", "feature")).toBe(4);
    await forgetMergeRequest(t.db, "g/p", "feature", 4);
    expect(await findOpenMergeRequest(t.db, "g/p", "feature")).toBeUndefined();
  });

  it("tells the status a ref had before each pipeline, the same on a repeat", async () => {
    expect(await recordRefStatus(t.db, "g/p", "main", 1, "failed")).toBeUndefined();
    expect(await recordRefStatus(t.db, "g/p", "main", 2, "success")).toBe("failed");
    expect(await recordRefStatus(t.db, "g/p", "main", 2, "success")).toBe("failed");
    expect(await recordRefStatus(t.db, "g/p", "main", 1, "failed")).toBeUndefined();
    expect(await recordRefStatus(t.db, "g/p", "main", 3, "failed")).toBe("success");
    // A retried pipeline: same id, new status.
    expect(await recordRefStatus(t.db, "g/p", "main", 3, "success")).toBe("failed");
  });

  it("replaces a root's state only if nobody changed it meanwhile", async () => {
    await postedThreadRoot(t.db, "c", "g/p!1", "post1", "v1");
    expect(await replaceRootState(t.db, "c", "g/p!1", "v0", "v2")).toBe(false);
    expect(await replaceRootState(t.db, "c", "g/p!1", "v1", "v2")).toBe(true);
    expect(await findRootState(t.db, "c", "g/p!1")).toBe("v2");
  });
});
