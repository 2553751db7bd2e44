// gitlab-mm backup / restore: every table out and back in, and across SQLite and PostgreSQL.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../support/cli.js";
import { BACKUP_TABLES, schemaTables, TRANSIENT_TABLES } from "../../src/store/backup.js";
import { migrateToLatest, migrationStatus, openDatabase, type Db } from "../../src/store/db.js";
import { migrationProvider } from "../../src/store/migrations/index.js";
import { recordRefStatus } from "../../src/store/ref-statuses.js";
import { listSubscriptions, upsertSubscription } from "../../src/store/subscriptions.js";
import { findRootState, findThreadRoot } from "../../src/store/thread-roots.js";
import { findUserLink, saveUserLink } from "../../src/store/user-links.js";
import { getUserSettings, updateUserSettings } from "../../src/store/user-settings.js";
import { spoolWebhook } from "../../src/store/webhook-spool.js";
import { createTestDatabase, databaseKinds, sqliteFileUrl, type TestDatabase } from "../support/db.js";
import { postedThreadRoot } from "../support/thread-roots.js";

const dir = mkdtempSync(join(tmpdir(), "gmm-backup-"));

/** The admin CLI on the database at `databaseUrl`. */
const cliOn = (argv: string[], databaseUrl: string) => cli(argv, { DATABASE_URL: databaseUrl });

/** A database the CLI can open by URL (an in-memory SQLite would not be the same one), migrated or not. */
async function databaseOf(kind: "sqlite" | "postgres", migrated = true): Promise<TestDatabase> {
  if (kind === "postgres") {
    const made = await createTestDatabase(kind);
    if (!migrated) throw new Error("test databases on PostgreSQL come migrated");
    return made;
  }
  const url = sqliteFileUrl(dir);
  const { db } = openDatabase(url);
  if (migrated) await migrateToLatest(db);
  return { db, url, drop: () => db.destroy() };
}

/** A bot's worth of state, written through the store. */
async function fillWithState(db: Db): Promise<void> {
  await upsertSubscription(db, { channelId: "chan1", path: "Group/App", features: 'issues,label:"bug"', createdBy: "u1" });
  await postedThreadRoot(db, "chan1", "group/app!1", "post1", '{"state":"opened"}');
  await saveUserLink(db, { mattermostUserId: "u1", gitlabUserId: 7, gitlabUsername: "ada", accessTokenEnc: "v1.k.enc-a", refreshTokenEnc: "v1.k.enc-r", expiresAt: 1_800_000_000_000 });
  await updateUserSettings(db, "u1", { digest: "1h", language: "zh-CN" });
  await recordRefStatus(db, "group/app", "main", 12, "failed");
}

const pairs = databaseKinds.flatMap((source) => databaseKinds.map((target) => [source, target] as const));

