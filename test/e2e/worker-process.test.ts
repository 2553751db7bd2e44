// The default role (all), as `npm start` runs it: the compiled server takes webhooks in one process
// and runs the workers in a child process of its own, posts, shows the worker's figures on /metrics,
// and on SIGTERM both processes end (the worker at the lowest CPU priority); a worker process that
// dies takes the server down with exit 1.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { getPriority, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateToLatest, openDatabase } from "../../src/store/db.js";
import { upsertSubscription } from "../../src/store/subscriptions.js";
import { sqliteFileUrl } from "../support/db.js";
import { fixtureText } from "../support/fixtures.js";
import { startMattermostSim, type MattermostSim, type SimChannel } from "../support/mattermost-sim.js";
import { dropPrefix, redisUrl, uniquePrefix } from "../support/redis.js";
import { waitFor } from "../support/wait.js";

const root = new URL("../../", import.meta.url).pathname;
const SECRET = "worker-process-secret";

/** Ids of the running processes whose parent is `pid`, with their command lines. */
function childrenOf(pid: number): { pid: number; cmdline: string }[] {
  const found: { pid: number; cmdline: string }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) !== pid) continue;
      found.push({ pid: Number(entry), cmdline: readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" ") });
    } catch {
      // ended meanwhile
    }
  }
  return found;
}

/** A process's nice value (field 19 of /proc/<pid>/stat). */
function nicenessOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("the bot process in its default role", () => {
  let sim: MattermostSim;
  let channel: SimChannel;
  const prefixes: string[] = [];
  beforeAll(async () => {
    execFileSync(join(root, "node_modules/.bin/tsc"), ["-p", join(root, "tsconfig.build.json")], { cwd: root, stdio: "inherit" });
    sim = await startMattermostSim();
    const team = sim.addTeam("workers");
    channel = sim.addChannel({ name: "worker-process", team_id: team.id });
  }, 120_000);
  afterAll(async () => {
    await sim.close();
    for (const prefix of prefixes) await dropPrefix(prefix);
  });

  async function startBot(): Promise<{ child: ChildProcess; url: string; exit: Promise<number | null>; output: () => string }> {
    const dir = mkdtempSync(join(tmpdir(), "gmm-workers-"));
    const databaseUrl = sqliteFileUrl(dir);
    const { db } = openDatabase(databaseUrl);
    await migrateToLatest(db);
    await upsertSubscription(db, { channelId: channel.id, teamId: channel.team_id, path: "gitlabhq/gitlab-test", features: "merges", createdBy: sim.bot.id, kind: "project", visibility: "public" });
    await db.destroy();
    const prefix = uniquePrefix("workers");
    prefixes.push(prefix);
    const port = 19000 + Math.floor(Math.random() * 1000);
    const child = spawn(process.execPath, [join(root, "dist/src/main.js")], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/tmp",
        MATTERMOST_URL: sim.url,
        MATTERMOST_BOT_TOKEN: sim.botToken,
        GITLAB_WEBHOOK_SECRET: SECRET,
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: prefix,
        DATABASE_URL: databaseUrl,
        PORT: String(port),
      },
    });
    let output = "";
    child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    await waitFor(() => output.includes("listening"), 30_000, "the bot to listen");
    return { child, url: `http://127.0.0.1:${port}`, exit, output: () => output };
  }

  it("posts an event through its worker process, shows the worker's figures on /metrics, and on SIGTERM both processes end", async () => {
    const bot = await startBot();
    const workers = childrenOf(bot.child.pid!);
    expect(workers).toHaveLength(1);
    expect(workers[0]!.cmdline).toContain("--role=worker");
    // Webhook answers go first when the cores are busy.
    expect(nicenessOf(bot.child.pid!)).toBe(getPriority());
    expect(nicenessOf(workers[0]!.pid)).toBe(19);

    const before = sim.posts(channel.id).length;
    const res = await fetch(`${bot.url}/webhooks/gitlab`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-gitlab-token": SECRET, "x-gitlab-event": "Merge Request Hook", "idempotency-key": `worker-process-${Date.now()}` },
      body: fixtureText("merge_request.json"),
    });
    expect(res.status).toBe(202);
    await waitFor(() => sim.posts(channel.id).length > before, 20_000, "the post");
    // Posts are counted in the worker process; the server's /metrics includes them.
    const metrics = await (await fetch(`${bot.url}/metrics`)).text();
    expect(metrics).toMatch(/^webhook_to_post_seconds_count 1$/m);
    expect(metrics).toMatch(/^gitlab_webhooks_received_total\{kind="merge_request"\} 1$/m);

    bot.child.kill("SIGTERM");
    expect(await bot.exit).toBe(0);
    expect(alive(workers[0]!.pid)).toBe(false);
    expect(bot.output()).toMatch(/"msg":"shutting down"/);
  }, 90_000);

  it("exits 1 when its worker process dies, leaving no process behind", async () => {
    const bot = await startBot();
    const [worker] = childrenOf(bot.child.pid!);
    expect(worker).toBeDefined();
    process.kill(worker!.pid, "SIGKILL");
    expect(await bot.exit).toBe(1);
    expect(bot.output()).toMatch(/the worker process ended; stopping/);
  }, 90_000);
});
