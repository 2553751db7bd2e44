// The real bot process (HTTP server, Redis, SQLite file) against both simulators: a person connects
// their GitLab account through the browser flow (confirming the page that names both accounts), sees it
// in `/gitlab me` and disconnects; the database file and Redis never hold a token in plain text.
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { generateKey } from "../../src/crypto.js";
import { createLogger } from "../../src/logger.js";
import { startBot, type RunningBot } from "../../src/main.js";
import { createBrowser } from "../support/browser.js";
import { pressOn } from "./harness.js";
import { sqliteFileUrl } from "../support/db.js";
import { startGitlabSim, type GitlabSim } from "../support/gitlab-sim.js";
import { startMattermostSim, type MattermostSim } from "../support/mattermost-sim.js";
import { dropPrefix, redisUrl, uniquePrefix } from "../support/redis.js";

const PUBLIC_URL = "http://bot.test";
const COMMAND_TOKEN = "e2e-oauth-command-token";

describe("connecting a GitLab account, end to end", () => {
  let gitlab: GitlabSim;
  let mm: MattermostSim;
  let bot: RunningBot;
  let base: string;
  let dbFile: string;
  const prefix = uniquePrefix("oauth-e2e");

  beforeAll(async () => {
    gitlab = await startGitlabSim({ redirectUri: `${PUBLIC_URL}/oauth/gitlab/callback` });
    mm = await startMattermostSim();
    const databaseUrl = sqliteFileUrl(mkdtempSync(join(tmpdir(), "gmm-oauth-e2e-")));
    dbFile = databaseUrl.slice("sqlite:".length);
    const config = loadConfig({
      PUBLIC_URL,
      MATTERMOST_URL: mm.url,
      MATTERMOST_BOT_TOKEN: mm.botToken,
      MATTERMOST_COMMAND_TOKENS: COMMAND_TOKEN,
      GITLAB_URL: gitlab.url,
      GITLAB_WEBHOOK_SECRET: "e2e-webhook-secret",
      GITLAB_OAUTH_CLIENT_ID: gitlab.app.clientId,
      GITLAB_OAUTH_CLIENT_SECRET: gitlab.app.clientSecret,
      ENCRYPTION_KEY: generateKey(),
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: "silent",
    });
    bot = await startBot({ ...config, port: 0 }, createLogger("silent"));
    base = `http://127.0.0.1:${bot.port}`;
  });

  afterAll(async () => {
    await bot?.stop();
    await gitlab?.close();
    await mm?.close();
    await dropPrefix(prefix);
  });

  async function command(user: { id: string; username: string }, text: string) {
    const channel = mm.addChannel({ name: `town-${Math.random().toString(36).slice(2, 8)}` });
    const res = await fetch(`${base}/mattermost/command`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: COMMAND_TOKEN, team_id: channel.team_id, channel_id: channel.id, channel_name: channel.name, user_id: user.id, user_name: user.username, command: "/gitlab", text }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { response_type: string; text: string };
  }

  /** Every value under the bot's Redis prefix, as text. */
  async function redisText(): Promise<string> {
    const redis = new Redis(redisUrl);
    try {
      const keys = await redis.keys(`${prefix}*`);
      const values = await Promise.all(keys.map(async (k) => ((await redis.type(k)) === "string" ? ((await redis.get(k)) ?? "") : JSON.stringify(await redis.hgetall(k).catch(() => ({}))))));
      return keys.join("\n") + values.join("\n");
    } finally {
      redis.disconnect();
    }
  }

  it("connects, shows the account, keeps no plaintext token, and disconnects with a revoke", async () => {
    const carol = mm.addUser({ username: "carol" });
    const gCarol = gitlab.addUser({ username: "carol.gitlab" });

    const help = await command(carol, "help");
    for (const c of ["connect", "disconnect", "me"]) expect(help.text).toContain(`\`/gitlab ${c}\``);
    expect((await command(carol, "me")).text).toContain("not connected to GitLab. Type `/gitlab connect`");

    const reply = await command(carol, "connect");
    const link = /\((http:\/\/bot\.test\/oauth\/gitlab\/connect\?state=[\w-]+)\)/.exec(reply.text)![1]!;
    // The browser reaches the bot at PUBLIC_URL; here that name points at the test's port.
    const browser = createBrowser({
      [PUBLIC_URL]: async (req) =>
        fetch(req.url.replace(PUBLIC_URL, base), { method: req.method, headers: req.headers, body: req.method === "POST" ? await req.text() : undefined, redirect: "manual" }),
    });
    browser.setCookie(gitlab.url, gitlab.sessionCookie(gCarol));
    const confirmation = await browser.get(link);
    expect(confirmation.response.status).toBe(200);
    expect(confirmation.text).toContain("Mattermost account: @carol");
    expect(confirmation.text).toContain("GitLab account: @carol.gitlab");
    expect(confirmation.response.headers.get("x-frame-options")).toBe("DENY");
    // Nothing is connected before the person at the browser confirms.
    expect((await command(carol, "me")).text).toContain("not connected to GitLab");
    // Meanwhile the tokens GitLab issued wait in Redis, encrypted only.
    const waiting = await redisText();
    for (const token of gitlab.issuedTo(gCarol)) expect(waiting.includes(token)).toBe(false);

    const page = await pressOn(browser, confirmation.text, "confirm");
    expect(page.response.status).toBe(200);
    expect(page.text).toContain("connected to GitLab as @carol.gitlab");

    const dm = mm.posts().find((p) => p.message.includes("connected as @\u200Bcarol.gitlab"));
    expect(dm).toBeDefined();
    expect(mm.requests.some((r) => r.method === "POST" && r.path === "/api/v4/channels/direct" && r.status === 201)).toBe(true);

    const me = await command(carol, "me");
    expect(me.text).toContain("You are connected to GitLab as [@\u200Bcarol.gitlab]");

    // The tokens GitLab issued are nowhere in the database file (or its WAL), nor in Redis.
    const issued = gitlab.requests.filter((r) => r.path === "/oauth/token");
    expect(issued).toHaveLength(1);
    const active = gitlab.issuedTo(gCarol);
    expect(active).toHaveLength(2);
    const files = [dbFile, `${dbFile}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f).toString("latin1"));
    const stored = await redisText();
    // (the files read do hold the link's row)
    expect(files.some((bytes) => bytes.includes("carol.gitlab"))).toBe(true);
    for (const token of active) {
      for (const bytes of files) expect(bytes.includes(token)).toBe(false);
      expect(stored.includes(token)).toBe(false);
    }

    const bye = await command(carol, "disconnect");
    expect(bye.text).toContain("Disconnected from GitLab account @\u200Bcarol.gitlab; the bot's access was revoked at GitLab.");
    for (const token of active) expect(gitlab.tokenState(token)).toBe("revoked");
    expect((await command(carol, "me")).text).toContain("not connected to GitLab");
    expect(mm.violations).toEqual([]);
    expect(gitlab.unhandled).toEqual([]);
  });
});
