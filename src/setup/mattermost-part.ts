// Setup's Mattermost steps: the bot account (made, or enabled when it was disabled), an access token
// for it (only when the settings file has none that still logs in as the bot), its place in each
// team, and the `/gitlab` slash command of each team (made, or repaired when its URL, method or
// autocomplete is not what the bot needs). Each step asks first, so a second run changes nothing.
import { parseCommandToken } from "../config.js";
import type { MattermostSetupApi, SlashCommand } from "../mattermost/setup-api.js";
import type { StepOutcome } from "./step.js";

export const BOT_USERNAME = "gitlab";
export const BOT_DISPLAY_NAME = "GitLab";
const BOT_DESCRIPTION = "Posts GitLab events and answers /gitlab (gitlab-mattermost-bot)";
const BOT_TOKEN_DESCRIPTION = "gitlab-mattermost-bot (made by gitlab-mm setup)";
export const COMMAND_TRIGGER = "gitlab";
export const COMMAND_PATH = "/mattermost/command";

/** What the slash command shows in Mattermost's autocomplete. */
export interface CommandLook {
  displayName: string;
  description: string;
  hint: string;
}

export interface BotResult {
  step: StepOutcome;
  /** Undefined only in a dry run that would create the bot. */
  userId?: string;
}

const BOT_SUBJECT = `Mattermost bot account @${BOT_USERNAME}`;

export async function ensureBot(api: MattermostSetupApi, dryRun: boolean): Promise<BotResult> {
  const bot = await api.findBot(BOT_USERNAME);
  if (!bot) {
    if (dryRun) return { step: { status: "would create", subject: BOT_SUBJECT } };
    const created = await api.createBot({ username: BOT_USERNAME, display_name: BOT_DISPLAY_NAME, description: BOT_DESCRIPTION });
    return { step: { status: "created", subject: BOT_SUBJECT }, userId: created.user_id };
  }
  if (bot.delete_at !== 0) {
    if (dryRun) return { step: { status: "would repair", subject: BOT_SUBJECT, detail: "it is disabled: enable it" }, userId: bot.user_id };
    await api.enableBot(bot.user_id);
    return { step: { status: "repaired", subject: BOT_SUBJECT, detail: "it was disabled: enabled" }, userId: bot.user_id };
  }
  return { step: { status: "exists", subject: BOT_SUBJECT }, userId: bot.user_id };
}

export interface BotTokenResult {
  step: StepOutcome;
  /** MATTERMOST_BOT_TOKEN to write, when it changes. */
  token?: string;
}

export async function ensureBotToken(api: MattermostSetupApi, botUserId: string | undefined, currentToken: string | undefined, dryRun: boolean): Promise<BotTokenResult> {
  const subject = `access token of @${BOT_USERNAME} (MATTERMOST_BOT_TOKEN)`;
  const works = botUserId !== undefined && currentToken !== undefined && (await api.userOfToken(currentToken)) === botUserId;
  if (works) return { step: { status: "exists", subject } };
  const detail = currentToken ? "the token in the settings file does not log in as the bot" : undefined;
  if (dryRun || botUserId === undefined) return { step: { status: currentToken ? "would repair" : "would create", subject, detail } };
  const token = await api.createAccessToken(botUserId, BOT_TOKEN_DESCRIPTION);
  return { step: { status: currentToken ? "repaired" : "created", subject, detail: detail && `${detail}: a new one made` }, token };
}

export interface TeamInput {
  /** A team's URL name (from --team) or id (from MATTERMOST_COMMAND_TOKENS). */
  team: { name: string } | { id: string };
  botUserId?: string;
  commandUrl: string;
  look: CommandLook;
  dryRun: boolean;
}

export interface TeamResult {
  steps: StepOutcome[];
  teamId?: string;
  /** The slash command's token, when the command exists (or was made). */
  commandToken?: string;
}

function commandProblems(command: SlashCommand, url: string): string[] {
  const problems: string[] = [];
  if (command.url !== url) problems.push(`its URL was ${command.url}`);
  if (command.method !== "P") problems.push(`its method was ${command.method === "G" ? "GET" : JSON.stringify(command.method)}`);
  if (!command.auto_complete) problems.push("autocomplete was off");
  return problems;
}

