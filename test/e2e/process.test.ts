// The bot as an administrator runs it: the compiled server (`npm start` builds it, then runs
// dist/src/main.js) as a process with environment variables.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sqliteFileUrl } from "../support/db.js";
import { startMattermostSim, type MattermostSim } from "../support/mattermost-sim.js";
import { dropPrefix, redisUrl, uniquePrefix } from "../support/redis.js";
import { waitFor } from "../support/wait.js";

const root = new URL("../../", import.meta.url).pathname;
const tsc = join(root, "node_modules/.bin/tsc");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runMain(env: Record<string, string>, onStart?: (child: ReturnType<typeof spawn>, output: () => string) => void): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, "dist/src/main.js")], {
      // An empty working directory: no developer's .env is read.
      cwd: mkdtempSync(join(tmpdir(), "gmm-proc-")),
      // A clean environment: only what the test gives (plus PATH), no .env of the developer's.
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
    onStart?.(child, () => stdout);
  });
}

describe("the bot process", () => {
  let sim: MattermostSim;
  const prefix = uniquePrefix("proc");
  beforeAll(async () => {
    execFileSync(tsc, ["-p", join(root, "tsconfig.build.json")], { cwd: root, stdio: "inherit" });
    sim = await startMattermostSim();
  }, 120_000);
  afterAll(async () => {
    await sim.close();
    await dropPrefix(prefix);
  });

  it("refuses to start without its required settings, one line per problem and no stack trace", async () => {
    const run = await runMain({ PORT: "http" });
    expect(run.code).toBe(1);
    const lines = run.stderr.trim().split("\n");
    expect(lines).toEqual([
      "PORT: must be a positive whole number",
      "MATTERMOST_URL: must be set to the Mattermost server base URL (http:// or https:// URL)",
      "MATTERMOST_BOT_TOKEN: must be set to the access token of the Mattermost bot account",
      "GITLAB_WEBHOOK_SECRET: must be set to the secret token configured on the GitLab webhook",
      "See .env.example for every setting.",
    ]);
  });

  it("says in one line when Redis is not there", async () => {
    const run = await runMain({
      MATTERMOST_URL: sim.url,
      MATTERMOST_BOT_TOKEN: sim.botToken,
      GITLAB_WEBHOOK_SECRET: "process-secret",
      REDIS_URL: "redis://127.0.0.1:1",
      DATABASE_URL: sqliteFileUrl(mkdtempSync(join(tmpdir(), "gmm-proc-"))),
      LOG_LEVEL: "silent",
      PORT: "18391",
    });
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toMatch(/^start-up failed: Redis at redis:\/\/127\.0\.0\.1:1 does not answer .*start Redis or set REDIS_URL$/);
  });

  it("serves, then on SIGTERM stops cleanly with exit 0", async () => {
    const port = 18000 + Math.floor(Math.random() * 1000);
    let ready = false;
    const run = await runMain(
      {
        MATTERMOST_URL: sim.url,
        MATTERMOST_BOT_TOKEN: sim.botToken,
        GITLAB_WEBHOOK_SECRET: "process-secret",
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: prefix,
        DATABASE_URL: sqliteFileUrl(mkdtempSync(join(tmpdir(), "gmm-proc-"))),
        PORT: String(port),
      },
      (child, output) => {
        void (async () => {
          await waitFor(() => output().includes("listening"), 20_000, "the bot to listen");
          const res = await fetch(`http://127.0.0.1:${port}/readyz`);
          ready = res.status === 200;
          child.kill("SIGTERM");
        })();
      },
    );
    expect(ready).toBe(true);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/"msg":"shutting down"/);
  });
});
