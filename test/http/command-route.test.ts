import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { GitlabAccounts } from "../../src/gitlab/accounts.js";
import { COMMAND_MAX_BYTES, commandRoutes } from "../../src/http/command-route.js";
import { redisCommandTokenTeams, type CommandTokenTeams } from "../../src/http/command-token-teams.js";
import { createMattermostClient, type MattermostApi } from "../../src/mattermost/client.js";
import { listSubscriptions } from "../../src/store/subscriptions.js";
import { captureLogger, type CapturedLogger } from "../commands/helpers.js";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../support/db.js";
import { accountsConfig, linkUser, testAccounts, type AccountsConfig } from "../support/gitlab-accounts.js";
import { startGitlabSim, type GitlabSim, type GitlabSimUser } from "../support/gitlab-sim.js";
import { startMattermostSim, type MattermostSim } from "../support/mattermost-sim.js";
import { dropPrefix, redisUrl, uniquePrefix } from "../support/redis.js";
import { waitFor } from "../support/wait.js";

const TEAM_A_TOKEN = "xq3mz8team-a-token-7d1";
const TEAM_B_TOKEN = "p0wq9team-b-token-2k8";

let sim: MattermostSim;
let mattermost: MattermostApi;
let seq = 0;

// `subscriptions add` asks GitLab (as the connected user) whether they may subscribe.
let gitlab: GitlabSim;
let redis: Redis;
let gitlabConfig: AccountsConfig;

beforeAll(async () => {
  sim = await startMattermostSim();
  mattermost = createMattermostClient(sim.url, sim.botToken);
  gitlab = await startGitlabSim();
  redis = new Redis(redisUrl);
  gitlabConfig = accountsConfig(gitlab);
  gitlab.addProject("team/app", "public");
});
afterAll(async () => {
  await sim.close();
  await gitlab.close();
  redis.disconnect();
  await dropPrefix(gitlabConfig.queuePrefix);
});

