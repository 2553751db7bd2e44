// Bull Board itself: its page, static assets and JSON API for the bot's queues. Loaded only where the
// queue dashboard is on (src/http/queue-dashboard.ts, which checks every request first): its modules
// hold about 3 MB of heap that a bot without the dashboard does not need.
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { HonoAdapter } from "@bull-board/hono";
import { serveStatic } from "@hono/node-server/serve-static";
import type { Queue } from "bullmq";
import { Hono, type Context } from "hono";

/** The board mounted at `basePath`; a path it does not know gets `notFound`. */
export function boardApp(queues: readonly Queue[], basePath: string, notFound: (c: Context) => Response): Hono {
  const adapter = new HonoAdapter(serveStatic).setBasePath(basePath);
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q)), serverAdapter: adapter, options: { uiConfig: { boardTitle: "gitlab-mattermost-bot" } } });
  const app = new Hono().route(basePath, adapter.registerPlugin());
  app.notFound(notFound);
  return app;
}
