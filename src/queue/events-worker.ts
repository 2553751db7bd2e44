// Queue "events": one job per accepted webhook. Runs the handler (pure) and the router, then queues
// one delivery job per (event, channel) whose id derives from what happened, so a retried event job,
// a second bot process or the same event through another hook adds nothing new.
import { UnrecoverableError, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { notificationsFor, PayloadError } from "../../handlers/index.js";
import type { Locale } from "../config.js";
import type { Logger } from "../logger.js";
import type { PostContent } from "../notification.js";
import { ancestorPaths, routeToChannels } from "../routing/router.js";
import { linkNotifications } from "../routing/thread-links.js";
import type { Db } from "../store/db.js";
import { findSubscriptionsForPaths } from "../store/subscriptions.js";
import { DEDUPE_TTL_MS, EVENTS_QUEUE, deliveryJobId, type DeliveryJobData, type EventJobData } from "./jobs.js";
import type { DeliveryQueue } from "./queues.js";

export interface PlannedDelivery {
  id: string;
  data: DeliveryJobData;
}

export interface PlanDeps {
  db: Db;
  defaultLocale: Locale;
  ignoredUsernames: readonly string[];
}

/** What one webhook becomes: the posts to make, one per subscribed channel. */
export async function planDeliveries(
  data: EventJobData,
  deps: PlanDeps,
): Promise<{ kind: string | undefined; known: boolean; deliveries: PlannedDelivery[] }> {
  let payload: unknown;
  try {
    payload = JSON.parse(data.body);
  } catch {
    throw new PayloadError("queued body is not JSON");
  }
  const { kind, known, notifications } = notificationsFor(payload, data.eventHeader);
  if (kind && known) await linkNotifications(deps.db, kind, payload, notifications);
  const deliveries: PlannedDelivery[] = [];
  for (const n of notifications) {
    const candidates = await findSubscriptionsForPaths(deps.db, ancestorPaths(n.projectPath));
    const targets = routeToChannels(n, candidates, deps.ignoredUsernames);
    const rendered = new Map<Locale, PostContent>();
    for (const t of targets) {
      const locale = t.filter.lang ?? deps.defaultLocale;
      let post = rendered.get(locale);
      if (!post) {
        post = n.render(locale);
        rendered.set(locale, post);
      }
      deliveries.push({
        id: deliveryJobId(n.eventKey, t.channelId),
        data: {
          channelId: t.channelId,
          eventKey: n.eventKey,
          threadKey: n.threadKey,
          threadUpdate: n.threadUpdate,
          confidential: n.confidential,
          post,
          locale,
          receivedAt: data.receivedAt,
        },
      });
    }
  }
  return { kind, known, deliveries };
}

export function startEventsWorker(deps: PlanDeps & { connection: Redis; prefix: string; deliveries: DeliveryQueue; logger: Logger; concurrency?: number }): Worker<EventJobData> {
  const worker = new Worker<EventJobData>(
    EVENTS_QUEUE,
    async (job: Job<EventJobData>) => {
      const log = deps.logger.child({ delivery: job.id, kind: job.data.kind });
      let plan;
      try {
        plan = await planDeliveries(job.data, deps);
      } catch (error) {
        if (error instanceof PayloadError) {
          log.warn({ err: error.message }, "webhook payload cannot be handled; dropped");
          throw new UnrecoverableError(error.message);
        }
        throw error;
      }
      if (!plan.known) {
        log.info("event of an unknown kind dropped");
        return { posts: 0 };
      }
      if (plan.deliveries.length > 0) {
        await deps.deliveries.addBulk(
          plan.deliveries.map((d) => ({
            name: "post",
            data: d.data,
            opts: { jobId: d.id, deduplication: { id: d.id, ttl: DEDUPE_TTL_MS } },
          })),
        );
      }
      log.debug({ posts: plan.deliveries.length }, "event routed");
      return { posts: plan.deliveries.length };
    },
    { connection: deps.connection, prefix: deps.prefix, concurrency: deps.concurrency ?? 4, autorun: true },
  );
  worker.on("failed", (job, error) => deps.logger.warn({ delivery: job?.id, err: error.message, attempts: job?.attemptsMade }, "event job failed"));
  worker.on("error", (error) => deps.logger.error({ err: error.message }, "events worker error"));
  return worker;
}
