// The one place that reads the environment (SPEC.md "Settings"). Everything else receives a Config.
import { existsSync, readFileSync } from "node:fs";
import { parse as parseDotenv } from "dotenv";
import { z } from "zod";

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

const httpUrl = (what: string) =>
  z
    .string({ error: `must be set to the ${what} (http:// or https:// URL)` })
    .trim()
    .refine((v) => /^https?:\/\/[^\s]+$/i.test(v) && URL.canParse(v), `must be an http:// or https:// URL (the ${what})`)
    .transform((v) => v.replace(/\/+$/, ""));

const bool = (fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return fallback;
      const s = v.trim().toLowerCase();
      if (["true", "1", "yes", "on"].includes(s)) return true;
      if (["false", "0", "no", "off"].includes(s)) return false;
      ctx.addIssue({ code: "custom", message: "must be true or false" });
      return z.NEVER;
    });

const positiveInt = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0) {
        ctx.addIssue({ code: "custom", message: "must be a positive whole number" });
        return z.NEVER;
      }
      return n;
    });

// A proxy is named by URL (http://host:3128, or https:// for a proxy spoken to over TLS).
const proxyUrl = optionalString.refine((v) => v === undefined || (/^https?:\/\//i.test(v) && URL.canParse(v)), "must be the proxy's http:// or https:// URL, e.g. http://proxy.example.com:3128");

const csv = z
  .string()
  .optional()
  .transform((v) => (v ?? "").split(",").map((s) => s.trim()).filter(Boolean));

/** One entry of MATTERMOST_COMMAND_TOKENS: `<team_id>:<token>`, or a bare token. */
export interface CommandTokenEntry {
  token: string;
  /** The team the token belongs to; absent for a bare token (bound to the first team that uses it). */
  teamId?: string;
}

/** An entry of MATTERMOST_COMMAND_TOKENS, or undefined when it is neither `<team_id>:<token>` nor a bare token. */
export function parseCommandToken(entry: string): CommandTokenEntry | undefined {
  const colon = entry.indexOf(":");
  const token = entry.slice(colon + 1);
  const teamId = colon === -1 ? undefined : entry.slice(0, colon);
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  if (teamId !== undefined && !/^[a-z0-9]+$/.test(teamId)) return undefined;
  return teamId === undefined ? { token } : { token, teamId };
}

export const LOCALES = ["en", "zh-CN"] as const;
export type Locale = (typeof LOCALES)[number];

const schema = z.object({
  PORT: positiveInt(8080).refine((n) => n < 65536, "must be a TCP port (1-65535)"),
  HOST: z
    .string()
    .trim()
    .default("0.0.0.0")
    .refine((v) => /^[A-Za-z0-9.:[\]%_-]+$/.test(v), "must be an address to listen on, e.g. 0.0.0.0, 127.0.0.1 or ::"),
  PUBLIC_URL: httpUrl("address browsers and Mattermost use to reach the bot").default("http://localhost:8080"),
  MATTERMOST_URL: httpUrl("Mattermost server base URL"),
  MATTERMOST_BOT_TOKEN: z
    .string({ error: "must be set to the access token of the Mattermost bot account" })
    .trim()
    .min(1, "must be set to the access token of the Mattermost bot account"),
  MATTERMOST_COMMAND_TOKENS: csv
    .refine((entries) => entries.every((e) => parseCommandToken(e) !== undefined), "must be tokens or <team_id>:<token> pairs, comma-separated")
    .refine((entries) => {
      const tokens = entries.map((e) => parseCommandToken(e)?.token);
      return new Set(tokens).size === tokens.length;
    }, "must name each token once"),
  // Notifications need no GitLab URL; commands that act on GitLab do (SPEC.md "Dedupe" paragraph).
  GITLAB_URL: httpUrl("GitLab base URL").optional(),
  // Several, comma-separated, while hooks move to a new secret; the first is the one new hooks get.
  GITLAB_WEBHOOK_SECRET: z
    .string({ error: "must be set to the secret token configured on the GitLab webhook" })
    .transform((v) => v.split(",").map((s) => s.trim()).filter(Boolean))
    .refine((secrets) => secrets.length > 0, "must be set to the secret token configured on the GitLab webhook")
    .refine((secrets) => secrets.every((s) => s.length >= 8), "must be at least 8 characters (the secret token configured on the GitLab webhook; each of them, when comma-separated)"),
  GITLAB_OAUTH_CLIENT_ID: optionalString,
  GITLAB_OAUTH_CLIENT_SECRET: optionalString,
  GITLAB_IGNORED_USERNAMES: csv,
  REDIS_URL: z
    .string()
    .trim()
    .default("redis://127.0.0.1:6379")
    .refine((v) => /^rediss?:\/\//.test(v) && URL.canParse(v), "must be a redis:// or rediss:// URL"),
  QUEUE_PREFIX: z.string().trim().min(1).default("gitlab-mm"),
  DATABASE_URL: z
    .string()
    .trim()
    .default("sqlite:./data/bot.sqlite")
    .refine((v) => /^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(v), "must be sqlite:<file> or postgres://user@host/db"),
  ENCRYPTION_KEY: optionalString.refine(
    (v) => v === undefined || Buffer.from(v, "base64").length === 32,
    "must be 32 bytes encoded as base64 (generate one with: openssl rand -base64 32)",
  ),
  // Older keys still accepted for decrypting stored tokens while `gitlab-mm keys rotate` runs (comma-separated).
  ENCRYPTION_KEY_PREVIOUS: csv.refine(
    (keys) => keys.every((k) => Buffer.from(k, "base64").length === 32),
    "must be 32-byte base64 keys, comma-separated (the keys ENCRYPTION_KEY had before)",
  ),
  // Signs the context of buttons on posts; without it the key derives from ENCRYPTION_KEY.
  ACTIONS_SIGNING_KEY: optionalString.refine((v) => v === undefined || v.length >= 32, "must be at least 32 characters (openssl rand -base64 32), or empty to derive it from ENCRYPTION_KEY"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  WEBHOOK_MAX_BYTES: positiveInt(26214400),
  DEFAULT_LOCALE: z.enum(LOCALES, { error: "must be en or zh-CN" }).default("en"),
  ALLOW_PRIVATE_PROJECTS_IN_PUBLIC_CHANNELS: bool(false),
  HTTP_PROXY: proxyUrl,
  HTTPS_PROXY: proxyUrl,
  NO_PROXY: optionalString,
  // The lower-case forms many tools set (curl, wget); the upper-case ones win when both are set.
  http_proxy: proxyUrl,
  https_proxy: proxyUrl,
  no_proxy: optionalString,
  // Bearer token of the admin API (/admin/..., `gitlab-mm --url`); unset, the API is off.
  ADMIN_TOKEN: optionalString.refine((v) => v === undefined || v.length >= 32, "must be at least 32 characters (openssl rand -hex 32), or empty to turn the admin API off"),
  // Bull Board at /admin/queues, signed into with ADMIN_TOKEN; off unless asked for.
  QUEUE_DASHBOARD: bool(false),
  ROLE: z.enum(["all", "web", "worker"]).default("all"),
  DELIVERY_CONCURRENCY: positiveInt(8),
  // Mattermost's own rate limit (System Console > Rate Limiting) is per second: set this at or below it
  // so every bot process together stays under it instead of bursting into 429s.
  MATTERMOST_POSTS_PER_SECOND: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0) {
        ctx.addIssue({ code: "custom", message: "must be a positive whole number (posts per second, at or below Mattermost's rate limit)" });
        return z.NEVER;
      }
      return n;
    }),
  DELIVERY_RETRY_BASE_MS: positiveInt(2000),
  METRICS_PORT: optionalString.transform((v, ctx) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0 || n >= 65536) {
      ctx.addIssue({ code: "custom", message: "must be a TCP port (1-65535) other than PORT, or empty to serve /metrics on PORT" });
      return z.NEVER;
    }
    return n;
  }),
  METRICS_TOKEN: optionalString.refine((v) => v === undefined || v.length >= 16, "must be at least 16 characters (openssl rand -hex 32), or empty"),
});