describe.each(databaseKinds)("POST /mattermost/command (%s)", (kind) => {
  let tdb: TestDatabase;
  let log: CapturedLogger;
  let teamA: { id: string; name: string };
  let teamB: { id: string; name: string };
  let channel: { id: string; name: string; team_id: string };
  let admin: { id: string; username: string };
  let gAdmin: GitlabSimUser;
  let accounts: GitlabAccounts;

  beforeEach(async () => {
    seq++;
    tdb = await createTestDatabase(kind);
    log = captureLogger();
    teamA = sim.addTeam(`team-a-${seq}`);
    teamB = sim.addTeam(`team-b-${seq}`);
    channel = sim.addChannel({ name: `builds-${seq}`, team_id: teamA.id, botIsMember: true });
    admin = sim.addUser({ username: `erin${seq}` });
    sim.addMember(channel.id, admin.id, { admin: true });
    accounts = testAccounts({ config: gitlabConfig, db: tdb.db, redis, logger: log.logger });
    gAdmin = gitlab.addUser({ username: `g-erin${seq}` });
    gitlab.addMember("team/app", gAdmin, 30);
    await linkUser(accounts, gitlab, admin.id, gAdmin);
  });
  afterEach(async () => {
    expect(sim.violations).toEqual([]);
    expect(log.text()).not.toContain(TEAM_A_TOKEN);
    expect(log.text()).not.toContain(TEAM_B_TOKEN);
    await tdb.drop();
  });

  function app(tokens: string[] = [TEAM_A_TOKEN, TEAM_B_TOKEN], ackAfterMs?: number, more: { tokenTeams?: CommandTokenTeams; mattermost?: MattermostApi; requestTimeoutMs?: number } = {}) {
    return commandRoutes({
      // Only the tests about acknowledging choose a short wait: a loaded machine must not turn an answer into an ack.
      ackAfterMs: ackAfterMs ?? 30_000,
      tokenTeams: more.tokenTeams,
      requestTimeoutMs: more.requestTimeoutMs,
      db: tdb.db,
      mattermost: more.mattermost ?? mattermost,
      config: {
        mattermost: { url: sim.url, botToken: sim.botToken, commandTokens: tokens },
        defaultLocale: "en",
        publicUrl: "http://localhost:8080",
      },
      logger: log.logger,
      gitlab: { ready: true, accounts },
    });
  }

  function form(fields: Record<string, string | undefined>): Record<string, string> {
    const all: Record<string, string | undefined> = {
      token: TEAM_A_TOKEN,
      team_id: teamA.id,
      team_domain: teamA.name,
      channel_id: channel.id,
      channel_name: channel.name,
      user_id: admin.id,
      user_name: admin.username,
      command: "/gitlab",
      text: "help",
      response_url: "http://mattermost.invalid/hooks/commands/abc",
      trigger_id: "trigger-1",
      ...fields,
    };
    return Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
  }

  function post(fields: Record<string, string | undefined>, tokens?: string[], routes = app(tokens)) {
    return routes.request("/mattermost/command", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form(fields)).toString(),
    });
  }

  it("answers a good token with a JSON slash-command response", async () => {
    const res = await post({});
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["response_type", "text"]);
    expect(body.response_type).toBe("ephemeral");
    expect(body.text).toContain("/gitlab subscriptions add");
  });

  it("acknowledges a slow command at once and finishes it through response_url", async () => {
    // GitLab takes its time to say whether the user may subscribe.
    gitlab.delayNext({ path: /^\/api\/v4\/projects\//, ms: 600 });
    const responseUrl = sim.commandResponseUrl();
    const before = sim.commandResponses.length;
    const res = await app(undefined, 100).request("/mattermost/command", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form({ text: "subscriptions add team/app issues", response_url: responseUrl })).toString(),
    });
    expect(await res.json()).toEqual({ response_type: "ephemeral", text: "Working on it… the answer follows in a moment." });
    await waitFor(() => sim.commandResponses.length > before, 5000, "the response through response_url");
    expect(sim.commandResponses.at(-1)).toMatchObject({ body: { response_type: "in_channel", text: expect.stringContaining("subscribed this channel to team/app") } });
    expect((await listSubscriptions(tdb.db, { channelId: channel.id })).map((s) => s.path)).toEqual(["team/app"]);
  });

  it("never sends a result to a response_url outside the Mattermost server", async () => {
    gitlab.delayNext({ path: /^\/api\/v4\/projects\//, ms: 400 });
    const before = sim.requests.length;
    const res = await app(undefined, 50).request("/mattermost/command", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form({ text: "subscriptions add team/app issues", response_url: "http://169.254.169.254/hooks/commands/x" })).toString(),
    });
    expect(((await res.json()) as { text: string }).text).toContain("Working on it");
    await waitFor(() => log.text().includes("could not be sent through response_url"), 5000, "the refusal in the log");
    expect(sim.requests.slice(before).filter((r) => r.path.startsWith("/hooks/"))).toEqual([]);
  });

  it("accepts the tokens of two teams", async () => {
    const res = await post({ token: TEAM_B_TOKEN, team_id: teamB.id, team_domain: teamB.name });
    expect(res.status).toBe(200);
  });

  it.each([
    ["a wrong token", "wrong-token"],
    ["a token one character short", TEAM_A_TOKEN.slice(0, -1)],
    ["an empty token", ""],
    ["no token", undefined],
  ])("refuses %s with 401 and an ephemeral JSON text", async (_, token) => {
    const res = await post({ token });
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.response_type).toBe("ephemeral");
    expect(typeof body.text).toBe("string");
  });

  it("refuses every request, with a hint in the log, when no token is configured", async () => {
    const res = await post({}, []);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { response_type: string }).response_type).toBe("ephemeral");
    expect(log.lines().some((l) => String(l.msg).includes("MATTERMOST_COMMAND_TOKENS"))).toBe(true);
  });

  it("refuses a body that is not a form", async () => {
    const res = await app().request("/mattermost/command", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(form({})),
    });
    expect(res.status).toBe(401);
  });

  it.each(["user_id", "channel_id"])("answers 400 when %s is missing", async (name) => {
    const res = await post({ [name]: undefined });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { response_type: string }).response_type).toBe("ephemeral");
  });

  it("runs a subscription command end to end and tells the channel", async () => {
    const res = await post({ text: 'subscriptions add Team/App issues label:"release blocker"' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      response_type: "in_channel",
      text: `@${admin.username} subscribed this channel to team/app: issues, label:"release blocker"`,
    });
    const rows = await listSubscriptions(tdb.db, { channelId: channel.id });
    expect(rows).toMatchObject([{ path: "team/app", features: 'issues,label:"release blocker"', team_id: teamA.id, created_by: admin.id }]);
  });

  it("writes usage lines with the trigger Mattermost sent", async () => {
    const res = await post({ command: "/gl", text: "subscriptions nope" });
    const body = (await res.json()) as { text: string };
    expect(body.text).toContain("`/gl subscriptions list`");
  });

  describe("trust", () => {
    it("refuses a body over 64 KiB with 413 before parsing it, declared or streamed", async () => {
      const padded = new URLSearchParams(form({ text: "subscriptions add team/app issues", padding: "x".repeat(COMMAND_MAX_BYTES) })).toString();
      const declared = await app().request("/mattermost/command", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: padded,
      });
      expect(declared.status).toBe(413);
      expect(((await declared.json()) as { response_type: string }).response_type).toBe("ephemeral");
      // An endless body: a route that read it whole before parsing would never answer.
      let cancelled = false;
      const start = new TextEncoder().encode(`${new URLSearchParams(form({ text: "subscriptions add team/app issues" })).toString()}&padding=`);
      const endless = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(start);
        },
        pull(controller) {
          controller.enqueue(new TextEncoder().encode("x".repeat(16 * 1024)));
        },
        cancel() {
          cancelled = true;
        },
      });
      const streamed = await app().request("/mattermost/command", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: endless,
        duplex: "half",
      } as RequestInit);
      expect(streamed.status).toBe(413);
      expect(cancelled).toBe(true);
      expect(await listSubscriptions(tdb.db, { channelId: channel.id })).toEqual([]);
      expect(log.text()).not.toContain("slash command refused: unknown command token");
    });

    it("answers 408 when the body stops arriving", async () => {
      const stalled = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode("token="));
        },
      });
      const res = await app(undefined, undefined, { requestTimeoutMs: 100 }).request("/mattermost/command", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: stalled,
        duplex: "half",
      } as RequestInit);
      expect(res.status).toBe(408);
      expect(((await res.json()) as { response_type: string }).response_type).toBe("ephemeral");
    });

    it("refuses a <team_id>:<token> pair from another team with 401, and accepts it from its own", async () => {
      const pairs = [`${teamA.id}:${TEAM_A_TOKEN}`, `${teamB.id}:${TEAM_B_TOKEN}`];
      const wrongTeam = await post({ token: TEAM_A_TOKEN, team_id: teamB.id, team_domain: teamB.name }, pairs);
      expect(wrongTeam.status).toBe(401);
      expect(((await wrongTeam.json()) as { response_type: string }).response_type).toBe("ephemeral");
      expect(log.text()).toContain("belongs to another team");
      expect((await post({ token: TEAM_A_TOKEN }, pairs)).status).toBe(200);
      expect((await post({ token: TEAM_B_TOKEN, team_id: teamB.id, team_domain: teamB.name }, pairs)).status).toBe(200);
      expect((await post({ token: TEAM_B_TOKEN, team_id: "" }, pairs)).status).toBe(401);
    });

    it("binds a bare token to the first team that uses it, durably, and refuses it to every other team", async () => {
      const prefix = uniquePrefix("cmdteam");
      try {
        const first = app([TEAM_A_TOKEN], undefined, { tokenTeams: redisCommandTokenTeams(redis, prefix) });
        expect((await post({ token: TEAM_A_TOKEN }, undefined, first)).status).toBe(200);
        expect(log.lines().filter((l) => String(l.msg).includes("bound to the first team"))).toMatchObject([{ level: 40, team_id: teamA.id }]);
        expect((await post({ token: TEAM_A_TOKEN, team_id: teamB.id, team_domain: teamB.name }, undefined, first)).status).toBe(401);
        // Another process (or a restart) reads the same binding.
        const second = app([TEAM_A_TOKEN], undefined, { tokenTeams: redisCommandTokenTeams(redis, prefix) });
        expect((await post({ token: TEAM_A_TOKEN, team_id: teamB.id, team_domain: teamB.name }, undefined, second)).status).toBe(401);
        expect((await post({ token: TEAM_A_TOKEN }, undefined, second)).status).toBe(200);
        expect(log.lines().filter((l) => String(l.msg).includes("bound to the first team"))).toHaveLength(1);
        expect(await redis.keys(`${prefix}:*`)).toHaveLength(1);
        expect((await redis.keys(`${prefix}:*`))[0]).not.toContain(TEAM_A_TOKEN);
      } finally {
        await dropPrefix(prefix);
      }
    });
  });

  describe("personal replies", () => {
    beforeEach(() => {
      gitlab.addMergeRequest({ project: "team/app", iid: 100 + seq, title: `Review me ${seq}`, author: gAdmin, reviewers: [gAdmin] });
    });

    it("answers /gitlab todo ephemerally at once", async () => {
      const res = await post({ text: "todo" });
      const body = (await res.json()) as { response_type: string; text: string };
      expect(body.text).toContain(`Review me ${seq}`);
      expect(body.response_type).toBe("ephemeral");
    });

    it("answers /gitlab todo ephemerally through response_url when GitLab is slow", async () => {
      gitlab.delayNext({ path: /^\/api\/v4\//, ms: 500, times: 4 });
      const before = sim.commandResponses.length;
      const res = await post({ text: "todo", response_url: sim.commandResponseUrl() }, undefined, app(undefined, 50));
      expect(((await res.json()) as { text: string }).text).toContain("Working on it");
      await waitFor(() => sim.commandResponses.length > before, 5000, "the response through response_url");
      expect(sim.commandResponses.at(-1)).toMatchObject({ body: { response_type: "ephemeral", text: expect.stringContaining(`Review me ${seq}`) } });
    });

    it("finishes through response_url when Mattermost is served from a sub-path", async () => {
      const proxy = await subPathProxy(sim.url, "/mattermost");
      try {
        const underSubPath = createMattermostClient(`${proxy.url}/mattermost`, sim.botToken);
        const hook = new URL(sim.commandResponseUrl());
        gitlab.delayNext({ path: /^\/api\/v4\//, ms: 400, times: 4 });
        const before = sim.commandResponses.length;
        await post({ text: "todo", response_url: `${proxy.url}/mattermost${hook.pathname}` }, undefined, app(undefined, 50, { mattermost: underSubPath }));
        await waitFor(() => sim.commandResponses.length > before, 5000, "the response through the sub-path");
        expect(sim.commandResponses.at(-1)).toMatchObject({ body: { response_type: "ephemeral" } });
        // A hook outside the server's sub-path is not the server's.
        gitlab.delayNext({ path: /^\/api\/v4\//, ms: 400, times: 4 });
        const outside = new URL(sim.commandResponseUrl());
        await post({ text: "todo", response_url: `${proxy.url}${outside.pathname}` }, undefined, app(undefined, 50, { mattermost: underSubPath }));
        await waitFor(() => log.text().includes("could not be sent through response_url"), 5000, "the refusal in the log");
        expect(proxy.paths.filter((p) => !p.startsWith("/mattermost/"))).toEqual([]);
      } finally {
        await proxy.close();
      }
    });
  });
});

/** Mattermost behind a reverse proxy at `base` (as https://example.com/mattermost): strips it and forwards. */
async function subPathProxy(target: string, base: string): Promise<{ url: string; paths: string[]; close(): Promise<void> }> {
  const to = new URL(target);
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = req.url ?? "/";
    paths.push(path);
    if (!path.startsWith(`${base}/`)) {
      res.writeHead(404).end();
      return;
    }
    const forward = httpRequest({ host: to.hostname, port: to.port, method: req.method, path: path.slice(base.length), headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    paths,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
