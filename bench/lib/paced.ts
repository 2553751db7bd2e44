// An open-loop load generator: request i is sent at t0 + i/rate whether or not earlier ones were
// answered (autocannon's overallRate sends each second's quota in a burst at the start of the second).
// Latency counts from the scheduled send time, so a stalled server is not hidden (no coordinated omission).
// It runs in a worker thread of its own: in the bench's main thread the Mattermost simulator holds
// every post of a run (hundreds of MB by the end of a phase), and its garbage collection paused that
// thread for 5–36 ms every quarter second, so answers that came meanwhile were read, and timed, late.
// Plain JavaScript run with `eval`: worker threads do not get tsx's loader. Bodies and headers are
// made before the clock starts and sent to the thread; the callbacks hear of each request by message.
import { Worker } from "node:worker_threads";

export interface PacedOptions {
  url: string;
  rate: number;
  count: number;
  /** Index of the first request (bodies and keys keep counting across warm-up and run). */
  first?: number;
  body(i: number): string | Buffer;
  headers(i: number): Record<string, string>;
  /** Called for each request with Date.now() taken right before it was written (by message, soon after). */
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

type FromGenerator = { type: "sent"; n: number; at: number } | { type: "answer"; n: number; status: number | null } | { type: "done"; result: PacedResult };

const SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { Agent, request } = require("node:http");
const { performance } = require("node:perf_hooks");
const { url: href, rate, count, bodies, headers, maxSockets, report } = workerData;
const url = new URL(href);
// Nagle's algorithm off, as GitLab's client (Ruby's Net::HTTP) sets TCP_NODELAY on its sockets.
const agent = new Agent({ keepAlive: true, maxSockets, noDelay: true });
const interval = 1000 / rate;
const result = { latencies: [], service: [], lag: [], statuses: {}, errors: 0, seconds: 0 };
let done = 0;
let next = 0;
const t0 = performance.now() + 5;
const finished = () => {
  if (++done < count) return;
  result.seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  parentPort.postMessage({ type: "done", result });
};
const fire = (n) => {
  const scheduled = t0 + n * interval;
  const body = bodies[n];
  const sent = performance.now();
  result.lag.push(sent - scheduled);
  if (report.sent) parentPort.postMessage({ type: "sent", n, at: Date.now() });
  const req = request(
    { agent, host: url.hostname, port: url.port, path: url.pathname, method: "POST",
      headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), ...headers[n] } },
    (res) => {
      res.resume();
      res.on("end", () => {
        const end = performance.now();
        result.latencies.push(end - scheduled);
        result.service.push(end - sent);
        const key = String(res.statusCode);
        result.statuses[key] = (result.statuses[key] ?? 0) + 1;
        if (report.answer) parentPort.postMessage({ type: "answer", n, status: res.statusCode });
        finished();
      });
    },
  );
  req.on("error", () => {
    result.errors++;
    if (report.answer) parentPort.postMessage({ type: "answer", n, status: null });
    finished();
  });
  req.end(body);
};
const tick = () => {
  const now = performance.now();
  while (next < count && t0 + next * interval <= now) fire(next++);
  if (next < count) setTimeout(tick, Math.max(0, t0 + next * interval - performance.now()));
};
if (count === 0) parentPort.postMessage({ type: "done", result });
else setTimeout(tick, 5);
`;

export async function paced(opts: PacedOptions): Promise<PacedResult> {
  const first = opts.first ?? 0;
  const bodies = Array.from({ length: opts.count }, (_, n) => opts.body(first + n));
  const headers = Array.from({ length: opts.count }, (_, n) => opts.headers(first + n));
  const worker = new Worker(SOURCE, {
    eval: true,
    workerData: { url: opts.url, rate: opts.rate, count: opts.count, bodies, headers, maxSockets: opts.maxSockets ?? 64, report: { sent: !!opts.onSend, answer: !!opts.onAnswer } },
  });
  try {
    return await new Promise<PacedResult>((resolve, reject) => {
      worker.on("message", (m: FromGenerator) => {
        if (m.type === "sent") opts.onSend?.(first + m.n, m.at);
        else if (m.type === "answer") opts.onAnswer?.(first + m.n, m.status ?? undefined);
        else resolve(m.result);
      });
      worker.on("error", reject);
      worker.on("exit", (code) => reject(new Error(`load generator thread ended (${code}) before it was done`)));
    });
  } finally {
    await worker.terminate();
  }
}
