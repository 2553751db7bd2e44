import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Migrator, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { featuresFromArgv } from "../src/cli.js";
import { cli } from "./support/cli.js";
import { migrateToLatest, openDatabase } from "../src/store/db.js";
import { migrationProvider } from "../src/store/migrations/index.js";
import { listSubscriptions, upsertSubscription } from "../src/store/subscriptions.js";
import { createTestDatabase, databaseKinds, sqliteFileUrl, type TestDatabase } from "./support/db.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const DEFAULTS = "issues,merges,pushes,issue_comments,merge_request_comments,commit_comments,pipelines,tags,releases,deployments";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "gmm-cli-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});


describe("featuresFromArgv", () => {
  it("puts back the quotes the shell removed from label: and branch: values", () => {
    expect(featuresFromArgv(["issues", "label:two words", 'label:"kept"', "branch:release/*"])).toBe('issues,label:"two words",label:"kept",branch:release/*');
  });
});

describe.each(databaseKinds)("gitlab-mm against %s", (kind) => {
  let url: string;
  let pgDatabase: TestDatabase | undefined;
  let env: Record<string, string | undefined>;

  beforeAll(async () => {
    if (kind === "postgres") {
      pgDatabase = await createTestDatabase("postgres");
      url = pgDatabase.url;
    } else {
      url = sqliteFileUrl(dir);
    }
    env = { DATABASE_URL: url };
  });
  afterAll(async () => {
    await pgDatabase?.drop();
  });

  async function rows() {
    const { db } = openDatabase(url);
    try {
      return (await listSubscriptions(db)).map((s) => ({ channel: s.channel_id, path: s.path, features: s.features, by: s.created_by }));
    } finally {
      await db.destroy();
    }
  }

  it("migrate brings the schema up to date, and says so the second time", async () => {
    const first = await cli(["migrate"], env);
    expect(first.code).toBe(0);
    expect(first.out.join("\n")).toMatch(kind === "sqlite" ? /Applied migrations: 001-initial/ : /up to date/);
    const second = await cli(["migrate"], env);
    expect(second).toEqual({ code: 0, out: ["Database schema is up to date."], err: [] });
  });

  it("migrate --status lists applied migrations with when they ran, and pending ones, without migrating", async () => {
    const names = Object.keys(await migrationProvider.getMigrations()).sort();
    const last = names.at(-1)!;
    const applied = await cli(["migrate", "--status"], env);
    expect(applied.code).toBe(0);
    expect(applied.out.slice(0, -1).map((l) => l.split(/\s+/))).toEqual(names.map((n) => ["applied", n, expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/)]));
    expect(applied.out.at(-1)).toBe("Database schema is up to date.");

    const { db } = openDatabase(url);
    try {
      // The newest migration undone, as on a database the previous release left.
      expect((await new Migrator({ db, provider: migrationProvider }).migrateDown()).error).toBeUndefined();
      const pending = await cli(["migrate", "--status"], env);
      expect(pending).toMatchObject({ code: 0, err: [] });
      expect(pending.out.slice(-2)).toEqual([`pending  ${last}`, "1 pending: run `gitlab-mm migrate` (the bot also migrates when it starts)."]);
      expect(await cli(["migrate", "--status"], env)).toEqual(pending);
      expect(await cli(["migrate"], env)).toEqual({ code: 0, out: [`Applied migrations: ${last}`], err: [] });
    } finally {
      await db.destroy();
    }
  });

  it("runs on a database a newer version already migrated (rolling upgrade, rollback) and leaves its migrations alone", async () => {
    const { db } = openDatabase(url);
    const newer = "999-added-by-a-newer-version";
    try {
      await sql`insert into kysely_migration (name, timestamp) values (${newer}, ${new Date().toISOString()})`.execute(db);
      // What the bot does when it starts.
      expect(await migrateToLatest(db)).toEqual({ applied: [], newer: [newer] });
      const migrate = await cli(["migrate"], env);
      expect(migrate).toEqual({
        code: 0,
        out: [`Database schema is up to date; it also has migrations of a newer version of the bot (${newer}), which this version leaves alone.`],
        err: [],
      });
      const status = await cli(["migrate", "--status"], env);
      expect(status.out.find((l) => l.startsWith("newer"))).toMatch(new RegExp(`^newer\\s+${newer}\\s+\\d{4}-.*\\(applied by a newer version of the bot\\)$`));
      expect(status.out.at(-1)).toBe("Database schema is up to date.");
    } finally {
      await sql`delete from kysely_migration where name = ${newer}`.execute(db);
      await db.destroy();
    }
  });

  it("subscriptions add, list and delete", async () => {
    const add = await cli(["subscriptions", "add", "--channel", "chan1", "Group/Project", "issues", "label:needs review"], env);
    expect(add.code).toBe(0);
    expect(add.out).toEqual(['Subscribed channel chan1 to group/project: issues,label:"needs review"']);
    expect(await cli(["subscriptions", "add", "--channel=chan2", "group"], env)).toMatchObject({ code: 0 });
    expect(await rows()).toEqual([
      { channel: "chan1", path: "group/project", features: 'issues,label:"needs review"', by: "cli" },
      { channel: "chan2", path: "group", features: DEFAULTS, by: "cli" },
    ]);

    const replaced = await cli(["subscriptions", "add", "--channel", "chan1", "group/project", "merges,pushes"], env);
    expect(replaced.out).toEqual(["Updated subscription of channel chan1 to group/project: merges,pushes"]);

    const list = await cli(["subscriptions", "list"], env);
    expect(list.code).toBe(0);
    expect(list.out.map((l) => l.split(/\s+/))).toEqual([
      ["chan1", "group/project", "merges,pushes"],
      ["chan2", "group", DEFAULTS],
    ]);
    const one = await cli(["subscriptions", "list", "--channel", "chan2"], env);
    expect(one.out).toHaveLength(1);
    expect(one.out[0]).toMatch(/^chan2\s+group\s+issues,/);
    expect(await cli(["subscriptions", "list", "--channel", "nobody"], env)).toEqual({
      code: 0,
      out: ["No subscriptions in channel nobody."],
      err: [],
    });

    const del = await cli(["subscriptions", "delete", "--channel", "chan1", "GROUP/project"], env);
    expect(del).toEqual({ code: 0, out: ["Deleted subscription of channel chan1 to group/project."], err: [] });
    const again = await cli(["subscriptions", "delete", "--channel", "chan1", "group/project"], env);
    expect(again.code).toBe(1);
    expect(again.err).toEqual(["gitlab-mm subscriptions delete: channel chan1 has no subscription to group/project"]);
    expect(await rows()).toEqual([{ channel: "chan2", path: "group", features: DEFAULTS, by: "cli" }]);
  });

  it.each([
    [[]],
    [["frobnicate"]],
    [["subscriptions"]],
    [["subscriptions", "add", "group/project"]],
    [["subscriptions", "add", "--channel"]],
    [["subscriptions", "add", "--channel", "c1"]],
    [["subscriptions", "add", "--channel", "c1", "/group/"]],
    [["subscriptions", "add", "--channel", "c1", "group", "issuez"]],
    [["subscriptions", "delete", "group"]],
    [["subscriptions", "list", "--bogus", "x"]],
    [["subscriptions", "list", "group"]],
    [["migrate", "now"]],
    [["migrate", "--status=yes"]],
  ])("exits 2 with usage on stderr for %j", async (argv) => {
    const { code, out, err } = await cli(argv, env);
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err.join("\n")).toContain("Usage: gitlab-mm");
  });
});

