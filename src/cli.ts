// The admin CLI (SPEC.md "Admin CLI"): `gitlab-mm <command>`, or `npm run cli -- <command>` from a
// checkout. Local mode: the same database (and Redis) as the server, no Mattermost login. Remote mode
// (`--url <bot> --token <ADMIN_TOKEN>`): the commands marked `remote` ask a running bot's admin API
// through the same backend interface (src/admin/), so they print the same.
// Exit 0 on success, 1 with a one-line message on error, 2 on bad usage.
import { readFileSync, writeFileSync } from "node:fs";
import { Redis } from "ioredis";
import { CommandError } from "../commands/types.js";
import type { AdminBackend } from "./admin/backend.js";
import { AdminInputError, checkFeatures, checkSubscriptionPath } from "./admin/input.js";
import { createLocalBackend, RedisUnavailableError } from "./admin/local-backend.js";
import { createRemoteBackend, RemoteTargetError, type RemoteTarget } from "./admin/remote-backend.js";
import { isMain } from "./is-main.js";
import { createBackup, parseBackup, restoreBackup } from "./store/backup.js";
import { ConfigError, loadEncryptionKeys, loadLocalConfig, loadRemoteSettings, readEnvironment, type LocalConfig } from "./config.js";
import { generateKey, keyIdOf, parseKey, TokenCryptoError } from "./crypto.js";
import { rotateTokenKeys } from "./key-rotation.js";
import { JOB_STATES, QUEUE_NAMES } from "./queue/admin.js";
import { waitReady } from "./queue/connection.js";
import { migrateToLatest, openDatabase, type Db } from "./store/db.js";
import { listUserLinks } from "./store/user-links.js";
import type { SecretInput } from "./setup/secret-prompt.js";

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** The environment to read settings from; default: the process environment and `.env`. */
  env?: Record<string, string | undefined>;
  /** The terminal `setup` asks for tokens on (without echo); absent or not a TTY: it never asks. */
  stdin?: SecretInput;
}

interface CliContext {
  /** Positional arguments after the command name. */
  args: string[];
  /** Every value of an option, in order, for options given more than once (`--team a --team b`). */
  optionValues(name: string): string[];
  /** `--name value` / `--name=value` options the command declared. */
  options: Map<string, string>;
  io: CliIo;
  config(): LocalConfig;
  /** Opens the database and brings it to the latest schema; closed by runCli. */
  database(opts?: { migrate?: boolean }): Promise<Db>;
  /** Connects to the queues' Redis; closed by runCli. */
  redis(): Promise<Redis>;
  /** The bot's state: this host's database and Redis, or a bot's admin API with --url. */
  backend(): AdminBackend;
  /** True with --url: only commands marked `remote` run, and they reach the bot through `backend()` alone. */
  remote: boolean;
}

interface CliCommand {
  name: string;
  usage: string;
  summary: string;
  /** Runs with --url too (through `ctx.backend()` only); the others need the bot's host. */
  remote?: true;
  /** Options that take a value, without the dashes. */
  options?: readonly string[];
  /** Options that take no value (`--force`), without the dashes; present ones read "true". */
  flags?: readonly string[];
  run(ctx: CliContext): Promise<void>;
}

/** Bad usage: exit 2 with the command's usage on stderr. */
class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

function requireOption(ctx: CliContext, name: string): string {
  const value = ctx.options.get(name);
  if (!value) throw new UsageError(`--${name} <${name}-id> is required`);
  return value;
}

/** `check(...)`, its AdminInputError a usage error. */
function usageChecked<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    throw error instanceof AdminInputError ? new UsageError(error.message) : error;
  }
}

function requirePath(ctx: CliContext): string {
  return usageChecked(() => checkSubscriptionPath(ctx.args[0]));
}

/**
 * The shell has already removed the quotes of `label:"two words"`; put them back so the feature
 * grammar sees one label, not two words.
 */
