// A GitLab, a Mattermost or a bot whose certificate a private CA signed: Node trusts the CA only
// when NODE_EXTRA_CA_CERTS names it as the process starts, so these tests start processes (the bot,
// a GitLab call, gitlab-mm --url) with and without it, against TLS fronts of the simulators whose
// certificate a CA made here (openssl) signed.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { serve, type ServerType } from "@hono/node-server";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminRoutes } from "../src/http/admin-routes.js";
import { createLogger } from "../src/logger.js";
import { createTestDatabase, sqliteFileUrl, type TestDatabase } from "./support/db.js";
import { startGitlabSim, type GitlabSim } from "./support/gitlab-sim.js";
import { startMattermostSim, type MattermostSim } from "./support/mattermost-sim.js";
import { startTestProxy, startTlsFront, type TestProxy, type TlsFront } from "./support/proxy.js";
import { dropPrefix, redisUrl, uniquePrefix } from "./support/redis.js";

const root = new URL("..", import.meta.url).pathname;
// tsx's loader by path: the processes run in an empty directory, where `--import tsx` finds no package.
const tsxLoader = pathToFileURL(join(root, "node_modules/tsx/dist/loader.mjs")).href;
const ADMIN_TOKEN = "ca-test-admin-token-0123456789abcdef";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a TypeScript entry point of the bot through tsx in a clean environment (no developer's .env);
 * `onOutput` may end it (SIGTERM) once it has seen enough.
 */
function run(args: string[], env: Record<string, string>, onOutput?: (stdout: string, stop: () => void) => void): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", tsxLoader, ...args], {
      cwd: mkdtempSync(join(tmpdir(), "gmm-ca-cwd-")),
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    });
    let stdout = "";
    let stderr = "";
    let stopped = false;
    const stop = () => {
      if (!stopped) child.kill("SIGTERM");
      stopped = true;
    };
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      onOutput?.(stdout, stop);
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

