// `gitlab-mm setup`: the GitLab OAuth application, the Mattermost bot, its token and teams, the
// `/gitlab` command of each team, then the settings file. Each step looks before it acts, prints one
// line, and changes only what is missing or wrong; a dry run only looks. Secrets that GitLab or
// Mattermost show once (a new application secret, a new bot token) are written to the settings file
// even when a later step fails, so a failed run never loses them. The admin tokens are used for the
// calls and nothing else: never printed, never written.
import { randomBytes } from "node:crypto";
import { generateKey } from "../crypto.js";
import { CALLBACK_PATH } from "../gitlab/accounts.js";
import { createGitlabSetupApi } from "../gitlab/setup-api.js";
import { createMattermostSetupApi } from "../mattermost/setup-api.js";
import { ENV_FILE_MODE, readEnvFile, withSettings, writeEnvFile, type EnvFile } from "./env-file.js";
import { ensureOAuthApplication } from "./gitlab-part.js";
import { COMMAND_PATH, ensureBot, ensureBotToken, ensureTeam, mergeCommandTokens, teamsOfCommandTokens, type CommandLook } from "./mattermost-part.js";
import { formatStep, type StepOutcome } from "./step.js";

export interface SetupOptions {
  gitlabUrl: string;
  mattermostUrl: string;
  publicUrl: string;
  /** Team URL names; none: the teams MATTERMOST_COMMAND_TOKENS already names. */
  teams: string[];
  envPath: string;
  dryRun: boolean;
  renewOAuthSecret: boolean;
  gitlabAdminToken: string;
  mattermostAdminToken: string;
  look: CommandLook;
}

/** The run finished, but some steps need the person (each said so in its line). */
export class SetupIncompleteError extends Error {
  constructor(readonly pending: number) {
    super(`${pending} step(s) need you (see above); run gitlab-mm setup again once done`);
    this.name = "SetupIncompleteError";
  }
}

/** A setting that the settings file does not hold yet: a fresh random value. */
const freshWebhookSecret = () => randomBytes(32).toString("base64url");

function envFileStep(file: EnvFile, settings: Record<string, string>, dryRun: boolean): StepOutcome {
  const changed = Object.keys(settings).filter((name) => file.values[name] !== settings[name]);
  const subject = `settings file ${file.path}`;
  const names = changed.join(", ");
  if (!file.exists) {
    if (dryRun) return { status: "would create", subject, detail: `${names} (mode 0600)` };
    writeEnvFile(file.path, withSettings("", settings));
    return { status: "created", subject, detail: `${names} (mode 0600)` };
  }
  const wrongMode = file.mode !== ENV_FILE_MODE ? `mode was 0${(file.mode ?? 0).toString(8)}, now 0600` : undefined;
  if (changed.length === 0 && !wrongMode) return { status: "exists", subject, detail: "nothing to change" };
  if (dryRun) return { status: changed.length ? "would update" : "would repair", subject, detail: [names && `set ${names}`, wrongMode && `mode 0${(file.mode ?? 0).toString(8)} would become 0600`].filter(Boolean).join("; ") };
  const changes = Object.fromEntries(changed.map((name) => [name, settings[name]!]));
  writeEnvFile(file.path, withSettings(file.text, changes));
  return { status: changed.length ? "updated" : "repaired", subject, detail: [names && `set ${names}`, wrongMode].filter(Boolean).join("; ") };
}

export async function runSetup(options: SetupOptions, print: (line: string) => void): Promise<void> {
  const gitlab = createGitlabSetupApi(options.gitlabUrl, options.gitlabAdminToken);
  const mattermost = createMattermostSetupApi(options.mattermostUrl, options.mattermostAdminToken);
  const file = readEnvFile(options.envPath);
  const current = file.values;
  let pending = 0;
  const report = (step: StepOutcome) => {
    if (step.status === "needs you") pending++;
    print(formatStep(step));
  };

  const settings: Record<string, string> = {
    MATTERMOST_URL: options.mattermostUrl,
    GITLAB_URL: options.gitlabUrl,
    PUBLIC_URL: options.publicUrl,
  };
  if (!current.ENCRYPTION_KEY) settings.ENCRYPTION_KEY = generateKey();
  if (!current.GITLAB_WEBHOOK_SECRET) settings.GITLAB_WEBHOOK_SECRET = freshWebhookSecret();

  try {
    const oauth = await ensureOAuthApplication(gitlab, {
      redirectUri: `${options.publicUrl}${CALLBACK_PATH}`,
      dryRun: options.dryRun,
      renewSecret: options.renewOAuthSecret,
      current: { clientId: current.GITLAB_OAUTH_CLIENT_ID, clientSecret: current.GITLAB_OAUTH_CLIENT_SECRET },
    });
    report(oauth.step);
    Object.assign(settings, oauth.settings);

    const bot = await ensureBot(mattermost, options.dryRun);
    report(bot.step);
    const botToken = await ensureBotToken(mattermost, bot.userId, current.MATTERMOST_BOT_TOKEN || undefined, options.dryRun);
    report(botToken.step);
    if (botToken.token) settings.MATTERMOST_BOT_TOKEN = botToken.token;

    const teams = options.teams.length > 0 ? options.teams.map((name) => ({ name })) : teamsOfCommandTokens(current.MATTERMOST_COMMAND_TOKENS).map((id) => ({ id }));
    const commandTokens: { teamId: string; token: string }[] = [];
    for (const team of teams) {
      const result = await ensureTeam(mattermost, { team, botUserId: bot.userId, commandUrl: `${options.publicUrl}${COMMAND_PATH}`, look: options.look, dryRun: options.dryRun });
      result.steps.forEach(report);
      if (result.teamId && result.commandToken) commandTokens.push({ teamId: result.teamId, token: result.commandToken });
    }
    if (commandTokens.length > 0) settings.MATTERMOST_COMMAND_TOKENS = mergeCommandTokens(current.MATTERMOST_COMMAND_TOKENS, commandTokens);
  } catch (error) {
    // A secret GitLab or Mattermost showed once must not be lost to a later failure.
    if (settings.GITLAB_OAUTH_CLIENT_SECRET !== undefined || settings.MATTERMOST_BOT_TOKEN !== undefined) report(envFileStep(file, settings, options.dryRun));
    throw error;
  }
  report(envFileStep(file, settings, options.dryRun));
  if (pending > 0) throw new SetupIncompleteError(pending);
}
