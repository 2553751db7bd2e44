// `gitlab-mm setup` as the CLI runs it: the URLs from the options, else the settings file, else the
// environment; the admin tokens from GITLAB_ADMIN_TOKEN and MATTERMOST_ADMIN_TOKEN, else asked on the
// terminal without echo. Without a terminal a missing token is a usage error naming the variable.
import { resolve } from "node:path";
import { commands as commandTable } from "../../commands/index.js";
import { loadLocalConfig, loadProxySettings } from "../config.js";
import { autocompleteRegistration } from "../http/autocomplete.js";
import { useOutboundProxy } from "../outbound-proxy.js";
import { readEnvFile } from "./env-file.js";
import { teamsOfCommandTokens, type CommandLook } from "./mattermost-part.js";
import { runSetup } from "./run.js";
import { askSecret, canAsk, type SecretInput } from "./secret-prompt.js";

/** Bad usage (exit 2): the CLI adds the usage line. */
export class SetupUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SetupUsageError";
  }
}

export interface SetupCliInput {
  args: string[];
  options: Map<string, string>;
  /** Every --team, in order. */
  teams: string[];
  /** The environment (the process's, with `.env`). */
  env: Record<string, string | undefined>;
  stdin?: SecretInput;
  stdout(line: string): void;
  stderr(line: string): void;
}

/** What Mattermost shows for `/gitlab`: the command table's autocomplete, in the channel-wide language. */
function commandLook(locale: Parameters<typeof autocompleteRegistration>[1]): CommandLook {
  const registration = autocompleteRegistration(commandTable, locale);
  return { displayName: "GitLab", description: registration.auto_complete_desc, hint: registration.auto_complete_hint };
}

/** An http(s) URL without trailing slashes, or undefined when `raw` is not one. */
function baseUrl(raw: string): string | undefined {
  let url = raw.trim();
  if (!URL.canParse(url)) return undefined;
  const protocol = new URL(url).protocol;
  if (protocol !== "http:" && protocol !== "https:") return undefined;
  while (url.endsWith("/")) url = url.slice(0, -1);
  return url;
}

function urlSetting(input: SetupCliInput, fileValues: Record<string, string>, option: string, variable: string, what: string): string {
  const fromOption = input.options.get(option);
  const raw = fromOption ?? (fileValues[variable] || input.env[variable]);
  if (!raw) throw new SetupUsageError(`--${option} is required (${what}; or set ${variable})`);
  const url = baseUrl(raw);
  if (!url) throw new SetupUsageError(`${fromOption !== undefined ? `--${option}` : variable} must be an http:// or https:// URL (${what})`);
  return url;
}

async function adminToken(input: SetupCliInput, variable: string, what: string): Promise<string> {
  const given = input.env[variable]?.trim();
  if (given) return given;
  if (!input.stdin || !canAsk(input.stdin)) throw new SetupUsageError(`${variable} is not set and there is no terminal to ask on: set ${variable} to ${what}`);
  const typed = await askSecret(`${variable} (${what}; typing is not shown):`, input.stdin, input.stderr);
  if (!typed) throw new SetupUsageError(`no ${variable} given`);
  return typed;
}

export async function setupFromCli(input: SetupCliInput): Promise<void> {
  if (input.args.length > 0) throw new SetupUsageError(`setup takes no arguments (got "${input.args[0]}")`);
  const envPath = resolve(input.options.get("write-env") ?? ".env");
  const fileValues = readEnvFile(envPath).values;
  const gitlabUrl = urlSetting(input, fileValues, "gitlab-url", "GITLAB_URL", "the GitLab base URL");
  const mattermostUrl = urlSetting(input, fileValues, "mattermost-url", "MATTERMOST_URL", "the Mattermost base URL");
  const publicUrl = urlSetting(input, fileValues, "public-url", "PUBLIC_URL", "the address Mattermost and browsers reach the bot at");
  if (input.teams.length === 0 && teamsOfCommandTokens(fileValues.MATTERMOST_COMMAND_TOKENS).length === 0) {
    throw new SetupUsageError("name the Mattermost team(s) to set up /gitlab in: --team <name> (repeatable)");
  }
  const { defaultLocale } = loadLocalConfig({ DEFAULT_LOCALE: fileValues.DEFAULT_LOCALE || input.env.DEFAULT_LOCALE });
  const gitlabAdminToken = await adminToken(input, "GITLAB_ADMIN_TOKEN", "a GitLab administrator's personal access token with scope api");
  const mattermostAdminToken = await adminToken(input, "MATTERMOST_ADMIN_TOKEN", "a Mattermost system administrator's access token");
  // Setup runs where the admin is, perhaps behind the same proxy as the bot.
  useOutboundProxy(loadProxySettings(input.env));
  await runSetup(
    {
      gitlabUrl,
      mattermostUrl,
      publicUrl,
      teams: [...new Set(input.teams)],
      envPath,
      dryRun: input.options.has("dry-run"),
      renewOAuthSecret: input.options.has("renew-oauth-secret"),
      gitlabAdminToken,
      mattermostAdminToken,
      look: commandLook(defaultLocale),
    },
    input.stdout,
  );
}