export function featuresFromArgv(args: readonly string[]): string {
  return args
    .map((a) => {
      const m = /^(label|branch):(.*)$/is.exec(a);
      if (m && !m[2]!.startsWith('"') && /[\s,]/.test(m[2]!)) return `${m[1]}:"${m[2]}"`;
      return a;
    })
    .join(",");
}

// One line per command; the SPEC's other commands (users, queue, backup, preview, keys, setup) go here too.
const cliCommands: readonly CliCommand[] = [
  {
    name: "migrate",
    usage: "migrate [--status]",
    summary: "bring the database schema up to date (forward only); --status lists applied and pending migrations",
    flags: ["status"],
    remote: true,
    async run(ctx) {
      if (ctx.args.length > 0) throw new UsageError("migrate takes no arguments");
      if (ctx.options.has("status")) {
        const { applied, pending, newer } = await ctx.backend().migrationStatus();
        const width = Math.max(...[...applied, ...newer].map((m) => m.name.length), ...pending.map((name) => name.length));
        for (const m of applied) ctx.io.stdout(`applied  ${m.name.padEnd(width)}  ${m.appliedAt}`);
        for (const name of pending) ctx.io.stdout(`pending  ${name}`);
        for (const m of newer) ctx.io.stdout(`newer    ${m.name.padEnd(width)}  ${m.appliedAt}  (applied by a newer version of the bot)`);
        ctx.io.stdout(
          pending.length
            ? `${pending.length} pending: run \`gitlab-mm migrate\` (the bot also migrates when it starts).`
            : "Database schema is up to date.",
        );
        return;
      }
      // A running bot has migrated its database when it started: there is nothing to do from afar.
      if (ctx.remote) throw new UsageError("only migrate --status runs with --url; migrate itself runs on the bot's host (the bot also migrates when it starts)");
      const { applied, newer } = await migrateToLatest(await ctx.database({ migrate: false }));
      if (newer?.length) {
        ctx.io.stdout(`Database schema is up to date; it also has migrations of a newer version of the bot (${newer.join(", ")}), which this version leaves alone.`);
        return;
      }
      ctx.io.stdout(applied.length ? `Applied migrations: ${applied.join(", ")}` : "Database schema is up to date.");
    },
  },
  {
    name: "subscriptions list",
    usage: "subscriptions list [--channel <channel-id>]",
    summary: "list subscriptions (of one channel)",
    remote: true,
    options: ["channel"],
    async run(ctx) {
      if (ctx.args.length > 0) throw new UsageError("subscriptions list takes no path");
      const channelId = ctx.options.get("channel");
      const rows = await ctx.backend().listSubscriptions(channelId);
      if (rows.length === 0) {
        ctx.io.stdout(channelId ? `No subscriptions in channel ${channelId}.` : "No subscriptions.");
        return;
      }
      const channelWidth = Math.max(...rows.map((r) => r.channelId.length));
      const pathWidth = Math.max(...rows.map((r) => r.path.length));
      for (const r of rows) ctx.io.stdout(`${r.channelId.padEnd(channelWidth)}  ${r.path.padEnd(pathWidth)}  ${r.features}`);
    },
  },
  {
    name: "subscriptions add",
    usage: "subscriptions add --channel <channel-id> <project|group> [features]",
    summary: "subscribe a channel; replaces the features of an existing subscription",
    remote: true,
    options: ["channel"],
    async run(ctx) {
      const channelId = requireOption(ctx, "channel");
      const path = requirePath(ctx);
      const features = usageChecked(() => checkFeatures(featuresFromArgv(ctx.args.slice(1))));
      const { created } = await ctx.backend().addSubscription({ channelId, path, features });
      ctx.io.stdout(`${created ? "Subscribed" : "Updated subscription of"} channel ${channelId} to ${path}: ${features}`);
    },
  },
  {
    name: "subscriptions delete",
    usage: "subscriptions delete --channel <channel-id> <project|group>",
    summary: "remove a channel's subscription",
    remote: true,
    options: ["channel"],
    async run(ctx) {
      const channelId = requireOption(ctx, "channel");
      const path = requirePath(ctx);
      if (ctx.args.length > 1) throw new UsageError("subscriptions delete takes one path");
      if (!(await ctx.backend().deleteSubscription(channelId, path))) throw new CommandError("not_found", `channel ${channelId} has no subscription to ${path}`);
      ctx.io.stdout(`Deleted subscription of channel ${channelId} to ${path}.`);
    },
  },
  {
    name: "queue stats",
    usage: "queue stats",
    summary: "jobs per queue and state, and webhooks spooled while Redis did not answer",
    remote: true,
    async run(ctx) {
      const backend = ctx.backend();
      const spooled = `webhooks spooled for Redis: ${await backend.spooledWebhooks()}`;
      // The spool matters most while Redis is down: say it before saying Redis does not answer.
      const stats = await backend.queueStats().catch((error: unknown) => {
        ctx.io.stdout(spooled);
        throw error;
      });
      const width = Math.max(...JOB_STATES.map((s) => s.length));
      ctx.io.stdout([`${"state".padEnd(width)}`, ...QUEUE_NAMES.map((q) => q.padStart(10))].join("  "));
      for (const state of JOB_STATES) {
        ctx.io.stdout([state.padEnd(width), ...QUEUE_NAMES.map((q) => String(stats[q]?.[state] ?? 0).padStart(10))].join("  "));
      }
      ctx.io.stdout(spooled);
    },
  },
  {
    name: "queue retry-failed",
    usage: "queue retry-failed",
    summary: "replay every failed job (posts already made are not made again)",
    remote: true,
    async run(ctx) {
      const retried = await ctx.backend().retryFailed();
      ctx.io.stdout(`Retried ${retried.events} failed event job(s), ${retried.deliveries} failed delivery job(s) and ${retried.personal} failed personal job(s).`);
    },
  },
  {
    name: "preview",
    usage: "preview <payload.json> [--lang en|zh-CN] [--event <X-Gitlab-Event>] [--format text|json]",
    summary: "print the post(s) a webhook payload would produce (no database or Redis needed)",
    remote: true,
    options: ["lang", "event", "format"],
    async run(ctx) {
      // Loaded here: the other commands need no handlers.
      const { readPayloadFile, previewLocale } = await import("./preview.js");
      if (ctx.args.length !== 1) throw new UsageError("name one payload file");
      const lang = previewLocale(ctx.options.get("lang"));
      if (!lang) throw new UsageError(`unknown language "${ctx.options.get("lang")}": use en or zh-CN`);
      const format = ctx.options.get("format") ?? "text";
      if (format !== "text" && format !== "json") throw new UsageError(`unknown format "${format}": use text or json`);
      const payload = await readPayloadFile(ctx.args[0]!);
      ctx.io.stdout(await ctx.backend().preview(payload, { lang, eventHeader: ctx.options.get("event"), json: format === "json" }));
    },
  },
  {
    name: "users list",
    usage: "users list",
    summary: "Mattermost users connected to GitLab, with their GitLab username and token expiry (never the tokens)",
    remote: true,
    async run(ctx) {
      if (ctx.args.length > 0) throw new UsageError("users list takes no arguments");
      const links = await ctx.backend().listUsers();
      if (links.length === 0) {
        ctx.io.stdout("No Mattermost user has connected a GitLab account.");
        return;
      }
      const rows = [
        ["MATTERMOST USER ID", "GITLAB USERNAME", "GITLAB ID", "TOKEN EXPIRES", "CONNECTED"],
        ...links.map((l) => [l.mattermostUserId, l.gitlabUsername, String(l.gitlabUserId), new Date(l.expiresAt).toISOString(), l.createdAt]),
      ];
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      for (const r of rows) ctx.io.stdout(r.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
    },
  },
  {
    name: "keys rotate",
    usage: "keys rotate [--new-key <base64>]",
    summary: "re-encrypt every stored GitLab token under a new key (generated and printed when not given)",
    options: ["new-key"],
    async run(ctx) {
      if (ctx.args.length > 0) throw new UsageError("keys rotate takes no arguments");
      const given = ctx.options.get("new-key");
      let newKeyText = given ?? generateKey();
      let newKey: Buffer;
      try {
        newKey = parseKey(newKeyText);
      } catch (error) {
        if (error instanceof TokenCryptoError) throw new UsageError(`--new-key: ${error.message}`);
        throw error;
      }
      newKeyText = newKey.toString("base64");
      const keys = loadEncryptionKeys(ctx.io.env ?? readEnvironment());
      const oldKeys = [...(keys.encryptionKey ? [keys.encryptionKey] : []), ...keys.encryptionKeysPrevious];
      const db = await ctx.database();
      if (oldKeys.length === 0 && (await listUserLinks(db)).length > 0) {
        throw new Error("ENCRYPTION_KEY is not set, so the stored tokens cannot be read: set it to the key the bot uses");
      }
      const result = await rotateTokenKeys(db, newKey, oldKeys);
      ctx.io.stdout(`Re-encrypted the tokens of ${result.rewritten} connected account(s) under key ${result.newKeyId}; ${result.alreadyCurrent} already were.`);
      for (const f of result.failed) ctx.io.stderr(`could not re-encrypt the tokens of ${f.mattermostUserId} (GitLab @${f.gitlabUsername}): ${f.reason}`);
      if (!given) ctx.io.stdout(`New key: ${newKeyText}`);
      if (!keys.encryptionKey || keyIdOf(keys.encryptionKey) !== result.newKeyId) {
        // The processes still run with the old key: they cannot read the rewritten tokens until they know the new one.
        ctx.io.stdout(
          "Set ENCRYPTION_KEY to the new key (and ENCRYPTION_KEY_PREVIOUS to the old one) on every bot process and restart them; until then they cannot read the re-encrypted tokens. To avoid that gap, set the keys first and rotate after (README, \"Rotating the encryption key\").",
        );
      }
      if (result.failed.length > 0) throw new Error(`${result.failed.length} account(s) could not be re-encrypted (see above); they must connect again`);
    },
  },
  {
    name: "backup",
    usage: "backup <file>",
    summary: "write every table to a JSON file (GitLab tokens stay encrypted)",
    async run(ctx) {
      const [file, ...extra] = ctx.args;
      if (!file || extra.length) throw new UsageError("name one file to write");
      const { backup, leftOut } = await createBackup(await ctx.database());
      writeFileSync(file, JSON.stringify(backup), { mode: 0o600 });
      const rows = Object.values(backup.tables).reduce((n, t) => n + t.length, 0);
      ctx.io.stdout(`Wrote ${rows} rows of ${Object.keys(backup.tables).length} tables to ${file}.`);
      for (const t of leftOut) ctx.io.stderr(`not in the backup: ${t.rows} row(s) of ${t.name}, which the running bot still has to pass on`);
    },
  },
  {
    name: "restore",
    usage: "restore <file> [--force]",
    summary: "write a backup's rows into an empty database of the same schema (stop the bot first; --force replaces rows already there)",
    flags: ["force"],
    async run(ctx) {
      const [file, ...extra] = ctx.args;
      if (!file || extra.length) throw new UsageError("name one backup file to read");
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (error) {
        throw new CommandError("unreadable", `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
      const counts = await restoreBackup(await ctx.database({ migrate: false }), parseBackup(text), { force: ctx.options.has("force") });
      const rows = Object.values(counts).reduce((n, c) => n + c, 0);
      ctx.io.stdout(`Restored ${rows} rows (${counts.subscriptions} subscriptions, ${counts.user_links} connected users) from ${file}.`);
    },
  },
  {
    name: "setup",
    usage: "setup [--gitlab-url U] [--mattermost-url U] [--public-url U] [--team NAME]... [--write-env F] [--dry-run] [--renew-oauth-secret]",
    summary:
      "make or repair the GitLab OAuth application, the Mattermost bot and its token, and /gitlab in each team, and write them to .env (tokens from GITLAB_ADMIN_TOKEN and MATTERMOST_ADMIN_TOKEN, else asked)",
    options: ["gitlab-url", "mattermost-url", "public-url", "team", "write-env"],
    flags: ["dry-run", "renew-oauth-secret"],
    async run(ctx) {
      // Loaded here: the other commands need no GitLab or Mattermost clients.
      const { setupFromCli, SetupUsageError } = await import("./setup/command.js");
      try {
        await setupFromCli({ args: ctx.args, options: ctx.options, teams: ctx.optionValues("team"), env: ctx.io.env ?? readEnvironment(), stdin: ctx.io.stdin, stdout: ctx.io.stdout, stderr: ctx.io.stderr });
      } catch (error) {
        throw error instanceof SetupUsageError ? new UsageError(error.message) : error;
      }
    },
  },
  {
    name: "help",
    usage: "help",
    summary: "show this list",
    remote: true,
    async run(ctx) {
      ctx.io.stdout(helpText());
    },
  },
];

function helpText(): string {
  const width = Math.max(...cliCommands.map((c) => c.usage.length));
  return ["Usage: gitlab-mm <command>", "", ...cliCommands.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`)].join("\n");
}

function findCliCommand(words: readonly string[]): CliCommand | undefined {
  let best: CliCommand | undefined;
  for (const c of cliCommands) {
    const name = c.name.split(" ");
    if (name.length <= words.length && name.every((w, i) => w === words[i]) && name.length > (best?.name.split(" ").length ?? 0)) best = c;
  }
  return best;
}

function parseOptions(argv: readonly string[], allowed: readonly string[], flags: readonly string[] = []): { args: string[]; options: Map<string, string>; values: Map<string, string[]> } {
  const args: string[] = [];
  const options = new Map<string, string>();
  const values = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith("--")) {
      args.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = a.slice(2, eq === -1 ? undefined : eq);
    if (flags.includes(name)) {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      options.set(name, "true");
      continue;
    }
    if (!allowed.includes(name)) throw new UsageError(`unknown option ${a.slice(0, eq === -1 ? undefined : eq)}`);
    const value = eq === -1 ? argv[++i] : a.slice(eq + 1);
    if (value === undefined || value === "" || (eq === -1 && value.startsWith("--"))) throw new UsageError(`--${name} needs a value`);
    options.set(name, value);
    values.set(name, [...(values.get(name) ?? []), value]);
  }
  return { args, options, values };
}

/** The first line of an error's message, never a stack trace (pg's AggregateError has an empty message). */
function oneLine(error: unknown): string {
  if (error instanceof AggregateError && !error.message && error.errors.length > 0) return oneLine(error.errors[0]);
  const e = error as { message?: unknown; code?: unknown };
  const message = typeof e?.message === "string" && e.message.trim() ? e.message : typeof e?.code === "string" ? e.code : String(error);
  return message.trim().split("\n")[0]!;
}

/** `--url`, `--token` and `--insecure`: which bot a command runs on. They may stand anywhere before `--`. */
interface TargetOptions {
  url?: string;
  token?: string;
  insecure: boolean;
}

function takeTargetOptions(argv: readonly string[]): { rest: string[]; target: TargetOptions } {
  const rest: string[] = [];
  const target: TargetOptions = { insecure: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      rest.push(...argv.slice(i));
      break;
    }
    if (a === "--insecure") {
      target.insecure = true;
      continue;
    }
    const name = a === "--url" || a.startsWith("--url=") ? "url" : a === "--token" || a.startsWith("--token=") ? "token" : undefined;
    if (!name) {
      rest.push(a);
      continue;
    }
    const value = a.includes("=") ? a.slice(a.indexOf("=") + 1) : argv[++i];
    if (value === undefined || value === "" || value.startsWith("--")) throw new UsageError(`--${name} needs a value`);
    target[name] = value;
  }
  return { rest, target };
}

/** The bot to ask with --url (flags first, then GITLAB_MM_URL and GITLAB_MM_TOKEN), or undefined to run here. */
function remoteTarget(given: TargetOptions, env: Record<string, string | undefined>): RemoteTarget | undefined {
  const fromEnv = loadRemoteSettings(env);
  const url = given.url ?? fromEnv.url;
  if (url === undefined) {
    if (given.token !== undefined || given.insecure) throw new UsageError("--token and --insecure go with --url <bot> (or GITLAB_MM_URL)");
    return undefined;
  }
  const token = given.token ?? fromEnv.token;
  if (token === undefined) throw new UsageError("--url needs --token <ADMIN_TOKEN> (or GITLAB_MM_TOKEN, which keeps it out of shell history)");
  return { url, token, insecure: given.insecure };
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let remote: AdminBackend | undefined;
  try {
    const taken = takeTargetOptions(argv);
    argv = taken.rest;
    const target = remoteTarget(taken.target, io.env ?? readEnvironment());
    if (target) remote = createRemoteBackend(target);
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const problem of error.problems) io.stderr(problem);
      return 1;
    }
    if (!(error instanceof UsageError) && !(error instanceof RemoteTargetError)) throw error;
    io.stderr(`gitlab-mm: ${error.message}`);
    return 2;
  }
  if (argv.length === 0) {
    io.stderr(helpText());
    return 2;
  }
  if (argv[0] === "--help" || argv[0] === "-h") {
    io.stdout(helpText());
    return 0;
  }
  const command = findCliCommand(argv);
  if (!command) {
    io.stderr(`gitlab-mm: unknown command "${argv.filter((a) => !a.startsWith("-")).slice(0, 2).join(" ")}"`);
    io.stderr(helpText());
    return 2;
  }

  let config: LocalConfig | undefined;
  let db: Db | undefined;
  let redis: Redis | undefined;
  let local: AdminBackend | undefined;
  const ctx: Omit<CliContext, "args" | "options" | "optionValues"> = {
    io,
    remote: remote !== undefined,
    backend() {
      local ??= createLocalBackend({
        database: (opts) => this.database(opts),
        queues: async () => ({ connection: await this.redis(), prefix: this.config().queuePrefix }),
      });
      return remote ?? local;
    },
    config() {
      config ??= loadLocalConfig(io.env ?? readEnvironment());
      return config;
    },
    async database(opts = {}) {
      if (!db) {
        db = openDatabase(this.config().databaseUrl).db;
        if (opts.migrate !== false) await migrateToLatest(db);
      }
      return db;
    },
    async redis() {
      if (!redis) {
        const url = this.config().redisUrl;
        redis = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 3000, lazyConnect: false });
        redis.on("error", () => {});
        await waitReady(redis, 3000).catch(() => {
          throw new RedisUnavailableError(url);
        });
      }
      return redis;
    },
  };

  try {
    const rest = argv.slice(command.name.split(" ").length);
    if (rest.includes("--help") || rest.includes("-h")) {
      io.stdout(`Usage: gitlab-mm ${command.usage}\n  ${command.summary}`);
      return 0;
    }
    if (remote && !command.remote) {
      throw new UsageError(`runs only on the bot's host, where its database and files are: run it there, without --url`);
    }
    const { args, options, values } = parseOptions(rest, command.options ?? [], command.flags);
    await command.run({ ...ctx, args, options, optionValues: (name) => values.get(name) ?? [] });
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`gitlab-mm ${command.name}: ${error.message}`);
      io.stderr(`Usage: gitlab-mm ${command.usage}`);
      return 2;
    }
    if (error instanceof ConfigError) {
      for (const problem of error.problems) io.stderr(problem);
      return 1;
    }
    io.stderr(`gitlab-mm ${command.name}: ${oneLine(error)}`);
    return 1;
  } finally {
    await (db as Db | undefined)?.destroy().catch(() => {});
    (redis as Redis | undefined)?.disconnect();
  }
}

/** Runs the CLI on this process's arguments and sets its exit code. */
export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  process.exitCode = await runCli(argv, {
    stdout: (s) => process.stdout.write(`${s}\n`),
    stderr: (s) => process.stderr.write(`${s}\n`),
    stdin: process.stdin,
  });
}


if (isMain(import.meta.url)) await main();