export interface Config {
  port: number;
  /** Address the HTTP server listens on. */
  host: string;
  publicUrl: string;
  mattermost: { url: string; botToken: string; commandTokens: string[] };
  gitlab: {
    url?: string;
    /** The master secret that hooks the bot makes get (their tokens derive from it). */
    webhookSecret: string;
    oauthClientId?: string;
    oauthClientSecret?: string;
    /** GitLab accounts whose events are not posted (the bot's own service accounts). */
    ignoredUsernames: string[];
  };
  /** Every accepted master webhook secret, the one new hooks get first (GITLAB_WEBHOOK_SECRET). */
  webhookSecrets: string[];
  /** /metrics on a port of its own (then not on `port`). */
  metricsPort?: number;
  /** When set, /metrics answers only this bearer token. */
  metricsToken?: string;
  redisUrl: string;
  queuePrefix: string;
  databaseUrl: string;
  encryptionKey?: Buffer;
  /** Earlier encryption keys, accepted for decryption only (ENCRYPTION_KEY_PREVIOUS). */
  encryptionKeysPrevious: Buffer[];
  /** ACTIONS_SIGNING_KEY: signs buttons on posts (else a key derived from `encryptionKey`). */
  actionsSigningKey?: string;
  logLevel: z.infer<typeof schema>["LOG_LEVEL"];
  webhookMaxBytes: number;
  defaultLocale: Locale;
  allowPrivateProjectsInPublicChannels: boolean;
  proxy: ProxySettings;
  /** Bearer token of the admin API (ADMIN_TOKEN); the API is off without it. */
  adminToken?: string;
  /** Bull Board at /admin/queues (QUEUE_DASHBOARD); only ever on with `adminToken`. */
  queueDashboard: boolean;
  role: "all" | "web" | "worker";
  deliveryConcurrency: number;
  /** At most this many posts per second from all bot processes together (MATTERMOST_POSTS_PER_SECOND); unset: no pacing. */
  mattermostPostsPerSecond?: number;
  /** First retry delay of queued work; the cap between tries and the 48-hour budget scale with it. */
  deliveryRetryBaseMs: number;
}