describe.each(pairs)("backup from %s, restore to %s", (sourceKind, targetKind) => {
  let source: TestDatabase;
  let target: TestDatabase;
  const file = join(dir, `backup-${sourceKind}-${targetKind}.json`);
  beforeAll(async () => {
    source = await databaseOf(sourceKind);
    await fillWithState(source.db);
    target = await databaseOf(targetKind);
  });
  afterAll(async () => {
    await source.drop();
    await target.drop();
  });

  it("brings every table across into an empty database", async () => {
    const backup = await cliOn(["backup", file], source.url);
    expect(backup).toMatchObject({ code: 0, out: [expect.stringMatching(/^Wrote 5 rows of 9 tables to /)] });
    // Only its owner may read it: it holds (encrypted) tokens.
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const written = JSON.parse(readFileSync(file, "utf8"));
    expect(written.tables.user_links[0].access_token).toBe("v1.k.enc-a");
    expect(written.migrations).toEqual(Object.keys(await migrationProvider.getMigrations()).sort());

    const restored = await cliOn(["restore", file], target.url);
    expect(restored).toMatchObject({ code: 0, out: [`Restored 5 rows (1 subscriptions, 1 connected users) from ${file}.`] });
    expect((await listSubscriptions(target.db)).map((s) => [s.channel_id, s.path, s.features])).toEqual([["chan1", "group/app", 'issues,label:"bug"']]);
    expect(await findThreadRoot(target.db, "chan1", "group/app!1")).toBe("post1");
    expect(await findRootState(target.db, "chan1", "group/app!1")).toBe('{"state":"opened"}');
    expect(await findUserLink(target.db, "u1")).toMatchObject({ gitlabUserId: 7, gitlabUsername: "ada", accessTokenEnc: "v1.k.enc-a", expiresAt: 1_800_000_000_000 });
    expect(await getUserSettings(target.db, "u1")).toMatchObject({ digest: "1h", language: "zh-CN" });
    expect(await recordRefStatus(target.db, "group/app", "main", 13, "success")).toBe("failed");
  });

  it("refuses a target that holds rows, and replaces them with --force", async () => {
    await upsertSubscription(target.db, { channelId: "stale", path: "old/thing", features: "pushes", createdBy: "x" });
    const refused = await cliOn(["restore", file], target.url);
    expect(refused.code).toBe(1);
    expect(refused.err).toHaveLength(1);
    expect(refused.err[0]).toMatch(/^gitlab-mm restore: the target database is not empty \(.*subscriptions: 2.*\): restore into an empty database, or add --force to replace its rows$/);
    expect(await listSubscriptions(target.db)).toHaveLength(2);

    expect(await cliOn(["restore", file, "--force"], target.url)).toMatchObject({ code: 0 });
    expect((await listSubscriptions(target.db)).map((s) => s.channel_id)).toEqual(["chan1"]);
  });
});

