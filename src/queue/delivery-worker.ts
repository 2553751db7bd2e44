// Queue "deliveries": the only code that posts to Mattermost. One job per (event, channel) or
// (event, user) for direct messages; the job id doubles as Mattermost's pending_post_id, so a create
// retried after a crash is not shown twice. A direct message is posted in the DM channel of the bot
// and the user, where it threads like a channel post. What may be posted where is decided here, just
// before posting, from what Mattermost says the channel is now (not what it was when subscribed).
import { DelayedError, UnrecoverableError, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "../logger.js";
import { MattermostError, type ChannelInfo, type MattermostApi } from "../mattermost/client.js";
import { pauseForBudget } from "../mattermost/rate-budget.js";
import type { Metrics } from "../metrics.js";
import { MATTERMOST_MAX_POST_CHARS, type PostContent, type ThreadUpdate } from "../notification.js";
import type { Db } from "../store/db.js";
import { markDeliveryDone, markDeliveryStarted, startDelivery } from "../store/deliveries.js";
import { applyThreadUpdate, initialRootState, renderRoot, sameDisplay, type RootState } from "../routing/thread-state.js";
import { claimThreadRoot, completeThreadRoot, findRootState, forgetThreadRoot, replaceRootState } from "../store/thread-roots.js";
import { DELIVERIES_QUEUE, type DeliveryJobData } from "./jobs.js";
import { backoffStrategy } from "./queues.js";

export interface DeliveryDeps {
  db: Db;
  mattermost: MattermostApi;
  botUserId: string;
  logger: Logger;
  metrics: Metrics;
  now?: () => number;
  /** ALLOW_PRIVATE_PROJECTS_IN_PUBLIC_CHANNELS: events of non-public projects may reach public channels too. */
  allowPrivateProjectsInPublicChannels?: boolean;
  /** How long a claim on posting a thread's root may stay unposted before another delivery takes it over. */
  rootClaimTimeoutMs?: number;
}

/** Last guard before Mattermost: a message over the limit is cut, never refused. */
export function fitMessage(message: string): string {
  const chars = Array.from(message);
  if (chars.length <= MATTERMOST_MAX_POST_CHARS) return message;
  return `${chars.slice(0, MATTERMOST_MAX_POST_CHARS - 2).join("")} …`;
}

const CHANNEL_TTL_MS = 60_000;
/** What thread_roots.root_state holds: the root's state and the delivery that made the root. */
type StoredRootState = RootState & { deliveryId: string };
/** Stamped into each post's props: a retry after a crash finds the post it may already have made. */
export const DELIVERY_PROP = "gitlab_mm_delivery";
/** How far before an interrupted attempt to look for its post (clock skew between bot and Mattermost). */
const LOOKBACK_MS = 5 * 60_000;
/** A delivery with its channel known (for a direct message: the DM channel). */
type Targeted = DeliveryJobData & { channelId: string };
/** Where a non-public project's events may be posted: private channels, direct and group messages. */
const CLOSED_CHANNEL_TYPES: ReadonlySet<string> = new Set(["P", "D", "G"]);
/** Longer than a post takes even when Mattermost is slow, so a live holder is not overtaken. */
const ROOT_CLAIM_TIMEOUT_MS = 2 * 60_000;
/** While another delivery posts a thread's root: look again this often, this many times, then requeue. */
const ROOT_POLL_MS = 100;
const ROOT_POLLS = 20;
const ROOT_REQUEUE_MS = 1000;

/** Another delivery is posting the thread's root; this one replies once the root exists. */
export class RootPendingError extends Error {
  constructor(threadKey: string) {
    super(`the root post of ${threadKey} is being posted by another delivery`);
    this.name = "RootPendingError";
  }
}

/** Mattermost's answer to a reply whose root post was deleted (api4 createPost: the root cannot be read). */
function rootIsGone(error: unknown): boolean {
  return error instanceof MattermostError && (error.status === 404 || (error.status === 400 && error.errorId === "api.post.create_post.root_id.app_error"));
}

/** The limiter's count when no pace is set: never reached, so only pauses hold the workers back. */
const UNPACED_POSTS_PER_SECOND = 1_000_000;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Posts one delivery under its job id; returns the post id, or undefined when the post must not be made. */
export type Deliverer = (jobId: string, job: DeliveryJobData) => Promise<string | undefined>;

export function createDeliverer(deps: DeliveryDeps): Deliverer {
  const now = deps.now ?? Date.now;
  const claimTimeoutMs = deps.rootClaimTimeoutMs ?? ROOT_CLAIM_TIMEOUT_MS;
  const channels = new Map<string, { info: ChannelInfo; at: number }>();
  /** Mattermost user id -> DM channel id of the bot and that user (such channels never change). */
  const directChannels = new Map<string, string>();

  async function directChannel(userId: string): Promise<string> {
    const known = directChannels.get(userId);
    if (known) return known;
    const channel = await deps.mattermost.createDirectChannel(deps.botUserId, userId);
    if (directChannels.size > 50_000) directChannels.clear();
    directChannels.set(userId, channel.id);
    return channel.id;
  }

  async function channel(id: string): Promise<ChannelInfo> {
    const cached = channels.get(id);
    if (cached && now() - cached.at < CHANNEL_TTL_MS) return cached.info;
    const info = await deps.mattermost.getChannel(id);
    if (channels.size > 50_000) channels.clear();
    channels.set(id, { info, at: now() });
    return info;
  }

  /** Whether the channel, as it is now, may show this post; a refusal is counted and is not an error. */
  async function mayPost(jobId: string, data: Targeted): Promise<boolean> {
    // Direct messages were addressed to people the item concerns (the router checked).
    if (data.userId) return true;
    const notPublic = data.visibility !== undefined && data.visibility !== "public" && !deps.allowPrivateProjectsInPublicChannels;
    if (!data.confidential && !notPublic) return true;
    const info = await channel(data.channelId);
    if (data.confidential && info.type !== "P") {
      deps.metrics.deliveriesWithheld.inc({ reason: "confidential" });
      deps.logger.warn({ job: jobId, channel: data.channelId }, "confidential notification not posted: channel is not private");
      return false;
    }
    if (notPublic && !CLOSED_CHANNEL_TYPES.has(info.type)) {
      deps.metrics.deliveriesWithheld.inc({ reason: "not_public" });
      deps.logger.info({ job: jobId, channel: data.channelId, visibility: data.visibility }, "event of a non-public project not posted: the channel is public");
      return false;
    }
    return true;
  }

  /**
   * Where a post about a thread goes: a reply to the known root, or the root itself when this delivery
   * wins the claim on making it. While another delivery holds that claim, wait a little for its root.
   */
  async function threadPlace(jobId: string, data: Targeted, threadKey: string): Promise<{ rootId: string } | { root: StoredRootState; state: string }> {
    const root: StoredRootState = { ...initialRootState(data.post, data.locale, data.threadUpdate), deliveryId: jobId };
    const state = JSON.stringify(root);
    for (let poll = 0; poll < ROOT_POLLS; poll++) {
      const place = await claimThreadRoot(deps.db, data.channelId, threadKey, { state, at: now(), staleAfterMs: claimTimeoutMs });
      if (place.kind === "reply") return { rootId: place.rootId };
      if (place.kind === "root") return { root, state };
      await pause(ROOT_POLL_MS);
    }
    throw new RootPendingError(threadKey);
  }

  /** Edits a thread's root post to show what this event changed; safe to repeat. */
  async function updateRoot(rootId: string, data: Targeted & { threadKey: string; threadUpdate: ThreadUpdate }): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const stored = await findRootState(deps.db, data.channelId, data.threadKey);
      if (!stored) return; // a root made before root states existed: leave it as it is
      const state = JSON.parse(stored) as StoredRootState;
      const next: StoredRootState = { ...applyThreadUpdate(state, data.threadUpdate), deliveryId: state.deliveryId };
      if (sameDisplay(state, next)) return;
      if (!(await replaceRootState(deps.db, data.channelId, data.threadKey, stored, JSON.stringify(next)))) continue;
      const content = renderRoot(next);
      try {
        await deps.mattermost.patchPost(rootId, {
          message: fitMessage(content.message),
          props: { [DELIVERY_PROP]: next.deliveryId, ...(content.attachments?.length ? { attachments: content.attachments } : {}) },
        });
      } catch (error) {
        // The reply is made; a root that was deleted or can no longer be edited is not worth failing it.
        if (error instanceof MattermostError && (error.kind === "client" || error.kind === "auth")) {
          deps.logger.warn({ channel: data.channelId, root: rootId, err: error.message }, "thread root not updated");
          return;
        }
        // Put the state back so the retry edits the root again.
        await replaceRootState(deps.db, data.channelId, data.threadKey, JSON.stringify(next), stored);
        throw error;
      }
      return;
    }
  }

  return async function deliver(jobId, job) {
    const channelId = job.channelId ?? (job.userId ? await directChannel(job.userId) : undefined);
    if (!channelId) throw new UnrecoverableError("delivery job names neither a channel nor a user");
    const data: Targeted = { ...job, channelId };
    if (!(await mayPost(jobId, data))) return undefined;
    // Recording the attempt and claiming the thread's place are independent: together they share a commit.
    const [previous, firstPlace] = await Promise.all([
      startDelivery(deps.db, jobId, data.channelId, now()),
      data.threadKey ? threadPlace(jobId, data, data.threadKey) : undefined,
    ]);
    // A first attempt was recorded as started just now; an earlier attempt's record is renewed before sending.
    let recorded = previous === undefined;
    for (let restart = 0; ; restart++) {
      const place = restart === 0 ? firstPlace : data.threadKey ? await threadPlace(jobId, data, data.threadKey) : undefined;
      const rootId = place && "rootId" in place ? place.rootId : undefined;
      // The first post about an issue or merge request becomes its thread's root and shows its state.
      const root = place && "root" in place ? place : undefined;
      let postId = previous?.postId ?? undefined;
      if (!postId && previous) {
        // An earlier attempt stopped between sending and recording: did its post arrive?
        const recent = await deps.mattermost.getPostsSince(data.channelId, previous.startedAt - LOOKBACK_MS);
        postId = recent.find((p) => p.props?.[DELIVERY_PROP] === jobId)?.id;
      }
      if (!postId) {
        if (!recorded) await markDeliveryStarted(deps.db, jobId, data.channelId, now());
        recorded = true;
        const content: PostContent = root && data.threadUpdate ? renderRoot(root.root) : data.post;
        try {
          const created = await deps.mattermost.createPost({
            channel_id: data.channelId,
            message: fitMessage(content.message),
            ...(rootId ? { root_id: rootId } : {}),
            props: { [DELIVERY_PROP]: jobId, ...(content.attachments?.length ? { attachments: content.attachments } : {}) },
            pending_post_id: `${deps.botUserId}:${jobId}`,
          });
          postId = created.id;
        } catch (error) {
          // Someone deleted the thread's root post: forget it, and this post starts the thread again.
          if (rootId && data.threadKey && restart === 0 && rootIsGone(error)) {
            deps.logger.info({ job: jobId, channel: data.channelId, root: rootId }, "thread root post is gone; starting a new thread");
            await forgetThreadRoot(deps.db, data.channelId, data.threadKey, rootId);
            continue;
          }
          throw error;
        }
        deps.metrics.postLatency.observe(Math.max(0, now() - data.receivedAt) / 1000);
      }
      const done = previous?.postId ? undefined : markDeliveryDone(deps.db, jobId, postId);
      if (root && data.threadKey) {
        // The post's record and its thread's root, in one commit.
        const [, completed] = await Promise.all([done, completeThreadRoot(deps.db, data.channelId, data.threadKey, root.state, postId)]);
        if (!completed) {
          deps.logger.warn({ job: jobId, channel: data.channelId, thread: data.threadKey }, "thread root claim was taken over while posting; this post stands apart");
        }
        return postId;
      }
      await done;
      if (rootId && rootId !== postId && data.threadKey && data.threadUpdate) {
        await updateRoot(rootId, { ...data, threadKey: data.threadKey, threadUpdate: data.threadUpdate });
      }
      return postId;
    }
  };
}

