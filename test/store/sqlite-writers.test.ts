import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { migrateToLatest, openDatabase } from "../../src/store/db.js";
import { listSubscriptions } from "../../src/store/subscriptions.js";
import { sqliteFileUrl } from "../support/db.js";

const run = promisify(execFile);
const writerScript = fileURLToPath(new URL("./support/subscription-writer.ts", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "gmm-writers-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("several processes writing one SQLite file", () => {
  it("wait for each other instead of failing with 'database is locked'", async () => {
    const url = sqliteFileUrl(dir);
    const { db } = openDatabase(url);
    await migrateToLatest(db);
    const writes = 150;
    try {
      const outcomes = await Promise.all(
        ["a", "b", "c"].map(async (writer) => {
          const { stdout } = await run(process.execPath, ["--import", "tsx", writerScript, url, writer, String(writes)]);
          return JSON.parse(stdout) as { failures: string[] };
        }),
      );
      expect(outcomes.flatMap((o) => o.failures)).toEqual([]);
      expect(await listSubscriptions(db)).toHaveLength(3 * writes);
    } finally {
      await db.destroy();
    }
  });
});
