// gitlab-mm backup / restore: every table out and back in, and across SQLite and PostgreSQL.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli.js";
import { recordRefStatus } from "../../src/store/ref-statuses.js";
import { listSubscriptions, upsertSubscription } from "../../src/store/subscriptions.js";
import { saveThreadRoot } from "../../src/store/thread-roots.js";
import { findUserLink, saveUserLink } from "../../src/store/user-links.js";
import { getUserSettings, updateUserSettings } from "../../src/store/user-settings.js";
import { createTestDatabase, databaseKinds, sqliteFileUrl, type TestDatabase } from "../support/db.js";

const dir = mkdtempSync(join(tmpdir(), "gmm-backup-"));

async function cli(argv: string[], databaseUrl: string) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { stdout: (s) => out.push(s), stderr: (s) => err.push(s), env: { DATABASE_URL: databaseUrl } });
  return { code, out, err };
}

describe.each(databaseKinds)("backup from SQLite, restore to %s", (kind) => {
  let target: TestDatabase;
  const sourceUrl = sqliteFileUrl(dir);
  beforeAll(async () => {
    const { openDatabase, migrateToLatest } = await import("../../src/store/db.js");
    if (kind === "postgres") target = await createTestDatabase(kind);
    else {
      // The CLI opens the target itself, so an in-memory database would not be the same one.
      const url = sqliteFileUrl(dir);
      const { db } = openDatabase(url);
      await migrateToLatest(db);
      target = { db, url, drop: () => db.destroy() };
    }
    // A bot's worth of state in the source database, written through the store.
    const { db } = openDatabase(sourceUrl);
    await migrateToLatest(db);
    await upsertSubscription(db, { channelId: "chan1", path: "Group/App", features: 'issues,label:"bug"', createdBy: "u1" });
    await saveThreadRoot(db, "chan1", "group/app!1", "post1", '{"state":"opened"}');
    await saveUserLink(db, { mattermostUserId: "u1", gitlabUserId: 7, gitlabUsername: "ada", accessTokenEnc: "v1.k.enc-a", refreshTokenEnc: "v1.k.enc-r", expiresAt: 1_800_000_000_000 });
    await updateUserSettings(db, "u1", { digest: "1h", language: "zh-CN" });
    await recordRefStatus(db, "group/app", "main", 12, "failed");
    await db.destroy();
  });
  afterAll(() => target.drop());

  it("brings every table across and replaces what the target had", async () => {
    await upsertSubscription(target.db, { channelId: "stale", path: "old/thing", features: "pushes", createdBy: "x" });
    const file = join(dir, `backup-${kind}.json`);
    const backup = await cli(["backup", file], sourceUrl);
    expect(backup).toMatchObject({ code: 0, out: [expect.stringMatching(/^Wrote 5 rows of 9 tables to /)] });
    // Only its owner may read it: it holds (encrypted) tokens.
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8")).tables.user_links[0].access_token).toBe("v1.k.enc-a");

    const restored = await cli(["restore", file], target.url);
    expect(restored).toMatchObject({ code: 0, out: [`Restored 5 rows (1 subscriptions, 1 connected users) from ${file}.`] });
    expect((await listSubscriptions(target.db)).map((s) => [s.channel_id, s.path, s.features])).toEqual([["chan1", "group/app", 'issues,label:"bug"']]);
    expect(await findUserLink(target.db, "u1")).toMatchObject({ gitlabUserId: 7, gitlabUsername: "ada", accessTokenEnc: "v1.k.enc-a", expiresAt: 1_800_000_000_000 });
    expect(await getUserSettings(target.db, "u1")).toMatchObject({ digest: "1h", language: "zh-CN" });
    expect(await recordRefStatus(target.db, "group/app", "main", 13, "success")).toBe("failed");
  });

  it("refuses what is not a backup, and changes nothing", async () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ hello: "world" }));
    const before = await listSubscriptions(target.db);
    expect(await cli(["restore", bad], target.url)).toMatchObject({ code: 1, err: ["gitlab-mm restore: not a gitlab-mm backup (format or version unknown)"] });
    expect(await cli(["restore", join(dir, "missing.json")], target.url)).toMatchObject({ code: 1, err: [expect.stringMatching(/^gitlab-mm restore: cannot read .*ENOENT$/)] });
    expect(await cli(["restore"], target.url)).toMatchObject({ code: 2 });
    expect(await listSubscriptions(target.db)).toEqual(before);
  });
});
