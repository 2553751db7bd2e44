// The webhook intake on a real Redis: kept once per delivery id, taken by consumers a few at a time,
// each handled once; failures and the holdings of a consumer that stopped answering go to the events
// queue (here: a list of what was handed over).
import { Buffer } from "node:buffer";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.js";
import { decodeEntry, entryParts, intakeKeys, startIntakeConsumer, webhookIntake, type IntakeConsumerDeps } from "../../src/queue/intake.js";
import type { EventJobData } from "../../src/queue/jobs.js";
import { dropPrefix, redisUrl, uniquePrefix } from "../support/redis.js";
import { waitFor } from "../support/wait.js";

const logger = createLogger("silent");
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const event = (n: number): EventJobData => ({ kind: "push", eventHeader: "Push Hook", receivedAt: 1_700_000_000_000 + n, body: JSON.stringify({ object_kind: "push", n, note: "two\nlines" }) });

function setUp(name: string) {
  const prefix = uniquePrefix(name);
  const producer = new Redis(redisUrl);
  const intake = webhookIntake(producer, prefix);
  cleanups.push(() => dropPrefix(prefix), () => producer.disconnect());
  const handedOver: { id: string; afterFailure: boolean; data: EventJobData }[] = [];
  // `hangs`: a consumer whose handler never ends cannot close; it is only disconnected.
  // Its connections carry the prefix as their name (CLIENT LIST shows what they are doing).
  const consumer = (deps: Partial<IntakeConsumerDeps> & Pick<IntakeConsumerDeps, "handle">, hangs = false) => {
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: null, connectionName: prefix });
    const started = startIntakeConsumer({
      redis,
      prefix,
      concurrency: 4,
      logger,
      handOver: async (webhooks, afterFailure) => void handedOver.push(...webhooks.map((w) => ({ ...w, afterFailure }))),
      ...deps,
    });
    cleanups.push(() => redis.disconnect());
    if (!hangs) cleanups.push(() => started.close());
    return { ...started, redis };
  };
  return { prefix, producer, intake, handedOver, consumer };
}

