// Bull Board at /admin/queues on the main app, over real Redis queues under a random prefix: absent
// unless QUEUE_DASHBOARD is on, then every page, asset and API call needs ADMIN_TOKEN, as a bearer
// header or as the session cookie the sign-in form sets (only for a same-origin form post).
import type { Hono } from "hono";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { queueDashboardRoutes, SESSION_COOKIE, SESSION_SECONDS } from "../../src/http/queue-dashboard.js";
import { createLogger } from "../../src/logger.js";
import { createMattermostClient } from "../../src/mattermost/client.js";
import { createMetrics } from "../../src/metrics.js";
import { webhookIntake } from "../../src/queue/intake.js";
import { openPersonalQueue, type PersonalQueue } from "../../src/queue/personal.js";
import { openQueues, type DeliveryQueue, type EventQueue } from "../../src/queue/queues.js";
import { createApp } from "../../src/server.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { startMattermostSim, type MattermostSim } from "../support/mattermost-sim.js";
import { dropPrefix, redisUrl, uniquePrefix } from "../support/redis.js";

const TOKEN = "queues-admin-token-0123456789abcdef0123";
const PUBLIC_URL = "https://bot.example.com";
const PROBE_JOB = "dashboard-probe";

let sim: MattermostSim;
let database: TestDatabase;
let redis: Redis;
let prefix: string;
let queues: { events: EventQueue; deliveries: DeliveryQueue; personal: PersonalQueue };

beforeAll(async () => {
  sim = await startMattermostSim();
  database = await createTestDatabase("sqlite");
  redis = new Redis(redisUrl);
  prefix = uniquePrefix("queues");
  queues = { ...openQueues(redis, prefix), personal: openPersonalQueue(redis, prefix) };
  await queues.events.add("push", { kind: "push", payload: "{}" } as never, { jobId: PROBE_JOB });
});

afterAll(async () => {
  await Promise.all([queues.events.close(), queues.deliveries.close(), queues.personal.close()]);
  await dropPrefix(prefix);
  redis.disconnect();
  await database.drop();
  await sim.close();
});

function appWith(env: Record<string, string>): Hono {
  const config = loadConfig({
    MATTERMOST_URL: sim.url,
    MATTERMOST_BOT_TOKEN: sim.botToken,
    GITLAB_WEBHOOK_SECRET: "queues-webhook-secret",
    PUBLIC_URL,
    QUEUE_PREFIX: prefix,
    ...env,
  });
  return createApp({
    config,
    logger: createLogger("silent"),
    metrics: createMetrics(),
    db: database.db,
    redis,
    intake: webhookIntake(redis, prefix),
    queues,
    mattermost: createMattermostClient(sim.url, sim.botToken),
  });
}

const bearer = { Authorization: `Bearer ${TOKEN}` };

/** Posts the sign-in form; `origin` null sends no Origin header. */
async function signIn(app: Pick<Hono, "request">, token: string, origin: string | null = PUBLIC_URL): Promise<Response> {
  return app.request("/admin/queues/login", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...(origin === null ? {} : { Origin: origin }) },
    body: new URLSearchParams({ token }).toString(),
  });
}

/** `name=value` of the session cookie a response sets. */
function sessionOf(res: Response): string {
  const cookie = res.headers.get("set-cookie") ?? "";
  expect(cookie.startsWith(`${SESSION_COOKIE}=`)).toBe(true);
  return cookie.slice(0, cookie.indexOf(";"));
}

describe("off", () => {
  it.each([
    ["by default, with ADMIN_TOKEN set", { ADMIN_TOKEN: TOKEN }],
    ["without ADMIN_TOKEN", {}],
    ["when QUEUE_DASHBOARD=false", { ADMIN_TOKEN: TOKEN, QUEUE_DASHBOARD: "false" }],
  ])("answers 404 %s, even to the admin token", async (_, env: Record<string, string>) => {
    const app = appWith(env);
    for (const path of ["/admin/queues", "/admin/queues/api/queues", "/admin/queues/login"]) {
      const res = await app.request(path, { headers: bearer });
      expect(res.status, path).toBe(404);
    }
  });
});

