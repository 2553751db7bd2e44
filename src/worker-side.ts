// Role all: the queue workers in a worker thread of the bot's process (started by main.ts), so they
// share one Node.js runtime with the HTTP side instead of a second process, at the lowest CPU priority.
import { setPriority } from "node:os";
import { parentPort, type MessagePort } from "node:worker_threads";
import type { Registry } from "prom-client";
import { loadConfig } from "./config.js";
import { applyHeapSettings } from "./heap-settings.js";
import { createLogger } from "./logger.js";
import { startBot, type RunningBot } from "./main.js";

/** Metrics as `Registry.getMetricsAsJSON()` gives them (what AggregatorRegistry.aggregate takes). */
export type MetricsJson = Awaited<ReturnType<Registry["getMetricsAsJSON"]>>;

/** What the HTTP side sends to the worker thread. */
export type ToWorkerSide = { type: "metrics"; id: number } | { type: "stop" };
/** What the worker thread sends back. */
export type FromWorkerSide = { type: "ready" } | { type: "failed"; message: string } | { type: "metrics"; id: number; metrics: MetricsJson };

/** nice(1) of the worker thread: the lowest CPU priority, as a background job's (the HTTP side keeps its own). */
const WORKER_NICENESS = 19;

/**
 * Figures of the whole process (CPU, RSS, file descriptors, start time): the HTTP side reports them
 * once, so summing both sides' figures must leave the worker thread's copy out.
 */
const isProcessWide = (metric: MetricsJson[number]) => metric.name.startsWith("process_");

async function runWorkerSide(port: MessagePort): Promise<void> {
  const send = (message: FromWorkerSide) => port.postMessage(message);
  let priorityProblem: string | undefined;
  try {
    // On Linux a nice value belongs to a thread, so this lowers only this thread: when the cores are
    // busy, answering webhooks goes first (GitLab gives up on a hook after 10 s and disables it after
    // repeated failures), while queued events only wait a little longer.
    setPriority(WORKER_NICENESS);
  } catch (error) {
    priorityProblem = (error as Error).message;
  }
  let bot: RunningBot;
  try {
    // Same environment and working directory as the HTTP side, so the same settings; the HTTP side
    // serves /metrics with this thread's figures in them.
    const config = { ...loadConfig(), role: "worker" as const, metricsPort: undefined };
    const logger = createLogger(config.logLevel);
    if (priorityProblem) logger.warn({ err: priorityProblem }, "worker thread priority not lowered");
    bot = await startBot(config, logger);
  } catch (error) {
    send({ type: "failed", message: (error as Error).message });
    process.exit(1);
  }
  port.on("message", (message: ToWorkerSide) => {
    if (message.type === "metrics") {
      void bot.metrics.registry.getMetricsAsJSON().then((metrics) => send({ type: "metrics", id: message.id, metrics: metrics.filter((m) => !isProcessWide(m)) }));
    } else {
      // Let the workers finish or hand back their jobs; process.exit in a worker thread ends only the thread.
      bot.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    }
  });
  send({ type: "ready" });
}

if (parentPort) {
  // Starting this thread reset them, in the HTTP side's isolate too.
  applyHeapSettings();
  await runWorkerSide(parentPort);
}
