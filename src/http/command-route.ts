// POST /mattermost/command (SPEC.md): a Mattermost custom slash command. Read at most 64 KiB, verify
// the command token and that it is the requesting team's, run the subcommand, answer with a
// slash-command response. The token is never logged.
import { Hono, type Context } from "hono";
import { runCommand } from "../../commands/index.js";
import type { CommandReply } from "../../commands/types.js";
import { parseCommandToken, type CommandTokenEntry, type Config } from "../config.js";
import type { GitlabAccountsSetup } from "../gitlab/accounts.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../metrics.js";
import type { MattermostApi } from "../mattermost/client.js";
import type { PeopleServices } from "../people/services.js";
import type { Db } from "../store/db.js";
import { t } from "../i18n/index.js";
import { memoryCommandTokenTeams, type CommandTokenTeams } from "./command-token-teams.js";
import { bodyLimit, type BodyVariables } from "./middleware/body-limit.js";
import { timeout, withTimeout } from "./middleware/timeout.js";
import { tokenAuth, type TokenVariables } from "./middleware/token-auth.js";

export interface CommandRouteDeps {
  db: Db;
  mattermost: MattermostApi;
  config: Pick<Config, "mattermost" | "defaultLocale" | "publicUrl"> & Partial<Pick<Config, "allowPrivateProjectsInPublicChannels" | "webhookSecrets">>;
  logger: Logger;
  /** Linked GitLab accounts, for the commands that act on GitLab. */
  gitlab?: GitlabAccountsSetup;
  /** The personal side (profiles, reminder schedules), for `/gitlab settings` and `/gitlab todo`. */
  people?: PeopleServices;
  /** Counts what commands do on GitLab (the audit counter). */
  metrics?: Metrics;
  /** Which team each bare command token belongs to (default: remembered by this process only). */
  tokenTeams?: CommandTokenTeams;
  /** For tests: how long before a slow command is acknowledged (default 1.5 s). */
  ackAfterMs?: number;
  /** For tests: how long the request body may take to arrive (default 10 s). */
  requestTimeoutMs?: number;
}

/** How long a command may take before it is acknowledged and finished through response_url. */
const ACK_AFTER_MS = 1500;
/** A slash-command request is a short form; anything larger is not from Mattermost. */
export const COMMAND_MAX_BYTES = 64 * 1024;
/** Mattermost sends the whole form at once; a body still arriving after this is not worth waiting for. */
const REQUEST_TIMEOUT_MS = 10_000;
const BINDING_TIMEOUT_MS = 1000;

type CommandEnv = { Variables: BodyVariables & TokenVariables & { form: URLSearchParams } };

function delay(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref());
}

const decoder = new TextDecoder();

/** The form Mattermost posts; any other body reads as an empty form (and so carries no token). */
function formOf(c: Context, bytes: Uint8Array): URLSearchParams {
  const type = c.req.header("content-type") ?? "";
  return type.toLowerCase().startsWith("application/x-www-form-urlencoded") ? new URLSearchParams(decoder.decode(bytes)) : new URLSearchParams();
}