export function startDeliveryWorker(
  deps: DeliveryDeps & { connection: Redis; prefix: string; concurrency?: number; postsPerSecond?: number; deliver?: Deliverer },
): Worker<DeliveryJobData> {
  // Shared with the events worker when it posts small events itself: one cache of channels and DM channels.
  const deliver = deps.deliver ?? createDeliverer(deps);
  const concurrency = deps.concurrency ?? 8;
  let pausedUntil = 0;
  const worker: Worker<DeliveryJobData> = new Worker<DeliveryJobData>(
    DELIVERIES_QUEUE,
    async (job: Job<DeliveryJobData>, token?: string) => {
      try {
        const postId = await deliver(job.id ?? job.name, job.data);
        // Mattermost's bucket is nearly empty: hold every delivery worker back until the posts
        // already on their way still fit, rather than spend the rest and draw 429s.
        const budget = deps.mattermost.rateBudget();
        const pauseMs = budget ? pauseForBudget(budget, concurrency) : 0;
        // Answers arrive in turn; a later one asking a shorter pause must not cut an earlier one short.
        if (pauseMs > 0 && Date.now() + pauseMs > pausedUntil) {
          pausedUntil = Date.now() + pauseMs;
          await worker.rateLimit(pauseMs);
        }
        return { postId };
      } catch (error) {
        if (error instanceof RootPendingError) {
          // Not a failure: come back when the root is likely posted, without spending an attempt.
          await job.moveToDelayed(Date.now() + ROOT_REQUEUE_MS, token);
          throw new DelayedError();
        }
        if (!(error instanceof MattermostError)) throw error;
        deps.metrics.mattermostErrors.inc({ kind: error.kind });
        if (error.kind === "rate_limited") {
          // Mattermost said when to come back: pause the whole queue that long, without spending an attempt.
          await worker.rateLimit(error.retryAfterMs ?? 1000);
          throw Worker.RateLimitError();
        }
        if (error.kind === "auth") {
          // A revoked token or a bot taken out of a channel is mended by an administrator: keep trying, and say so loudly.
          deps.metrics.mattermostAuthFailures.inc();
          deps.logger.error(
            { job: job.id, channel: job.data.channelId, user: job.data.userId, status: error.status, err: error.message, attempts: job.attemptsMade + 1 },
            "Mattermost refused the bot (token revoked, or the bot is not in the channel); retrying",
          );
          throw error;
        }
        if (error.kind === "client") {
          deps.logger.error({ job: job.id, channel: job.data.channelId, user: job.data.userId, status: error.status, err: error.message }, "Mattermost refused the post; not retried");
          throw new UnrecoverableError(error.message);
        }
        throw error; // 5xx and network errors: backoff
      }
    },
    {
      connection: deps.connection,
      prefix: deps.prefix,
      concurrency,
      settings: { backoffStrategy },
      // BullMQ's limiter counts in Redis, so it paces every worker of every process together. Without
      // a set pace it still must be there: BullMQ honours a pause (rateLimit) only on a limited queue.
      limiter: { max: deps.postsPerSecond ?? UNPACED_POSTS_PER_SECOND, duration: 1000 },
    },
  );
  worker.on("failed", (job, error) =>
    deps.logger.warn({ job: job?.id, channel: job?.data.channelId, user: job?.data.userId, err: error.message, attempts: job?.attemptsMade }, "delivery failed"),
  );
  worker.on("error", (error) => deps.logger.error({ err: error.message }, "delivery worker error"));
  return worker;
}
