// An open-loop load generator: request i is sent at t0 + i/rate whether or not earlier ones were
// answered (autocannon's overallRate sends each second's quota in a burst at the start of the second).
// Latency counts from the scheduled send time, so a stalled server is not hidden (no coordinated omission).
import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";

export interface PacedOptions {
  url: string;
  rate: number;
  count: number;
  /** Index of the first request (bodies and keys keep counting across warm-up and run). */
  first?: number;
  body(i: number): string | Buffer;
  headers(i: number): Record<string, string>;
  /** Called right before request i is written, with Date.now(). */
  onSend?(i: number, at: number): void;
  /** Called once per request: its HTTP status, or undefined when no answer came (refused, reset). */
  onAnswer?(i: number, status: number | undefined): void;
  maxSockets?: number;
}

export interface PacedResult {
  /** ms from scheduled send to the end of the response. */
  latencies: number[];
  /** ms from the actual write to the end of the response. */
  service: number[];
  /** ms the generator started requests after their scheduled time. */
  lag: number[];
  statuses: Record<string, number>;
  errors: number;
  seconds: number;
}

export async function paced(opts: PacedOptions): Promise<PacedResult> {
  const url = new URL(opts.url);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 64 });
  const first = opts.first ?? 0;
  const interval = 1000 / opts.rate;
  const result: PacedResult = { latencies: [], service: [], lag: [], statuses: {}, errors: 0, seconds: 0 };
  let done = 0;
  let next = 0;
  const t0 = performance.now() + 5;

  await new Promise<void>((resolve) => {
    const finished = () => {
      if (++done === opts.count) resolve();
    };
    const fire = (n: number) => {
      const i = first + n;
      const scheduled = t0 + n * interval;
      const body = opts.body(i);
      const sent = performance.now();
      result.lag.push(sent - scheduled);
      opts.onSend?.(i, Date.now());
      const req = request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: "POST",
          headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), ...opts.headers(i) },
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            const end = performance.now();
            result.latencies.push(end - scheduled);
            result.service.push(end - sent);
            const key = String(res.statusCode);
            result.statuses[key] = (result.statuses[key] ?? 0) + 1;
            opts.onAnswer?.(i, res.statusCode);
            finished();
          });
        },
      );
      req.on("error", () => {
        result.errors++;
        opts.onAnswer?.(i, undefined);
        finished();
      });
      req.end(body);
    };
    const tick = () => {
      const now = performance.now();
      while (next < opts.count && t0 + next * interval <= now) fire(next++);
      if (next < opts.count) setTimeout(tick, Math.max(0, t0 + next * interval - performance.now()));
    };
    setTimeout(tick, 5);
  });
  result.seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  return result;
}
