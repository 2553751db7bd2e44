// The only module that talks to Mattermost. Calls go through @mattermost/client's Client4 (its URL
// routes, auth header and fetch); we ask Client4 to hand back the raw response so the HTTP status and
// Retry-After are visible: Mattermost answers 429 in text/plain, and Client4's own error then carries
// no status code. The two calls made for each delivered event (create and patch a post) take Client4's
// routes and headers but go through a keep-alive pool (post-pool.ts), read as Client4 reads answers.
import mattermostClient from "@mattermost/client";
import type { Channel, ChannelMembership } from "@mattermost/types/channels";
import type { Post, PostList } from "@mattermost/types/posts";
import type { UserProfile } from "@mattermost/types/users";
import type { MessageAttachment } from "../notification.js";
import { sendJson, type PlainAnswer } from "./post-pool.js";
import { readRateBudget, type RateBudget } from "./rate-budget.js";

const { Client4 } = mattermostClient;

/** `auth`: 401/403, the bot token was revoked or the bot lost its place in a channel (an administrator can mend that). */
export type MattermostErrorKind = "rate_limited" | "server" | "network" | "client" | "auth";

export class MattermostError extends Error {
  constructor(
    readonly kind: MattermostErrorKind,
    message: string,
    readonly status?: number,
    /** For `rate_limited`: how long Mattermost asked us to wait. */
    readonly retryAfterMs?: number,
    /** Mattermost's error id (e.g. "api.post.create_post.root_id.app_error"), when it sent one. */
    readonly errorId?: string,
  ) {
    super(message);
    this.name = "MattermostError";
  }
}

export interface NewPost {
  channel_id: string;
  message: string;
  root_id?: string;
  /** Mattermost drops a create whose pending_post_id it has just seen: a retried job never posts twice. */
  pending_post_id?: string;
  props?: { attachments?: MessageAttachment[]; [key: string]: unknown };
}

export interface PostPatch {
  message?: string;
  props?: { attachments?: MessageAttachment[]; [key: string]: unknown };
}

export type ChannelInfo = Pick<Channel, "id" | "type" | "team_id" | "name" | "display_name">;
export type UserInfo = Pick<UserProfile, "id" | "username" | "roles" | "locale" | "timezone">;
export type PostInfo = Pick<Post, "id" | "channel_id" | "user_id" | "message" | "root_id" | "props">;

/** Mattermost ids are 26 characters of [a-z0-9]. */
function isMattermostId(text: string): boolean {
  if (text.length !== 26) return false;
  for (const ch of text) if (!((ch >= "a" && ch <= "z") || (ch >= "0" && ch <= "9"))) return false;
  return true;
}

/** What the rest of the bot may ask of Mattermost. */
export interface MattermostApi {
  getMe(): Promise<UserInfo>;
  createPost(post: NewPost): Promise<{ id: string }>;
  patchPost(postId: string, patch: PostPatch): Promise<void>;
  getChannel(channelId: string): Promise<ChannelInfo>;
  /** The user's membership of the channel, or undefined when they are not a member. */
  getChannelMember(channelId: string, userId: string): Promise<Pick<ChannelMembership, "roles" | "scheme_admin"> | undefined>;
  getUser(userId: string): Promise<UserInfo>;
  /** A post as the bot may read it, or undefined when it does not exist or the bot cannot read it. */
  getPost(postId: string): Promise<PostInfo | undefined>;
  /**
   * The post id a permalink of this server names (`<server>/<team>/pl/<post_id>`), else undefined:
   * only this server's links, as for response URLs.
   */
  permalinkPostId(permalink: string): string | undefined;
  /** Posts of a channel created or changed since a time (ms), newest first. */
  getPostsSince(channelId: string, since: number): Promise<Pick<Post, "id" | "props" | "root_id">[]>;
  /** The direct-message channel of two users (made when it does not exist yet). */
  createDirectChannel(userIdA: string, userIdB: string): Promise<ChannelInfo>;
  /**
   * Finishes a slash command through its response_url. Only URLs on this Mattermost server are
   * called (the URL arrives in the request; anything else would let a caller aim the bot elsewhere).
   */
  respondToCommand(responseUrl: string, reply: { response_type: "ephemeral" | "in_channel"; text: string }): Promise<void>;
  /** What Mattermost's rate limiter reported on the latest answer; undefined while the limiter is off. */
  rateBudget(): RateBudget | undefined;
}

