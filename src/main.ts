// Wiring and lifecycle: config, store, queues, workers, HTTP server, graceful shutdown. In role all
// (the default) the workers run in a worker thread of their own at the lowest CPU priority
// (src/worker-side.ts), so webhook answers get a core that posting to Mattermost does not take.
import { Worker as WorkerThread } from "node:worker_threads";
import type { ServerType } from "@hono/node-server";
import type { Worker } from "bullmq";
import { AggregatorRegistry, Registry } from "prom-client";
import { actionButtonsOf } from "./actions/buttons.js";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { setupGitlabAccounts } from "./gitlab/accounts.js";
import { createLogger, type Logger } from "./logger.js";
import { createMattermostClient } from "./mattermost/client.js";
import { directMessenger } from "./mattermost/direct-message.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { createProfiles } from "./people/profiles.js";
import { createPeopleServices } from "./people/services.js";
import { producerConnection, redisConfigWarnings, waitReady, workerConnection } from "./queue/connection.js";
import { createDeliverer, startDeliveryWorker, type DeliveryDeps } from "./queue/delivery-worker.js";
import { DIRECT_POSTS_AT_ONCE, handleEvent, startEventsWorker, type EventDeps } from "./queue/events-worker.js";
import { startIntakeConsumer, webhookIntake, type IntakeConsumer } from "./queue/intake.js";
import { openPersonalQueue, startPersonalWorker, syncAllReminders } from "./queue/personal.js";
import { handOverEvents, openQueues } from "./queue/queues.js";
import { useOutboundProxy } from "./outbound-proxy.js";
import { startSpoolReplayer } from "./queue/spool-replayer.js";
import { createSubscriberAccess } from "./routing/subscriber-access.js";
import { isMain } from "./is-main.js";
import { createRecipientAccess } from "./people/recipient-access.js";
import { applyHeapSettings } from "./heap-settings.js";
import { migrateToLatest, openDatabase } from "./store/db.js";
import { pruneDeliveries } from "./store/deliveries.js";
import type { FromWorkerSide, MetricsJson, ToWorkerSide } from "./worker-side.js";

export interface RunningBot {
  port: number;
  /** The port /metrics is served on when METRICS_PORT is set. */
  metricsPort?: number;
  metrics: Metrics;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Metrics of the worker thread of role all, which /metrics shows summed with this side's. */
  otherMetrics?: () => Promise<MetricsJson>;
}

/** A registry whose text is this side's metrics summed with the worker thread's. */
class CombinedRegistry extends Registry {
  constructor(
    private readonly own: Registry,
    private readonly other: () => Promise<MetricsJson>,
  ) {
    super();
  }
  override async metrics(): Promise<string> {
    const [own, other] = await Promise.all([this.own.getMetricsAsJSON(), this.other().catch(() => [])]);
    return AggregatorRegistry.aggregate([own, other]).metrics();
  }
}

/** Retried event jobs one process runs at once (each with up to DIRECT_POSTS_AT_ONCE posts of its own in flight). */
const EVENTS_CONCURRENCY = 4;
/**
 * Webhooks one process handles at once from the intake. Most of an event's time is spent waiting (for
 * its post, and for each SQLite write's commit, which is shared by all writes of a turn of the event
 * loop), so more at once means more writes per commit: 16 instead of 4 took the bot from 0.6–0.7 to
 * 0.8–1.0 of the floor's events per second (`npm run bench -- --only=throughput`).
 */
const INTAKE_CONCURRENCY = 16;

