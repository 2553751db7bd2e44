import net from "node:net";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { webhookRoutes } from "../../src/http/webhook-route.js";
import { webhookTokenFor } from "../../src/http/webhook-tokens.js";
import { createLogger } from "../../src/logger.js";
import { createMetrics } from "../../src/metrics.js";
import { producerConnection, waitReady } from "../../src/queue/connection.js";
import { startIntakeConsumer, webhookIntake, type WebhookIntake } from "../../src/queue/intake.js";
import { deliveryIdFor, type EventJobData } from "../../src/queue/jobs.js";
import { captureLogger, type CapturedLogger } from "../commands/helpers.js";
import { fixture, fixtureText } from "../support/fixtures.js";
import { keptWebhooks } from "../support/intake.js";
import { dropPrefix, redisUrl, uniquePrefix } from "../support/redis.js";
import { waitFor } from "../support/wait.js";

const SECRET = "webhook-secret-1";
const logger = createLogger("silent");

function post(app: ReturnType<typeof webhookRoutes>, body: string | Uint8Array, headers: Record<string, string> = {}) {
  return app.request("/webhooks/gitlab", {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Gitlab-Token": SECRET, "X-Gitlab-Event": "Merge Request Hook", ...headers },
    body,
  });
}

describe("POST /webhooks/gitlab", () => {
  const prefix = uniquePrefix("ingress");
  let redis: Redis;
  let intake: WebhookIntake;
  let app: ReturnType<typeof webhookRoutes>;
  const metrics = createMetrics();
  const waiting = async () => (await intake.counts()).waiting;

  beforeAll(async () => {
    redis = producerConnection(redisUrl);
    await waitReady(redis);
    intake = webhookIntake(redis, prefix);
    app = webhookRoutes({ intake, secrets: [SECRET], maxBytes: 64 * 1024, logger, metrics, now: () => 1_700_000_000_000 });
  });
  afterAll(async () => {
    await dropPrefix(prefix);
    redis.disconnect();
  });

  const mr = fixtureText("merge_request.json");

  it("keeps an accepted event in the intake before answering 202 with its id", async () => {
    const res = await post(app, mr, { "Idempotency-Key": "key-1" });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    expect(id).toMatch(/^wh-[0-9a-f]{40}$/);
    expect((await keptWebhooks(redis, prefix)).get(id)).toEqual<EventJobData>({ kind: "merge_request", eventHeader: "Merge Request Hook", receivedAt: 1_700_000_000_000, body: mr });
  });

  it("keeps GitLab's retry of one delivery (same Idempotency-Key) once, answering the first id", async () => {
    const first = (await (await post(app, mr, { "Idempotency-Key": "key-2" })).json()) as { id: string };
    const before = await waiting();
    const retry = await post(app, mr, { "Idempotency-Key": "key-2" });
    expect(retry.status).toBe(202);
    expect(((await retry.json()) as { id: string }).id).toBe(first.id);
    expect(await waiting()).toBe(before);
    // Two at once, in one write to Redis, are kept once too.
    const [a, b] = await Promise.all([post(app, mr, { "Idempotency-Key": "key-2b" }), post(app, mr, { "Idempotency-Key": "key-2b" })]);
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(await waiting()).toBe(before + 1);
  });

  it("remembers the key after the event was taken and handled", async () => {
    const handledPrefix = uniquePrefix("handled");
    const handledIntake = webhookIntake(redis, handledPrefix);
    const consumerRedis = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const handled: string[] = [];
    const consumer = startIntakeConsumer({
      redis: consumerRedis,
      prefix: handledPrefix,
      concurrency: 2,
      logger,
      handle: async (id) => void handled.push(id),
      handOver: async () => {
        throw new Error("nothing is handed over here");
      },
    });
    const handledApp = webhookRoutes({ intake: handledIntake, secrets: [SECRET], maxBytes: 64 * 1024, logger, metrics: createMetrics() });
    try {
      const first = (await (await post(handledApp, mr, { "Idempotency-Key": "key-3" })).json()) as { id: string };
      await waitFor(async () => handled.length === 1 && (await handledIntake.counts()).held === 0);
      const again = await post(handledApp, mr, { "Idempotency-Key": "key-3" });
      expect(again.status).toBe(202);
      expect(((await again.json()) as { id: string }).id).toBe(first.id);
      await new Promise((r) => setTimeout(r, 300));
      expect(handled).toEqual([first.id]);
      expect(await handledIntake.counts()).toEqual({ waiting: 0, held: 0 });
    } finally {
      await consumer.close();
      consumerRedis.disconnect();
      await dropPrefix(handledPrefix);
    }
  });

  it("without Idempotency-Key, dedupes by body hash", async () => {
    const body = fixtureText("push.json");
    const a = (await (await post(app, body, { "X-Gitlab-Event": "Push Hook" })).json()) as { id: string };
    const b = (await (await post(app, body, { "X-Gitlab-Event": "Push Hook" })).json()) as { id: string };
    expect(a.id).toBe(b.id);
    const other = (await (await post(app, fixtureText("tag_push.json"), { "X-Gitlab-Event": "Tag Push Hook" })).json()) as { id: string };
    expect(other.id).not.toBe(a.id);
  });

  it.each([
    ["missing token", { "X-Gitlab-Token": "" }, 401],
    ["wrong token", { "X-Gitlab-Token": "webhook-secret-2" }, 401],
    ["token with a different length", { "X-Gitlab-Token": "x" }, 401],
  ])("refuses a %s with 401 and queues nothing", async (_name, headers, status) => {
    const before = await waiting();
    const h: Record<string, string> = { ...headers };
    const res = await app.request("/webhooks/gitlab", {
      method: "POST",
      headers: { "Content-Type": "application/json", ...(h["X-Gitlab-Token"] ? h : {}) },
      body: mr,
    });
    expect(res.status).toBe(status);
    expect(await waiting()).toBe(before);
  });

  it.each([
    ["broken JSON", '{"object_kind": "push", ', 400],
    ["a JSON array", "[1,2]", 400],
    ["a JSON string", '"push"', 400],
    ["an empty body", "", 400],
    ["invalid UTF-8", new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), 400],
  ])("answers %s with %i", async (_name, body: string | Uint8Array, status) => {
    const before = await waiting();
    const res = await post(app, body, { "X-Gitlab-Event": "Unknown Hook" });
    expect(res.status).toBe(status);
    expect(await waiting()).toBe(before);
  });

  it("refuses a body over WEBHOOK_MAX_BYTES with 413, declared or streamed", async () => {
    const big = JSON.stringify({ object_kind: "push", padding: "x".repeat(70 * 1024) });
    expect((await post(app, big)).status).toBe(413);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode("x".repeat(10 * 1024)));
        controller.close();
      },
    });
    const res = await app.request("/webhooks/gitlab", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Gitlab-Token": SECRET },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
  });

  it("answers 202 to an unknown event kind without queueing it", async () => {
    const before = await waiting();
    const res = await post(app, JSON.stringify({ object_kind: "something_new", id: 1 }), { "X-Gitlab-Event": "Something Hook" });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ ignored: true });
    expect(await waiting()).toBe(before);
  });

  it("counts accepted and refused webhooks", async () => {
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/gitlab_webhooks_received_total\{kind="merge_request"\} [1-9]/);
    expect(text).toMatch(/gitlab_webhooks_rejected_total\{reason="token"\} 3/);
    expect(text).toMatch(/gitlab_webhooks_rejected_total\{reason="too_large"\} 2/);
  });
});