export function commandRoutes(deps: CommandRouteDeps): Hono<CommandEnv> {
  const { db, mattermost, logger } = deps;
  const ackAfterMs = deps.ackAfterMs ?? ACK_AFTER_MS;
  const entries = deps.config.mattermost.commandTokens.map(parseCommandToken).filter((e): e is CommandTokenEntry => e !== undefined);
  const tokenTeams = deps.tokenTeams ?? memoryCommandTokenTeams();
  /** Bindings already read: a bare token's team never changes once bound. */
  const boundTeams = new Map<number, string>();
  const config = {
    defaultLocale: deps.config.defaultLocale,
    publicUrl: deps.config.publicUrl,
    allowPrivateProjectsInPublicChannels: deps.config.allowPrivateProjectsInPublicChannels ?? false,
    webhookSecrets: deps.config.webhookSecrets,
  };
  const refusal = (c: Context, text: string, status: 200 | 400 | 401 | 408 | 413 | 503) => c.json({ response_type: "ephemeral", text } satisfies CommandReply, status);
  const app = new Hono<CommandEnv>();

  if (entries.length === 0) {
    app.post("/mattermost/command", (c) => {
      logger.warn(
        "slash command refused: MATTERMOST_COMMAND_TOKENS is empty; set it to the token Mattermost shows for the /gitlab command (Integrations > Slash Commands), one per team, comma-separated",
      );
      return refusal(c, "This GitLab bot is not set up for slash commands yet. Ask your administrator to configure its command token.", 401);
    });
    return app;
  }

  /** Whether the token `entries[index]` may be used by `teamId`; a bare token is bound to the first team that uses it. */
  async function teamMayUse(index: number, teamId: string): Promise<boolean> {
    const entry = entries[index]!;
    if (entry.teamId !== undefined) return entry.teamId === teamId;
    if (!teamId) return false;
    let team = boundTeams.get(index);
    if (team === undefined) {
      const claimed = await withTimeout(tokenTeams.claim(entry.token, teamId), BINDING_TIMEOUT_MS);
      team = claimed.teamId;
      boundTeams.set(index, team);
      if (claimed.bound) {
        logger.warn(
          { team_id: teamId, entry: index + 1 },
          "a bare slash-command token is now bound to the first team that used it; every other team is refused it (list it as <team_id>:<token> in MATTERMOST_COMMAND_TOKENS)",
        );
      }
    }
    return team === teamId;
  }

  // The shared edge: a bounded body, read once, before anything parses it; then the token, which is in the form.
  app.post(
    "/mattermost/command",
    timeout(deps.requestTimeoutMs ?? REQUEST_TIMEOUT_MS, (c) => refusal(c, t(config.defaultLocale, "command.refused.timeout"), 408)),
    bodyLimit({ maxBytes: COMMAND_MAX_BYTES, onTooLarge: (c) => refusal(c, t(config.defaultLocale, "command.refused.too_large", { kib: COMMAND_MAX_BYTES / 1024 }), 413) }),
    async (c, next) => {
      c.set("form", formOf(c, c.get("body")));
      await next();
    },
    tokenAuth({
      secrets: entries.map((e) => e.token),
      token: (c) => (c as Context<CommandEnv>).get("form").get("token") ?? undefined,
      onRefused: (c) => {
        const form = (c as Context<CommandEnv>).get("form");
        logger.warn({ team_id: form.get("team_id") ?? "", user_id: form.get("user_id") ?? "" }, "slash command refused: unknown command token");
        return refusal(c, "This request did not come with a valid slash-command token.", 401);
      },
    }),
  );

  app.post("/mattermost/command", async (c) => {
    const reply = (body: CommandReply) => c.json(body, 200);
    const form = c.get("form");
    const field = (name: string) => form.get(name) ?? "";
    const teamId = field("team_id");
    let allowed: boolean;
    try {
      allowed = await teamMayUse(c.get("secretIndex")!, teamId);
    } catch (error) {
      logger.error({ err: (error as Error).message, team_id: teamId }, "slash command refused: the command token's team could not be checked");
      return refusal(c, t(config.defaultLocale, "command.refused.unavailable"), 503);
    }
    if (!allowed) {
      logger.warn({ team_id: teamId, user_id: field("user_id") }, "slash command refused: the command token belongs to another team");
      return refusal(c, t(config.defaultLocale, "command.refused.other_team"), 401);
    }
    const userId = field("user_id");
    const channelId = field("channel_id");
    if (!userId || !channelId) return refusal(c, "The slash-command request is missing user_id or channel_id.", 400);

    const text = field("text");
    const trigger = field("command") || undefined;
    const commandLogger = logger.child({ user_id: userId, channel_id: channelId, team_id: teamId });
    const started = Date.now();
    const responseUrl = field("response_url");
    const work = runCommand(text, {
      userId,
      userName: field("user_name"),
      channelId,
      channelName: field("channel_name"),
      teamId,
      db,
      mattermost,
      config,
      logger: commandLogger,
      trigger,
      gitlab: deps.gitlab,
      people: deps.people,
      // A command that keeps working after its answer (`run` following a CI job) answers again here.
      followUp: responseUrl ? (answer) => mattermost.respondToCommand(responseUrl, answer) : undefined,
      metrics: deps.metrics,
    });
    // Bolt's "ack, then respond": Mattermost gives up on a slash command after a few seconds, so
    // work that is not done quickly is acknowledged now and finished through response_url.
    const quick = responseUrl ? await Promise.race([work, delay(ackAfterMs)]) : await work;
    if (quick) {
      commandLogger.debug({ ms: Date.now() - started, response_type: quick.response_type }, "slash command answered");
      return reply({ response_type: quick.response_type, text: quick.text });
    }
    void work
      .then((result) => mattermost.respondToCommand(responseUrl, { response_type: result.response_type, text: result.text }))
      .then(
        () => commandLogger.debug({ ms: Date.now() - started }, "slash command answered through response_url"),
        (error: Error) => commandLogger.warn({ err: error.message }, "slash command result could not be sent through response_url"),
      );
    return reply({ response_type: "ephemeral", text: t(config.defaultLocale, "command.working") });
  });

  return app;
}
