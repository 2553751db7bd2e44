// Forks bench/bot-process.ts under tsx and talks to it over IPC.
import { fork, type ChildProcess } from "node:child_process";
import { openSync } from "node:fs";
import type { ChildMessage, ChildMode, ProcessStats } from "../bot-process.js";

export interface ChildHandle {
  port: number;
  url: string;
  pid: number;
  memory(gc?: boolean): Promise<NodeJS.MemoryUsage>;
  /** CPU, GC and event-loop delay since the previous call (or the start). */
  stats(): Promise<ProcessStats>;
  stop(): Promise<void>;
}

export interface ChildOptions {
  mode: ChildMode;
  role?: "all" | "web" | "worker";
  env?: Record<string, string>;
  /** stdout and stderr of the child go here. */
  logFile: string;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeFlags?: string[];
  /** Run an esbuild bundle with plain node instead of the TypeScript sources under tsx. */
  compiled?: boolean;
}

let bundle: Promise<string> | undefined;

/** bench/bot-process.ts bundled (packages stay external) into node_modules/.cache/gmm-bench/ (where the
 * packages resolve and no linter looks), once per run. */
function compiledEntry(): Promise<string> {
  bundle ??= (async () => {
    // esbuild comes with tsx; imported only for --compiled.
    const { build } = await import("esbuild");
    const outfile = new URL("../../node_modules/.cache/gmm-bench/bot-process.mjs", import.meta.url).pathname;
    await build({
      entryPoints: [new URL("../bot-process.ts", import.meta.url).pathname],
      outfile,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      packages: "external",
      // src/main.ts runs main() when it is the entry script; in the bundle it is not.
      define: { "import.meta.url": JSON.stringify("bench:bundled") },
      logLevel: "warning",
    });
    return outfile;
  })();
  return bundle;
}

export async function startChild(opts: ChildOptions): Promise<ChildHandle> {
  const log = openSync(opts.logFile, "a");
  const entry = opts.compiled ? await compiledEntry() : new URL("../bot-process.ts", import.meta.url).pathname;
  const child: ChildProcess = fork(entry, [], {
    execArgv: [...(opts.compiled ? [] : ["--import", "tsx"]), "--expose-gc", ...(opts.nodeFlags ?? [])],
    env: { ...process.env, BENCH_CHILD: JSON.stringify({ mode: opts.mode, role: opts.role, env: opts.env }) },
    stdio: ["ignore", log, log, "ipc"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const next = <T extends ChildMessage["type"]>(type: T, ms: number): Promise<Extract<ChildMessage, { type: T }>> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.off("message", on);
        reject(new Error(`bench child (${opts.mode}) sent no ${type} within ${ms} ms; see ${opts.logFile}`));
      }, ms);
      const on = (m: ChildMessage) => {
        if (m.type !== type) return;
        clearTimeout(timer);
        child.off("message", on);
        resolve(m as Extract<ChildMessage, { type: T }>);
      };
      child.on("message", on);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`bench child (${opts.mode}) exited with ${code}; see ${opts.logFile}`));
      });
    });
  const { port } = await next("ready", 30_000);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async memory(gc = false) {
      const reply = next("mem", 10_000);
      child.send({ type: "mem", gc });
      return (await reply).usage;
    },
    async stats() {
      const reply = next("stats", 10_000);
      child.send({ type: "stats" });
      return (await reply).stats;
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.send({ type: "stop" });
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