describe("POST /webhooks/gitlab while Redis is out", () => {
  it("answers 503 at once when Redis refuses connections", async () => {
    const redis = producerConnection("redis://127.0.0.1:1");
    redis.on("error", () => {});
    const app = webhookRoutes({ intake: webhookIntake(redis, uniquePrefix("down")), secrets: [SECRET], maxBytes: 1 << 20, logger, metrics: createMetrics() });
    const started = performance.now();
    const res = await post(app, fixtureText("merge_request.json"));
    expect(res.status).toBe(503);
    // A hang check, not a speed measurement: the route gives up on Redis after 0.9 s.
    expect(performance.now() - started).toBeLessThan(5000);
    redis.disconnect();
  });

  it("answers 503 within a second when Redis accepts but never answers", async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as net.AddressInfo).port;
    const redis = producerConnection(`redis://127.0.0.1:${port}`);
    redis.on("error", () => {});
    const app = webhookRoutes({ intake: webhookIntake(redis, uniquePrefix("hung")), secrets: [SECRET], maxBytes: 1 << 20, logger, metrics: createMetrics() });
    const started = performance.now();
    const res = await post(app, fixtureText("merge_request.json"));
    expect(res.status).toBe(503);
    expect(performance.now() - started).toBeLessThan(5000);
    redis.disconnect();
    silent.close();
  });
});

