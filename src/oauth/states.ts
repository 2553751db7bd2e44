// The short-lived secrets of the connect flow, in Redis (shared by every bot process):
// - a connect token, made by `/gitlab connect` for one Mattermost user, taken (once) by GET /oauth/gitlab/connect;
// - the OAuth `state` of the redirect to GitLab, with the PKCE verifier and a hash of the browser cookie,
//   taken (once) by GET /oauth/gitlab/callback.
// Both belong to the Mattermost user who typed the command and die 10 minutes after the command.
// Keys are hashes of the secrets, so the Redis keyspace holds nothing a browser could present.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Redis } from "ioredis";

export const STATE_TTL_MS = 10 * 60_000;

export interface ConnectRequest {
  mattermostUserId: string;
  mattermostUsername: string;
  /** When `/gitlab connect` made it (ms); the whole flow must finish within STATE_TTL_MS of it. */
  createdAt: number;
}

export interface PendingAuthorization extends ConnectRequest {
  codeVerifier: string;
  /** sha256 (hex) of the cookie the browser got at /oauth/gitlab/connect. */
  browserHash: string;
}

export type Taken<T> = { ok: true; value: T } | { ok: false; reason: "unknown" | "expired" };

export interface OAuthStates {
  /** A new single-use connect token for the user. */
  issueConnect(user: { id: string; username: string }): Promise<string>;
  takeConnect(token: string): Promise<Taken<ConnectRequest>>;
  /** Remembers an authorization sent to GitLab under its `state`; returns the state. */
  savePending(pending: PendingAuthorization): Promise<string>;
  /** Reads without using it (to check the browser before a stranger can burn it). */
  peekPending(state: string): Promise<Taken<PendingAuthorization>>;
  takePending(state: string): Promise<Taken<PendingAuthorization>>;
}

/** What a browser presents: 43 base64url characters (32 random bytes). */
export const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function newSecret(): string {
  return randomBytes(32).toString("base64url");
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Whether two sha256 hex digests are equal, in constant time. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** A stored flow step as `Taken`: unknown when missing or unreadable, expired past STATE_TTL_MS after `createdAt`. */
export function takenFrom<T extends { createdAt: number }>(raw: string | null, now: number): Taken<T> {
  if (!raw) return { ok: false, reason: "unknown" };
  let value: T;
  try {
    value = JSON.parse(raw) as T;
  } catch {
    return { ok: false, reason: "unknown" };
  }
  if (typeof value.createdAt !== "number" || now - value.createdAt > STATE_TTL_MS || value.createdAt - now > 60_000) {
    return { ok: false, reason: "expired" };
  }
  return { ok: true, value };
}

/** How long Redis keeps a step made at `createdAt`: a little past the deadline, which itself is checked against the clock. */
export function redisTtlMs(createdAt: number, now: number): number {
  return Math.max(1000, createdAt + STATE_TTL_MS - now + 60_000);
}

export function createOAuthStates(opts: { redis: Redis; keyPrefix: string; now?: () => number }): OAuthStates {
  const { redis } = opts;
  const now = opts.now ?? Date.now;
  const key = (kind: "connect" | "pending", secret: string) => `${opts.keyPrefix}:oauth:${kind}:${sha256Hex(secret)}`;
  const ttlFor = (createdAt: number) => redisTtlMs(createdAt, now());
  const parse = <T extends ConnectRequest>(raw: string | null) => takenFrom<T>(raw, now());

  return {
    async issueConnect(user) {
      const token = newSecret();
      const request: ConnectRequest = { mattermostUserId: user.id, mattermostUsername: user.username, createdAt: now() };
      await redis.set(key("connect", token), JSON.stringify(request), "PX", ttlFor(request.createdAt));
      return token;
    },
    async takeConnect(token) {
      if (!SECRET_PATTERN.test(token)) return { ok: false, reason: "unknown" };
      return parse<ConnectRequest>(await redis.getdel(key("connect", token)));
    },
    async savePending(pending) {
      const state = newSecret();
      await redis.set(key("pending", state), JSON.stringify(pending), "PX", ttlFor(pending.createdAt));
      return state;
    },
    async peekPending(state) {
      if (!SECRET_PATTERN.test(state)) return { ok: false, reason: "unknown" };
      return parse<PendingAuthorization>(await redis.get(key("pending", state)));
    },
    async takePending(state) {
      if (!SECRET_PATTERN.test(state)) return { ok: false, reason: "unknown" };
      return parse<PendingAuthorization>(await redis.getdel(key("pending", state)));
    },
  };
}