describe("gitlab-mm errors and help", () => {
  it("help lists every command on stdout", async () => {
    const { code, out } = await cli(["help"], {});
    expect(code).toBe(0);
    const text = out.join("\n");
    for (const usage of ["migrate [--status]", "restore <file> [--force]", "subscriptions list [--channel <channel-id>]", "subscriptions add --channel <channel-id> <project|group> [features]", "subscriptions delete --channel <channel-id> <project|group>"]) {
      expect(text).toContain(usage);
    }
    expect((await cli(["--help"], {})).code).toBe(0);
  });

  it("exits 1 with the setting's problem on a bad DATABASE_URL", async () => {
    const { code, out, err } = await cli(["subscriptions", "list"], { DATABASE_URL: "mysql://db/bot" });
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err).toEqual(["DATABASE_URL: must be sqlite:<file> or postgres://user@host/db"]);
  });

  it("exits 1 with one line, no stack trace, when the database does not answer", async () => {
    const { code, err } = await cli(["subscriptions", "list"], { DATABASE_URL: "postgres://nobody@127.0.0.1:1/bot" });
    expect(code).toBe(1);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^gitlab-mm subscriptions list: .*ECONNREFUSED/);
    expect(err[0]).not.toContain("\n");
  });
});

describe("bin/gitlab-mm.js", () => {
  it("runs as a real process", async () => {
    const url = sqliteFileUrl(dir);
    const { db } = openDatabase(url);
    await migrateToLatest(db);
    await upsertSubscription(db, { channelId: "chanbin", path: "group/bin", features: "issues", createdBy: "test" });
    await db.destroy();

    const run = promisify(execFile);
    const { stdout, stderr } = await run(process.execPath, ["bin/gitlab-mm.js", "subscriptions", "list"], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: url },
    });
    expect(stderr).toBe("");
    expect(stdout.trim().split(/\s+/)).toEqual(["chanbin", "group/bin", "issues"]);

    const failed = await run(process.execPath, ["bin/gitlab-mm.js", "nonsense"], { cwd: root, env: { ...process.env, DATABASE_URL: url } }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(failed).toMatchObject({ code: 2 });
  });
});