let dir: string;
let ca: string;
let tls: { key: string; cert: string };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "gmm-ca-"));
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl("req", "-x509", ...ec, "-keyout", at("ca.key"), "-out", at("ca.pem"), "-days", "2", "-subj", "/CN=gitlab-mm test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
  openssl("req", ...ec, "-keyout", at("server.key"), "-out", at("server.csr"), "-subj", "/CN=localhost");
  writeFileSync(at("server.ext"), "subjectAltName=DNS:localhost,DNS:mattermost.test,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
  openssl("x509", "-req", "-in", at("server.csr"), "-CA", at("ca.pem"), "-CAkey", at("ca.key"), "-CAcreateserial", "-out", at("server.pem"), "-days", "2", "-extfile", at("server.ext"));
  ca = at("ca.pem");
  tls = { key: readFileSync(at("server.key"), "utf8"), cert: readFileSync(at("server.pem"), "utf8") };
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("the bot against a Mattermost with a private CA's certificate", () => {
  let mattermost: MattermostSim;
  let front: TlsFront;
  let proxy: TestProxy;
  const prefix = uniquePrefix("ca");
  beforeAll(async () => {
    mattermost = await startMattermostSim();
    front = await startTlsFront(Number(new URL(mattermost.url).port), tls);
    proxy = await startTestProxy({ "mattermost.test": "127.0.0.1" });
  });
  afterAll(async () => {
    await proxy.close();
    await front.close();
    await mattermost.close();
    await dropPrefix(prefix);
  });

  const bot = (extra: Record<string, string>) =>
    run([join(root, "src/main.ts")], {
      MATTERMOST_BOT_TOKEN: mattermost.botToken,
      GITLAB_WEBHOOK_SECRET: "ca-test-webhook-secret",
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      DATABASE_URL: sqliteFileUrl(dir),
      PORT: String(20000 + Math.floor(Math.random() * 20000)),
      HOST: "127.0.0.1",
      ...extra,
    }, (stdout, stop) => {
      if (stdout.includes("gitlab-mattermost-bot listening")) stop();
    });

  it("cannot sign in without NODE_EXTRA_CA_CERTS", async () => {
    const result = await bot({ MATTERMOST_URL: `https://localhost:${front.port}` });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/start-up failed: cannot sign in to Mattermost at https:\/\/localhost:\d+/);
  }, 60_000);

  it("signs in and serves with NODE_EXTRA_CA_CERTS naming the CA", async () => {
    const result = await bot({ MATTERMOST_URL: `https://localhost:${front.port}`, NODE_EXTRA_CA_CERTS: ca });
    // Listening comes after signing in to Mattermost; the test then stops the bot.
    expect(result.stdout).toContain("gitlab-mattermost-bot listening");
    expect(result.stderr).not.toContain("start-up failed");
  }, 60_000);

  it("also through HTTPS_PROXY, which tunnels to the name only it resolves", async () => {
    const result = await bot({ MATTERMOST_URL: `https://mattermost.test:${front.port}`, NODE_EXTRA_CA_CERTS: ca, HTTPS_PROXY: proxy.url });
    expect(result.stdout).toContain("gitlab-mattermost-bot listening");
    expect(result.stderr).not.toContain("start-up failed");
    expect(proxy.requests).toContain(`CONNECT mattermost.test:${front.port}`);
  }, 60_000);
});

describe("GitLab calls against a GitLab with a private CA's certificate", () => {
  let gitlab: GitlabSim;
  let front: TlsFront;
  beforeAll(async () => {
    gitlab = await startGitlabSim();
    front = await startTlsFront(Number(new URL(gitlab.url).port), tls);
  });
  afterAll(async () => {
    await front.close();
    await gitlab.close();
  });

  // The bot's own GitLab client (gitbeaker through src/gitlab/client.ts), in a process of its own.
  const whoAmI = (token: string, env: Record<string, string>) => {
    const client = new URL("../src/gitlab/client.ts", import.meta.url).href;
    const script = `const { currentGitlabUser } = await import(${JSON.stringify(client)}); console.log((await currentGitlabUser("https://localhost:${front.port}", ${JSON.stringify(token)})).username);`;
    return run(["--input-type=module", "-e", script], env);
  };

  it("fails without NODE_EXTRA_CA_CERTS and succeeds with it", async () => {
    const { accessToken } = gitlab.issueTokens(gitlab.addUser({ username: "casey" }));
    const without = await whoAmI(accessToken, {});
    expect(without.code).not.toBe(0);
    expect(without.stdout).toBe("");
    const withCa = await whoAmI(accessToken, { NODE_EXTRA_CA_CERTS: ca });
    expect(withCa).toMatchObject({ code: 0, stdout: "casey\n" });
  }, 60_000);
});

describe("gitlab-mm --url against a bot with a private CA's certificate", () => {
  let database: TestDatabase;
  let redis: Redis;
  let server: ServerType | undefined;
  let front: TlsFront;
  beforeAll(async () => {
    database = await createTestDatabase("sqlite");
    redis = new Redis(redisUrl);
    const app = adminRoutes({ config: { adminToken: ADMIN_TOKEN, webhookMaxBytes: 1024, redisUrl, queuePrefix: uniquePrefix("ca-admin") }, db: database.db, redis, logger: createLogger("silent") });
    const port = await new Promise<number>((resolve) => {
      server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => resolve(info.port));
    });
    front = await startTlsFront(port, tls);
  });
  afterAll(async () => {
    await front.close();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    redis.disconnect();
    await database.drop();
  });

  it("says why it cannot reach the bot without NODE_EXTRA_CA_CERTS, and runs with it", async () => {
    const cli = (env: Record<string, string>) => run([join(root, "src/cli.ts"), "subscriptions", "list"], { GITLAB_MM_URL: `https://localhost:${front.port}`, GITLAB_MM_TOKEN: ADMIN_TOKEN, ...env });
    const without = await cli({});
    expect(without.code).toBe(1);
    expect(without.stderr.trim()).toMatch(new RegExp(`^gitlab-mm subscriptions list: cannot reach the bot at https://localhost:${front.port}: .*certificate`));
    expect(without.stderr).not.toContain(ADMIN_TOKEN);
    const withCa = await cli({ NODE_EXTRA_CA_CERTS: ca });
    expect(withCa).toMatchObject({ code: 0, stdout: "No subscriptions.\n" });
  }, 60_000);
});
