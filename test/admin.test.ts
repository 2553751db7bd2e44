// The admin API (/admin/...) and `gitlab-mm --url <bot> --token <ADMIN_TOKEN>`: refused without the
// token or the setting, and, against a running bot, printing what `gitlab-mm` prints on the bot's host.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve, type ServerType } from "@hono/node-server";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, type CliOutcome } from "./support/cli.js";
import { loadConfig } from "../src/config.js";
import { adminRoutes } from "../src/http/admin-routes.js";
import { createLogger } from "../src/logger.js";
import { startHarness, type BotHarness } from "./support/bot-harness.js";
import { createTestDatabase, databaseKinds, type TestDatabase } from "./support/db.js";
import { fixturesDir } from "./support/fixtures.js";
import { redisUrl } from "./support/redis.js";
import { waitFor } from "./support/wait.js";

const TOKEN = "admin-token-0123456789abcdef0123456789";


let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "gmm-admin-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("the admin API's door", () => {
  let database: TestDatabase;
  let redis: Redis;
  const config = { adminToken: TOKEN, webhookMaxBytes: 1024, redisUrl, queuePrefix: "gmmtest-admin-door" };
  beforeAll(async () => {
    database = await createTestDatabase("sqlite");
    redis = new Redis(redisUrl);
  });
  afterAll(async () => {
    await database.drop();
    redis.disconnect();
  });
  const routes = (adminToken: string | undefined) => adminRoutes({ config: { ...config, adminToken }, db: database.db, redis, logger: createLogger("silent") });

  it.each([
    ["no Authorization", {}],
    ["a wrong token", { Authorization: `Bearer ${TOKEN}x` }],
    ["the token cut short", { Authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
    ["the token without Bearer", { Authorization: TOKEN }],
    ["the token as Basic", { Authorization: `Basic ${TOKEN}` }],
  ])("answers 401 to %s", async (_, headers: Record<string, string>) => {
    const res = await routes(TOKEN).request("/admin/subscriptions", { headers });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
    expect(await res.json()).toEqual({ error: "the admin API needs Authorization: Bearer <ADMIN_TOKEN>", code: "unauthorized" });
  });

  it("answers the bearer of ADMIN_TOKEN", async () => {
    const res = await routes(TOKEN).request("/admin/subscriptions", { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([]);
  });

  it("refuses a body before reading it when the token is wrong, and a body over the limit when it is right", async () => {
    const body = JSON.stringify({ object_kind: "push", padding: "x".repeat(2000) });
    const wrong = await routes(TOKEN).request("/admin/preview", { method: "POST", headers: { Authorization: "Bearer nope", "Content-Type": "application/json" }, body });
    expect(wrong.status).toBe(401);
    const large = await routes(TOKEN).request("/admin/preview", { method: "POST", headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" }, body });
    expect(large.status).toBe(413);
  });

  it("answers 400 to input the CLI would refuse, with the CLI's words", async () => {
    const res = await routes(TOKEN).request("/admin/subscriptions", {
      method: "PUT",
      headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ channel: "c1", path: "/group/" }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: '"/group/" is not a GitLab project or group path (letters, digits, _ . -, segments joined by /)', code: "bad_input" });
  });

  it("is off without ADMIN_TOKEN: 403 with a JSON error that says so, whatever the token", async () => {
    for (const path of ["/admin/subscriptions", "/admin/users", "/admin/nothing-here", "/admin"]) {
      const res = await routes(undefined).request(path, { headers: { Authorization: `Bearer ${TOKEN}` } });
      expect(res.status, path).toBe(403);
      expect(await res.json()).toEqual({ error: "the admin API is off: set ADMIN_TOKEN on the bot to use it", code: "admin_api_disabled" });
    }
  });

  it("queue stats from afar while the bot's Redis is away: the spool line, then why, as on the bot's host", async () => {
    const away = new Redis("redis://127.0.0.1:1", { lazyConnect: true });
    const app = adminRoutes({ config: { ...config, redisUrl: "redis://127.0.0.1:1" }, db: database.db, redis: away, logger: createLogger("silent") });
    let server: ServerType | undefined;
    const port = await new Promise<number>((resolve) => {
      server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => resolve(info.port));
    });
    try {
      const res = await cli(["--url", `http://127.0.0.1:${port}`, "--token", TOKEN, "queue", "stats"], {});
      expect(res).toEqual({
        code: 1,
        out: ["webhooks spooled for Redis: 0"],
        err: ["gitlab-mm queue stats: Redis at redis://127.0.0.1:1 does not answer: start Redis or set REDIS_URL"],
      });
    } finally {
      await new Promise<void>((resolve) => server!.close(() => resolve()));
      away.disconnect();
    }
  });

  it("gitlab-mm --url says so too, in one line", async () => {
    const app = routes(undefined);
    let server: ServerType | undefined;
    const port = await new Promise<number>((resolve) => {
      server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => resolve(info.port));
    });
    try {
      const res = await cli(["--url", `http://127.0.0.1:${port}`, "--token", TOKEN, "subscriptions", "list"], {});
      expect(res).toEqual({ code: 1, out: [], err: ["gitlab-mm subscriptions list: the admin API is off: set ADMIN_TOKEN on the bot to use it"] });
    } finally {
      await new Promise<void>((resolve) => server!.close(() => resolve()));
    }
  });
});

describe.each(databaseKinds)("gitlab-mm --url against a running bot on %s", (kind) => {
  let harness: BotHarness;
  let pg: TestDatabase | undefined;
  let local: Record<string, string | undefined>;
  let remote: string[];

  beforeAll(async () => {
    pg = kind === "postgres" ? await createTestDatabase("postgres") : undefined;
    harness = await startHarness({ ADMIN_TOKEN: TOKEN, ...(pg ? { DATABASE_URL: pg.url } : {}) }, "admin");
    local = { DATABASE_URL: harness.config.databaseUrl, REDIS_URL: redisUrl, QUEUE_PREFIX: harness.config.queuePrefix };
    remote = ["--url", harness.base, "--token", TOKEN];
    // The bot schedules reminders as it starts: wait until the queues stand still before comparing counts.
    let last = "";
    await waitFor(async () => {
      const now = JSON.stringify(await cli(["queue", "stats"], local));
      const still = now === last;
      last = now;
      return still;
    }, 10_000, "queues to stand still");
  }, 60_000);
  afterAll(async () => {
    await harness.stop();
    await pg?.drop();
  });

  it("prints, for every command it runs remotely, what it prints on the bot's host", async () => {
    const unknownKind = join(dir, "unknown-kind.json");
    writeFileSync(unknownKind, JSON.stringify({ object_kind: "emoji_reaction_2099" }));
    const fixture = (name: string) => new URL(name, fixturesDir).pathname;
    // A sequence that leaves the subscriptions as it found them, so it runs twice on one database.
    const steps: string[][] = [
      ["subscriptions", "list"],
      ["subscriptions", "add", "--channel", "chan1", "Group/Project", "issues", "label:needs review"],
      ["subscriptions", "add", "--channel", "chan1", "group/project", "merges,pushes"],
      ["subscriptions", "add", "--channel=chan2", "group"],
      ["subscriptions", "list"],
      ["subscriptions", "list", "--channel", "chan2"],
      ["subscriptions", "delete", "--channel", "chan1", "GROUP/project"],
      ["subscriptions", "delete", "--channel", "chan1", "group/project"],
      ["subscriptions", "delete", "--channel", "chan2", "group"],
      ["subscriptions", "add", "--channel", "c1", "group", "issuez"],
      ["subscriptions", "add", "--channel", "c1", "/group/"],
      ["users", "list"],
      ["queue", "stats"],
      ["queue", "retry-failed"],
      ["preview", fixture("merge_request.json"), "--lang", "zh-CN"],
      ["preview", fixture("push.json"), "--format", "json"],
      ["preview", unknownKind],
      ["preview", join(dir, "missing.json")],
      ["migrate", "--status"],
      ["help"],
    ];
    const here: CliOutcome[] = [];
    for (const step of steps) here.push(await cli(step, local));
    const there: CliOutcome[] = [];
    for (const step of steps) there.push(await cli([...remote, ...step], {}));
    steps.forEach((step, i) => expect(there[i], step.join(" ")).toEqual(here[i]));

    // What both printed is what the commands do (so the two cannot agree on nothing).
    expect(here[1]).toEqual({ code: 0, out: ['Subscribed channel chan1 to group/project: issues,label:"needs review"'], err: [] });
    expect(here[2]!.out).toEqual(["Updated subscription of channel chan1 to group/project: merges,pushes"]);
    expect(here[4]!.out.map((l) => l.split(/\s+/).slice(0, 2))).toEqual([["chan1", "group/project"], ["chan2", "group"]]);
    expect(here[7]).toEqual({ code: 1, out: [], err: ["gitlab-mm subscriptions delete: channel chan1 has no subscription to group/project"] });
    expect(here[9]!.code).toBe(2);
    expect(here[11]!.out.join("\n")).toContain(harness.admin.id);
    expect(here[12]!.out.at(-1)).toBe("webhooks spooled for Redis: 0");
    expect(here[14]!.out.join("\n")).toMatch(/^Event kind merge_request, language zh-CN: 1 post/);
    expect(JSON.parse(here[15]!.out.join("\n"))).toMatchObject({ kind: "push" });
    expect(here[16]).toMatchObject({ code: 1, err: ["gitlab-mm preview: no handler for event kind emoji_reaction_2099"] });
    expect(here[17]!.err[0]).toMatch(/cannot read .*missing\.json: no such file$/);
    expect(here[18]!.out.at(-1)).toBe("Database schema is up to date.");
    for (const o of there) expect([...o.out, ...o.err].join("\n")).not.toContain(TOKEN);
  });

  it("shows connected users without their tokens", async () => {
    const res = await fetch(`${harness.base}/admin/users`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const users = (await res.json()) as Record<string, unknown>[];
    expect(users.map((u) => Object.keys(u).sort())).toEqual([["createdAt", "expiresAt", "gitlabUserId", "gitlabUsername", "mattermostUserId"]]);
  });

  it("reads GITLAB_MM_URL and GITLAB_MM_TOKEN when no flags are given; a flag wins", async () => {
    const added = await cli(["subscriptions", "add", "--channel", "chanenv", "env/project"], { GITLAB_MM_URL: harness.base, GITLAB_MM_TOKEN: TOKEN });
    expect(added).toEqual({ code: 0, out: [expect.stringMatching(/^Subscribed channel chanenv to env\/project: issues,/)], err: [] });
    expect((await cli(["subscriptions", "list", "--channel", "chanenv"], local)).out).toHaveLength(1);
    const wrongFromEnv = await cli(["--token", TOKEN, "subscriptions", "delete", "--channel", "chanenv", "env/project"], { GITLAB_MM_URL: harness.base, GITLAB_MM_TOKEN: "not-the-token" });
    expect(wrongFromEnv).toEqual({ code: 0, out: ["Deleted subscription of channel chanenv to env/project."], err: [] });
  });

  it("says the bot refused a wrong token, without printing either token", async () => {
    const res = await cli(["--url", harness.base, "--token", "wrong-token-wrong-token", "users", "list"], {});
    expect(res.code).toBe(1);
    expect(res.err).toEqual([`gitlab-mm users list: the bot at ${harness.base} refused the admin token: give the bot's ADMIN_TOKEN with --token or GITLAB_MM_TOKEN`]);
    expect(res.err.join("")).not.toContain("wrong-token");
  });

  it.each([
    [["backup", "x.json"]],
    [["restore", "x.json"]],
    [["keys", "rotate"]],
    [["migrate"]],
  ])("refuses %j from afar: it runs only on the bot's host", async (argv) => {
    const res = await cli([...remote, ...argv], {});
    expect(res.code).toBe(2);
    expect(res.err[0]).toMatch(/(runs only on the bot's host|runs on the bot's host)/);
  });
});

describe("gitlab-mm --url refuses what would spill the token", () => {
  it.each([
    ["http:// to another host", ["--url", "http://bot.example.com", "--token", TOKEN], /would send the admin token in clear: use https:\/\/, or add --insecure/],
    ["a URL with a password", ["--url", "https://admin:secret@bot.example.com", "--token", TOKEN], /must not hold a user or password/],
    ["--url without a token", ["--url", "https://bot.example.com"], /--url needs --token/],
    ["a token without --url", ["--token", TOKEN], /go with --url/],
    ["ftp://", ["--url", "ftp://bot.example.com", "--token", TOKEN], /must be the bot's http:\/\/ or https:\/\/ address/],
  ])("%s: exit 2, one line, no token", async (_, flags, message) => {
    const res = await cli([...flags, "subscriptions", "list"], {});
    expect(res.code).toBe(2);
    expect(res.out).toEqual([]);
    expect(res.err).toHaveLength(1);
    expect(res.err[0]).toMatch(message);
    expect(res.err[0]).not.toContain(TOKEN);
    expect(res.err[0]).not.toContain("secret");
  });

  it("names the setting when GITLAB_MM_URL is not a URL, and the bot refuses a short ADMIN_TOKEN", async () => {
    expect(await cli(["subscriptions", "list"], { GITLAB_MM_URL: "bot.example.com", GITLAB_MM_TOKEN: TOKEN })).toEqual({
      code: 1,
      out: [],
      err: ["GITLAB_MM_URL: must be the bot's http:// or https:// URL, or empty to run gitlab-mm locally"],
    });
    const required = { MATTERMOST_URL: "http://mm.example.com", MATTERMOST_BOT_TOKEN: "t", GITLAB_WEBHOOK_SECRET: "admin-test-secret" };
    expect(() => loadConfig({ ...required, ADMIN_TOKEN: "short" })).toThrow("ADMIN_TOKEN: must be at least 32 characters (openssl rand -hex 32), or empty to turn the admin API off");
    expect(loadConfig({ ...required, ADMIN_TOKEN: "" }).adminToken).toBeUndefined();
  });

  it("--insecure lets http:// reach another host (here one that does not exist)", async () => {
    const res = await cli(["--url", "http://bot.invalid:9", "--token", TOKEN, "--insecure", "subscriptions", "list"], {});
    expect(res.code).toBe(1);
    expect(res.err).toEqual([expect.stringMatching(/^gitlab-mm subscriptions list: cannot reach the bot at http:\/\/bot\.invalid:9: /)]);
  });
});
