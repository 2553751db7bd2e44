// The time budget of the property tests that guard scanners of text a stranger wrote.

/** No scanner may take this long on one input: a backtracking one takes seconds, or never ends. */
export const BUDGET_MS = 50;

/**
 * Milliseconds one call takes. A call over budget is timed again, up to three times, and the fastest
 * time kept: on a shared machine a garbage collection, the compiler or another process can stall a
 * call, but a scanner that backtracks is slow every time.
 */
export function elapsed(run: () => unknown): number {
  let fastest = Number.POSITIVE_INFINITY;
  for (let attempt = 0; attempt < 3 && fastest >= BUDGET_MS; attempt++) {
    const start = performance.now();
    run();
    fastest = Math.min(fastest, performance.now() - start);
  }
  return fastest;
}
