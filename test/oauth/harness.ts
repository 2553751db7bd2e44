// The bot's HTTP surface for the OAuth tests, without a port: the slash-command route and the OAuth
// routes in one Hono app, on the address http://bot.test that the GitLab simulator redirects to,
// with a clock the test moves.
import { Hono } from "hono";
import { Redis } from "ioredis";
import { expect } from "vitest";
import type { GitlabAccounts } from "../../src/gitlab/accounts.js";
import { commandRoutes } from "../../src/http/command-route.js";
import { oauthRoutes } from "../../src/http/oauth-routes.js";
import { createMattermostClient } from "../../src/mattermost/client.js";
import { directMessenger } from "../../src/mattermost/direct-message.js";
import { createProfiles } from "../../src/people/profiles.js";
import type { Db } from "../../src/store/db.js";
import { captureLogger, type CapturedLogger } from "../commands/helpers.js";
import { createBrowser, type Browser } from "../support/browser.js";
import { accountsConfig, BOT_ORIGIN, testAccounts, type AccountsConfig } from "../support/gitlab-accounts.js";
import type { GitlabSim } from "../support/gitlab-sim.js";
import type { MattermostSim } from "../support/mattermost-sim.js";
import { dropPrefix, redisUrl } from "../support/redis.js";

export const COMMAND_TOKEN = "oauth-test-command-token";

export interface Harness {
  app: Hono;
  accounts: GitlabAccounts;
  config: AccountsConfig;
  log: CapturedLogger;
  clock: { now: number };
  browser(): Browser;
  command(user: { id: string; username: string }, text: string, channelId?: string): Promise<{ response_type: string; text: string }>;
  close(): Promise<void>;
}

export function startHarness(opts: { db: Db; gitlab: GitlabSim; mm: MattermostSim; config?: Partial<AccountsConfig> }): Harness {
  const clock = { now: Date.now() };
  const config = accountsConfig(opts.gitlab, opts.config);
  const redis = new Redis(redisUrl);
  const log = captureLogger();
  const mattermost = createMattermostClient(opts.mm.url, opts.mm.botToken);
  const profiles = createProfiles({ mattermost, defaultLocale: "en", logger: log.logger });
  const accounts = testAccounts({ config, db: opts.db, redis, logger: log.logger, notify: directMessenger(mattermost), profiles, now: () => clock.now });
  const gitlab = { ready: true as const, accounts };
  const app = new Hono();
  app.route(
    "/",
    commandRoutes({
      db: opts.db,
      mattermost,
      config: { mattermost: { url: opts.mm.url, botToken: opts.mm.botToken, commandTokens: [COMMAND_TOKEN] }, defaultLocale: "en", publicUrl: BOT_ORIGIN, allowPrivateProjectsInPublicChannels: config.allowPrivateProjectsInPublicChannels },
      logger: log.logger,
      gitlab,
    }),
  );
  app.route("/", oauthRoutes({ gitlab, logger: log.logger, mattermost }));
  const defaultChannel = opts.mm.addChannel({ name: `oauth-${Math.random().toString(36).slice(2, 10)}` });

  return {
    app,
    accounts,
    config,
    log,
    clock,
    browser: () => createBrowser({ [BOT_ORIGIN]: (req) => app.request(req) }),
    async command(user, text, channelId = defaultChannel.id) {
      const res = await app.request("/mattermost/command", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token: COMMAND_TOKEN, team_id: defaultChannel.team_id, channel_id: channelId, channel_name: "c", user_id: user.id, user_name: user.username, command: "/gitlab", text }),
      });
      expect(res.status).toBe(200);
      return (await res.json()) as { response_type: string; text: string };
    },
    async close() {
      redis.disconnect();
      await dropPrefix(config.queuePrefix);
    },
  };
}

/** The confirmation form of the page the callback shows: where it posts and its CSRF token. */
export function confirmFormIn(html: string): { action: string; csrfToken: string } {
  const action = /<form method="post" action="([^"]+)">/.exec(html)?.[1];
  const csrfToken = /<input type="hidden" name="csrf_token" value="([\w-]+)">/.exec(html)?.[1];
  if (!action || !csrfToken) throw new Error(`no confirmation form in: ${html}`);
  return { action, csrfToken };
}

/** Presses a button of the confirmation page the browser is on. */
export async function pressOn(browser: Browser, html: string, button: "confirm" | "cancel") {
  const form = confirmFormIn(html);
  return browser.post(form.action, { csrf_token: form.csrfToken, action: button });
}

/** The connect URL in a `/gitlab connect` reply. */
export function connectUrlIn(text: string): string {
  const m = /\((http:\/\/bot\.test\/oauth\/gitlab\/connect\?state=[\w-]+)\)/.exec(text);
  if (!m) throw new Error(`no connect link in: ${text}`);
  return m[1]!;
}
