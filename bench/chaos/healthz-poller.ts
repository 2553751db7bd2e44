// Polls a bot's /healthz every 50 ms from a worker thread: its own event loop, so the simulator and the
// webhook sender busy in the main thread do not add to the answer times it measures. Each poll is
// posted to the parent as { at, took, ok } (ms since the poller started); a "stop" message ends it.
// Plain JavaScript run with `eval`: worker threads do not get tsx's loader.
import { Worker } from "node:worker_threads";

const SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { performance } = require("node:perf_hooks");
let polling = true;
parentPort.on("message", (m) => { if (m === "stop") polling = false; });
(async () => {
  // One untimed request first: the worker's HTTP client starts up on it.
  await fetch(workerData.url + "/healthz").then((r) => r.arrayBuffer(), () => undefined);
  const t0 = performance.now();
  while (polling) {
    const sentAt = performance.now();
    const ok = await fetch(workerData.url + "/healthz", { signal: AbortSignal.timeout(2000) }).then(
      async (r) => (await r.arrayBuffer(), r.ok),
      () => false,
    );
    const took = performance.now() - sentAt;
    parentPort.postMessage({ at: sentAt - t0, took, ok });
    await new Promise((r) => setTimeout(r, Math.max(0, 50 - took)));
  }
  parentPort.close();
})();
`;

export interface Poll {
  at: number;
  took: number;
  ok: boolean;
}

/** Starts polling `${url}/healthz`; each answer (or failure) goes to `onPoll`. */
export function pollHealthz(url: string, onPoll: (p: Poll) => void): { stop(): Promise<void> } {
  const worker = new Worker(SOURCE, { eval: true, workerData: { url } });
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  worker.on("message", onPoll);
  return {
    async stop() {
      worker.postMessage("stop");
      await exited;
    },
  };
}