describe("deliveryIdFor", () => {
  it("names a delivery as earlier releases did, so keys kept in Redis and rows in the spool still match", () => {
    expect(deliveryIdFor("abc", "")).toBe("wh-09309b29285f2554ee45a02d29fa5de0303c8a12");
    expect(deliveryIdFor(undefined, '{"a":1}')).toBe("wh-c1a7c00f19a60ca9b4853cbbfad702360631e07b");
    expect(deliveryIdFor(undefined, new TextEncoder().encode('{"a":1}'))).toBe("wh-c1a7c00f19a60ca9b4853cbbfad702360631e07b");
  });
});

describe("POST /webhooks/gitlab served by Node", () => {
  it("reads the body from Node's request with the same limits", async () => {
    const { serve } = await import("@hono/node-server");
    const redis = producerConnection(redisUrl);
    await waitReady(redis);
    const prefix = uniquePrefix("node");
    const intake = webhookIntake(redis, prefix);
    const app = webhookRoutes({ intake, secrets: [SECRET], maxBytes: 64 * 1024, logger, metrics: createMetrics() });
    const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
    await new Promise((r) => server.once("listening", r));
    const base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    const send = (body: string | ReadableStream<Uint8Array>, extra: Record<string, string> = {}) =>
      fetch(`${base}/webhooks/gitlab`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Gitlab-Token": SECRET, "X-Gitlab-Event": "Merge Request Hook", ...extra },
        body,
        duplex: "half",
      } as RequestInit);
    try {
      const ok = await send(fixtureText("merge_request.json"), { "Idempotency-Key": "node-1" });
      expect(ok.status).toBe(202);
      const { id } = (await ok.json()) as { id: string };
      expect((await keptWebhooks(redis, prefix)).get(id)?.body).toBe(fixtureText("merge_request.json"));
      const chunked = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode("x".repeat(10 * 1024)));
          controller.close();
        },
      });
      expect((await send(chunked)).status).toBe(413);
      expect((await send("{broken")).status).toBe(400);

      // A body in many pieces is put back together byte for byte (a multi-byte character split between two).
      const text = fixtureText("merge_request.json").replace('"title":"', '"title":"Ünïcödé ✓ ');
      const bytes = new TextEncoder().encode(text);
      const pieces = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let at = 0; at < bytes.length; at += 333) controller.enqueue(bytes.slice(at, at + 333));
          controller.close();
        },
      });
      const multi = await send(pieces, { "Idempotency-Key": "node-2" });
      expect(multi.status).toBe(202);
      expect((await keptWebhooks(redis, prefix)).get(((await multi.json()) as { id: string }).id)?.body).toBe(text);

      // A client that goes away in the middle of its body leaves nothing queued, and the next is served.
      const { port } = new URL(base);
      const socket = net.connect(Number(port), "127.0.0.1");
      await new Promise((r) => socket.once("connect", r));
      await new Promise((r) =>
        socket.write(`POST /webhooks/gitlab HTTP/1.1\r\nHost: x\r\nX-Gitlab-Token: ${SECRET}\r\nIdempotency-Key: node-cut\r\nContent-Length: 5000\r\n\r\n{"object_kind":`, r),
      );
      socket.destroy();
      expect((await send(fixtureText("merge_request.json"), { "Idempotency-Key": "node-3" })).status).toBe(202);
      expect((await intake.counts()).waiting).toBe(3);
    } finally {
      server.close();
      redis.disconnect();
      await dropPrefix(prefix);
    }
  });
});

