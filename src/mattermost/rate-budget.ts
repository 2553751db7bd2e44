// Mattermost's rate limiter (throttled's GCRA: RateLimitSettings PerSec and MaxBurst) reports on every
// answer how much of its bucket is left. Reading it lets the bot slow down before the bucket is empty,
// instead of learning the limit from a storm of 429s, and with no setting to keep in step with the server.

/** What the limiter said on one answer (X-Ratelimit-Limit, -Remaining, -Reset). */
export interface RateBudget {
  /** The bucket's size as reported (throttled reports MaxBurst + 1). */
  limit: number;
  /** Requests that may still be made at once. */
  remaining: number;
  /** Seconds until the bucket is full again (rounded up by the server). */
  resetSeconds: number;
}

/** A header's whole number, or undefined: short digit strings only (the value comes over the network). */
function wholeNumber(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text.length === 0 || text.length > 12) return undefined;
  for (const ch of text) if (ch < "0" || ch > "9") return undefined;
  return Number(text);
}

/** The budget an answer reports, or undefined when Mattermost's limiter is off (no such headers). */
export function readRateBudget(header: (name: string) => string | undefined): RateBudget | undefined {
  const limit = wholeNumber(header("x-ratelimit-limit"));
  const remaining = wholeNumber(header("x-ratelimit-remaining"));
  const resetSeconds = wholeNumber(header("x-ratelimit-reset"));
  if (limit === undefined || remaining === undefined || resetSeconds === undefined) return undefined;
  return { limit, remaining, resetSeconds };
}

/** Never hold off for less than this: the queue's pause is a Redis round trip, worth it only for a real wait. */
const MIN_PAUSE_MS = 50;

/**
 * How long every sender should hold off, given `concurrency` requests at a time: 0 while the bucket
 * has room. When a request is answered, up to `concurrency - 1` others may be on their way, and after
 * a pause a whole wave of `concurrency` starts at once; so the pause lasts until twice that many
 * tokens are back (or the bucket is full, when it is smaller). The refill rate is estimated from the
 * tokens missing and the seconds until full; the server rounds those seconds up, so the estimate is
 * low and the pause errs long.
 */
export function pauseForBudget(budget: RateBudget, concurrency: number): number {
  const wanted = Math.min(2 * concurrency - 1, budget.limit - 1);
  if (budget.remaining >= wanted) return 0;
  const resetMs = Math.max(1, budget.resetSeconds) * 1000;
  const missing = budget.limit - 1 - budget.remaining;
  return Math.max(MIN_PAUSE_MS, Math.min(resetMs, Math.ceil(((wanted - budget.remaining) * resetMs) / missing)));
}
