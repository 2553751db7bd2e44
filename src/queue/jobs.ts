// Job data and ids. Job data holds no token or key: payload text from GitLab and what to post (whose buttons
// carry contexts the bot signed, which are good only for the one action on the one object they name).
import { createHash } from "node:crypto";
import type { Locale } from "../config.js";
import type { Visibility } from "../gitlab/access.js";
import type { PostContent, ThreadUpdate } from "../notification.js";

export const EVENTS_QUEUE = "events";
export const DELIVERIES_QUEUE = "deliveries";

/** GitLab keeps an Idempotency-Key across retries of one delivery; remember keys this long. */
export const DEDUPE_TTL_MS = 25 * 60 * 60 * 1000;

export interface EventJobData {
  /** X-Gitlab-Event header, for events whose payload names no kind. */
  eventHeader?: string;
  /** The kind the ingress recognised (object_kind or event_name). */
  kind: string;
  /** When the bot received it (ms since epoch), for the webhook-to-post latency metric. */
  receivedAt: number;
  /** The webhook body exactly as GitLab sent it (parsed by the worker; cheaper than re-serialising). */
  body: string;
  /**
   * Handed to the events queue after its handling failed or its consumer stopped (src/queue/intake.ts):
   * some of its posts may have been made, so each goes through the deliveries queue.
   */
  retried?: boolean;
}

/** A webhook under its delivery id: what the intake keeps and hands to the events queue. */
export interface IdentifiedEvent {
  id: string;
  data: EventJobData;
}

export interface DeliveryJobData {
  /** The channel to post in; for a direct message, `userId` instead. */
  channelId?: string;
  /** A direct message to this Mattermost user (the delivery worker opens the DM channel). */
  userId?: string;
  eventKey: string;
  /** Issue or merge request the post belongs to; later posts about it reply in its thread. */
  threadKey?: string;
  /** How the thread's subject changed: the root post is edited to show it. */
  threadUpdate?: ThreadUpdate;
  /** Confidential content is posted only to private channels, checked again just before posting. */
  confidential: boolean;
  /**
   * Who may see the project the post is about ("unknown" when the payload did not say); anything but
   * "public" is posted only in private channels, direct and group messages, checked just before posting.
   * Absent on posts that show nothing of a project (notices about a subscription).
   */
  visibility?: Visibility | "unknown";
  post: PostContent;
  /** Language the post was rendered in (the root post's status fields use it too). */
  locale: Locale;
  receivedAt: number;
}

function digest(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 40);
}

/** The id of a webhook delivery: GitLab's Idempotency-Key, else a hash of the body. */
export function deliveryIdFor(idempotencyKey: string | undefined, body: string | Uint8Array): string {
  return `wh-${idempotencyKey ? digest(`key:${idempotencyKey}`) : digest(`body:${createHash("sha256").update(body).digest("hex")}`)}`;
}

/** One post per (event, channel): derived from what happened, not from how it arrived. */
export function deliveryJobId(eventKey: string, channelId: string): string {
  return `post-${digest(`${eventKey}|${channelId}`)}`;
}

/** One direct message per (event, Mattermost user), whatever channels also get it. */
export function personalJobId(eventKey: string, userId: string): string {
  return `dm-${digest(`${eventKey}|user:${userId}`)}`;
}