/** Starts the bot with a loaded config, all of its role in this process; used by `npm start` and by the end-to-end tests. */
export async function startBot(config: Config, logger: Logger = createLogger(config.logLevel), options: StartOptions = {}): Promise<RunningBot> {
  useOutboundProxy(config.proxy);
  const { db } = openDatabase(config.databaseUrl);
  const { applied } = await migrateToLatest(db);
  if (applied.length) logger.info({ applied }, "database migrated");

  const producer = producerConnection(config.redisUrl);
  producer.on("error", (error) => logger.warn({ err: error.message }, "Redis connection problem"));
  await waitReady(producer).catch((error: Error) => {
    throw new Error(`Redis at ${config.redisUrl.replace(/\/\/[^@]*@/, "//***@")} does not answer (${error.message}): start Redis or set REDIS_URL`);
  });
  const queues = openQueues(producer, config.queuePrefix, { retryBaseMs: config.deliveryRetryBaseMs });
  // The webhook route writes to it, /metrics counts it, the spool replays into it.
  const intake = webhookIntake(producer, config.queuePrefix);
  const metrics = createMetrics({ defaults: true });
  if (options.otherMetrics) metrics.registry = new CombinedRegistry(metrics.registry, options.otherMetrics);
  for (const warning of await redisConfigWarnings(producer)) logger.warn({ warning }, "Redis may lose queued jobs");
  const mattermost = createMattermostClient(config.mattermost.url, config.mattermost.botToken);
  const profiles = createProfiles({ mattermost, defaultLocale: config.defaultLocale, logger });
  const gitlab = setupGitlabAccounts({ config, db, redis: producer, logger, notify: directMessenger(mattermost), profiles });
  if (!gitlab.ready) logger.info({ missing: gitlab.missing }, "GitLab accounts cannot be connected until these settings are set");
  // Personal side: direct messages, digests and daily reminders (queue "personal").
  const personalQueue = openPersonalQueue(producer, config.queuePrefix);
  const people = createPeopleServices({ db, queue: personalQueue, profiles });
  // A queue reports a lost Redis connection as an "error" event: into the log, never printed raw to stderr.
  for (const queue of [queues.events, queues.deliveries, personalQueue]) {
    queue.on("error", (error) => logger.warn({ err: error.message, queue: queue.name }, "queue cannot reach Redis"));
  }

  const workers: Worker[] = [];
  const workerRedis = workerConnection(config.redisUrl);
  workerRedis.on("error", (error) => logger.warn({ err: error.message }, "Redis connection problem (workers)"));
  let intakeConsumer: IntakeConsumer | undefined;
  let pruner: NodeJS.Timeout | undefined;
  let reminderSync: NodeJS.Timeout | undefined;
  if (config.role !== "web") {
    const me = await mattermost.getMe().catch((error: Error) => {
      throw new Error(`cannot sign in to Mattermost at ${config.mattermost.url} with MATTERMOST_BOT_TOKEN: ${error.message}`);
    });
    const delivery: DeliveryDeps = {
      db,
      mattermost,
      botUserId: me.id,
      allowPrivateProjectsInPublicChannels: config.allowPrivateProjectsInPublicChannels,
      logger,
      metrics,
    };
    // One deliverer for the intake, the events queue and the deliveries queue: events post what they can themselves, the rest is queued.
    const deliver = createDeliverer(delivery);
    const events: EventDeps = {
      db,
      defaultLocale: config.defaultLocale,
      ignoredUsernames: config.gitlab.ignoredUsernames,
      subscriberAccess: createSubscriberAccess({ db, redis: workerRedis, keyPrefix: config.queuePrefix, accounts: gitlab.ready ? gitlab.accounts : undefined, logger }),
      actionButtons: actionButtonsOf(config),
      deliveries: queues.deliveries,
      logger,
      direct: { deliver, mattermost, inFlight: (INTAKE_CONCURRENCY + EVENTS_CONCURRENCY) * DIRECT_POSTS_AT_ONCE },
      people: {
        profiles,
        queue: personalQueue,
        recipientAccess: createRecipientAccess({ redis: workerRedis, keyPrefix: config.queuePrefix, accounts: gitlab.ready ? gitlab.accounts : undefined, logger }),
      },
    };
    intakeConsumer = startIntakeConsumer({
      redis: workerRedis,
      prefix: config.queuePrefix,
      concurrency: INTAKE_CONCURRENCY,
      logger,
      handle: (id, data, closing) => handleEvent(id, data, events, true, closing),
      // After a failure the first retry waits as a failed job's would.
      handOver: (webhooks, afterFailure) => handOverEvents(queues.events, webhooks, afterFailure ? config.deliveryRetryBaseMs : 0),
    });
    workers.push(
      startEventsWorker({ ...events, connection: workerRedis, prefix: config.queuePrefix, concurrency: EVENTS_CONCURRENCY }),
      startDeliveryWorker({
        ...delivery,
        deliver,
        connection: workerRedis,
        prefix: config.queuePrefix,
        concurrency: config.deliveryConcurrency,
        postsPerSecond: config.mattermostPostsPerSecond,
      }),
      startPersonalWorker({
        db,
        queue: personalQueue,
        deliveries: queues.deliveries,
        profiles,
        logger,
        gitlab: () => (gitlab.ready ? gitlab.accounts : undefined),
        connection: workerRedis,
        prefix: config.queuePrefix,
      }),
    );
    // Every linked user with reminders on gets a reminder scheduler (new links within ten minutes).
    const syncReminders = () =>
      syncAllReminders({ db, queue: personalQueue, profiles }).catch((e: Error) => logger.warn({ err: e.message }, "reminder schedules not synchronised"));
    void syncReminders();
    reminderSync = setInterval(syncReminders, 10 * 60_000);
    reminderSync.unref();
    const prune = () => pruneDeliveries(db, Date.now() - 2 * 24 * 3600_000).catch((e: Error) => logger.warn({ err: e.message }, "pruning deliveries failed"));
    pruner = setInterval(prune, 3600_000);
    pruner.unref();
  }

  let server: ServerType | undefined;
  let port = config.port;
  if (config.role !== "worker") {
    // Loaded here, so the worker side of role all does not hold the routes in its heap.
    const [{ createApp }, { serve }] = await Promise.all([import("./server.js"), import("@hono/node-server")]);
    const app = createApp({ config, logger, metrics, db, redis: producer, intake, queues: { ...queues, personal: personalQueue }, mattermost, gitlab, people });
    await new Promise<void>((resolve) => {
      server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
        port = info.port;
        resolve();
      });
    });
    logger.info({ port, role: config.role }, "gitlab-mattermost-bot listening");
  } else {
    logger.info({ role: config.role }, "gitlab-mattermost-bot worker started");
  }

  // /metrics on a port of its own, in every role: workers have delivery figures to show too.
  let metricsServer: ServerType | undefined;
  let metricsPort: number | undefined;
  if (config.metricsPort !== undefined) {
    const [{ createMetricsApp }, { serve }] = await Promise.all([import("./server.js"), import("@hono/node-server")]);
    const metricsApp = createMetricsApp({ config, metrics, intake, queues: { ...queues, personal: personalQueue } });
    await new Promise<void>((resolve) => {
      metricsServer = serve({ fetch: metricsApp.fetch, port: config.metricsPort, hostname: config.host }, (info) => {
        metricsPort = info.port;
        resolve();
      });
    });
    logger.info({ port: metricsPort }, "metrics served on their own port");
  }

  // Every role replays the webhook spool: web-only processes are the ones that fill it.
  const spoolReplayer = startSpoolReplayer({ db, intake, redis: producer, keyPrefix: config.queuePrefix, logger, metrics });

  let stopping: Promise<void> | undefined;
  return {
    port,
    metricsPort,
    metrics,
    stop() {
      // BullMQ's order: stop taking HTTP work, let workers finish (or hand back) their jobs, then close.
      stopping ??= (async () => {
        if (pruner) clearInterval(pruner);
        if (reminderSync) clearInterval(reminderSync);
        if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
        if (metricsServer) await new Promise<void>((resolve) => metricsServer!.close(() => resolve()));
        await spoolReplayer.stop();
        // Before the queues close: what the intake consumer still holds is handed to the events queue.
        await intakeConsumer?.close();
        await Promise.all(workers.map((w) => w.close()));
        await Promise.all([queues.events.close(), queues.deliveries.close(), personalQueue.close()]);
        await Promise.allSettled([producer.quit(), workerRedis.quit()]);
        await db.destroy();
      })();
      return stopping;
    },
  };
}

