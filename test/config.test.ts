import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, loadLocalConfig } from "../src/config.js";

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

  it("accepts several webhook secrets, the first for new hooks, each at least 8 characters", () => {
    const c = loadConfig({ ...minimal, GITLAB_WEBHOOK_SECRET: " new-secret-1 , old-secret-2 " });
    expect(c.webhookSecrets).toEqual(["new-secret-1", "old-secret-2"]);
    expect(c.gitlab.webhookSecret).toBe("new-secret-1");
    expect(loadConfig(minimal).webhookSecrets).toEqual(["s3cret-value"]);
    expect(problems({ ...minimal, GITLAB_WEBHOOK_SECRET: "long-enough-secret,short" })).toEqual([expect.stringMatching(/^GITLAB_WEBHOOK_SECRET: must be at least 8 characters/)]);
    expect(problems({ ...minimal, GITLAB_WEBHOOK_SECRET: " , " })).toEqual([expect.stringMatching(/^GITLAB_WEBHOOK_SECRET: must be set/)]);
  });
});