describe("on", () => {
  const app = () => appWith({ ADMIN_TOKEN: TOKEN, QUEUE_DASHBOARD: "true" });

  it("answers 401 to the page, the API and the assets without the token or with a wrong one", async () => {
    const refusedHeaders: Record<string, string>[] = [{}, { Authorization: `Bearer ${TOKEN}x` }, { Authorization: `Basic ${TOKEN}` }, { Cookie: `${SESSION_COOKIE}=${TOKEN}` }];
    for (const headers of refusedHeaders) {
      const page = await app().request("/admin/queues", { headers });
      expect(page.status).toBe(401);
      // A browser gets the sign-in form instead of the board.
      expect(await page.text()).toContain('<form method="post" action="/admin/queues/login">');
      const api = await app().request("/admin/queues/api/queues", { headers });
      expect(api.status).toBe(401);
      expect(api.headers.get("www-authenticate")).toBe('Bearer realm="queues"');
      expect(await api.json()).toMatchObject({ code: "unauthorized" });
      const asset = await app().request("/admin/queues/static/favicon-32x32.png", { headers });
      expect(asset.status).toBe(401);
    }
  });

  it("serves the page, its assets and its API to the bearer of ADMIN_TOKEN, listing the three queues and a queued job", async () => {
    const page = await app().request("/admin/queues", { headers: bearer });
    expect(page.status).toBe(200);
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    const html = await page.text();
    expect(html).toContain('<base href="/admin/queues/" />');
    const script = /src="(static\/js\/main\.[0-9a-f]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await app().request(`/admin/queues/${script}`, { headers: bearer });
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toContain("javascript");
    expect((await asset.text()).length).toBeGreaterThan(1000);

    const api = await app().request("/admin/queues/api/queues?activeQueue=events&status=waiting&page=1&jobsPerPage=10", { headers: bearer });
    expect(api.status).toBe(200);
    expect(api.headers.get("cache-control")).toBe("no-store");
    const body = (await api.json()) as { queues: { name: string; counts: Record<string, number>; jobs: { id: string }[] }[] };
    expect(body.queues.map((q) => q.name).sort()).toEqual(["deliveries", "events", "personal"]);
    const events = body.queues.find((q) => q.name === "events")!;
    expect(events.counts.waiting).toBe(1);
    expect(events.jobs.map((j) => j.id)).toEqual([PROBE_JOB]);

    // A path the board does not know ends at the dashboard, not in the admin API behind it.
    const unknown = await app().request("/admin/queues/api/no-such-thing", { headers: bearer });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: "not found" });
  });

  it("shows the sign-in form; the admin token there sets a session cookie (not the token) that opens the page and the API", async () => {
    const form = await app().request("/admin/queues/login");
    expect(form.status).toBe(200);
    expect(await form.text()).toContain('name="token" type="password"');

    const res = await signIn(app(), TOKEN);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/queues");
    const setCookie = res.headers.get("set-cookie") ?? "";
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("Secure");
    expect(setCookie).toContain("SameSite=Strict");
    expect(setCookie).toContain("Path=/admin/queues");
    expect(setCookie).toContain(`Max-Age=${SESSION_SECONDS}`);
    expect(setCookie).not.toContain(TOKEN);
    const session = sessionOf(res);

    const page = await app().request("/admin/queues", { headers: { Cookie: session } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<base href="/admin/queues/" />');
    const api = await app().request("/admin/queues/api/queues", { headers: { Cookie: session } });
    expect(api.status).toBe(200);
    expect(((await api.json()) as { queues: unknown[] }).queues).toHaveLength(3);
    // The session opens the dashboard only, not the admin API.
    const admin = await app().request("/admin/subscriptions", { headers: { Cookie: session } });
    expect(admin.status).toBe(401);
  });

  it("sets no Secure flag when PUBLIC_URL is http (the browser would drop the cookie)", async () => {
    const plain = appWith({ ADMIN_TOKEN: TOKEN, QUEUE_DASHBOARD: "true", PUBLIC_URL: "http://localhost:8080" });
    const res = await signIn(plain, TOKEN, "http://localhost:8080");
    expect(res.status).toBe(303);
    expect(res.headers.get("set-cookie")).not.toContain("Secure");
  });

  it("refuses a wrong token at the form, and sets no cookie", async () => {
    for (const wrong of [`${TOKEN}x`, TOKEN.slice(0, -1), ""]) {
      const res = await signIn(app(), wrong);
      expect(res.status).toBe(401);
      expect(res.headers.get("set-cookie")).toBeNull();
      expect(await res.text()).toContain("That is not the admin token.");
    }
  });

  it("refuses a cross-origin post to the form, or one that names no origin, even with the right token", async () => {
    for (const origin of ["https://evil.example.com", "http://bot.example.com", "null", null]) {
      const res = await signIn(app(), TOKEN, origin);
      expect(res.status, String(origin)).toBe(403);
      expect(res.headers.get("set-cookie")).toBeNull();
      expect(await res.json()).toMatchObject({ code: "cross_origin" });
    }
  });

  it("keeps the board's actions: a signed-in page pauses a queue, another site cannot through the cookie", async () => {
    const session = sessionOf(await signIn(app(), TOKEN));
    const pause = (origin: string) => app().request("/admin/queues/api/queues/deliveries/pause", { method: "PUT", headers: { Cookie: session, Origin: origin } });
    const forged = await pause("https://evil.example.com");
    expect(forged.status).toBe(403);
    expect(await queues.deliveries.isPaused()).toBe(false);
    const own = await pause(PUBLIC_URL);
    expect(own.status).toBe(200);
    expect(await queues.deliveries.isPaused()).toBe(true);
    await queues.deliveries.resume();
  });

  it("ends a session after its lifetime, and refuses one signed with another token", async () => {
    let now = Date.parse("2026-12-01T12:00:00Z");
    const config = { queueDashboard: true, adminToken: TOKEN, publicUrl: PUBLIC_URL };
    const routes = (adminToken: string) => queueDashboardRoutes({ config: { ...config, adminToken }, queues, logger: createLogger("silent"), now: () => now });
    const session = sessionOf(await signIn(routes(TOKEN), TOKEN));
    const page = () => routes(TOKEN).request("/admin/queues", { headers: { Cookie: session } });
    expect((await page()).status).toBe(200);
    expect((await routes(`${TOKEN}-rotated`).request("/admin/queues", { headers: { Cookie: session } })).status).toBe(401);
    now += (SESSION_SECONDS - 1) * 1000;
    expect((await page()).status).toBe(200);
    now += 2000;
    expect((await page()).status).toBe(401);
  });
});