/** Thrown with one line per problem; main prints the lines and exits without a stack trace. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
    this.name = "ConfigError";
  }
}

/** Reads `.env` (when present) under the real environment, which wins. */
export function readEnvironment(env: NodeJS.ProcessEnv = process.env, dotenvPath = ".env"): Record<string, string | undefined> {
  const fromFile = existsSync(dotenvPath) ? parseDotenv(readFileSync(dotenvPath)) : {};
  return { ...fromFile, ...env };
}

function problemsOf(error: z.ZodError, env: Record<string, string | undefined>): ConfigError {
  const problems = error.issues.map((issue) => {
    const name = String(issue.path[0] ?? "config");
    const missing = issue.code === "invalid_type" && env[name] === undefined;
    return `${name}: ${missing && !issue.message.startsWith("must") ? "is required" : issue.message}`;
  });
  return new ConfigError([...new Set(problems)]);
}

const localSchema = schema.pick({ REDIS_URL: true, QUEUE_PREFIX: true, DATABASE_URL: true, LOG_LEVEL: true, DEFAULT_LOCALE: true });

/** What the admin CLI needs: the same database and Redis as the server, no Mattermost or GitLab settings. */
export type LocalConfig = Pick<Config, "redisUrl" | "queuePrefix" | "databaseUrl" | "logLevel" | "defaultLocale">;

export function loadLocalConfig(env: Record<string, string | undefined> = readEnvironment()): LocalConfig {
  const result = localSchema.safeParse(env);
  if (!result.success) throw problemsOf(result.error, env);
  const e = result.data;
  return { redisUrl: e.REDIS_URL, queuePrefix: e.QUEUE_PREFIX, databaseUrl: e.DATABASE_URL, logLevel: e.LOG_LEVEL, defaultLocale: e.DEFAULT_LOCALE };
}

/** Proxies for outbound calls (HTTP_PROXY, HTTPS_PROXY, NO_PROXY, or their lower-case forms). */
export interface ProxySettings {
  http?: string;
  https?: string;
  noProxy?: string;
}

const proxySchema = schema.pick({ HTTP_PROXY: true, HTTPS_PROXY: true, NO_PROXY: true, http_proxy: true, https_proxy: true, no_proxy: true });

function proxySettingsOf(e: z.infer<typeof proxySchema>): ProxySettings {
  return { http: e.HTTP_PROXY ?? e.http_proxy, https: e.HTTPS_PROXY ?? e.https_proxy, noProxy: e.NO_PROXY ?? e.no_proxy };
}

/** The outbound proxies alone (for `gitlab-mm setup`, which calls GitLab and Mattermost itself). */
export function loadProxySettings(env: Record<string, string | undefined> = readEnvironment()): ProxySettings {
  const result = proxySchema.safeParse(env);
  if (!result.success) throw problemsOf(result.error, env);
  return proxySettingsOf(result.data);
}

