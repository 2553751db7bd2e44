// The admin backend over a running bot's admin API (src/http/admin-routes.ts): `gitlab-mm --url <bot>
// --token <ADMIN_TOKEN>`. The token travels only in the Authorization header and is never printed; a
// redirect is refused rather than followed, so the header goes nowhere but the named bot.
import type { PreviewOptions } from "../preview.js";
import type { QueueName, QueueStats } from "../queue/admin.js";
import type { MigrationStatus } from "../store/db.js";
import { trimSlashes } from "../text/slashes.js";
import type { AdminBackend, ConnectedUser, SubscriptionEntry } from "./backend.js";

export interface RemoteTarget {
  /** The bot's base URL (PUBLIC_URL, or an address only administrators reach). */
  url: string;
  token: string;
  /** Let http:// reach a host other than this machine (the token then crosses the network in clear). */
  insecure?: boolean;
}

/** How long one admin call may take (the bot gives up on its side after 30 s). */
const CALL_TIMEOUT_MS = 35_000;

/** A --url the CLI will not send the token to. */
export class RemoteTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RemoteTargetError";
  }
}

function isLoopback(hostname: string): boolean {
  if (hostname === "localhost" || hostname === "[::1]") return true;
  const octets = hostname.split(".");
  return octets.length === 4 && octets[0] === "127" && octets.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255);
}

/**
 * The bot's base URL, checked: http(s) only, no credentials in it, and http:// only to this machine
 * unless `insecure` (over http:// anyone on the way reads the admin token).
 */
export function checkRemoteUrl(url: string, insecure = false): URL {
  if (url.length > 2048 || !URL.canParse(url)) throw new RemoteTargetError("--url must be the bot's http:// or https:// address");
  const parsed = new URL(url);
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") throw new RemoteTargetError("--url must be the bot's http:// or https:// address");
  if (parsed.username || parsed.password) throw new RemoteTargetError("--url must not hold a user or password: the admin token goes in --token or GITLAB_MM_TOKEN");
  if (parsed.protocol === "http:" && !insecure && !isLoopback(parsed.hostname)) {
    throw new RemoteTargetError(`--url ${parsed.origin} is http://, which would send the admin token in clear: use https://, or add --insecure on a network you trust`);
  }
  parsed.search = "";
  parsed.hash = "";
  return parsed;
}

interface ErrorBody {
  error?: unknown;
  code?: unknown;
}

export function createRemoteBackend(target: RemoteTarget): AdminBackend {
  const base = checkRemoteUrl(target.url, target.insecure);
  // A bot under a sub-path (https://example.com/gitlab-bot/) keeps it.
  const under = trimSlashes(base.pathname);
  const prefix = under ? `/${under}` : "";

  async function call<T>(method: string, path: string, init: { query?: Record<string, string | undefined>; json?: unknown; text?: string } = {}): Promise<{ status: number; body: T }> {
    const url = new URL(base);
    url.pathname = `${prefix}/admin/${path}`;
    for (const [name, value] of Object.entries(init.query ?? {})) if (value !== undefined) url.searchParams.set(name, value);
    const headers: Record<string, string> = { Authorization: `Bearer ${target.token}`, Accept: "application/json" };
    let body: string | undefined;
    if (init.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(init.json);
    } else if (init.text !== undefined) {
      headers["Content-Type"] = "application/json";
      body = init.text;
    }
    let response: Response;
    try {
      response = await fetch(url, { method, headers, body, redirect: "manual", signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
    } catch (error) {
      const e = error as Error & { cause?: { message?: string; code?: string } };
      if (e.name === "TimeoutError") throw new Error(`the bot at ${base.origin} did not answer within ${CALL_TIMEOUT_MS / 1000} s`, { cause: error });
      // fetch says "fetch failed"; the cause says why (refused, a certificate it does not trust).
      throw new Error(`cannot reach the bot at ${base.origin}: ${e.cause?.message ?? e.cause?.code ?? e.message}`, { cause: error });
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (response.status >= 300 && response.status < 400) {
      throw new Error(`the bot at ${base.origin} answered with a redirect (${response.status}); give --url as the bot's final https:// address`);
    }
    if (response.status === 401) throw new Error(`the bot at ${base.origin} refused the admin token: give the bot's ADMIN_TOKEN with --token or GITLAB_MM_TOKEN`);
    return { status: response.status, body: parsed as T };
  }

  /** The answer's body when it is a success; else the bot's own words (`error`), or its status. */
  function expectOk<T>(answer: { status: number; body: unknown }): T {
    if (answer.status < 300 && answer.body !== undefined) return answer.body as T;
    const said = (answer.body as ErrorBody | undefined)?.error;
    throw new Error(typeof said === "string" && said ? said.slice(0, 1000) : `the bot answered ${answer.status} (is --url the bot's address?)`);
  }

  return {
    async migrationStatus() {
      return expectOk<MigrationStatus>(await call("GET", "migrations"));
    },
    async listSubscriptions(channelId) {
      return expectOk<SubscriptionEntry[]>(await call("GET", "subscriptions", { query: { channel: channelId } }));
    },
    async addSubscription({ channelId, path, features }) {
      const { created } = expectOk<{ created: boolean }>(await call("PUT", "subscriptions", { json: { channel: channelId, path, features } }));
      return { created };
    },
    async deleteSubscription(channelId, path) {
      const answer = await call<ErrorBody>("DELETE", "subscriptions", { query: { channel: channelId, path } });
      if (answer.status === 404 && answer.body?.code === "not_found") return false;
      expectOk(answer);
      return true;
    },
    async listUsers() {
      return expectOk<ConnectedUser[]>(await call("GET", "users"));
    },
    async spooledWebhooks() {
      return expectOk<{ spooled: number }>(await call("GET", "queue/spool")).spooled;
    },
    async queueStats() {
      return expectOk<QueueStats>(await call("GET", "queue/stats"));
    },
    async retryFailed() {
      return expectOk<Record<QueueName, number>>(await call("POST", "queue/retry-failed"));
    },
    async preview(payload, options: PreviewOptions) {
      const query = { lang: options.lang, event: options.eventHeader, format: options.json ? "json" : undefined };
      return expectOk<{ text: string }>(await call("POST", "preview", { query, text: payload })).text;
    },
  };
}
