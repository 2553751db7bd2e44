// The whole bot (HTTP, Redis queues, SQLite file, workers) against the Mattermost simulator, as the
// end-to-end tests and the benchmarks use it. A GitLab simulator stands behind `subscriptions add`: the
// admin's Mattermost account is linked to a GitLab administrator, and every path a test subscribes to
// exists there (public) unless the test made it first.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { loadConfig, type Config } from "../../src/config.js";
import { createTokenCipher, generateKey, userLinkBinding } from "../../src/crypto.js";
import { createLogger } from "../../src/logger.js";
import { startBot, type RunningBot } from "../../src/main.js";
import { jobCounts } from "../../src/queue/admin.js";
import { webhookIntake } from "../../src/queue/intake.js";
import { openQueues } from "../../src/queue/queues.js";
import { openDatabase } from "../../src/store/db.js";
import { saveUserLink } from "../../src/store/user-links.js";
import { sqliteFileUrl } from "./db.js";
import { startGitlabSim, type GitlabSim } from "./gitlab-sim.js";
import { startMattermostSim, type MattermostSim, type SimChannel, type SimUser } from "./mattermost-sim.js";
import { dropPrefix, redisUrl, uniquePrefix } from "./redis.js";

export const WEBHOOK_SECRET = "harness-webhook-secret";
export const COMMAND_TOKEN = "harness-command-token";

export interface BotHarness {
  sim: MattermostSim;
  gitlab: GitlabSim;
  bot: RunningBot;
  config: Config;
  base: string;
  team: { id: string; name: string };
  /** A system admin who may subscribe any channel. */
  admin: SimUser;
  /** Runs `/gitlab <text>` in a channel as a user, through the HTTP route. */
  command(channel: SimChannel, user: SimUser, text: string): Promise<{ response_type: string; text: string }>;
  /** POSTs a webhook as GitLab would. */
  hook(body: string, headers: Record<string, string>): Promise<Response>;
  /** True when no job is waiting, active or delayed in either queue. */
  drained(): Promise<boolean>;
  stop(): Promise<void>;
}

export async function startHarness(overrides: Record<string, string> = {}, name = "e2e"): Promise<BotHarness> {
  const sim = await startMattermostSim();
  const team = sim.addTeam("team");
  const admin = sim.addUser({ username: "admin", roles: "system_user system_admin" });
  const gitlab = await startGitlabSim();
  const gitlabAdmin = gitlab.addUser({ username: "root", isAdmin: true });
  const encryptionKey = generateKey();
  const prefix = uniquePrefix(name);
  const config: Config = {
    ...loadConfig({
      MATTERMOST_URL: sim.url,
      MATTERMOST_BOT_TOKEN: sim.botToken,
      MATTERMOST_COMMAND_TOKENS: COMMAND_TOKEN,
      GITLAB_WEBHOOK_SECRET: WEBHOOK_SECRET,
      GITLAB_URL: gitlab.url,
      GITLAB_OAUTH_CLIENT_ID: gitlab.app.clientId,
      GITLAB_OAUTH_CLIENT_SECRET: gitlab.app.clientSecret,
      ENCRYPTION_KEY: encryptionKey,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      DATABASE_URL: sqliteFileUrl(mkdtempSync(join(tmpdir(), `gmm-${name}-`))),
      LOG_LEVEL: "silent",
      ...overrides,
    }),
    port: 0,
  };
  const bot = await startBot(config, createLogger(config.logLevel));
  const base = `http://127.0.0.1:${bot.port}`;
  // The admin has connected their GitLab account (the browser flow itself: test/oauth/connect-e2e.test.ts).
  if (config.encryptionKey) {
    const linkDb = openDatabase(config.databaseUrl).db;
    const cipher = createTokenCipher(config.encryptionKey);
    const tokens = gitlab.issueTokens(gitlabAdmin);
    await saveUserLink(linkDb, {
      mattermostUserId: admin.id,
      gitlabUserId: gitlabAdmin.id,
      gitlabUsername: gitlabAdmin.username,
      accessTokenEnc: cipher.encrypt(tokens.accessToken, userLinkBinding(admin.id, "access_token")),
      refreshTokenEnc: cipher.encrypt(tokens.refreshToken, userLinkBinding(admin.id, "refresh_token")),
      expiresAt: Date.now() + tokens.expiresIn * 1000,
    });
    await linkDb.destroy();
  }
  const probe = new Redis(redisUrl);
  const queues = openQueues(probe, prefix);

  return {
    sim,
    gitlab,
    bot,
    config,
    base,
    team,
    admin,
    async command(channel, user, text) {
      const subscribed = /^\s*subscriptions\s+add\s+(\S+)/i.exec(text)?.[1];
      if (subscribed && !gitlab.exists(subscribed)) {
        if (subscribed.includes("/")) gitlab.addProject(subscribed, "public");
        else gitlab.addGroup(subscribed, "public");
      }
      const res = await fetch(`${base}/mattermost/command`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          token: COMMAND_TOKEN,
          team_id: channel.team_id,
          team_domain: team.name,
          channel_id: channel.id,
          channel_name: channel.name,
          user_id: user.id,
          user_name: user.username,
          command: "/gitlab",
          text,
          response_url: `${base}/unused`,
          trigger_id: "trigger",
        }),
      });
      if (res.status !== 200) throw new Error(`/gitlab ${text}: HTTP ${res.status}`);
      return (await res.json()) as { response_type: string; text: string };
    },
    hook(body, headers) {
      return fetch(`${base}/webhooks/gitlab`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Gitlab-Token": WEBHOOK_SECRET, ...headers },
        body,
      });
    },
    async drained() {
      const stats = await jobCounts(queues, webhookIntake(probe, prefix));
      return Object.values(stats).every((s) => s.waiting + s.active + s.delayed + s.prioritized === 0);
    },
    async stop() {
      await bot.stop();
      await queues.events.close();
      await queues.deliveries.close();
      probe.disconnect();
      await sim.close();
      await gitlab.close();
      await dropPrefix(prefix);
    },
  };
}
