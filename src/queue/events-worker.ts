// Handling an event (from the intake, src/queue/intake.ts, or from queue "events" when retried): runs
// the handler (pure) and the router, then plans one delivery per (event, channel) and per (event,
// person) whose id derives from what happened, so a retried event, a second bot process or the same
// event through another hook adds nothing new. Direct messages for people with a digest are held for
// it instead (src/queue/personal.ts). On a first try the event's posts are made at once, a few at a
// time, under the same delivery ids, which spares each post a trip through the queue; whatever does
// not post then goes to the deliveries queue, whose retries, backoff and pacing take it from there.
import { UnrecoverableError, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { isKnownKind, notificationsFor, PayloadError, type EventKind, type PayloadOf } from "../../handlers/index.js";
import type { ActionButtons } from "../actions/buttons.js";
import type { Locale } from "../config.js";
import type { Logger } from "../logger.js";
import { MattermostError, type MattermostApi } from "../mattermost/client.js";
import { pauseForBudget } from "../mattermost/rate-budget.js";
import type { PostContent } from "../notification.js";
import type { Profiles } from "../people/profiles.js";
import type { RecipientAccess } from "../people/recipient-access.js";
import { planPersonal, rememberMergeRequest, type HeldMessage } from "../people/route.js";
import { ancestorPaths, routeToChannels } from "../routing/router.js";
import type { SubscriberAccess } from "../routing/subscriber-access.js";
import { linkNotifications } from "../routing/thread-links.js";
import type { Db } from "../store/db.js";
import { findSubscriptionsForPaths } from "../store/subscriptions.js";
import { DEDUPE_TTL_MS, EVENTS_QUEUE, deliveryJobId, type DeliveryJobData, type EventJobData } from "./jobs.js";
import type { Deliverer } from "./delivery-worker.js";
import { holdForDigest, type DigestWindows, type PersonalQueue } from "./personal.js";
import { backoffStrategy, type DeliveryQueue } from "./queues.js";

export interface PlannedDelivery {
  id: string;
  data: DeliveryJobData;
}

export interface PlanDeps {
  db: Db;
  defaultLocale: Locale;
  ignoredUsernames: readonly string[];
  /** Re-checks that a subscription's subscriber still may see non-public events (absent: no check). */
  subscriberAccess?: SubscriberAccess;
  /** Turns a notification's actions into signed buttons on channel posts (absent: no buttons). */
  actionButtons?: ActionButtons;
  /** Direct messages to the people an event concerns (linked accounts); without it, channels only. */
  people?: {
    profiles: Profiles;
    /** Where digest jobs go; held messages need it. */
    queue: PersonalQueue;
    /** Who, merely mentioned, may read about a non-public project. */
    recipientAccess?: RecipientAccess;
    /** Digest window lengths (tests shorten them). */
    digestWindows?: DigestWindows;
    now?: () => number;
  };
}

/** What one webhook becomes: the posts to make, one per subscribed channel and per person concerned. */
export async function planDeliveries(
  data: EventJobData,
  deps: PlanDeps,
): Promise<{ kind: string | undefined; known: boolean; deliveries: PlannedDelivery[]; held: HeldMessage[] }> {
  let payload: unknown;
  try {
    payload = JSON.parse(data.body);
  } catch {
    throw new PayloadError("queued body is not JSON");
  }
  const { kind, known, notifications, parsed } = notificationsFor(payload, data.eventHeader);
  if (kind && known) {
    // What the bot remembers of the event, written together (one commit): branches and people of a merge request.
    await Promise.all([
      linkNotifications(deps.db, kind, payload, notifications),
      deps.people && kind === "merge_request" ? rememberMergeRequest(deps.db, parsed as PayloadOf<"merge_request">) : undefined,
    ]);
  }
  const deliveries: PlannedDelivery[] = [];
  for (const n of notifications) {
    const candidates = await findSubscriptionsForPaths(deps.db, ancestorPaths(n.projectPath));
    const targets = routeToChannels(n, candidates, deps.ignoredUsernames);
    const rendered = new Map<Locale, PostContent>();
    const withButtons = new Map<Locale, PostContent>();
    for (const t of targets) {
      // A subscriber who lost access (or disconnected) stops non-public events; the channel is told once.
      const verdict = deps.subscriberAccess ? await deps.subscriberAccess.check(t.subscription, n.visibility) : { allowed: true };
      if (verdict.notice) {
        const eventKey = `access-lost/${t.subscription.id}`;
        deliveries.push({
          id: deliveryJobId(`${eventKey}/${n.eventKey}`, t.channelId),
          data: { channelId: t.channelId, eventKey, confidential: false, post: { message: verdict.notice }, locale: deps.defaultLocale, receivedAt: data.receivedAt },
        });
      }
      if (!verdict.allowed) continue;
      const locale = t.filter.lang ?? deps.defaultLocale;
      let post = rendered.get(locale);
      if (!post) {
        post = n.render(locale);
        rendered.set(locale, post);
      }
      if (deps.actionButtons && n.actions?.length && !t.filter.buttonsOff) {
        post = withButtons.get(locale) ?? deps.actionButtons.attach(post, n.actions, locale);
        withButtons.set(locale, post);
      }
      deliveries.push({
        id: deliveryJobId(n.eventKey, t.channelId),
        data: {
          channelId: t.channelId,
          eventKey: n.eventKey,
          threadKey: n.threadKey,
          threadUpdate: n.threadUpdate,
          confidential: n.confidential,
          visibility: n.visibility ?? "unknown",
          post,
          locale,
          receivedAt: data.receivedAt,
        },
      });
    }
  }
  const held: HeldMessage[] = [];
  if (deps.people && isKnownKind(kind)) {
    const personal = await planPersonal(kind as EventKind, parsed as PayloadOf<EventKind>, notifications, data.receivedAt, {
      db: deps.db,
      profiles: deps.people.profiles,
      ignoredUsernames: deps.ignoredUsernames,
      recipientAccess: deps.people.recipientAccess,
      now: deps.people.now,
    });
    deliveries.push(...personal.deliveries);
    held.push(...personal.held);
  }
  return { kind, known, deliveries, held };
}

/** Posting an event's deliveries from the events worker itself. */
export interface DirectPosting {
  /** The delivery worker's own deliverer (same records, same checks at delivery time). */
  deliver: Deliverer;
  /** Whose rate-limit budget says whether Mattermost has room for these posts now. */
  mattermost: Pick<MattermostApi, "rateBudget">;
  /** Posts in flight at once across the events worker (its concurrency times `atOnce`), for the budget. */
  inFlight: number;
  /** Posts one event job has in flight at once (default DIRECT_POSTS_AT_ONCE). */
  atOnce?: number;
}

/** Enough to keep a fan-out to many channels busy without one event crowding Mattermost. */
export const DIRECT_POSTS_AT_ONCE = 8;

/** Mattermost-wide trouble, as opposed to one channel's: the rest of the event waits in the queue. */
const STOPS_DIRECT_POSTING: ReadonlySet<string> = new Set(["rate_limited", "server", "network"]);

/**
 * Posts the deliveries of a first try directly, a few at a time, and returns those left for the
 * queue: the rest once Mattermost's bucket runs low, Mattermost fails or the worker is closing; and
 * each that did not post, to be retried there.
 */
async function postDirectly(
  about: { delivery: string | undefined; kind: string },
  deliveries: PlannedDelivery[],
  direct: DirectPosting,
  closing: () => boolean,
  log: Logger,
): Promise<PlannedDelivery[]> {
  const left: PlannedDelivery[] = [];
  let next = 0;
  let stopped = false;
  let firstError: string | undefined;
  const roomNow = () => {
    const budget = direct.mattermost.rateBudget();
    return !budget || pauseForBudget(budget, direct.inFlight) === 0;
  };
  const lane = async () => {
    while (next < deliveries.length) {
      const delivery = deliveries[next++]!;
      if (stopped || closing() || !roomNow()) {
        left.push(delivery);
        continue;
      }
      try {
        await direct.deliver(delivery.id, delivery.data);
      } catch (error) {
        firstError ??= (error as Error).message;
        if (error instanceof MattermostError && STOPS_DIRECT_POSTING.has(error.kind)) stopped = true;
        left.push(delivery);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(direct.atOnce ?? DIRECT_POSTS_AT_ONCE, deliveries.length) }, lane));
  if (left.length > 0) log.debug({ ...about, left: left.length, err: firstError }, "deliveries left to the deliveries queue");
  return left;
}

export type EventDeps = PlanDeps & { deliveries: DeliveryQueue; logger: Logger; direct?: DirectPosting };

/**
 * Handles one event: plans its posts, makes those it can at once (`postAtOnce`: the event's first
 * try), queues the rest, holds digest messages. A retried or recovered event queues every post: a
 * queued copy of one may be running. Throws PayloadError for a payload its handler cannot read.
 */
export async function handleEvent(id: string | undefined, data: EventJobData, deps: EventDeps, postAtOnce: boolean, closing: () => boolean): Promise<{ posts: number }> {
  // Fields named on each line rather than a child logger per event: pino serializes a child's fields
  // when it is made, which costs every event, logged or not.
  const about = { delivery: id, kind: data.kind };
  const plan = await planDeliveries(data, deps);
  if (!plan.known) {
    deps.logger.info(about, "event of an unknown kind dropped");
    return { posts: 0 };
  }
  const queued = deps.direct && postAtOnce && plan.deliveries.length > 0 ? await postDirectly(about, plan.deliveries, deps.direct, closing, deps.logger) : plan.deliveries;
  if (queued.length > 0) {
    await deps.deliveries.addBulk(
      queued.map((d) => ({
        name: "post",
        data: d.data,
        opts: { jobId: d.id, deduplication: { id: d.id, ttl: DEDUPE_TTL_MS } },
      })),
    );
  }
  if (plan.held.length > 0 && deps.people) {
    await holdForDigest(deps.db, deps.people.queue, plan.held, { now: deps.people.now, windows: deps.people.digestWindows });
  }
  deps.logger.debug({ ...about, posts: plan.deliveries.length, held: plan.held.length }, "event routed");
  return { posts: plan.deliveries.length };
}

/** The events queue: events handed over by the intake (src/queue/intake.ts) and the spool's older jobs, with retries and backoff. */
export function startEventsWorker(deps: EventDeps & { connection: Redis; prefix: string; concurrency?: number }): Worker<EventJobData> {
  const worker: Worker<EventJobData> = new Worker<EventJobData>(
    EVENTS_QUEUE,
    async (job: Job<EventJobData>) => {
      try {
        // Handed over by the intake (`retried`), failed or stalled before: its posts go through the deliveries queue.
        const firstTry = !job.data.retried && job.attemptsMade === 0 && job.stalledCounter === 0;
        return await handleEvent(job.id, job.data, deps, firstTry, () => worker.closing !== undefined);
      } catch (error) {
        if (error instanceof PayloadError) {
          deps.logger.warn({ delivery: job.id, kind: job.data.kind, err: error.message }, "webhook payload cannot be handled; dropped");
          throw new UnrecoverableError(error.message);
        }
        throw error;
      }
    },
    { connection: deps.connection, prefix: deps.prefix, concurrency: deps.concurrency ?? 4, autorun: true, settings: { backoffStrategy } },
  );
  worker.on("failed", (job, error) => deps.logger.warn({ delivery: job?.id, err: error.message, attempts: job?.attemptsMade }, "event job failed"));
  worker.on("error", (error) => deps.logger.error({ err: error.message }, "events worker error"));
  return worker;
}
