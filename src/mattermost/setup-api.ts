// What `gitlab-mm setup` asks of Mattermost with a system administrator's token (Client4): the bot
// account and its access token, the bot's teams, and the `/gitlab` slash command of each team. Each
// call knows the permission Mattermost checks for it, so a 403 can be named to the person: the
// server does not say which permission was missing.
import mattermostClient from "@mattermost/client";
import type { Bot } from "@mattermost/types/bots";
import type { Command } from "@mattermost/types/integrations";
import type { Team } from "@mattermost/types/teams";
import type { UserProfile } from "@mattermost/types/users";

const { Client4, ClientError } = mattermostClient;

/** Bots per page when listing them (Mattermost's maximum). */
const BOTS_PER_PAGE = 200;

export type SlashCommand = Pick<
  Command,
  "id" | "token" | "team_id" | "trigger" | "method" | "url" | "auto_complete" | "auto_complete_desc" | "auto_complete_hint" | "display_name" | "description" | "username" | "icon_url" | "creator_id" | "create_at" | "update_at" | "delete_at"
>;
export type NewSlashCommand = Pick<Command, "team_id" | "trigger" | "method" | "url" | "auto_complete" | "auto_complete_desc" | "auto_complete_hint" | "display_name" | "description">;

/** A Mattermost answer setup cannot go on from: the HTTP status, and for a 403 the permission it needs. */
export class MattermostSetupError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly permission?: string,
  ) {
    super(message);
    this.name = "MattermostSetupError";
  }
}

export interface MattermostSetupApi {
  /** The bot account with this username, disabled ones included. */
  findBot(username: string): Promise<Bot | undefined>;
  createBot(bot: { username: string; display_name: string; description: string }): Promise<Bot>;
  enableBot(botUserId: string): Promise<Bot>;
  /** A new access token for the bot (Mattermost shows it only now). */
  createAccessToken(userId: string, description: string): Promise<string>;
  /** The user an access token logs in as, or undefined when Mattermost refuses it. */
  userOfToken(token: string): Promise<string | undefined>;
  teamByName(name: string): Promise<Team | undefined>;
  teamById(id: string): Promise<Team | undefined>;
  isTeamMember(teamId: string, userId: string): Promise<boolean>;
  addTeamMember(teamId: string, userId: string): Promise<void>;
  customCommands(teamId: string): Promise<SlashCommand[]>;
  createCommand(command: NewSlashCommand): Promise<SlashCommand>;
  /** Mattermost replaces every field of the command but its token, creator, team and creation time. */
  updateCommand(command: SlashCommand): Promise<SlashCommand>;
}

function clientFor(url: string, token: string): InstanceType<typeof Client4> {
  const client = new Client4();
  client.setUrl(url);
  client.setToken(token);
  client.setUserAgent("gitlab-mattermost-bot setup");
  return client;
}

function statusOf(error: unknown): number | undefined {
  return error instanceof ClientError && typeof error.status_code === "number" ? error.status_code : undefined;
}

export function createMattermostSetupApi(url: string, adminToken: string): MattermostSetupApi {
  const client = clientFor(url, adminToken);

  /** Runs a call; `permission` is what Mattermost checks for it (named when it answers 403). */
  async function attempt<T>(what: string, permission: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      const status = statusOf(error);
      if (status === 401) throw new MattermostSetupError(`Mattermost refused the token (401) when asked to ${what}: check MATTERMOST_ADMIN_TOKEN (a system administrator's access token)`, status);
      if (status === 403) throw new MattermostSetupError(`Mattermost answered 403 when asked to ${what}: the admin token lacks the ${permission} permission`, status, permission);
      const said = error instanceof Error ? error.message.split("\n")[0]!.slice(0, 200) : String(error);
      throw new MattermostSetupError(`Mattermost could not ${what}: ${status === undefined ? said : `${status} (${said})`}`, status);
    }
  }
  async function unlessNotFound<T>(what: string, permission: string, call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await attempt(what, permission, call);
    } catch (error) {
      if (error instanceof MattermostSetupError && error.status === 404) return undefined;
      throw error;
    }
  }

  return {
    async findBot(username) {
      for (let page = 0; ; page++) {
        const bots = await attempt("list the bot accounts", "read_others_bots", () => client.getBotsIncludeDeleted(page, BOTS_PER_PAGE));
        const found = bots.find((b) => b.username === username);
        if (found || bots.length < BOTS_PER_PAGE) return found;
      }
    },
    createBot(bot) {
      return attempt(`create the bot account @${bot.username}`, "create_bot", () => client.createBot(bot));
    },
    enableBot(botUserId) {
      return attempt("enable the bot account", "manage_others_bots", () => client.enableBot(botUserId));
    },
    async createAccessToken(userId, description) {
      const created = await attempt("create the bot's access token", "edit_other_users", () => client.createUserAccessToken(userId, description));
      if (!created.token) throw new MattermostSetupError("Mattermost's answer holds no access token", undefined);
      return created.token;
    },
    async userOfToken(token) {
      try {
        const me: UserProfile = await clientFor(url, token).getMe();
        return me.id;
      } catch (error) {
        const status = statusOf(error);
        if (status === 401 || status === 403) return undefined;
        throw new MattermostSetupError(`Mattermost could not check the bot token: ${status ?? (error as Error).message}`, status);
      }
    },
    teamByName(name) {
      return unlessNotFound(`find team ${name}`, "view_team", () => client.getTeamByName(name));
    },
    teamById(id) {
      return unlessNotFound(`find team ${id}`, "view_team", () => client.getTeam(id));
    },
    async isTeamMember(teamId, userId) {
      return (await unlessNotFound("read the bot's team membership", "view_team", () => client.getTeamMember(teamId, userId))) !== undefined;
    },
    async addTeamMember(teamId, userId) {
      await attempt("add the bot to the team", "add_user_to_team", () => client.addToTeam(teamId, userId));
    },
    customCommands(teamId) {
      return attempt("list the team's slash commands", "manage_slash_commands", () => client.getCustomTeamCommands(teamId));
    },
    createCommand(command) {
      return attempt("create the slash command", "manage_slash_commands", () => client.addCommand(command as Command));
    },
    updateCommand(command) {
      return attempt("update the slash command", "manage_others_slash_commands", () => client.editCommand(command as Command));
    },
  };
}
