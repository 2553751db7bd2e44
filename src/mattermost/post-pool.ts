// The delivery worker's calls (create and patch a post), once per event, over one keep-alive undici
// Pool per Mattermost server with the JSON body sent as a string: Client4's fetch spends several
// times the CPU on web streams for the same request. When the process sends its outbound HTTP
// through a proxy (src/outbound-proxy.ts sets undici's global dispatcher), that dispatcher carries
// these calls too, so the pool never bypasses the proxy or NO_PROXY.
import { getGlobalDispatcher, Pool, type Dispatcher } from "undici";
import { readRateBudget, type RateBudget } from "./rate-budget.js";

/** What Mattermost answered, as bytes read to the end and the headers the caller needs. */
export interface PlainAnswer {
  status: number;
  contentType: string | undefined;
  retryAfter: string | undefined;
  /** What Mattermost's rate limiter reported, when it is on. */
  rateBudget: RateBudget | undefined;
  text: string;
}

/** undici's own global dispatcher, as it was when the bot loaded: any other was set for the process (the proxy). */
const unconfiguredDispatcher = getGlobalDispatcher();
const pools = new Map<string, Pool>();

function dispatcherFor(origin: string): Dispatcher {
  const global = getGlobalDispatcher();
  if (global !== unconfiguredDispatcher) return global;
  let pool = pools.get(origin);
  if (!pool) {
    // No cap on connections: the pool opens one per request in flight, so as many as the delivery
    // worker's concurrency (DELIVERY_CONCURRENCY), and keeps them for the next ones. One request at a
    // time on each (no pipelining): a POST is not safe to replay when a connection drops mid-queue.
    pool = new Pool(origin, { pipelining: 1 });
    pools.set(origin, pool);
  }
  return pool;
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(", ") : value;
}

/** Sends a JSON body to a Mattermost URL; throws only when no answer arrived in `timeoutMs` (network errors). */
export async function sendJson(method: Dispatcher.HttpMethod, url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<PlainAnswer> {
  const target = new URL(url);
  const answer = await dispatcherFor(target.origin).request({
    origin: target.origin,
    path: `${target.pathname}${target.search}`,
    method,
    headers,
    body,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const text = await answer.body.text();
  return {
    status: answer.statusCode,
    contentType: headerText(answer.headers["content-type"]),
    retryAfter: headerText(answer.headers["retry-after"]),
    rateBudget: readRateBudget((name) => headerText(answer.headers[name])),
    text,
  };
}
