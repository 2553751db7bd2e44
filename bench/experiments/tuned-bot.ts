// The bot wired as src/main.ts wires it (same app, queues, workers), with the changes the bench
// suggests switched on one by one, to measure them without touching src/. Not used by `npm start`.
//   events=<n>      events worker concurrency (main.ts leaves the default, 4)
//   sqlite-normal   PRAGMA synchronous = NORMAL (WAL): no fsync per commit
//   stmt-cache      reuse prepared statements (Kysely's SqliteDriver prepares every query)
import { serve, type ServerType } from "@hono/node-server";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import type { Config } from "../../src/config.js";
import type { Logger } from "../../src/logger.js";
import { createMattermostClient } from "../../src/mattermost/client.js";
import { createMetrics } from "../../src/metrics.js";
import { producerConnection, waitReady, workerConnection } from "../../src/queue/connection.js";
import { startDeliveryWorker } from "../../src/queue/delivery-worker.js";
import { startEventsWorker } from "../../src/queue/events-worker.js";
import { openQueues } from "../../src/queue/queues.js";
import { createApp } from "../../src/server.js";
import { migrateToLatest, type Db } from "../../src/store/db.js";
import type { Database } from "../../src/store/schema.js";

export interface Tweaks {
  eventsConcurrency?: number;
  sqliteNormal?: boolean;
  stmtCache?: boolean;
}

export function parseTweaks(text: string): Tweaks {
  const t: Tweaks = {};
  for (const part of text.split(",").filter(Boolean)) {
    const [name, value] = part.split("=");
    if (name === "events") t.eventsConcurrency = Number(value);
    else if (name === "sqlite-normal") t.sqliteNormal = true;
    else if (name === "stmt-cache") t.stmtCache = true;
    else throw new Error(`unknown tweak ${part} (events=<n>, sqlite-normal, stmt-cache)`);
  }
  return t;
}

function openSqlite(url: string, t: Tweaks): Db {
  const sqlite = new SQLite(url.replace(/^sqlite:(\/\/)?/, ""));
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("busy_timeout = 5000");
  if (t.sqliteNormal) sqlite.pragma("synchronous = NORMAL");
  const statements = new Map<string, SQLite.Statement>();
  const database = t.stmtCache
    ? {
        close: () => sqlite.close(),
        prepare(sql: string) {
          let s = statements.get(sql);
          if (!s) {
            s = sqlite.prepare(sql);
            statements.set(sql, s);
          }
          return s;
        },
      }
    : sqlite;
  return new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
}

export async function startTunedBot(config: Config, logger: Logger, t: Tweaks): Promise<{ port: number; stop(): Promise<void> }> {
  if (!config.databaseUrl.startsWith("sqlite:")) throw new Error("the tuned bot is for SQLite");
  const db = openSqlite(config.databaseUrl, t);
  await migrateToLatest(db);
  const producer = producerConnection(config.redisUrl);
  await waitReady(producer);
  const queues = openQueues(producer, config.queuePrefix);
  const metrics = createMetrics({ defaults: true });
  const mattermost = createMattermostClient(config.mattermost.url, config.mattermost.botToken);
  const workerRedis = workerConnection(config.redisUrl);
  const me = await mattermost.getMe();
  const workers = [
    startEventsWorker({
      db,
      defaultLocale: config.defaultLocale,
      ignoredUsernames: config.gitlab.ignoredUsernames,
      connection: workerRedis,
      prefix: config.queuePrefix,
      deliveries: queues.deliveries,
      logger,
      concurrency: t.eventsConcurrency,
    }),
    startDeliveryWorker({ db, mattermost, botUserId: me.id, logger, metrics, connection: workerRedis, prefix: config.queuePrefix, concurrency: config.deliveryConcurrency }),
  ];
  const app = createApp({ config, logger, metrics, db, redis: producer, queues, mattermost });
  let server: ServerType | undefined;
  const port = await new Promise<number>((resolve) => {
    server = serve({ fetch: app.fetch, port: config.port, hostname: "127.0.0.1" }, (info) => resolve(info.port));
  });
  return {
    port,
    async stop() {
      await new Promise<void>((resolve) => server!.close(() => resolve()));
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all([queues.events.close(), queues.deliveries.close()]);
      await Promise.allSettled([producer.quit(), workerRedis.quit()]);
      await db.destroy();
    },
  };
}
