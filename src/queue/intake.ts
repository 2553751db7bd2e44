// The webhook intake: where an accepted webhook is kept until the worker side takes it, in front of
// the events queue. One BullMQ job per webhook costs the webhook route about four times what reading
// and parsing the body does (a job hash, its options, a script over a dozen keys), and the worker
// side as much again to fetch and finish it. Instead the route writes the webhooks of one turn of the
// event loop to a Redis list with one script, which also remembers each delivery id for a day so a
// repeated delivery is kept once; the worker side takes several at a time into a hash of its own
// (what it holds, under a lease it renews) and removes each when its event has been handled. What
// goes wrong is handed to the events queue, whose retries and backoff take it from there: an event
// whose handling failed, and what a consumer held when its lease lapsed (it died, or was stopped).
// A handed-over event is marked `retried`, so its posts go through the deliveries queue, where each
// post's record and stamp keep a second copy from posting twice.
import { Buffer } from "node:buffer";
import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "../logger.js";
import { tryLock } from "../redis-lock.js";
import { DEDUPE_TTL_MS, type EventJobData, type IdentifiedEvent } from "./jobs.js";
import { repeatEvery } from "./repeat.js";

/** The webhooks one script writes at most (Lua's unpack has a limit near 8,000 values). */
const MOST_PER_WRITE = 500;
/** How long a consumer's hold lasts unless renewed (renewed every third of it). */
export const DEFAULT_LEASE_MS = 30_000;
/** How often a consumer looks for consumers whose lease lapsed. */
const RECOVER_EVERY_MS = 5_000;
/** How long a consumer waits on an empty intake before looking again (and noticing it is closing). */
const IDLE_WAIT_S = 1;

/** A Lua script as an ioredis command: run by its SHA-1, sent whole only when Redis does not know it yet. */
function scriptOn(redis: Redis, name: string, numberOfKeys: number, lua: string): (...keysThenArgs: (string | Buffer)[]) => Promise<unknown> {
  const commands = redis as unknown as Record<string, (...keysThenArgs: (string | Buffer)[]) => Promise<unknown>>;
  if (typeof commands[name] !== "function") redis.defineCommand(name, { numberOfKeys, lua });
  return (...keysThenArgs) => commands[name]!(...keysThenArgs);
}

export function intakeKeys(prefix: string) {
  const base = `${prefix}:intake`;
  return {
    list: `${base}:list`,
    seen: `${base}:seen:`,
    consumers: `${base}:consumers`,
    held: (consumer: string) => `${base}:held:${consumer}`,
    waiting: (consumer: string) => `${base}:waiting:${consumer}`,
    alive: (consumer: string) => `${base}:alive:${consumer}`,
    recoverLock: (consumer: string) => `${base}:recover-lock:${consumer}`,
  };
}

// ARGV: the seen keys' prefix, their TTL, then per webhook its id, its entry's head and its body.
// Each webhook is written once under its delivery id: SET NX of the id's key decides. Head and body
// are joined here, so the body is copied once less in the bot.
const PUSH = `
local fresh = {}
for i = 3, #ARGV, 3 do
  if redis.call('SET', ARGV[1] .. ARGV[i], '1', 'NX', 'PX', ARGV[2]) then fresh[#fresh + 1] = ARGV[i + 1] .. ARGV[i + 2] end
end
if #fresh > 0 then redis.call('RPUSH', KEYS[1], unpack(fresh)) end
return #fresh`;

// KEYS: list, held, waiting, alive, consumers. ARGV: consumer, how many, lease ms, then the ids of
// events handled since the last call, which are let go of. Takes what a blocking wait moved aside
// first, then up to the count from the list's head; each is held under its id (the entry's first
// line; the whole entry for one without a line break, which the consumer drops) until a later call
// lets go of it. An entry the bot did not write must not stop every later claim.
const CLAIM = `
if #ARGV > 3 then redis.call('HDEL', KEYS[2], unpack(ARGV, 4)) end
local taken = redis.call('LRANGE', KEYS[3], 0, -1)
if #taken > 0 then redis.call('DEL', KEYS[3]) end
local more = tonumber(ARGV[2]) - #taken
if more > 0 then
  local popped = redis.call('LPOP', KEYS[1], more)
  if popped then for _, e in ipairs(popped) do taken[#taken + 1] = e end end
end
for _, e in ipairs(taken) do
  local eol = string.find(e, '\\n', 1, true)
  redis.call('HSET', KEYS[2], eol and string.sub(e, 1, eol - 1) or e, e)
end
redis.call('SET', KEYS[4], '1', 'PX', ARGV[3])
redis.call('SADD', KEYS[5], ARGV[1])
return taken`;