describe("webhook intake", () => {
  it("keeps an entry's id, head and body apart, whatever the body holds", () => {
    const entry = (...parts: [string, string | Buffer]) => parts.map(String).join("");
    const data = { ...event(1), body: '{"a":"\\n"}\n\n{"b":1}' };
    expect(decodeEntry(entry(...entryParts("wh-1", data)))).toEqual({ id: "wh-1", data });
    expect(decodeEntry(entry(...entryParts("wh-2", { kind: "push", receivedAt: 5, body: "" })))).toEqual({ id: "wh-2", data: { kind: "push", receivedAt: 5, body: "" } });
    // The body's bytes as they came are sent as they are, and make the same entry as its text.
    const unicode = { ...event(3), body: '{"title":"Ünïcödé ✓ 😀"}' };
    const [, bytes] = entryParts("wh-3", unicode, new TextEncoder().encode(unicode.body));
    expect(Buffer.isBuffer(bytes)).toBe(true);
    expect(entry(...entryParts("wh-3", unicode, new TextEncoder().encode(unicode.body)))).toBe(entry(...entryParts("wh-3", unicode)));
  });

  it("keeps each delivery id once, across writes and within one", async () => {
    const { intake } = setUp("intake-once");
    await Promise.all([intake.take("wh-a", event(1)), intake.take("wh-b", event(2)), intake.take("wh-a", event(1))]);
    await intake.take("wh-b", event(2));
    expect(await intake.takeAll([{ id: "wh-c", data: event(3) }, { id: "wh-a", data: event(1) }])).toBe(1);
    expect(await intake.counts()).toEqual({ waiting: 3, held: 0 });
  });

  it("hands each webhook to one consumer once, in arrival order, no more at once than its concurrency", async () => {
    const { intake, consumer } = setUp("intake-order");
    const ids = Array.from({ length: 60 }, (_, n) => `wh-${n}`);
    for (const [n, id] of ids.entries()) await intake.take(id, event(n));
    const handled: string[] = [];
    let running = 0;
    let most = 0;
    consumer({
      concurrency: 3,
      handle: async (id, data) => {
        expect(data).toEqual(event(Number(id.slice(3))));
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 2));
        handled.push(id);
        running--;
      },
    });
    await waitFor(async () => handled.length === 60 && (await intake.counts()).held === 0, 10_000, "every webhook handled");
    expect(new Set(handled).size).toBe(60);
    // Taken from the head of the list, three at a time: the first three to finish are the first three sent.
    expect(handled.slice(0, 3).sort()).toEqual(["wh-0", "wh-1", "wh-2"]);
    expect(most).toBe(3);
  });

  it("takes a webhook that comes while it waits on an empty intake", async () => {
    const { intake, consumer, producer, prefix } = setUp("intake-idle");
    const handled: string[] = [];
    consumer({ handle: async (id) => void handled.push(id) });
    // It waits inside Redis (a blocked BLMOVE), not by asking again and again.
    const blockedInBlmove = async () =>
      String(await producer.client("LIST"))
        .split("\n")
        .some((client) => client.includes(` name=${prefix} `) && / flags=b /.test(client) && client.includes(" cmd=blmove "));
    await waitFor(blockedInBlmove, 5000, "the consumer blocked in BLMOVE");
    await new Promise((r) => setTimeout(r, 1500));
    await intake.take("wh-late", event(1));
    await waitFor(() => handled.length === 1, 5000, "the late webhook");
    expect(handled).toEqual(["wh-late"]);
    expect(await intake.counts()).toEqual({ waiting: 0, held: 0 });
  });

  it("hands a webhook whose handling failed to the events queue, after a failure, and lets go of it", async () => {
    const { intake, consumer, handedOver } = setUp("intake-fail");
    consumer({
      handle: async (id) => {
        if (id === "wh-bad") throw new Error("database away");
      },
    });
    await intake.take("wh-good", event(1));
    await intake.take("wh-bad", event(2));
    await waitFor(async () => handedOver.length === 1 && (await intake.counts()).held === 0, 5000, "the hand-over");
    expect(handedOver).toEqual([{ id: "wh-bad", afterFailure: true, data: event(2) }]);
  });

  it("keeps trying to hand over while the events queue cannot take it", async () => {
    const { intake, consumer, handedOver } = setUp("intake-handover-retry");
    let refusals = 2;
    consumer({
      handle: async () => {
        throw new Error("database away");
      },
      handOver: async (webhooks, afterFailure) => {
        if (refusals-- > 0) throw new Error("Redis away");
        handedOver.push(...webhooks.map((w) => ({ ...w, afterFailure })));
      },
    });
    await intake.take("wh-x", event(1));
    await waitFor(async () => handedOver.length === 1 && (await intake.counts()).held === 0, 5000, "the hand-over");
    expect(refusals).toBe(-1);
  });

  it("hands over what a consumer held once its lease lapsed (it lost Redis), and nothing twice", async () => {
    const { intake, consumer, handedOver, prefix, producer } = setUp("intake-lapse");
    const stuck = consumer({ leaseMs: 400, handle: () => new Promise<void>(() => {}) }, true);
    for (let n = 0; n < 6; n++) await intake.take(`wh-${n}`, event(n));
    await waitFor(async () => (await intake.counts()).held === 4, 5000, "the first consumer to hold four");
    stuck.redis.disconnect();
    // Another consumer takes the two left at once, and the four held once the lease has lapsed.
    const handled: string[] = [];
    consumer({ leaseMs: 400, recoverEveryMs: 100, handle: async (id) => void handled.push(id) });
    await waitFor(() => handedOver.length === 4, 5000, "the lapsed holdings handed over");
    await waitFor(async () => handled.length === 2 && (await intake.counts()).held === 0, 5000, "the rest handled");
    expect(handedOver.map((w) => w.id).sort()).toEqual(["wh-0", "wh-1", "wh-2", "wh-3"]);
    expect(handedOver.every((w) => !w.afterFailure)).toBe(true);
    expect(handled.sort()).toEqual(["wh-4", "wh-5"]);
    expect(await producer.smembers(intakeKeys(prefix).consumers)).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(handedOver).toHaveLength(4);
  });

  it("drops, with a log line, entries it did not write, and goes on taking webhooks", async () => {
    const { intake, consumer, handedOver, prefix, producer } = setUp("intake-unreadable");
    const logLines: { msg: string; bytes?: number }[] = [];
    const logged = pino({ level: "error" }, { write: (line: string) => void logLines.push(JSON.parse(line)) });
    // Put in the list by hand: one without any line break, one without its head line.
    await producer.rpush(intakeKeys(prefix).list, "no line break at all", "wh-junk\nnot a head");
    await intake.take("wh-good", event(1));
    const handled: string[] = [];
    consumer({ logger: logged, handle: async (id) => void handled.push(id) });
    await waitFor(async () => handled.length === 1 && (await intake.counts()).held === 0, 5000, "the good webhook handled, nothing held");
    expect(handled).toEqual(["wh-good"]);
    expect(handedOver).toEqual([]);
    expect(logLines.filter((l) => l.msg === "intake entry unreadable; dropped").map((l) => l.bytes).sort((a, b) => a! - b!)).toEqual([18, 20]);
    // A consumer that stopped while holding one drops it the same way when its holdings are recovered.
    const keys = intakeKeys(prefix);
    await producer.hset(keys.held("gone"), "wh-lost", "wh-lost");
    await producer.sadd(keys.consumers, "gone");
    consumer({ logger: logged, recoverEveryMs: 100, handle: async () => {} });
    await waitFor(async () => (await producer.sismember(keys.consumers, "gone")) === 0, 5000, "the stopped consumer forgotten");
    expect(logLines.filter((l) => l.msg === "intake entry unreadable; dropped").map((l) => l.bytes).sort((a, b) => a! - b!)).toEqual([7, 18, 20]);
    expect(handedOver).toEqual([]);
  });

  it("on close, lets running handlers finish and leaves nothing held", async () => {
    const { intake, consumer, handedOver } = setUp("intake-close");
    const handled: string[] = [];
    const c = consumer({
      concurrency: 2,
      handle: async (id) => {
        await new Promise((r) => setTimeout(r, 200));
        handled.push(id);
      },
    });
    for (let n = 0; n < 5; n++) await intake.take(`wh-${n}`, event(n));
    await waitFor(async () => (await intake.counts()).held === 2, 5000, "two held");
    await c.close();
    expect(handled.sort()).toEqual(["wh-0", "wh-1"]);
    expect(handedOver).toEqual([]);
    expect(await intake.counts()).toEqual({ waiting: 3, held: 0 });
  });

  it("two consumers on one intake handle each of many webhooks once", async () => {
    const { intake, consumer } = setUp("intake-two");
    const handled = new Map<string, number>();
    const handle = async (id: string) => {
      await new Promise((r) => setImmediate(r));
      handled.set(id, (handled.get(id) ?? 0) + 1);
    };
    consumer({ handle });
    consumer({ handle });
    await Promise.all(Array.from({ length: 300 }, (_, n) => intake.take(`wh-${n}`, event(n))));
    await waitFor(async () => handled.size === 300 && (await intake.counts()).held === 0, 10_000, "every webhook handled");
    expect([...handled.values()].every((count) => count === 1)).toBe(true);
  });
});
