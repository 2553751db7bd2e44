// POST /mattermost/command (SPEC.md): a Mattermost custom slash command. Verify the command token,
// run the subcommand, answer with a slash-command response. The token is never logged.
import { Hono } from "hono";
import { runCommand } from "../../commands/index.js";
import type { CommandReply } from "../../commands/types.js";
import type { Config } from "../config.js";
import type { GitlabAccountsSetup } from "../gitlab/accounts.js";
import type { Logger } from "../logger.js";
import type { MattermostApi } from "../mattermost/client.js";
import type { PeopleServices } from "../people/services.js";
import type { Db } from "../store/db.js";
import { t } from "../i18n/index.js";
import { secretMatches } from "./verify-token.js";

export interface CommandRouteDeps {
  db: Db;
  mattermost: MattermostApi;
  config: Pick<Config, "mattermost" | "defaultLocale" | "publicUrl"> & Partial<Pick<Config, "allowPrivateProjectsInPublicChannels">>;
  logger: Logger;
  /** Linked GitLab accounts, for the commands that act on GitLab. */
  gitlab?: GitlabAccountsSetup;
  /** The personal side (profiles, reminder schedules), for `/gitlab settings` and `/gitlab todo`. */
  people?: PeopleServices;
  /** For tests: how long before a slow command is acknowledged (default 1.5 s). */
  ackAfterMs?: number;
}

/** How long a command may take before it is acknowledged and finished through response_url. */
const ACK_AFTER_MS = 1500;

function delay(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref());
}

function field(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  return typeof value === "string" ? value : "";
}

export function commandRoutes(deps: CommandRouteDeps): Hono {
  const { db, mattermost, logger } = deps;
  const ackAfterMs = deps.ackAfterMs ?? ACK_AFTER_MS;
  const tokens = deps.config.mattermost.commandTokens.filter((t) => t.length > 0);
  const config = {
    defaultLocale: deps.config.defaultLocale,
    publicUrl: deps.config.publicUrl,
    allowPrivateProjectsInPublicChannels: deps.config.allowPrivateProjectsInPublicChannels ?? false,
  };
  const app = new Hono();

  app.post("/mattermost/command", async (c) => {
    const reply = (body: CommandReply, status: 200 | 400 | 401 = 200) => c.json(body, status);

    if (tokens.length === 0) {
      logger.warn(
        "slash command refused: MATTERMOST_COMMAND_TOKENS is empty; set it to the token Mattermost shows for the /gitlab command (Integrations > Slash Commands), one per team, comma-separated",
      );
      return reply({ response_type: "ephemeral", text: "This GitLab bot is not set up for slash commands yet. Ask your administrator to configure its command token." }, 401);
    }

    let body: Record<string, unknown>;
    try {
      body = (await c.req.parseBody()) as Record<string, unknown>;
    } catch {
      body = {};
    }

    if (!secretMatches(field(body, "token") || undefined, tokens)) {
      logger.warn({ team_id: field(body, "team_id"), user_id: field(body, "user_id") }, "slash command refused: unknown command token");
      return reply({ response_type: "ephemeral", text: "This request did not come with a valid slash-command token." }, 401);
    }

    const userId = field(body, "user_id");
    const channelId = field(body, "channel_id");
    if (!userId || !channelId) {
      return reply({ response_type: "ephemeral", text: "The slash-command request is missing user_id or channel_id." }, 400);
    }

    const text = field(body, "text");
    const trigger = field(body, "command") || undefined;
    const commandLogger = logger.child({ user_id: userId, channel_id: channelId, team_id: field(body, "team_id") });
    const started = Date.now();
    const work = runCommand(text, {
      userId,
      userName: field(body, "user_name"),
      channelId,
      channelName: field(body, "channel_name"),
      teamId: field(body, "team_id"),
      db,
      mattermost,
      config,
      logger: commandLogger,
      trigger,
      gitlab: deps.gitlab,
      people: deps.people,
    });
    // Bolt's "ack, then respond": Mattermost gives up on a slash command after a few seconds, so
    // work that is not done quickly is acknowledged now and finished through response_url.
    const responseUrl = field(body, "response_url");
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