// KEYS: held, waiting, alive, consumers. ARGV: consumer, whether to go on though its lease is alive.
// Forgets a consumer whose holdings were handed over; a consumer that came back meanwhile keeps them.
const FORGET = `
if ARGV[2] ~= '1' and redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('SREM', KEYS[4], ARGV[1])
return 1`;

// KEYS: list, consumers. ARGV: the prefixes of held and waiting keys. Waiting in the list; held by a
// consumer (being handled, or moved aside by its blocking wait).
const COUNT = `
local held = 0
for _, c in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  held = held + redis.call('HLEN', ARGV[1] .. c) + redis.call('LLEN', ARGV[2] .. c)
end
return {redis.call('LLEN', KEYS[1]), held}`;

/**
 * One webhook as the list keeps it: the delivery id, the job data but the body (JSON), the body;
 * here as its head (the first two lines) and its body. Given the body's bytes as they came
 * (`data.body` in UTF-8), they are sent as they are: encoding the text again for the socket costs
 * more than reading it did.
 */
export function entryParts(id: string, data: EventJobData, bodyBytes?: Uint8Array): [head: string, body: string | Buffer] {
  const head: Omit<EventJobData, "body"> = { kind: data.kind, eventHeader: data.eventHeader, receivedAt: data.receivedAt };
  const body = bodyBytes ? Buffer.from(bodyBytes.buffer, bodyBytes.byteOffset, bodyBytes.byteLength) : data.body;
  return [`${id}\n${JSON.stringify(head)}\n`, body];
}

/** What a claim holds an entry under: its first line, or the whole of an entry without a line break. */
function heldKeyOf(entry: string): string {
  const idEnd = entry.indexOf("\n");
  return idEnd < 0 ? entry : entry.slice(0, idEnd);
}

export function decodeEntry(entry: string): IdentifiedEvent {
  const idEnd = entry.indexOf("\n");
  const headEnd = entry.indexOf("\n", idEnd + 1);
  if (idEnd < 0 || headEnd < 0) throw new Error("intake entry without its two header lines");
  const head = JSON.parse(entry.slice(idEnd + 1, headEnd)) as Omit<EventJobData, "body">;
  return { id: entry.slice(0, idEnd), data: { kind: head.kind, eventHeader: head.eventHeader, receivedAt: head.receivedAt, body: entry.slice(headEnd + 1) } };
}

export interface WebhookIntake {
  /**
   * Keeps a webhook under its delivery id; resolves once Redis has it (with the other webhooks of
   * the same turn of the event loop, in one script). A repeated id is kept once.
   */
  take(id: string, data: EventJobData, bodyBytes?: Uint8Array): Promise<void>;
  /** Keeps several at once (the spool's replay); answers how many were new. */
  takeAll(webhooks: readonly IdentifiedEvent[]): Promise<number>;
  /** Webhooks waiting to be taken by a consumer, and those consumers hold (being handled). */
  counts(): Promise<{ waiting: number; held: number }>;
}

export function webhookIntake(redis: Redis, prefix: string): WebhookIntake {
  const keys = intakeKeys(prefix);
  const ttl = String(DEDUPE_TTL_MS);
  const push = scriptOn(redis, "gitlabMmIntakePush", 1, PUSH);
  const count = scriptOn(redis, "gitlabMmIntakeCount", 2, COUNT);
  const write = (args: (string | Buffer)[]) => push(keys.list, keys.seen, ttl, ...args) as Promise<number>;

  let batch: { args: (string | Buffer)[]; done: Promise<number> } | undefined;
  function nextBatch(): { args: (string | Buffer)[]; done: Promise<number> } {
    const args: (string | Buffer)[] = [];
    // Written after this turn's I/O callbacks, so the webhooks read in one turn share one script.
    const done = new Promise<number>((resolve, reject) =>
      setImmediate(() => {
        if (batch?.args === args) batch = undefined;
        write(args).then(resolve, reject);
      }),
    );
    return { args, done };
  }

  return {
    async take(id, data, bodyBytes) {
      if (!batch || batch.args.length >= 3 * MOST_PER_WRITE) batch = nextBatch();
      batch.args.push(id, ...entryParts(id, data, bodyBytes));
      await batch.done;
    },
    async takeAll(webhooks) {
      let fresh = 0;
      for (let i = 0; i < webhooks.length; i += MOST_PER_WRITE) {
        fresh += await write(webhooks.slice(i, i + MOST_PER_WRITE).flatMap((w) => [w.id, ...entryParts(w.id, w.data)]));
      }
      return fresh;
    },
    async counts() {
      const [waiting, held] = (await count(keys.list, keys.consumers, keys.held(""), keys.waiting(""))) as [number, number];
      return { waiting, held };
    },
  };
}