describe("POST /webhooks/gitlab with several master secrets and derived tokens", () => {
  const OLD = "old-master-secret";
  const NEW = "new-master-secret";
  const prefix = uniquePrefix("scoped");
  let redis: Redis;
  let intake: WebhookIntake;
  let app: ReturnType<typeof webhookRoutes>;
  let log: CapturedLogger;
  // merge_request.json is about gitlabhq/gitlab-test; the title is how a logged payload would show.
  const mergeRequest = fixture<{ project: { path_with_namespace: string }; object_attributes: { title: string } }>("merge_request.json");
  const title = mergeRequest.object_attributes.title;

  function mergeRequestIn(path: string): string {
    return JSON.stringify({ ...mergeRequest, project: { ...mergeRequest.project, path_with_namespace: path } });
  }
  function send(body: string, token: string, event = "Merge Request Hook") {
    return app.request("/webhooks/gitlab", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Gitlab-Token": token, "X-Gitlab-Event": event, "Idempotency-Key": `scoped-${Math.random()}` },
      body,
    });
  }

  beforeAll(async () => {
    redis = producerConnection(redisUrl);
    await waitReady(redis);
    intake = webhookIntake(redis, prefix);
  });
  beforeEach(() => {
    log = captureLogger();
    app = webhookRoutes({ intake, secrets: [NEW, OLD], maxBytes: 1 << 20, logger: log.logger, metrics: createMetrics() });
  });
  afterEach(() => {
    expect(log.text()).not.toContain(title);
  });
  afterAll(async () => {
    await dropPrefix(prefix);
    redis.disconnect();
  });

  it("accepts the old and the new master secret while hooks are re-keyed", async () => {
    expect((await send(mergeRequestIn("gitlabhq/gitlab-test"), NEW)).status).toBe(202);
    expect((await send(mergeRequestIn("gitlabhq/gitlab-test"), OLD)).status).toBe(202);
    expect((await send(mergeRequestIn("gitlabhq/gitlab-test"), "some-other-secret")).status).toBe(401);
  });

  it("accepts a project's token for that project only, and refuses it for another without logging the payload", async () => {
    const token = webhookTokenFor(NEW, { kind: "project", path: "GitLabHQ/GitLab-Test" });
    const accepted = await send(mergeRequestIn("gitlabhq/gitlab-test"), token);
    expect(accepted.status).toBe(202);
    const { id } = (await accepted.json()) as { id: string };
    expect((await keptWebhooks(redis, prefix)).get(id)?.kind).toBe("merge_request");

    const before = (await intake.counts()).waiting;
    const refused = await send(mergeRequestIn("gitlabhq/other-project"), token);
    expect(refused.status).toBe(401);
    expect((await intake.counts()).waiting).toBe(before);
    // Nor for the group above it, nor a project below a same-named group.
    expect((await send(mergeRequestIn("gitlabhq"), token)).status).toBe(401);
    expect((await send(mergeRequestIn("gitlabhq/gitlab-test/inner"), token)).status).toBe(401);
    expect(log.lines().some((l) => l.reason === "token_scope")).toBe(true);
    expect(log.text()).not.toContain(token);
  });

  it("accepts a token derived from the old master secret too", async () => {
    const token = webhookTokenFor(OLD, { kind: "project", path: "gitlabhq/gitlab-test" });
    expect((await send(mergeRequestIn("gitlabhq/gitlab-test"), token)).status).toBe(202);
  });

  it("accepts a group's token for every project and subgroup below it, and for the group's own events", async () => {
    const token = webhookTokenFor(NEW, { kind: "group", path: "group1" });
    expect((await send(mergeRequestIn("group1/app"), token)).status).toBe(202);
    expect((await send(mergeRequestIn("group1/sub/deeper/app"), token)).status).toBe(202);
    expect((await send(fixtureText("subgroup_create.json"), token, "Subgroup Hook")).status).toBe(202);
    expect((await send(mergeRequestIn("group10/app"), token)).status).toBe(401);
    expect((await send(mergeRequestIn("other/group1/app"), token)).status).toBe(401);
  });

  it("refuses a derived-looking token that belongs to no master secret, and one whose body names no project", async () => {
    const forged = webhookTokenFor("not-our-master", { kind: "project", path: "gitlabhq/gitlab-test" });
    expect((await send(mergeRequestIn("gitlabhq/gitlab-test"), forged)).status).toBe(401);
    const token = webhookTokenFor(NEW, { kind: "group", path: "gitlabhq" });
    expect((await send('{"object_kind": "merge_request"', token)).status).toBe(401);
    expect((await send(JSON.stringify({ object_kind: "something_new" }), token, "Something Hook")).status).toBe(401);
  });

  it("refuses at once, without reading the body, a token that is neither a master secret nor derived", async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new TextEncoder().encode("{"));
      },
    });
    const res = await app.request("/webhooks/gitlab", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Gitlab-Token": "wrong-secret-value" },
      body,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(401);
    // The stream is endless: had the route read it, it would never have answered.
    expect(pulled).toBeLessThanOrEqual(1);
  });
});
