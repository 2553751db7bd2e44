import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, loadLocalConfig, parseCommandToken } from "../src/config.js";

const minimal = {
  MATTERMOST_URL: "https://mm.example.com/",
  MATTERMOST_BOT_TOKEN: "bot-token",
  GITLAB_WEBHOOK_SECRET: "s3cret-value",
};

function problems(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("loadConfig", () => {
  it("applies SPEC.md defaults", () => {
    const c = loadConfig(minimal);
    expect(c.port).toBe(8080);
    expect(c.publicUrl).toBe("http://localhost:8080");
    expect(c.mattermost.url).toBe("https://mm.example.com");
    expect(c.redisUrl).toBe("redis://127.0.0.1:6379");
    expect(c.databaseUrl).toBe("sqlite:./data/bot.sqlite");
    expect(c.webhookMaxBytes).toBe(26214400);
    expect(c.defaultLocale).toBe("en");
    expect(c.allowPrivateProjectsInPublicChannels).toBe(false);
    expect(c.gitlab.url).toBeUndefined();
    expect(c.mattermost.commandTokens).toEqual([]);
  });

  it("reads lists, booleans and numbers", () => {
    const c = loadConfig({
      ...minimal,
      MATTERMOST_COMMAND_TOKENS: "aaa, bbb,,",
      ALLOW_PRIVATE_PROJECTS_IN_PUBLIC_CHANNELS: "true",
      WEBHOOK_MAX_BYTES: "1024",
      DEFAULT_LOCALE: "zh-CN",
      GITLAB_URL: "https://gitlab.example.com",
      ENCRYPTION_KEY: Buffer.alloc(32, 7).toString("base64"),
    });
    expect(c.mattermost.commandTokens).toEqual(["aaa", "bbb"]);
    expect(c.allowPrivateProjectsInPublicChannels).toBe(true);
    expect(c.webhookMaxBytes).toBe(1024);
    expect(c.defaultLocale).toBe("zh-CN");
    expect(c.encryptionKey?.length).toBe(32);
    expect(c.mattermostPostsPerSecond).toBeUndefined();
  });

  it("paces posts only when MATTERMOST_POSTS_PER_SECOND says, and names a bad value", () => {
    expect(loadConfig({ ...minimal, MATTERMOST_POSTS_PER_SECOND: "8" }).mattermostPostsPerSecond).toBe(8);
    expect(() => loadConfig({ ...minimal, MATTERMOST_POSTS_PER_SECOND: "fast" })).toThrow(
      "MATTERMOST_POSTS_PER_SECOND: must be a positive whole number (posts per second, at or below Mattermost's rate limit)",
    );
  });

  it("names every missing required variable, one line each", () => {
    expect(problems({})).toEqual([
      "MATTERMOST_URL: must be set to the Mattermost server base URL (http:// or https:// URL)",
      "MATTERMOST_BOT_TOKEN: must be set to the access token of the Mattermost bot account",
      "GITLAB_WEBHOOK_SECRET: must be set to the secret token configured on the GitLab webhook",
    ]);
  });

  it("names malformed values and what is expected", () => {
    const lines = problems({
      ...minimal,
      PORT: "eighty",
      MATTERMOST_URL: "mm.example.com",
      REDIS_URL: "localhost:6379",
      DATABASE_URL: "mysql://x",
      ENCRYPTION_KEY: "short",
      DEFAULT_LOCALE: "fr",
      ALLOW_PRIVATE_PROJECTS_IN_PUBLIC_CHANNELS: "maybe",
      LOG_LEVEL: "loud",
    });
    expect(lines.map((l) => l.split(":")[0])).toEqual([
      "PORT",
      "MATTERMOST_URL",
      "REDIS_URL",
      "DATABASE_URL",
      "ENCRYPTION_KEY",
      "LOG_LEVEL",
      "DEFAULT_LOCALE",
      "ALLOW_PRIVATE_PROJECTS_IN_PUBLIC_CHANNELS",
    ]);
    expect(lines.join("\n")).not.toMatch(/at .*\.ts/);
  });

  it("gives the CLI its storage settings without Mattermost ones", () => {
    expect(loadLocalConfig({ DATABASE_URL: "postgres://u@h/db" })).toMatchObject({ databaseUrl: "postgres://u@h/db", queuePrefix: "gitlab-mm" });
  });

  it("listens on every address unless HOST says otherwise", () => {
    expect(loadConfig(minimal).host).toBe("0.0.0.0");
    expect(loadConfig({ ...minimal, HOST: " 127.0.0.1 " }).host).toBe("127.0.0.1");
    expect(loadConfig({ ...minimal, HOST: "::" }).host).toBe("::");
    expect(problems({ ...minimal, HOST: "local host" })).toEqual([expect.stringMatching(/^HOST: must be an address/)]);
  });

  it("serves /metrics on PORT unless METRICS_PORT names another port, and checks METRICS_TOKEN", () => {
    expect(loadConfig(minimal)).toMatchObject({ metricsPort: undefined, metricsToken: undefined });
    expect(loadConfig({ ...minimal, METRICS_PORT: "9090", METRICS_TOKEN: "0123456789abcdef0123" })).toMatchObject({ metricsPort: 9090, metricsToken: "0123456789abcdef0123" });
    expect(problems({ ...minimal, METRICS_PORT: "70000" })).toEqual([expect.stringMatching(/^METRICS_PORT: must be a TCP port/)]);
    expect(problems({ ...minimal, METRICS_PORT: "8080" })).toEqual([expect.stringMatching(/^METRICS_PORT: must differ from PORT/)]);
    expect(problems({ ...minimal, METRICS_TOKEN: "short" })).toEqual([expect.stringMatching(/^METRICS_TOKEN: must be at least 16 characters/)]);
  });

  it("keeps the queue dashboard off by default, and refuses it on without ADMIN_TOKEN in one line", () => {
    expect(loadConfig(minimal).queueDashboard).toBe(false);
    expect(loadConfig({ ...minimal, QUEUE_DASHBOARD: "true", ADMIN_TOKEN: "a".repeat(32) }).queueDashboard).toBe(true);
    expect(problems({ ...minimal, QUEUE_DASHBOARD: "true" })).toEqual([expect.stringMatching(/^QUEUE_DASHBOARD: needs ADMIN_TOKEN/)]);
    expect(problems({ ...minimal, QUEUE_DASHBOARD: "maybe" })).toEqual(["QUEUE_DASHBOARD: must be true or false"]);
  });

  it("takes a button signing key of at least 32 characters, or none", () => {
    expect(loadConfig(minimal).actionsSigningKey).toBeUndefined();
    expect(loadConfig({ ...minimal, ACTIONS_SIGNING_KEY: "k".repeat(32) }).actionsSigningKey).toBe("k".repeat(32));
    expect(problems({ ...minimal, ACTIONS_SIGNING_KEY: "short" })).toEqual([expect.stringMatching(/^ACTIONS_SIGNING_KEY: must be at least 32 characters/)]);
  });

  it("reads command tokens bare or as <team_id>:<token> pairs", () => {
    const c = loadConfig({ ...minimal, MATTERMOST_COMMAND_TOKENS: "bare0token, 4xq9team0id0000000000000000:pairedtoken" });
    expect(c.mattermost.commandTokens.map(parseCommandToken)).toEqual([{ token: "bare0token" }, { token: "pairedtoken", teamId: "4xq9team0id0000000000000000" }]);
    expect(problems({ ...minimal, MATTERMOST_COMMAND_TOKENS: "team:" })).toEqual([expect.stringMatching(/^MATTERMOST_COMMAND_TOKENS: must be tokens or <team_id>:<token> pairs/)]);
    expect(problems({ ...minimal, MATTERMOST_COMMAND_TOKENS: ":token" })).toHaveLength(1);
    expect(problems({ ...minimal, MATTERMOST_COMMAND_TOKENS: "Team A:token" })).toHaveLength(1);
    expect(problems({ ...minimal, MATTERMOST_COMMAND_TOKENS: "teama:token,teamb:token" })).toEqual(["MATTERMOST_COMMAND_TOKENS: must name each token once"]);
  });

  it("accepts several webhook secrets, the first for new hooks, each at least 8 characters", () => {
    const c = loadConfig({ ...minimal, GITLAB_WEBHOOK_SECRET: " new-secret-1 , old-secret-2 " });
    expect(c.webhookSecrets).toEqual(["new-secret-1", "old-secret-2"]);
    expect(c.gitlab.webhookSecret).toBe("new-secret-1");
    expect(loadConfig(minimal).webhookSecrets).toEqual(["s3cret-value"]);
    expect(problems({ ...minimal, GITLAB_WEBHOOK_SECRET: "long-enough-secret,short" })).toEqual([expect.stringMatching(/^GITLAB_WEBHOOK_SECRET: must be at least 8 characters/)]);
    expect(problems({ ...minimal, GITLAB_WEBHOOK_SECRET: " , " })).toEqual([expect.stringMatching(/^GITLAB_WEBHOOK_SECRET: must be set/)]);
  });
});