const remoteSchema = z.object({
  GITLAB_MM_URL: optionalString.refine((v) => v === undefined || (/^https?:\/\//i.test(v) && URL.canParse(v)), "must be the bot's http:// or https:// URL, or empty to run gitlab-mm locally"),
  GITLAB_MM_TOKEN: optionalString,
});

/** `gitlab-mm --url`/`--token` from the environment (GITLAB_MM_URL, GITLAB_MM_TOKEN): kept out of shell history and `ps`. */
export function loadRemoteSettings(env: Record<string, string | undefined> = readEnvironment()): { url?: string; token?: string } {
  const result = remoteSchema.safeParse(env);
  if (!result.success) throw problemsOf(result.error, env);
  return { url: result.data.GITLAB_MM_URL, token: result.data.GITLAB_MM_TOKEN };
}

const keysSchema = schema.pick({ ENCRYPTION_KEY: true, ENCRYPTION_KEY_PREVIOUS: true });

/** The token encryption keys alone (for `gitlab-mm keys rotate`, which needs no other setting). */
export function loadEncryptionKeys(env: Record<string, string | undefined> = readEnvironment()): Pick<Config, "encryptionKey" | "encryptionKeysPrevious"> {
  const result = keysSchema.safeParse(env);
  if (!result.success) throw problemsOf(result.error, env);
  const e = result.data;
  return {
    encryptionKey: e.ENCRYPTION_KEY ? Buffer.from(e.ENCRYPTION_KEY, "base64") : undefined,
    encryptionKeysPrevious: e.ENCRYPTION_KEY_PREVIOUS.map((k) => Buffer.from(k, "base64")),
  };
}

export function loadConfig(env: Record<string, string | undefined> = readEnvironment()): Config {
  const result = schema.safeParse(env);
  if (!result.success) throw problemsOf(result.error, env);
  const e = result.data;
  if (e.METRICS_PORT !== undefined && e.METRICS_PORT === e.PORT) throw new ConfigError(["METRICS_PORT: must differ from PORT (leave it empty to serve /metrics on PORT)"]);
  if (e.QUEUE_DASHBOARD && e.ADMIN_TOKEN === undefined) throw new ConfigError(["QUEUE_DASHBOARD: needs ADMIN_TOKEN, the token administrators sign into the dashboard with (openssl rand -hex 32), or set QUEUE_DASHBOARD=false"]);
  return {
    port: e.PORT,
    host: e.HOST,
    publicUrl: e.PUBLIC_URL,
    mattermost: { url: e.MATTERMOST_URL, botToken: e.MATTERMOST_BOT_TOKEN, commandTokens: e.MATTERMOST_COMMAND_TOKENS },
    gitlab: {
      url: e.GITLAB_URL,
      webhookSecret: e.GITLAB_WEBHOOK_SECRET[0]!,
      oauthClientId: e.GITLAB_OAUTH_CLIENT_ID,
      oauthClientSecret: e.GITLAB_OAUTH_CLIENT_SECRET,
      ignoredUsernames: e.GITLAB_IGNORED_USERNAMES.map((u) => u.toLowerCase()),
    },
    webhookSecrets: e.GITLAB_WEBHOOK_SECRET,
    metricsPort: e.METRICS_PORT,
    metricsToken: e.METRICS_TOKEN,
    redisUrl: e.REDIS_URL,
    queuePrefix: e.QUEUE_PREFIX,
    databaseUrl: e.DATABASE_URL,
    encryptionKey: e.ENCRYPTION_KEY ? Buffer.from(e.ENCRYPTION_KEY, "base64") : undefined,
    encryptionKeysPrevious: e.ENCRYPTION_KEY_PREVIOUS.map((k) => Buffer.from(k, "base64")),
    actionsSigningKey: e.ACTIONS_SIGNING_KEY,
    logLevel: e.LOG_LEVEL,
    webhookMaxBytes: e.WEBHOOK_MAX_BYTES,
    defaultLocale: e.DEFAULT_LOCALE,
    allowPrivateProjectsInPublicChannels: e.ALLOW_PRIVATE_PROJECTS_IN_PUBLIC_CHANNELS,
    proxy: proxySettingsOf(e),
    adminToken: e.ADMIN_TOKEN,
    queueDashboard: e.QUEUE_DASHBOARD,
    role: e.ROLE,
    deliveryConcurrency: e.DELIVERY_CONCURRENCY,
    mattermostPostsPerSecond: e.MATTERMOST_POSTS_PER_SECOND,
    deliveryRetryBaseMs: e.DELIVERY_RETRY_BASE_MS,
  };
}