interface RawResponse<T> {
  response: Response;
  headers: Map<string, string>;
  data: T;
}
type RawFetch = <T>(url: string, options: { method: string; body?: string; ignoreStatus: true; signal: AbortSignal }) => Promise<RawResponse<T>>;

/** An answer from Mattermost, whichever way it was sent: status, Retry-After, and the body as Client4 reads it. */
interface Answer<T> {
  status: number;
  retryAfter: string | undefined;
  rateBudget: RateBudget | undefined;
  data: T;
}
type Send = <T>(method: "GET" | "POST" | "PUT", route: string, body: string | undefined) => Promise<Answer<T>>;

/** Client4's reading of a body: JSON only under exactly application/json, else the text; bad JSON is no answer. */
function readAsClient4(answer: PlainAnswer): unknown {
  if (answer.contentType !== "application/json") return answer.text;
  try {
    return JSON.parse(answer.text) as unknown;
  } catch {
    throw new Error("Received invalid response from the server.");
  }
}

function retryAfterMs(value: string | undefined): number {
  if (!value) return 1000;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds * 1000));
  const date = Date.parse(value);
  return Number.isNaN(date) ? 1000 : Math.max(0, date - Date.now());
}

function errorIdOf(data: unknown): string | undefined {
  return data && typeof data === "object" && "id" in data && typeof data.id === "string" ? data.id : undefined;
}

function errorMessage(data: unknown): string {
  if (data && typeof data === "object" && "message" in data && typeof data.message === "string") return data.message;
  return typeof data === "string" ? data.slice(0, 200) : "";
}

/**
 * How long a call may wait for Mattermost. A wedged server (or proxy) must not hold a delivery for
 * undici's default five minutes: the delivery is retried, and finds its post if it was made after all.
 */
const DEFAULT_TIMEOUT_MS = 30_000;

