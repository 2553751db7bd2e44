// A deadline for one piece of work (a Redis write, a health check) and, as middleware, for a whole
// request: a client that trickles its body must not hold a handler open for ever.
import type { Context, MiddlewareHandler } from "hono";

/** Thrown by withTimeout when the work did not finish in time (the work itself goes on, unobserved). */
export class TimeoutError extends Error {
  constructor(readonly ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = "TimeoutError";
  }
}

/** `promise`, or a TimeoutError after `ms`; the timer never outlives the race. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(ms)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

function assertDuration(ms: number): void {
  if (!Number.isInteger(ms) || ms <= 0) throw new TypeError(`timeout: ms must be a positive whole number, not ${ms}`);
}

/**
 * Answers with `onTimeout` when the rest of the chain has not answered within `ms` (Hono's `timeout`
 * throws instead, which our app's error handler would turn into a 500).
 */
export function timeout(ms: number, onTimeout: (c: Context) => Response | Promise<Response>): MiddlewareHandler {
  assertDuration(ms);
  return async (c, next) => {
    try {
      await withTimeout(next(), ms);
    } catch (error) {
      if (!(error instanceof TimeoutError)) throw error;
      return onTimeout(c);
    }
  };
}