describe("gitlab-mm queue", () => {
  it("shows job counts and replays failed jobs", async () => {
    const { Queue, Worker, UnrecoverableError } = await import("bullmq");
    const { Redis } = await import("ioredis");
    const { dropPrefix, redisUrl, uniquePrefix } = await import("./support/redis.js");
    const { waitFor } = await import("./support/wait.js");
    const prefix = uniquePrefix("cliq");
    const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const deliveries = new Queue("deliveries", { connection, prefix });
    let failNow = true;
    const worker = new Worker(
      "deliveries",
      async () => {
        if (failNow) throw new UnrecoverableError("Mattermost refused");
      },
      { connection, prefix },
    );
    try {
      await deliveries.add("post", { channelId: "c" }, { jobId: "post-1" });
      await waitFor(async () => (await deliveries.getJobCountByTypes("failed")) === 1);
      // Webhooks in the intake are events too: one a consumer holds (active), one waiting behind it.
      const { startIntakeConsumer, webhookIntake } = await import("../src/queue/intake.js");
      const { createLogger } = await import("../src/logger.js");
      const intake = webhookIntake(connection, prefix);
      let release = () => {};
      const consumer = startIntakeConsumer({
        redis: connection,
        prefix,
        concurrency: 1,
        logger: createLogger("silent"),
        handle: (id) => (id === "wh-held" ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve()),
        handOver: async () => {},
      });
      const webhook = { kind: "push", receivedAt: 1, body: "{}" };
      await intake.take("wh-held", webhook);
      await waitFor(async () => (await intake.counts()).held === 1);
      await intake.take("wh-waiting", webhook);
      const env = { REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, DATABASE_URL: sqliteFileUrl(dir) };

      const stats = await cli(["queue", "stats"], env);
      release();
      await consumer.close();
      expect(stats.code).toBe(0);
      expect(stats.out[0]).toMatch(/^state\s+events\s+deliveries\s+personal$/);
      expect(stats.out.find((l) => l.startsWith("failed"))).toMatch(/^failed\s+0\s+1\s+0$/);
      expect(stats.out.find((l) => l.startsWith("waiting"))).toMatch(/^waiting\s+1\s+0\s+0$/);
      expect(stats.out.find((l) => l.startsWith("active"))).toMatch(/^active\s+1\s+0\s+0$/);

      failNow = false;
      const retried = await cli(["queue", "retry-failed"], env);
      expect(retried).toMatchObject({ code: 0, out: ["Retried 0 failed event job(s), 1 failed delivery job(s) and 0 failed personal job(s)."] });
      await waitFor(async () => (await deliveries.getJob("post-1"))?.finishedOn !== undefined && (await deliveries.getJobCountByTypes("failed")) === 0);
      expect(await (await deliveries.getJob("post-1"))?.getState()).toBe("completed");
    } finally {
      await worker.close();
      await deliveries.close();
      connection.disconnect();
      await dropPrefix(prefix);
    }
  });

  it("says in one line when Redis does not answer", async () => {
    const res = await cli(["queue", "stats"], { REDIS_URL: "redis://127.0.0.1:1", DATABASE_URL: sqliteFileUrl(dir) });
    expect(res.code).toBe(1);
    expect(res.err).toEqual(["gitlab-mm queue stats: Redis at redis://127.0.0.1:1 does not answer: start Redis or set REDIS_URL"]);
  });
});
