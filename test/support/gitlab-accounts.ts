// Linked GitLab accounts for tests: the accounts service wired to the GitLab simulator, and a way to
// link a Mattermost user without walking the browser flow (tokens issued by the simulator, stored
// encrypted as the callback stores them).
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import type { Config } from "../../src/config.js";
import { setupGitlabAccounts, type GitlabAccounts, type GitlabAccountsDeps } from "../../src/gitlab/accounts.js";
import type { Logger } from "../../src/logger.js";
import type { Db } from "../../src/store/db.js";
import type { GitlabSim, GitlabSimUser } from "./gitlab-sim.js";

/** The address the bot is reached at in tests that serve it without a port (see test/support/browser.ts). */
export const BOT_ORIGIN = "http://bot.test";
export const CALLBACK_URL = `${BOT_ORIGIN}/oauth/gitlab/callback`;

export function testKey(): Buffer {
  return randomBytes(32);
}

export type AccountsConfig = GitlabAccountsDeps["config"] & Pick<Config, "allowPrivateProjectsInPublicChannels">;

export function accountsConfig(sim: GitlabSim, overrides: Partial<AccountsConfig> = {}): AccountsConfig {
  return {
    gitlab: { url: sim.url, webhookSecret: "unused-secret", oauthClientId: sim.app.clientId, oauthClientSecret: sim.app.clientSecret, ignoredUsernames: [] },
    publicUrl: BOT_ORIGIN,
    encryptionKey: testKey(),
    encryptionKeysPrevious: [],
    queuePrefix: `gmmtest-acc-${randomBytes(4).toString("hex")}`,
    allowPrivateProjectsInPublicChannels: false,
    ...overrides,
  };
}

export function testAccounts(deps: {
  config: AccountsConfig;
  db: Db;
  redis: Redis;
  logger: Logger;
  notify?: GitlabAccountsDeps["notify"];
  profiles?: GitlabAccountsDeps["profiles"];
  now?: () => number;
  tokenOptions?: GitlabAccountsDeps["tokenOptions"];
}): GitlabAccounts {
  const setup = setupGitlabAccounts(deps);
  if (!setup.ready) throw new Error(`accounts not ready: ${setup.missing.join(", ")}`);
  return setup.accounts;
}

/** Links the Mattermost user to the GitLab user with fresh tokens from the simulator. */
export async function linkUser(accounts: GitlabAccounts, sim: GitlabSim, mattermostUserId: string, user: GitlabSimUser, expiresAt?: number) {
  const issued = sim.issueTokens(user);
  await accounts.tokens.link(mattermostUserId, { id: user.id, username: user.username }, {
    accessToken: issued.accessToken,
    refreshToken: issued.refreshToken,
    expiresAt: expiresAt ?? accounts.now() + issued.expiresIn * 1000,
  });
  return issued;
}