export async function ensureTeam(api: MattermostSetupApi, input: TeamInput): Promise<TeamResult> {
  const { look, dryRun } = input;
  const team = "name" in input.team ? await api.teamByName(input.team.name) : await api.teamById(input.team.id);
  if (!team) {
    const what = "name" in input.team ? `no team is named ${input.team.name} (give the name in the team's URL)` : `team ${input.team.id} of MATTERMOST_COMMAND_TOKENS no longer exists`;
    return { steps: [{ status: "needs you", subject: "Mattermost team", detail: what }] };
  }
  const steps: StepOutcome[] = [];

  const memberSubject = `@${BOT_USERNAME} in team ${team.name}`;
  if (input.botUserId !== undefined && (await api.isTeamMember(team.id, input.botUserId))) {
    steps.push({ status: "exists", subject: memberSubject });
  } else if (dryRun || input.botUserId === undefined) {
    steps.push({ status: "would create", subject: memberSubject });
  } else {
    await api.addTeamMember(team.id, input.botUserId);
    steps.push({ status: "created", subject: memberSubject });
  }

  const commandSubject = `/${COMMAND_TRIGGER} slash command in team ${team.name}`;
  const existing = (await api.customCommands(team.id)).find((c) => c.trigger === COMMAND_TRIGGER);
  if (!existing) {
    if (dryRun) {
      steps.push({ status: "would create", subject: commandSubject, detail: `request URL ${input.commandUrl}` });
      return { steps, teamId: team.id };
    }
    const created = await api.createCommand({
      team_id: team.id,
      trigger: COMMAND_TRIGGER,
      method: "P",
      url: input.commandUrl,
      auto_complete: true,
      auto_complete_desc: look.description,
      auto_complete_hint: look.hint,
      display_name: look.displayName,
      description: look.description,
    });
    steps.push({ status: "created", subject: commandSubject, detail: `request URL ${input.commandUrl}` });
    return { steps, teamId: team.id, commandToken: created.token };
  }
  const problems = commandProblems(existing, input.commandUrl);
  if (problems.length === 0) {
    steps.push({ status: "exists", subject: commandSubject });
  } else if (dryRun) {
    steps.push({ status: "would repair", subject: commandSubject, detail: problems.join(", ") });
  } else {
    await api.updateCommand({
      ...existing,
      url: input.commandUrl,
      method: "P",
      auto_complete: true,
      auto_complete_desc: existing.auto_complete_desc || look.description,
      auto_complete_hint: existing.auto_complete_hint || look.hint,
    });
    steps.push({ status: "repaired", subject: commandSubject, detail: problems.join(", ") });
  }
  return { steps, teamId: team.id, commandToken: existing.token };
}

/** Team ids that MATTERMOST_COMMAND_TOKENS binds tokens to. */
export function teamsOfCommandTokens(setting: string | undefined): string[] {
  const ids = (setting ?? "").split(",").map((e) => parseCommandToken(e.trim())?.teamId);
  return [...new Set(ids.filter((id): id is string => id !== undefined))];
}

/**
 * MATTERMOST_COMMAND_TOKENS with each set-up team's token as `<team_id>:<token>`: an earlier entry of
 * those teams (or naming the same token bare) gives way, entries of other teams stay.
 */
export function mergeCommandTokens(setting: string | undefined, tokens: { teamId: string; token: string }[]): string {
  const teams = new Set(tokens.map((t) => t.teamId));
  const values = new Set(tokens.map((t) => t.token));
  const kept = (setting ?? "")
    .split(",")
    .map((e) => e.trim())
    .filter((e) => {
      if (e === "") return false;
      const parsed = parseCommandToken(e);
      return !(parsed && ((parsed.teamId !== undefined && teams.has(parsed.teamId)) || values.has(parsed.token)));
    });
  return [...kept, ...tokens.map((t) => `${t.teamId}:${t.token}`)].join(",");
}