describe.each(databaseKinds)("restore refusals on %s", (kind) => {
  let target: TestDatabase;
  let known: string[];
  let rows: Record<string, unknown[]>;
  beforeAll(async () => {
    target = await databaseOf(kind);
    known = Object.keys(await migrationProvider.getMigrations()).sort();
    rows = Object.fromEntries(BACKUP_TABLES.map((t) => [t, []]));
    rows.subscriptions = [{ id: "s1", channel_id: "c1", team_id: null, path: "g/p", features: "issues", created_by: "cli", created_at: "2026-01-01T00:00:00.000Z", kind: null, visibility: null }];
  });
  afterAll(() => target.drop());

  function backupFile(name: string, migrations: string[]): string {
    const file = join(dir, `${name}-${kind}.json`);
    writeFileSync(file, JSON.stringify({ format: "gitlab-mattermost-bot-backup", version: 1, createdAt: "2026-01-01T00:00:00.000Z", migrations, tables: rows }));
    return file;
  }

  it("refuses a backup of an older schema, naming the version to restore it with", async () => {
    const older = known.slice(0, -1);
    const res = await cliOn(["restore", backupFile("older", older)], target.url);
    expect(res.code).toBe(1);
    expect(res.err).toEqual([
      `gitlab-mm restore: the backup comes from an older version of the bot (newest migration ${older.at(-1)}; this version adds ${known.at(-1)}): restore it with the version whose newest migration is ${older.at(-1)} into an empty database, then upgrade the bot and run \`gitlab-mm migrate\``,
    ]);
    expect(await listSubscriptions(target.db)).toEqual([]);
  });

  it("refuses a backup of a newer schema: upgrade first", async () => {
    const res = await cliOn(["restore", backupFile("newer", [...known, "999-from-the-future"])], target.url);
    expect(res).toMatchObject({
      code: 1,
      err: ["gitlab-mm restore: the backup comes from a newer version of the bot (migrations 999-from-the-future): upgrade the bot first, then restore"],
    });
    expect(await listSubscriptions(target.db)).toEqual([]);
  });

  it("refuses a target a newer version migrated: this version does not know all its tables", async () => {
    const newer = "999-added-by-a-newer-version";
    await sql`insert into kysely_migration (name, timestamp) values (${newer}, ${new Date().toISOString()})`.execute(target.db);
    try {
      expect(await cliOn(["restore", backupFile("current-into-newer", known)], target.url)).toMatchObject({
        code: 1,
        err: [`gitlab-mm restore: a newer version of the bot migrated the target database (${newer}): restore with that version`],
      });
      expect(await cliOn(["backup", join(dir, `from-newer-${kind}.json`)], target.url)).toMatchObject({
        code: 1,
        err: [`gitlab-mm backup: a newer version of the bot migrated this database (${newer}), so this version does not know all its tables: back it up with that version`],
      });
    } finally {
      await sql`delete from kysely_migration where name = ${newer}`.execute(target.db);
    }
    expect(await listSubscriptions(target.db)).toEqual([]);
  });

  it("checks the schema before touching the target: a fresh database stays unmigrated", async () => {
    if (kind === "postgres") return; // test databases on PostgreSQL come migrated
    const fresh = await databaseOf(kind, false);
    try {
      expect(await cliOn(["restore", backupFile("older-fresh", known.slice(0, 1))], fresh.url)).toMatchObject({ code: 1 });
      expect((await migrationStatus(fresh.db)).applied).toEqual([]);
      // The same backup with this version's migrations goes into that fresh database.
      expect(await cliOn(["restore", backupFile("current", known)], fresh.url)).toMatchObject({ code: 0, out: [expect.stringMatching(/^Restored 1 rows \(1 subscriptions/)] });
      expect((await listSubscriptions(fresh.db)).map((s) => s.path)).toEqual(["g/p"]);
    } finally {
      await fresh.drop();
    }
  });

  it("refuses what is not a backup, and changes nothing", async () => {
    const bad = join(dir, `bad-${kind}.json`);
    writeFileSync(bad, JSON.stringify({ hello: "world" }));
    expect(await cliOn(["restore", bad], target.url)).toMatchObject({ code: 1, err: ["gitlab-mm restore: not a gitlab-mm backup (format or version unknown)"] });
    writeFileSync(bad, JSON.stringify({ format: "gitlab-mattermost-bot-backup", version: 1, tables: {} }));
    expect(await cliOn(["restore", bad], target.url)).toMatchObject({ code: 1, err: ["gitlab-mm restore: the backup does not say which migrations its database had"] });
    expect(await cliOn(["restore", join(dir, "missing.json")], target.url)).toMatchObject({ code: 1, err: [expect.stringMatching(/^gitlab-mm restore: cannot read .*ENOENT$/)] });
    expect(await cliOn(["restore"], target.url)).toMatchObject({ code: 2 });
    expect(await cliOn(["restore", bad, "--force=yes"], target.url)).toMatchObject({ code: 2 });
    expect(await listSubscriptions(target.db)).toEqual([]);
  });
});

describe.each(databaseKinds)("transient rows on %s", (kind) => {
  it("are left out of the backup, and backup says so", async () => {
    const source = await databaseOf(kind);
    try {
      await spoolWebhook(source.db, { deliveryId: "d1", kind: "push", eventHeader: "Push Hook", receivedAt: 1, body: "{}" });
      const file = join(dir, `spooled-${kind}.json`);
      const res = await cliOn(["backup", file], source.url);
      expect(res).toMatchObject({ code: 0, err: ["not in the backup: 1 row(s) of webhook_spool, which the running bot still has to pass on"] });
      expect(Object.keys(JSON.parse(readFileSync(file, "utf8")).tables)).not.toContain("webhook_spool");
    } finally {
      await source.drop();
    }
  });
});

describe.each(databaseKinds)("the backup's table lists on %s", (kind) => {
  it("name every table of the migrated schema, each once: a new table is backed up or declared transient", async () => {
    const db = await databaseOf(kind);
    try {
      const listed = [...BACKUP_TABLES, ...TRANSIENT_TABLES] as string[];
      expect(new Set(listed).size).toBe(listed.length);
      expect((await schemaTables(db.db)).map((t) => t.name)).toEqual(listed.sort());
    } finally {
      await db.drop();
    }
  });
});
