// The real processes a chaos scenario breaks: a Redis server of its own (AOF on, in a temp directory),
// and the compiled bot started as `npm start` starts it (node dist/src/main.js), killed and restarted at will.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

const root = new URL("../../", import.meta.url).pathname;
export const compiledMain = join(root, "dist/src/main.js");
export const compiledCli = join(root, "dist/src/cli.js");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A TCP port nobody listens on right now (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** `npm run build`. Errors in files being edited by others still emit JavaScript, so the caller decides. */
export function buildBot(): { ok: boolean; output: string } {
  const r = spawnSync("npm", ["run", "--silent", "build"], { cwd: root, encoding: "utf8" });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}`.trim() };
}

export interface OwnRedis {
  url: string;
  /** SHUTDOWN (the AOF is flushed), as an operator stopping Redis would. */
  shutdown(): Promise<void>;
  /** Starts it again on the same port and directory (it reloads the AOF). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export function redisServerInstalled(): boolean {
  return spawnSync("redis-server", ["--version"], { encoding: "utf8" }).status === 0;
}

async function answersPing(port: number): Promise<boolean> {
  const r = spawnSync("redis-cli", ["-p", String(port), "ping"], { encoding: "utf8", timeout: 2000 });
  return r.stdout.trim() === "PONG";
}

export async function startRedis(dir: string): Promise<OwnRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const log = join(dir, "redis.log");
  const launch = async () => {
    child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--dir", dir, "--logfile", log], {
      stdio: "ignore",
    });
    const deadline = Date.now() + 10_000;
    while (!(await answersPing(port))) {
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer; see ${log}`);
      await sleep(50);
    }
  };
  const exited = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise((r) => c.once("exit", r));
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    async shutdown() {
      spawnSync("redis-cli", ["-p", String(port), "shutdown"], { encoding: "utf8", timeout: 10_000 });
      await exited();
    },
    restart: launch,
    async close() {
      child?.kill("SIGKILL");
      await exited();
    },
  };
}

export interface BotProcess {
  url: string;
  port: number;
  /** SIGKILL: no shutdown hook runs, in-flight requests and jobs are cut off. */
  kill(): Promise<void>;
  /** Starts the process again (same port and settings) and waits until /readyz answers 200. */
  start(): Promise<void>;
  /** SIGTERM and wait (the bot's graceful shutdown). */
  stop(): Promise<void>;
  running(): boolean;
  logFile: string;
}

/**
 * The compiled bot in a child process with only the given settings (plus PATH and HOME), run from the
 * temp directory so no `.env` of the checkout is read. Not started until start() is called.
 */
export async function botProcess(o: { env: Record<string, string>; logFile: string; cwd: string }): Promise<BotProcess> {
  if (!existsSync(compiledMain)) throw new Error(`${compiledMain} is missing: npm run build failed to emit`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const ended = async () => {
    const c = child;
    if (!c || !alive()) return;
    await new Promise((r) => c.once("exit", r));
  };
  const tail = () => readFileSync(o.logFile, "utf8").split("\n").slice(-5).join("\n");
  return {
    url,
    port,
    logFile: o.logFile,
    running: alive,
    async start() {
      const log = openSync(o.logFile, "a");
      child = spawn(process.execPath, [compiledMain], {
        cwd: o.cwd,
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...o.env, PORT: String(port) },
        stdio: ["ignore", log, log],
      });
      const deadline = Date.now() + 30_000;
      for (;;) {
        if (!alive()) throw new Error(`bot exited during start-up: ${tail()}`);
        const ready = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) }).then(
          (r) => r.status === 200,
          () => false,
        );
        if (ready) return;
        if (Date.now() > deadline) throw new Error(`bot not ready within 30 s: ${tail()}`);
        await sleep(25);
      }
    },
    async kill() {
      child?.kill("SIGKILL");
      await ended();
    },
    async stop() {
      if (!alive()) return;
      child!.kill("SIGTERM");
      const timer = setTimeout(() => child?.kill("SIGKILL"), 30_000);
      await ended();
      clearTimeout(timer);
    },
  };
}

/** Lines at level error or fatal in a bot's pino log (JSON lines; level 50 and above). */
export function errorLines(logFile: string): string[] {
  if (!existsSync(logFile)) return [];
  return readFileSync(logFile, "utf8")
    .split("\n")
    .filter((line) => {
      // Anything not JSON is node itself writing to stderr: an uncaught error or a crash.
      if (!line.startsWith("{")) return line.trim() !== "";
      try {
        return ((JSON.parse(line) as { level?: number }).level ?? 0) >= 50;
      } catch {
        return false;
      }
    });
}
