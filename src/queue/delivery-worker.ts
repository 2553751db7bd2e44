// Queue "deliveries": the only code that posts to Mattermost. One job per (event, channel); the job
// id doubles as Mattermost's pending_post_id, so a create retried after a crash is not shown twice.
import { UnrecoverableError, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "../logger.js";
import { MattermostError, type ChannelInfo, type MattermostApi } from "../mattermost/client.js";
import type { Metrics } from "../metrics.js";
import { MATTERMOST_MAX_POST_CHARS, type PostContent } from "../notification.js";
import type { Db } from "../store/db.js";
import { findDelivery, markDeliveryDone, markDeliveryStarted } from "../store/deliveries.js";
import { findThreadRoot, saveThreadRoot } from "../store/thread-roots.js";
import { DELIVERIES_QUEUE, type DeliveryJobData } from "./jobs.js";

export interface DeliveryDeps {
  db: Db;
  mattermost: MattermostApi;
  botUserId: string;
  logger: Logger;
  metrics: Metrics;
  now?: () => number;
}

/** Last guard before Mattermost: a message over the limit is cut, never refused. */
export function fitMessage(message: string): string {
  const chars = Array.from(message);
  if (chars.length <= MATTERMOST_MAX_POST_CHARS) return message;
  return `${chars.slice(0, MATTERMOST_MAX_POST_CHARS - 2).join("")} …`;
}

const CHANNEL_TTL_MS = 60_000;
/** Stamped into each post's props: a retry after a crash finds the post it may already have made. */
export const DELIVERY_PROP = "gitlab_mm_delivery";
/** How far before an interrupted attempt to look for its post (clock skew between bot and Mattermost). */
const LOOKBACK_MS = 5 * 60_000;

export function createDeliverer(deps: DeliveryDeps) {
  const now = deps.now ?? Date.now;
  const channels = new Map<string, { info: ChannelInfo; at: number }>();

  async function channel(id: string): Promise<ChannelInfo> {
    const cached = channels.get(id);
    if (cached && now() - cached.at < CHANNEL_TTL_MS) return cached.info;
    const info = await deps.mattermost.getChannel(id);
    channels.set(id, { info, at: now() });
    return info;
  }

  /** Posts one delivery; returns the post id, or undefined when the post must not be made. */
  return async function deliver(jobId: string, data: DeliveryJobData): Promise<string | undefined> {
    if (data.confidential) {
      const info = await channel(data.channelId);
      if (info.type !== "P") {
        deps.logger.warn({ job: jobId, channel: data.channelId }, "confidential notification not posted: channel is not private");
        return undefined;
      }
    }
    const previous = await findDelivery(deps.db, jobId);
    if (previous?.postId) return previous.postId;
    const rootId = data.threadKey ? await findThreadRoot(deps.db, data.channelId, data.threadKey) : undefined;
    let postId: string | undefined;
    if (previous) {
      // An earlier attempt stopped between sending and recording: did its post arrive?
      const recent = await deps.mattermost.getPostsSince(data.channelId, previous.startedAt - LOOKBACK_MS);
      postId = recent.find((p) => p.props?.[DELIVERY_PROP] === jobId)?.id;
    }
    if (!postId) {
      await markDeliveryStarted(deps.db, jobId, data.channelId, now());
      const content: PostContent = data.post;
      const created = await deps.mattermost.createPost({
        channel_id: data.channelId,
        message: fitMessage(content.message),
        ...(rootId ? { root_id: rootId } : {}),
        props: { [DELIVERY_PROP]: jobId, ...(content.attachments?.length ? { attachments: content.attachments } : {}) },
        pending_post_id: `${deps.botUserId}:${jobId}`,
      });
      postId = created.id;
      deps.metrics.postLatency.observe(Math.max(0, now() - data.receivedAt) / 1000);
    }
    await markDeliveryDone(deps.db, jobId, postId);
    if (data.threadKey && !rootId) await saveThreadRoot(deps.db, data.channelId, data.threadKey, postId);
    return postId;
  };
}

export function startDeliveryWorker(deps: DeliveryDeps & { connection: Redis; prefix: string; concurrency?: number }): Worker<DeliveryJobData> {
  const deliver = createDeliverer(deps);
  const worker: Worker<DeliveryJobData> = new Worker<DeliveryJobData>(
    DELIVERIES_QUEUE,
    async (job: Job<DeliveryJobData>) => {
      try {
        return { postId: await deliver(job.id ?? job.name, job.data) };
      } catch (error) {
        if (!(error instanceof MattermostError)) throw error;
        deps.metrics.mattermostErrors.inc({ kind: error.kind });
        if (error.kind === "rate_limited") {
          // Mattermost said when to come back: pause the whole queue that long, without spending an attempt.
          await worker.rateLimit(error.retryAfterMs ?? 1000);
          throw Worker.RateLimitError();
        }
        if (error.kind === "client") {
          deps.logger.error({ job: job.id, channel: job.data.channelId, status: error.status, err: error.message }, "Mattermost refused the post; not retried");
          throw new UnrecoverableError(error.message);
        }
        throw error; // 5xx and network errors: exponential backoff
      }
    },
    { connection: deps.connection, prefix: deps.prefix, concurrency: deps.concurrency ?? 8 },
  );
  worker.on("failed", (job, error) =>
    deps.logger.warn({ job: job?.id, channel: job?.data.channelId, err: error.message, attempts: job?.attemptsMade }, "delivery failed"),
  );
  worker.on("error", (error) => deps.logger.error({ err: error.message }, "delivery worker error"));
  return worker;
}
