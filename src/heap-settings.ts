// V8 heap settings of the bot's process (every role), set in code rather than as node flags so that
// `npm start`, Docker, systemd and the benchmarks all run with them.
import { setFlagsFromString } from "node:v8";

/**
 * Between full collections V8 lets the old generation grow to up to 4 × its live size when a thread
 * allocates fast, as both sides do under a burst of webhooks: the peak RSS, mostly dead objects.
 * Growing it by at most this percent keeps the peak near what is live; a large webhook still fits,
 * since the limit follows the live size rather than capping it.
 */
const HEAP_GROWING_PERCENT = 20;

/**
 * V8 reads these at each collection, in every isolate of the process. Starting a worker thread resets
 * them, so the worker side of role all applies them again once it runs (src/worker-side.ts).
 */
export function applyHeapSettings(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
