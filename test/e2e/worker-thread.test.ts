// The default role (all), as `npm start` runs it: the compiled server takes webhooks in its main
// thread and runs the workers in a worker thread of their own (at the lowest CPU priority) in the same
// process, posts, shows the worker thread's figures on /metrics, and on SIGTERM ends; a worker thread
// that dies takes the server down with exit 1.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { getPriority, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
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

/** A thread's nice value (field 19 of /proc/<pid>/task/<tid>/stat); on Linux each thread has its own. */
function nicenessOf(pid: number, tid: number): number {
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
}

/** Ids of a process's threads (its main thread's id is the process id). */
function threadsOf(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map(Number);
}

/** Given as `--import` to the bot: in the worker thread, throws once the file named by WORKER_DIES_WHEN exists. */
const WORKER_DIES_PRELOAD = `data:text/javascript,${encodeURIComponent(
  `import { existsSync } from "node:fs";
   import { isMainThread } from "node:worker_threads";
   const trigger = process.env.WORKER_DIES_WHEN;
   if (!isMainThread && trigger) {
     setInterval(() => { if (existsSync(trigger)) throw new Error("the worker thread dies"); }, 50).unref();
   }`,
)}`;

describe("the bot process in its default role", () => {
  let sim: MattermostSim;
  let channel: SimChannel;
  const prefixes: string[] = [];
  beforeAll(async () => {
    execFileSync(join(root, "node_modules/.bin/tsc"), ["-p", join(root, "tsconfig.build.json")], { cwd: root, stdio: "inherit" });
    sim = await startMattermostSim();
    const team = sim.addTeam("workers");
    channel = sim.addChannel({ name: "worker-thread", team_id: team.id });
  }, 120_000);
  // A test that fails before its bot has ended leaves no bot running.
  const started: ChildProcess[] = [];
  afterEach(() => {
    for (const child of started.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  afterAll(async () => {
    await sim.close();
    for (const prefix of prefixes) await dropPrefix(prefix);
  });

  async function startBot(options: { workerDiesWhen?: string } = {}): Promise<{ child: ChildProcess; url: string; exit: Promise<number | null>; output: () => string }> {
    const dir = mkdtempSync(join(tmpdir(), "gmm-workers-"));
    const databaseUrl = sqliteFileUrl(dir);
    const { db } = openDatabase(databaseUrl);
    await migrateToLatest(db);
    await upsertSubscription(db, { channelId: channel.id, teamId: channel.team_id, path: "gitlabhq/gitlab-test", features: "merges", createdBy: sim.bot.id, kind: "project", visibility: "public" });
    await db.destroy();
    const prefix = uniquePrefix("workers");
    prefixes.push(prefix);
    const port = 19000 + Math.floor(Math.random() * 1000);
    const nodeFlags = options.workerDiesWhen ? ["--import", WORKER_DIES_PRELOAD] : [];
    const child = spawn(process.execPath, [...nodeFlags, join(root, "dist/src/main.js")], {
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
        ...(options.workerDiesWhen ? { WORKER_DIES_WHEN: options.workerDiesWhen } : {}),
      },
    });
    started.push(child);
    let output = "";
    child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    await waitFor(() => output.includes("listening"), 30_000, "the bot to listen");
    return { child, url: `http://127.0.0.1:${port}`, exit, output: () => output };
  }

  it("posts an event through its worker thread, shows the worker thread's figures on /metrics, and on SIGTERM ends", async () => {
    const bot = await startBot();
    const pid = bot.child.pid!;
    // One process: no child process for the workers.
    expect(childrenOf(pid)).toEqual([]);
    // Webhook answers go first when the cores are busy: the main thread keeps its priority, one
    // thread (the workers') runs at the lowest.
    expect(nicenessOf(pid, pid)).toBe(getPriority());
    expect(threadsOf(pid).filter((tid) => nicenessOf(pid, tid) === 19)).toHaveLength(1);

    const before = sim.posts(channel.id).length;
    const res = await fetch(`${bot.url}/webhooks/gitlab`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-gitlab-token": SECRET, "x-gitlab-event": "Merge Request Hook", "idempotency-key": `worker-thread-${Date.now()}` },
      body: fixtureText("merge_request.json"),
    });
    expect(res.status).toBe(202);
    await waitFor(() => sim.posts(channel.id).length > before, 20_000, "the post");
    // Posts are counted in the worker thread; the server's /metrics includes them (the thread records
    // a post just after Mattermost has it, and on busy cores may answer the server late: asked again).
    let metrics = "";
    await waitFor(async () => /^webhook_to_post_seconds_count 1$/m.test((metrics = await (await fetch(`${bot.url}/metrics`)).text())), 20_000, "the worker thread's figures");
    expect(metrics).toMatch(/^webhook_to_post_seconds_count 1$/m);
    expect(metrics).toMatch(/^gitlab_webhooks_received_total\{kind="merge_request"\} 1$/m);
    // Figures of the whole process are counted once, not once per thread.
    const maxFds = /^process_max_fds (\d+)$/m.exec(metrics)?.[1];
    expect(Number(maxFds)).toBe(Number(/^Max open files +(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, "utf8"))?.[1]));

    bot.child.kill("SIGTERM");
    expect(await bot.exit).toBe(0);
    expect(bot.output()).toMatch(/"msg":"shutting down"/);
  }, 90_000);

  it("exits 1 when its worker thread dies", async () => {
    const trigger = join(mkdtempSync(join(tmpdir(), "gmm-worker-dies-")), "now");
    const bot = await startBot({ workerDiesWhen: trigger });
    writeFileSync(trigger, "");
    expect(await bot.exit).toBe(1);
    expect(bot.output()).toMatch(/the worker thread threw/);
    expect(bot.output()).toMatch(/the worker thread ended; stopping/);
  }, 90_000);
});