export interface IntakeConsumerDeps {
  /** A worker connection (waits for Redis rather than failing); a duplicate of it does the blocking waits. */
  redis: Redis;
  prefix: string;
  /** Events handled at once. */
  concurrency: number;
  /** Handles one event on its first try (its posts may be made at once); what it answers is not used. */
  handle(id: string, data: EventJobData, closing: () => boolean): Promise<unknown>;
  /** Gives an event to the events queue, marked retried; `afterFailure` when handling it failed. */
  handOver(webhooks: readonly IdentifiedEvent[], afterFailure: boolean): Promise<void>;
  logger: Logger;
  /** Default DEFAULT_LEASE_MS (tests shorten it). */
  leaseMs?: number;
  /** Default RECOVER_EVERY_MS. */
  recoverEveryMs?: number;
}

export interface IntakeConsumer {
  /** Stops taking webhooks, lets those being handled finish, and hands over anything still held. */
  close(): Promise<void>;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

export function startIntakeConsumer(deps: IntakeConsumerDeps): IntakeConsumer {
  const { redis, logger, concurrency } = deps;
  const keys = intakeKeys(deps.prefix);
  const me = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  const blocking = redis.duplicate();
  blocking.on("error", () => {
    // The main connection reports Redis trouble; this one only waits.
  });
  const claimScript = scriptOn(redis, "gitlabMmIntakeClaim", 5, CLAIM);
  const forget = scriptOn(redis, "gitlabMmIntakeForget", 4, FORGET);
  let closing = false;
  const isClosing = () => closing;
  let inFlight = 0;
  let laneFreed: (() => void) | undefined;
  let redisTrouble = false;
  // Ids of handled events not yet let go of: the next claim does it, in the same call.
  let handled: string[] = [];
  let idle = false;
  const letGo = () => {
    const ids = handled;
    handled = [];
    return ids;
  };

  const renew = setInterval(() => {
    redis.set(keys.alive(me), "1", "PX", leaseMs).catch(() => {
      // Renewed at the next tick or claim; a lapse only hands this consumer's events over.
    });
  }, leaseMs / 3);
  renew.unref();

  // Only the bot writes entries, so one it cannot read was put there by hand or cut short: it holds no
  // webhook to hand over. Its length, not its text, is logged: the text may be a payload.
  const dropUnreadable = (entry: string, error: Error) => logger.error({ err: error.message, bytes: Buffer.byteLength(entry) }, "intake entry unreadable; dropped");

  async function handOverForSure(webhooks: IdentifiedEvent[], afterFailure: boolean): Promise<void> {
    for (let delay = 200; ; delay = Math.min(delay * 2, 5000)) {
      try {
        return await deps.handOver(webhooks, afterFailure);
      } catch (error) {
        logger.warn({ err: (error as Error).message, count: webhooks.length }, "intake: events not handed to the queue yet");
        await pause(delay);
      }
    }
  }

  async function run(entry: string): Promise<void> {
    let id: string | undefined;
    try {
      const decoded = decodeEntry(entry);
      id = decoded.id;
      try {
        await deps.handle(decoded.id, decoded.data, isClosing);
      } catch (error) {
        logger.warn({ delivery: decoded.id, kind: decoded.data.kind, err: (error as Error).message }, "event handling failed; handed to the events queue");
        await handOverForSure([decoded], true);
      }
    } catch (error) {
      dropUnreadable(entry, error as Error);
      id ??= heldKeyOf(entry);
    }
    handled.push(id);
    // While the loop sleeps on an empty intake no claim comes soon: let go at once.
    if (idle) await redis.hdel(keys.held(me), ...letGo());
  }

  function start(entry: string): void {
    inFlight++;
    void run(entry)
      .catch((error: Error) => logger.error({ err: error.message }, "intake: held event not released"))
      .finally(() => {
        inFlight--;
        laneFreed?.();
      });
  }

  async function claim(count: number): Promise<string[]> {
    const ids = letGo();
    let taken: string[];
    try {
      taken = (await claimScript(keys.list, keys.held(me), keys.waiting(me), keys.alive(me), keys.consumers, me, String(count), String(leaseMs), ...ids)) as string[];
    } catch (error) {
      handled.push(...ids);
      throw error;
    }
    if (redisTrouble) logger.info("intake: taking webhooks again");
    redisTrouble = false;
    return taken;
  }

  async function loop(): Promise<void> {
    while (!closing) {
      if (inFlight >= concurrency) {
        await new Promise<void>((resolve) => (laneFreed = resolve));
        laneFreed = undefined;
        continue;
      }
      let taken: string[];
      try {
        taken = await claim(concurrency - inFlight);
      } catch (error) {
        if (!redisTrouble) logger.warn({ err: (error as Error).message }, "intake: cannot take webhooks");
        redisTrouble = true;
        await pause(1000);
        continue;
      }
      for (const entry of taken) start(entry);
      // Events handled meanwhile are let go of by another claim before sleeping.
      if (taken.length > 0 || closing || handled.length > 0) continue;
      // Nothing waiting: sleep in Redis until a webhook comes (moved aside, claimed by the next round).
      idle = true;
      await blocking.blmove(keys.list, keys.waiting(me), "LEFT", "RIGHT", IDLE_WAIT_S).catch(async () => {
        if (!closing) await pause(1000);
      });
      idle = false;
    }
  }

  /** Hands over what a consumer held and forgets it; `force` for this consumer itself, whose lease is alive. */
  async function recover(consumer: string, force: boolean): Promise<number> {
    const lock = await tryLock(redis, keys.recoverLock(consumer), 60_000);
    if (!lock) return 0;
    try {
      if (!force && (await redis.exists(keys.alive(consumer))) === 1) return 0;
      const entries = [...(await redis.hvals(keys.held(consumer))), ...(await redis.lrange(keys.waiting(consumer), 0, -1))];
      const webhooks = entries.flatMap((entry) => {
        try {
          return [decodeEntry(entry)];
        } catch (error) {
          dropUnreadable(entry, error as Error);
          return [];
        }
      });
      if (webhooks.length > 0) await handOverForSure(webhooks, false);
      await forget(keys.held(consumer), keys.waiting(consumer), keys.alive(consumer), keys.consumers, consumer, force ? "1" : "0");
      return webhooks.length;
    } finally {
      await lock.release().catch(() => {
        // It lapses by itself.
      });
    }
  }

  async function recoverLapsed(): Promise<void> {
    try {
      for (const consumer of await redis.smembers(keys.consumers)) {
        if (consumer === me) continue;
        const count = await recover(consumer, false);
        if (count > 0) logger.warn({ consumer, count }, "intake: events held by a consumer that stopped answering handed to the events queue");
      }
    } catch (error) {
      logger.warn({ err: (error as Error).message }, "intake: lapsed consumers not looked at");
    }
  }
  const recovery = repeatEvery(recoverLapsed, deps.recoverEveryMs ?? RECOVER_EVERY_MS);

  const running = loop();

  return {
    async close() {
      closing = true;
      clearInterval(renew);
      const recoveryStopped = recovery.stop();
      // Ends a blocking wait at once; what it may have moved aside is handed over below.
      blocking.disconnect();
      laneFreed?.();
      await running;
      while (inFlight > 0) await new Promise<void>((resolve) => (laneFreed = resolve));
      if (handled.length > 0) await redis.hdel(keys.held(me), ...letGo());
      await recoveryStopped;
      // What a blocking wait moved aside after the last claim.
      await recover(me, true).catch((error: Error) => logger.warn({ err: error.message }, "intake: held events left for another consumer"));
    },
  };
}