/**
 * Young generation of the worker thread, in MB (V8 splits it into three parts of a semi-space's
 * size). V8's default lets it grow to 48 MB, which stays committed though mostly garbage; small, it
 * costs more, shorter scavenges, which the thread at nice 19 can afford.
 */
const WORKER_YOUNG_GENERATION_MB = 6;

/**
 * Role all: the workers in a worker thread (src/worker-side.ts), the HTTP side here; one Node.js
 * runtime instead of two. The worker thread starts first (it migrates the database, signs in to
 * Mattermost), so a start-up failure there stops everything with its own message. Should it end
 * later, this side stops too and exits 1: the supervisor (systemd, Docker, Kubernetes) restarts the
 * bot, rather than leaving an HTTP side taking webhooks that nothing posts.
 */
async function startWithWorkerThread(config: Config, logger: Logger): Promise<{ stop(): Promise<void>; failed: Promise<number> }> {
  const resourceLimits = { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB };
  // Run from source (npm run start:dev, tests), the thread loads the TypeScript entry through tsx's
  // loader, which Node 20 does not pass on to worker threads by itself.
  const worker = import.meta.url.endsWith(".ts")
    ? new WorkerThread(
        `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then((tsx) => (tsx.register(), import(${JSON.stringify(new URL("./worker-side.ts", import.meta.url).href)})))`,
        { eval: true, resourceLimits },
      )
    : new WorkerThread(new URL("./worker-side.js", import.meta.url), { resourceLimits });
  let startFailure: string | undefined;
  worker.on("error", (error) => logger.error({ err: error.message }, "the worker thread threw"));
  const exited = new Promise<number>((resolve) => worker.once("exit", resolve));
  const ready = await Promise.race([
    new Promise<true>((resolve) =>
      worker.on("message", (m: FromWorkerSide) => {
        if (m.type === "ready") resolve(true);
        else if (m.type === "failed") startFailure = m.message;
      }),
    ),
    exited,
  ]);
  if (ready !== true) throw new Error(startFailure ?? `the worker thread ended with ${ready} while starting`);

  let asked = 0;
  const pending = new Map<number, (metrics: MetricsJson) => void>();
  worker.on("message", (m: FromWorkerSide) => {
    if (m.type === "metrics") pending.get(m.id)?.(m.metrics);
  });
  const workerMetrics = () =>
    new Promise<MetricsJson>((resolve) => {
      const id = ++asked;
      const timer = setTimeout(() => (pending.delete(id), resolve([])), 1000);
      pending.set(id, (metrics) => (clearTimeout(timer), pending.delete(id), resolve(metrics)));
      worker.postMessage({ type: "metrics", id } satisfies ToWorkerSide);
    });

  let bot: RunningBot;
  try {
    bot = await startBot({ ...config, role: "web" }, logger, { otherMetrics: workerMetrics });
  } catch (error) {
    worker.postMessage({ type: "stop" } satisfies ToWorkerSide);
    await exited;
    throw error;
  }
  let stopping = false;
  const failed = exited.then((code) => {
    if (stopping) return new Promise<number>(() => {});
    logger.fatal({ code }, "the worker thread ended; stopping");
    return bot.stop().then(
      () => 1,
      () => 1,
    );
  });
  return {
    failed,
    async stop() {
      stopping = true;
      // The HTTP side first (no new webhooks), then the workers finish or hand back their jobs.
      const web = bot.stop();
      worker.postMessage({ type: "stop" } satisfies ToWorkerSide);
      await Promise.all([web, exited]);
    },
  };
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const line of error.problems) console.error(line);
      console.error("See .env.example for every setting.");
      process.exit(1);
    }
    throw error;
  }
  const roleArg = process.argv.find((a) => a.startsWith("--role="))?.split("=")[1] ?? process.argv[process.argv.indexOf("--role") + 1];
  if (roleArg === "web" || roleArg === "worker" || roleArg === "all") config.role = roleArg;
  const logger = createLogger(config.logLevel);
  applyHeapSettings();
  let bot: { stop(): Promise<void> };
  try {
    if (config.role === "all") {
      const split = await startWithWorkerThread(config, logger);
      split.failed.then((code) => process.exit(code), () => process.exit(1));
      bot = split;
    } else {
      bot = await startBot(config, logger);
    }
  } catch (error) {
    logger.fatal({ err: (error as Error).message }, "start-up failed");
    console.error(`start-up failed: ${(error as Error).message}`);
    process.exit(1);
  }
  const shutdown = (signal: string) => {
    logger.info({ signal }, "shutting down");
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    bot.stop().then(
      () => process.exit(0),
      (error: Error) => {
        logger.error({ err: error.message }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
}

if (isMain(import.meta.url)) await main();
