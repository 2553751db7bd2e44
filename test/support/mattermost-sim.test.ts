import mm from "@mattermost/client";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startMattermostSim, type MattermostSim, type SimChannel, type SimUser } from "./mattermost-sim.js";
import { REFERENCE_ERRATA, loadSpec, matchRoute, validateRequest, validateResponse } from "./openapi.js";

const { Client4 } = mm;

let sim: MattermostSim;
let town: SimChannel;
let secret: SimChannel;
let alice: SimUser & { token: string };

function clientFor(token: string) {
  const client = new Client4();
  client.setUrl(sim.url);
  client.setToken(token);
  return client;
}

async function call(method: string, path: string, opts: { token?: string | null; body?: unknown; rawBody?: string } = {}) {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  const token = opts.token === undefined ? sim.botToken : opts.token;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${sim.url}${path}`, { method, headers, body: opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json: json as Record<string, unknown> };
}

beforeAll(async () => {
  sim = await startMattermostSim();
  town = sim.addChannel({ name: "town-square" });
  secret = sim.addChannel({ name: "secret", type: "P", botIsMember: false });
  alice = sim.addUser({ username: "alice", locale: "de", timezone: { useAutomaticTimezone: "false", automaticTimezone: "", manualTimezone: "Europe/Berlin" } });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => sim.reset());

describe("API reference loader", () => {
  it("loads all fragments and fixes the unprefixed commands path", () => {
    const spec = loadSpec();
    expect(spec.operations.length).toBeGreaterThan(200);
    expect(matchRoute("GET", "/api/v4/teams/abc/commands/autocomplete_suggestions")?.operation.operationId).toBe("ListCommandAutocompleteSuggestions");
    expect(REFERENCE_ERRATA.length).toBeGreaterThan(0);
  });

  it("prefers literal segments over parameters", () => {
    expect(matchRoute("POST", "/api/v4/users/ids")?.operation.operationId).toBe("GetUsersByIds");
    expect(matchRoute("GET", "/api/v4/users/me")).toMatchObject({ operation: { operationId: "GetUser" }, params: { user_id: "me" } });
    expect(matchRoute("GET", "/api/v4/users/username/alice")).toMatchObject({ operation: { operationId: "GetUserByUsername" }, params: { username: "alice" } });
    expect(matchRoute("PATCH", "/api/v4/posts")).toBeUndefined();
    expect(matchRoute("GET", "/api/v4/nothing/here")).toBeUndefined();
  });

  it("validates bodies and query parameters, accepting extra properties", () => {
    const create = matchRoute("POST", "/api/v4/posts")!;
    const ok = validateRequest(create, new URLSearchParams("set_online=true"), JSON.stringify({ channel_id: "c", message: "m", pending_post_id: "p" }));
    expect(ok.problems).toEqual([]);
    expect(validateRequest(create, new URLSearchParams(), JSON.stringify({ message: "m" })).problems).toEqual(["request body must have required property 'channel_id'"]);
    expect(validateRequest(create, new URLSearchParams("set_online=maybe"), JSON.stringify({ channel_id: "c", message: "m" })).problems).toEqual([
      'query parameter set_online="maybe" must be a boolean',
    ]);
    expect(validateRequest(create, new URLSearchParams(), "").problems).toEqual(["request body is required"]);
    expect(validateRequest(create, new URLSearchParams(), "{nope").problems).toEqual(["request body is not valid JSON"]);
    const patch = matchRoute("PUT", "/api/v4/posts/abc/patch")!;
    expect(validateRequest(patch, new URLSearchParams(), JSON.stringify({ props: { attachments: [] } })).problems).toEqual([]);
    const autocomplete = matchRoute("GET", "/api/v4/users/autocomplete")!;
    expect(validateRequest(autocomplete, new URLSearchParams(), "").problems).toEqual(["query parameter name is required"]);
  });
});

describe("mattermost-sim", () => {
  it("creates a post and a thread reply through Client4", async () => {
    const client = clientFor(sim.botToken);
    const root = await client.createPost({ channel_id: town.id, message: "root" } as never);
    expect(root.id).toMatch(/^[a-z0-9]{26}$/);
    expect(root).toMatchObject({ channel_id: town.id, user_id: sim.bot.id, root_id: "", message: "root", edit_at: 0, props: { from_bot: "true" } });
    const reply = await client.createPost({ channel_id: town.id, message: "reply", root_id: root.id } as never);
    expect(reply.root_id).toBe(root.id);

    const thread = await client.getPostThread(root.id);
    expect(thread.order).toEqual([reply.id, root.id]);
    expect(Object.keys(thread.posts).sort()).toEqual([root.id, reply.id].sort());
    const list = await client.getPosts(town.id);
    expect(list.order).toEqual([reply.id, root.id]);
    expect(sim.posts(town.id).map((p) => p.message)).toEqual(["root", "reply"]);
    expect(sim.violations).toEqual([]);
  });

  it("refuses a root_id that is unknown, a reply, or in another channel", async () => {
    const other = sim.addChannel({ name: `other-${Date.now()}` });
    const root = await call("POST", "/api/v4/posts", { body: { channel_id: town.id, message: "root" } });
    const reply = await call("POST", "/api/v4/posts", { body: { channel_id: town.id, message: "r", root_id: root.json.id } });
    expect(reply.status).toBe(201);
    for (const [channel_id, root_id] of [
      [town.id, "abcdefghijklmnopqrstuvwxyz"],
      [town.id, reply.json.id],
      [other.id, root.json.id],
    ]) {
      const res = await call("POST", "/api/v4/posts", { body: { channel_id, message: "x", root_id } });
      expect(res.status).toBe(400);
    }
    expect(sim.violations).toHaveLength(3);
    expect(sim.posts()).toHaveLength(2);
  });

  it("lets only the author patch a post, and marks it edited", async () => {
    const created = await call("POST", "/api/v4/posts", { body: { channel_id: town.id, message: "v1", props: { attachments: [{ text: "a" }] } } });
    const id = created.json.id as string;
    const client = clientFor(sim.botToken);
    const patched = await client.patchPost({ id, message: "v2", props: { attachments: [{ text: "b" }] } } as never);
    expect(patched.message).toBe("v2");
    expect(patched.edit_at).toBeGreaterThan(0);
    expect(sim.post(id)).toMatchObject({ message: "v2", props: { attachments: [{ text: "b" }] } });

    sim.addMember(town.id, alice.id);
    const byAlice = await call("PUT", `/api/v4/posts/${id}/patch`, { token: alice.token, body: { message: "hijack" } });
    expect(byAlice.status).toBe(403);
    expect(sim.post(id)?.message).toBe("v2");
    expect(sim.violations).toEqual([]);
  });

  it("dedupes creates that repeat a pending_post_id", async () => {
    const body = { channel_id: town.id, message: "once", pending_post_id: `${sim.bot.id}:job-1` };
    const first = await call("POST", "/api/v4/posts", { body });
    const second = await call("POST", "/api/v4/posts", { body });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.json.id).toBe(first.json.id);
    expect(sim.posts(town.id)).toHaveLength(1);
    expect(sim.violations).toEqual([]);
  });

  it("answers 403 to a post in a private channel the bot is not in, and accepts it once it is", async () => {
    const denied = await call("POST", "/api/v4/posts", { body: { channel_id: secret.id, message: "psst" } });
    expect(denied.status).toBe(403);
    expect(denied.json).toMatchObject({ id: "api.context.permissions.app_error", status_code: 403 });
    expect(sim.posts(secret.id)).toEqual([]);
    const unknown = await call("POST", "/api/v4/posts", { body: { channel_id: "abcdefghijklmnopqrstuvwxyz", message: "?" } });
    expect(unknown.status).toBe(403);

    const member = await call("GET", `/api/v4/channels/${secret.id}/members/${sim.bot.id}`);
    expect(member.status).toBe(403);
    sim.addMember(secret.id, sim.bot.id);
    expect((await call("POST", "/api/v4/posts", { body: { channel_id: secret.id, message: "psst" } })).status).toBe(201);
    expect((await call("GET", `/api/v4/channels/${secret.id}/members/${alice.id}`)).status).toBe(404);
    sim.addMember(secret.id, alice.id, { admin: true });
    const admin = await call("GET", `/api/v4/channels/${secret.id}/members/${alice.id}`);
    expect(admin.json).toMatchObject({ roles: "channel_user channel_admin", scheme_admin: true });
    expect(sim.violations).toEqual([]);
  });

  it("answers 401 without a known token", async () => {
    const bad = await call("GET", "/api/v4/users/me", { token: "not-a-token" });
    expect(bad.status).toBe(401);
    expect(bad.headers.get("content-type")).toBe("application/json");
    expect(bad.json).toMatchObject({ id: "api.context.session_expired.app_error", status_code: 401 });
    expect(Object.keys(bad.json).sort()).toEqual(["detailed_error", "id", "message", "request_id", "status_code"]);
    expect((await call("GET", "/api/v4/users/me", { token: null })).status).toBe(401);
    const me = await clientFor(alice.token).getMe();
    expect(me).toMatchObject({ id: alice.id, username: "alice", locale: "de", timezone: { manualTimezone: "Europe/Berlin" } });
  });

  it("answers 404 to a route the reference does not have, and records it", async () => {
    const res = await call("GET", "/api/v4/posts/abcdefghijklmnopqrstuvwxyz/nonsense");
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ id: "api.context.404.app_error", status_code: 404 });
    const wrongMethod = await call("PATCH", `/api/v4/posts/abcdefghijklmnopqrstuvwxyz`, { body: {} });
    expect(wrongMethod.status).toBe(404);
    expect(sim.violations).toHaveLength(2);
    expect(sim.violations[0]).toContain("/api/v4/posts/abcdefghijklmnopqrstuvwxyz/nonsense");
    expect(sim.violations[1]).toContain("documents only");
  });

  it("answers 400 to a body that breaks the reference, and records it", async () => {
    const res = await call("POST", "/api/v4/posts", { body: { message: "no channel" } });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ status_code: 400 });
    expect(sim.violations).toEqual([expect.stringContaining("channel_id")]);
    expect(sim.posts()).toEqual([]);
  });

  it("accepts 16383 runes and refuses 16384", async () => {
    const ok = await call("POST", "/api/v4/posts", { body: { channel_id: town.id, message: "😀".repeat(16383) } });
    expect(ok.status).toBe(201);
    const tooLong = await call("POST", "/api/v4/posts", { body: { channel_id: town.id, message: "x".repeat(16384) } });
    expect(tooLong.status).toBe(400);
    expect(tooLong.json).toMatchObject({ id: "model.post.is_valid.msg.app_error" });
    expect(sim.violations).toEqual([expect.stringContaining("model.post.is_valid.msg.app_error")]);
    expect(sim.posts(town.id)).toHaveLength(1);
  });

  it("answers 429 as Mattermost's rate limiter does when told to", async () => {
    sim.failNext({ method: "POST", path: /^\/api\/v4\/posts$/, status: 429, retryAfterSeconds: 2 });
    const limited = await call("POST", "/api/v4/posts", { body: { channel_id: town.id, message: "m" } });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(limited.headers.get("retry-after")).toBe("2");
    expect(limited.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(limited.headers.get("x-ratelimit-limit")).not.toBeNull();
    expect(limited.text).toBe("limit exceeded\n");
    const next = await call("POST", "/api/v4/posts", { body: { channel_id: town.id, message: "m" } });
    expect(next.status).toBe(201);
    expect(sim.requests.map((r) => r.status)).toEqual([429, 201]);
    expect(sim.posts(town.id)).toHaveLength(1);

    sim.failNext({ path: /\/users\//, status: 503, times: 2 });
    expect((await call("GET", "/api/v4/users/me")).status).toBe(503);
    expect((await call("GET", "/api/v4/users/me")).status).toBe(503);
    expect((await call("GET", "/api/v4/users/me")).status).toBe(200);
  });

  it("drops every connection while down, and recovers", async () => {
    expect((await call("GET", "/api/v4/users/me")).status).toBe(200);
    sim.setDown(true);
    await expect(fetch(`${sim.url}/api/v4/users/me`, { headers: { Authorization: `Bearer ${sim.botToken}` } })).rejects.toThrow(TypeError);
    await expect(clientFor(sim.botToken).getMe()).rejects.toThrow();
    sim.setDown(false);
    expect((await call("GET", "/api/v4/users/me")).status).toBe(200);
  });

  it("creates or returns the direct channel between two users", async () => {
    const first = await call("POST", "/api/v4/channels/direct", { body: [alice.id, sim.bot.id] });
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ type: "D", name: [alice.id, sim.bot.id].sort().join("__"), team_id: "" });
    const again = await call("POST", "/api/v4/channels/direct", { body: [sim.bot.id, alice.id] });
    expect(again.json.id).toBe(first.json.id);
    expect((await call("POST", "/api/v4/posts", { body: { channel_id: first.json.id, message: "hi alice" } })).status).toBe(201);
    expect((await call("POST", "/api/v4/channels/direct", { body: [alice.id] })).status).toBe(400);
    expect(sim.violations).toHaveLength(1);
  });

  it("reset forgets posts, requests, violations and failures but keeps channels", async () => {
    await call("POST", "/api/v4/posts", { body: { channel_id: town.id, message: "m" } });
    await call("GET", "/api/v4/nowhere");
    sim.failNext({ status: 500 });
    sim.reset();
    expect(sim.posts()).toEqual([]);
    expect(sim.requests).toEqual([]);
    expect(sim.violations).toEqual([]);
    expect((await call("GET", `/api/v4/channels/${town.id}`)).status).toBe(200);
  });

  it("answers as the API reference documents", async () => {
    const team = sim.addTeam(`team-${Date.now()}`);
    const closed = sim.addChannel({ name: `closed-${Date.now()}`, type: "P", team_id: team.id, botIsMember: false });
    const checked: string[] = [];
    async function check(method: string, path: string, body?: unknown, token?: string) {
      const res = await call(method, path, { body, token });
      expect(res.status, `${method} ${path}`).toBeLessThan(300);
      expect(res.headers.get("content-type")).toBe("application/json");
      expect(validateResponse(method, path, res.status, res.json), `${method} ${path}`).toEqual([]);
      checked.push(`${method} ${path}`);
      return res.json;
    }
    await check("GET", "/api/v4/users/me");
    await check("GET", "/api/v4/users/me", undefined, alice.token);
    await check("GET", `/api/v4/users/${alice.id}`);
    await check("GET", "/api/v4/users/username/alice");
    await check("POST", "/api/v4/users/ids", [alice.id, sim.bot.id]);
    const root = await check("POST", "/api/v4/posts", { channel_id: town.id, message: "root", pending_post_id: "p-1", props: { attachments: [{ text: "t" }] } });
    await check("POST", "/api/v4/posts", { channel_id: town.id, message: "reply", root_id: root.id });
    await check("GET", `/api/v4/posts/${root.id}`);
    await check("PUT", `/api/v4/posts/${root.id}/patch`, { message: "edited", props: { attachments: [] } });
    await check("GET", `/api/v4/posts/${root.id}/thread`);
    await check("GET", `/api/v4/channels/${town.id}/posts?page=0&per_page=60`);
    await check("GET", `/api/v4/channels/${town.id}`);
    await check("GET", `/api/v4/channels/${town.id}/members/${sim.bot.id}`);
    await check("POST", "/api/v4/channels/direct", [sim.bot.id, alice.id]);
    await check("GET", `/api/v4/teams/${team.id}`);
    await check("DELETE", `/api/v4/posts/${root.id}`);

    for (const error of [
      await call("GET", "/api/v4/users/me", { token: "x" }),
      await call("GET", `/api/v4/posts/${"a".repeat(26)}`),
      await call("POST", "/api/v4/posts", { body: { message: "no channel" } }),
      await call("POST", "/api/v4/posts", { body: { channel_id: closed.id, message: "m" } }),
    ]) {
      expect(validateResponse("GET", "/api/v4/users/me", 401, error.json)).toEqual([]);
      expect(error.json).toEqual(expect.objectContaining({ id: expect.any(String), message: expect.any(String), request_id: expect.any(String), status_code: error.status }));
    }
    expect(checked).toHaveLength(16);
    expect(sim.violations).toEqual([expect.stringContaining("channel_id")]);
  });
});

describe("optional rate limit", () => {
  it("answers 429 with Retry-After once the burst is spent, as Mattermost's limiter does, and serves again after it", async () => {
    const limited = await startMattermostSim({ rateLimit: { perSecond: 10, burst: 5 } });
    try {
      const me = () => fetch(`${limited.url}/api/v4/users/me`, { headers: { Authorization: `Bearer ${limited.botToken}` } });
      const answers = [];
      for (let i = 0; i < 8; i++) answers.push(await me());
      expect(answers.slice(0, 5).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      const refused = answers.find((r) => r.status === 429);
      expect(refused).toBeDefined();
      expect(refused!.headers.get("retry-after")).toBe("1");
      expect(refused!.headers.get("x-ratelimit-remaining")).toBe("0");
      expect(await refused!.text()).toBe("limit exceeded\n");
      expect(limited.requests.filter((r) => r.status === 429).length).toBe(answers.filter((r) => r.status === 429).length);
      await new Promise((r) => setTimeout(r, 1000 * Number(refused!.headers.get("retry-after"))));
      expect((await me()).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it("is off unless asked for", async () => {
    const answers = await Promise.all(Array.from({ length: 150 }, () => call("GET", "/api/v4/users/me")));
    expect(answers.every((r) => r.status === 200)).toBe(true);
  });
});
