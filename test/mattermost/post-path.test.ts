// The delivery worker's calls (create and patch a post) go through a keep-alive pool rather than
// Client4's fetch; every other call still goes through Client4. Each failure Mattermost can answer
// must come out of both paths as the same MattermostError (kind, status, error id, Retry-After), or
// the delivery worker would retry, pause or give up differently depending on the call.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createMattermostClient, MattermostError, type MattermostApi } from "../../src/mattermost/client.js";
import { startMattermostSim, type MattermostSim, type SimChannel } from "../support/mattermost-sim.js";

let sim: MattermostSim;
let mattermost: MattermostApi;
let town: SimChannel;

beforeAll(async () => {
  sim = await startMattermostSim();
  mattermost = createMattermostClient(sim.url, sim.botToken);
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.reset();
  town = sim.addChannel({ name: `town-${Math.random().toString(36).slice(2, 8)}` });
});

/** What the delivery worker decides on: everything of the error but its sentence. */
async function failureOf(call: Promise<unknown>) {
  const error: unknown = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MattermostError);
  const { kind, status, retryAfterMs, errorId } = error as MattermostError;
  return { kind, status, retryAfterMs, errorId };
}

describe("posting through the pool", () => {
  it("creates a reply and patches the root as the bot, as the API reference allows", async () => {
    const root = await mattermost.createPost({ channel_id: town.id, message: "root", props: { gitlab_mm_delivery: "d1" }, pending_post_id: `${sim.bot.id}:d1` });
    const reply = await mattermost.createPost({ channel_id: town.id, message: "reply **bold** 中文", root_id: root.id, props: { attachments: [{ fallback: "a", text: "a", color: "#1f78d1" }] } });
    await mattermost.patchPost(root.id, { message: "root, merged", props: { gitlab_mm_delivery: "d1" } });
    expect(sim.post(root.id)).toMatchObject({ message: "root, merged", user_id: sim.bot.id, props: { gitlab_mm_delivery: "d1" } });
    expect(sim.post(reply.id)).toMatchObject({ message: "reply **bold** 中文", root_id: root.id, user_id: sim.bot.id });
    expect(sim.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      "POST /api/v4/posts 201",
      "POST /api/v4/posts 201",
      `PUT /api/v4/posts/${root.id}/patch 200`,
    ]);
    expect(sim.violations).toEqual([]);
  });

  it("keeps posting over reused connections when many posts are in flight", async () => {
    const ids = await Promise.all(Array.from({ length: 40 }, (_, i) => mattermost.createPost({ channel_id: town.id, message: `post ${i}` })));
    expect(new Set(ids.map((p) => p.id)).size).toBe(40);
    expect(sim.posts(town.id).map((p) => p.message).sort()).toEqual(Array.from({ length: 40 }, (_, i) => `post ${i}`).sort());
    expect(sim.violations).toEqual([]);
  });
});

describe("failures, classified as Client4's path classifies them", () => {
  const failures: { name: string; failure: Parameters<MattermostSim["failNext"]>[0]; expected: Awaited<ReturnType<typeof failureOf>> }[] = [
    {
      name: "429 in text/plain with Retry-After",
      failure: { status: 429, retryAfterSeconds: 3 },
      expected: { kind: "rate_limited", status: 429, retryAfterMs: 3000, errorId: undefined },
    },
    { name: "503", failure: { status: 503 }, expected: { kind: "server", status: 503, retryAfterMs: undefined, errorId: "app.sim.injected_failure.app_error" } },
    { name: "401", failure: { status: 401 }, expected: { kind: "auth", status: 401, retryAfterMs: undefined, errorId: "app.sim.injected_failure.app_error" } },
    {
      name: "400 naming a deleted root",
      failure: {
        status: 400,
        body: JSON.stringify({ id: "api.post.create_post.root_id.app_error", message: "Invalid RootId parameter.", detailed_error: "", request_id: "r", status_code: 400 }),
      },
      expected: { kind: "client", status: 400, retryAfterMs: undefined, errorId: "api.post.create_post.root_id.app_error" },
    },
    {
      name: "502 from a proxy in front, in HTML",
      failure: { status: 502, contentType: "text/html", body: "<html>Bad Gateway</html>" },
      expected: { kind: "server", status: 502, retryAfterMs: undefined, errorId: undefined },
    },
    {
      name: "a success whose body is not the JSON it claims to be",
      failure: { status: 201, body: "{not json" },
      expected: { kind: "network", status: undefined, retryAfterMs: undefined, errorId: undefined },
    },
  ];

  for (const { name, failure, expected } of failures) {
    it(name, async () => {
      sim.failNext({ ...failure, method: "POST", path: /^\/api\/v4\/posts$/ });
      const created = await failureOf(mattermost.createPost({ channel_id: town.id, message: "x" }));
      sim.failNext({ ...failure, method: "PUT", path: /\/patch$/ });
      const patched = await failureOf(mattermost.patchPost("a".repeat(26), { message: "x" }));
      sim.failNext({ ...failure, method: "GET", path: /^\/api\/v4\/channels\// });
      const throughClient4 = await failureOf(mattermost.getChannel(town.id));
      expect(created).toEqual(expected);
      expect(patched).toEqual(expected);
      expect(throughClient4).toEqual(expected);
    });
  }

  it("a post Mattermost cannot show: 403 on patching a deleted post is auth, as on every call", async () => {
    const post = await mattermost.createPost({ channel_id: town.id, message: "soon gone" });
    sim.deletePost(post.id);
    expect(await failureOf(mattermost.patchPost(post.id, { message: "x" }))).toMatchObject({ kind: "auth", status: 403 });
  });

  it("no answer at all is a network error naming the call", async () => {
    sim.setDown(true);
    try {
      const error = await mattermost.createPost({ channel_id: town.id, message: "x" }).catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: "network", status: undefined });
      expect((error as Error).message).toMatch(/^Mattermost did not answer POST \/api\/v4\/posts: /);
      expect(await failureOf(mattermost.getChannel(town.id))).toMatchObject({ kind: "network" });
    } finally {
      sim.setDown(false);
    }
    expect((await mattermost.createPost({ channel_id: town.id, message: "back" })).id).toMatch(/^[a-z0-9]{26}$/);
  });
});

describe("a Mattermost that takes requests in and never answers", () => {
  it("gives up on each call after the timeout, on both paths, as a network failure", async () => {
    const impatient = createMattermostClient(sim.url, sim.botToken, { timeoutMs: 300 });
    sim.setHanging(true);
    try {
      expect(await failureOf(impatient.createPost({ channel_id: town.id, message: "stuck" }))).toMatchObject({ kind: "network" });
      expect(await failureOf(impatient.getChannel(town.id))).toMatchObject({ kind: "network" });
    } finally {
      sim.setHanging(false);
    }
    expect((await impatient.createPost({ channel_id: town.id, message: "answered again" })).id).toMatch(/^[a-z0-9]{26}$/);
  });
});
