// What the tests of commands that act on GitLab share: both simulators, a real Redis and database,
// linked-accounts service wired to the GitLab simulator, a logger the test can read, and the context a
// command gets when someone types it in a channel.
import { Redis } from "ioredis";
import type { CommandBase } from "../../commands/index.js";
import type { GitlabAccounts } from "../../src/gitlab/accounts.js";
import { createMattermostClient, type MattermostApi } from "../../src/mattermost/client.js";
import { createMetrics, type Metrics } from "../../src/metrics.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { accountsConfig, testAccounts, type AccountsConfig } from "../support/gitlab-accounts.js";
import { startGitlabSim, type GitlabSim } from "../support/gitlab-sim.js";
import { startMattermostSim, type MattermostSim, type SimUser } from "../support/mattermost-sim.js";
import { dropPrefix, redisUrl } from "../support/redis.js";
import { captureLogger, type CapturedLogger } from "./helpers.js";

export interface CommandTestbed {
  mm: MattermostSim;
  /** The bot's Mattermost client (as the command route has it). */
  mattermost: MattermostApi;
  gitlab: GitlabSim;
  redis: Redis;
  config: AccountsConfig;
  t: TestDatabase;
  accounts: GitlabAccounts;
  log: CapturedLogger;
  /** The counters commands write to; `freshMetrics()` starts a test with none. */
  metrics: Metrics;
  freshMetrics(): Metrics;
  /** What a command gets when `who` types it in `channel`; anything may be overridden. */
  base(who: SimUser, channel: { id: string; name: string; team_id?: string }, overrides?: Partial<CommandBase>): CommandBase;
  close(): Promise<void>;
}

export async function startCommandTestbed(): Promise<CommandTestbed> {
  const mm = await startMattermostSim();
  const mattermost = createMattermostClient(mm.url, mm.botToken);
  const gitlab = await startGitlabSim();
  const redis = new Redis(redisUrl);
  const config = accountsConfig(gitlab);
  const t = await createTestDatabase("sqlite");
  const log = captureLogger();
  const accounts = testAccounts({ config, db: t.db, redis, logger: log.logger });
  const bed: CommandTestbed = {
    mm,
    mattermost,
    gitlab,
    redis,
    config,
    t,
    accounts,
    log,
    metrics: createMetrics(),
    freshMetrics() {
      bed.metrics = createMetrics();
      return bed.metrics;
    },
    base(who, channel, overrides = {}) {
      return {
        userId: who.id,
        userName: who.username,
        channelId: channel.id,
        channelName: channel.name,
        teamId: channel.team_id ?? "t".repeat(26),
        db: t.db,
        mattermost,
        config: { defaultLocale: "en", publicUrl: "http://bot.test" },
        logger: log.logger,
        metrics: bed.metrics,
        gitlab: { ready: true, accounts },
        ...overrides,
      };
    },
    async close() {
      await mm.close();
      await gitlab.close();
      redis.disconnect();
      await dropPrefix(config.queuePrefix);
      await t.drop();
    },
  };
  return bed;
}