export function createMattermostClient(url: string, token: string, options: { timeoutMs?: number } = {}): MattermostApi {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const client = new Client4();
  client.setUrl(url);
  client.setToken(token);
  client.setUserAgent("gitlab-mattermost-bot");
  const raw = (client as unknown as { doFetchWithResponse: RawFetch }).doFetchWithResponse;
  const viaClient4: Send = async <T>(method: string, route: string, body: string | undefined) => {
    const result = await raw<T>(route, { method, body, ignoreStatus: true, signal: AbortSignal.timeout(timeoutMs) });
    const headers = result.response.headers;
    return { status: result.response.status, retryAfter: headers.get("retry-after") ?? undefined, rateBudget: readRateBudget((name) => headers.get(name) ?? undefined), data: result.data };
  };
  // The headers Client4 would send (no Accept-Encoding: these answers are a few hundred bytes).
  const { headers: client4Headers } = client.getOptions({ method: "post", body: "{}" }) as { headers: Record<string, string> };
  const viaPool: Send = async <T>(method: "GET" | "POST" | "PUT", route: string, body: string | undefined) => {
    const answer = await sendJson(method, route, client4Headers, body ?? "", timeoutMs);
    return { status: answer.status, retryAfter: answer.retryAfter, rateBudget: answer.rateBudget, data: readAsClient4(answer) as T };
  };

  let latestBudget: RateBudget | undefined;
  async function call<T>(method: "GET" | "POST" | "PUT", route: string, body?: unknown, send: Send = viaClient4): Promise<{ status: number; data: T }> {
    let result: Answer<T>;
    try {
      result = await send<T>(method, route, body === undefined ? undefined : JSON.stringify(body));
    } catch (error) {
      throw new MattermostError("network", `Mattermost did not answer ${method} ${new URL(route).pathname}: ${(error as Error).message}`);
    }
    latestBudget = result.rateBudget;
    const status = result.status;
    if (status < 400) return { status, data: result.data };
    const what = `Mattermost answered ${status} to ${method} ${new URL(route).pathname}: ${errorMessage(result.data)}`;
    if (status === 429) throw new MattermostError("rate_limited", what, status, retryAfterMs(result.retryAfter));
    const kind = status >= 500 ? "server" : status === 401 || status === 403 ? "auth" : "client";
    throw new MattermostError(kind, what, status, undefined, errorIdOf(result.data));
  }

  return {
    rateBudget: () => latestBudget,
    async getMe() {
      return (await call<UserProfile>("GET", `${client.getUserRoute("me")}`)).data;
    },
    async createPost(post) {
      const { data } = await call<Post>("POST", client.getPostsRoute(), post, viaPool);
      return { id: data.id };
    },
    async patchPost(postId, patch) {
      await call<Post>("PUT", `${client.getPostRoute(postId)}/patch`, patch, viaPool);
    },
    async getChannel(channelId) {
      return (await call<Channel>("GET", client.getChannelRoute(channelId))).data;
    },
    async getChannelMember(channelId, userId) {
      try {
        return (await call<ChannelMembership>("GET", client.getChannelMemberRoute(channelId, userId))).data;
      } catch (error) {
        if (error instanceof MattermostError && (error.status === 404 || error.status === 403)) return undefined;
        throw error;
      }
    },
    async getUser(userId) {
      return (await call<UserProfile>("GET", client.getUserRoute(userId))).data;
    },
    async getPost(postId) {
      try {
        return (await call<Post>("GET", client.getPostRoute(postId))).data;
      } catch (error) {
        if (error instanceof MattermostError && (error.status === 404 || error.status === 403)) return undefined;
        throw error;
      }
    },
    permalinkPostId(permalink) {
      if (permalink.length > 2048 || !URL.canParse(permalink)) return undefined;
      const link = new URL(permalink);
      const server = new URL(url);
      const base = `${server.pathname.replace(/\/+$/, "")}/`;
      if (link.origin !== server.origin || !link.pathname.startsWith(base)) return undefined;
      // <team>/pl/<post_id>, a trailing slash tolerated
      const [team, pl, postId, ...more] = link.pathname.slice(base.length).split("/");
      if (!team || pl !== "pl" || postId === undefined || !isMattermostId(postId) || more.some((m) => m !== "")) return undefined;
      return postId;
    },
    async respondToCommand(responseUrl, reply) {
      let target: URL;
      try {
        target = new URL(responseUrl);
      } catch {
        throw new MattermostError("client", "response_url is not a URL");
      }
      // Under the server's own path, for a Mattermost served from a sub-path (https://host/mattermost).
      const server = new URL(url);
      const hooks = `${server.pathname.replace(/\/+$/, "")}/hooks/commands/`;
      if (target.origin !== server.origin || !target.pathname.startsWith(hooks)) {
        throw new MattermostError("client", `response_url is not a command hook of ${server.origin}${hooks}`);
      }
      await call("POST", target.toString(), reply);
    },
    async getPostsSince(channelId, since) {
      const { data } = await call<PostList>("GET", `${client.getChannelRoute(channelId)}/posts?since=${Math.floor(since)}`);
      return data.order.map((id) => data.posts[id]).filter((p): p is Post => p !== undefined);
    },
    async createDirectChannel(userIdA, userIdB) {
      return (await call<Channel>("POST", `${client.getChannelsRoute()}/direct`, [userIdA, userIdB])).data;
    },
  };
}
