// Linked GitLab accounts as the rest of the bot uses them: the OAuth client, the token manager, the
// connect-flow states and a client per user, built once from the config. Without GITLAB_URL, the
// OAuth application or ENCRYPTION_KEY, accounts cannot be linked: `missing` names what to set.
import type { Redis } from "ioredis";
import type { Config, Locale } from "../config.js";
import { createTokenCipher, type TokenCipher } from "../crypto.js";
import { t } from "../i18n/index.js";
import type { Logger } from "../logger.js";
import { createPendingLinks, type PendingLinks } from "../oauth/pending-links.js";
import { createOAuthStates, type OAuthStates } from "../oauth/states.js";
import { languageOf, type Profiles } from "../people/profiles.js";
import type { Db } from "../store/db.js";
import { findUserLink, findUserLinksByGitlabIds, type UserLink } from "../store/user-links.js";
import { getUserSettings } from "../store/user-settings.js";
import { resourceAccess, type ResourceAccess } from "./access.js";
import { withUserGitlab, type GitlabApi } from "./client.js";
import { createGitlabOAuth, type GitlabOAuth } from "./oauth.js";
import { createGitlabTokens, notConnected, type GitlabTokens } from "./tokens.js";
import { escapeInline } from "../text/markdown.js";

export const CALLBACK_PATH = "/oauth/gitlab/callback";
export const CONNECT_PATH = "/oauth/gitlab/connect";
export const CONFIRM_PATH = "/oauth/gitlab/confirm";

export interface GitlabAccounts {
  gitlabUrl: string;
  publicUrl: string;
  oauth: GitlabOAuth;
  tokens: GitlabTokens;
  states: OAuthStates;
  /** Links made by the OAuth callback, waiting for the browser to confirm them. */
  pendingLinks: PendingLinks;
  cipher: TokenCipher;
  now: () => number;
  /** Sends the user a direct message from the bot (errors are the caller's). */
  notify(mattermostUserId: string, message: string): Promise<void>;
  /** The language to write to the user in: their `/gitlab settings` choice, else their Mattermost language, else the default. */
  localeOf(mattermostUserId: string): Promise<Locale>;
  /** The link of a GitLab user to a Mattermost user, if any. */
  linkOfGitlabUser(gitlabUserId: number): Promise<UserLink | undefined>;
  /** A single-use link that starts the connect flow for this Mattermost user. */
  connectUrl(user: { id: string; username: string }): Promise<string>;
  /** Runs `fn` as the user on GitLab (see withUserGitlab: it may run twice after a 401, so make it safe to repeat). */
  withUser<T>(mattermostUserId: string, fn: (api: GitlabApi, link: UserLink) => Promise<T>): Promise<T>;
  /** The project or group at `path` as the user sees it; undefined when it does not exist for them. */
  access(mattermostUserId: string, path: string): Promise<ResourceAccess | undefined>;
}

export type GitlabAccountsSetup = { ready: true; accounts: GitlabAccounts } | { ready: false; missing: string[] };

export interface GitlabAccountsDeps {
  config: Pick<Config, "gitlab" | "publicUrl" | "encryptionKey" | "encryptionKeysPrevious" | "queuePrefix"> & Partial<Pick<Config, "defaultLocale">>;
  db: Db;
  redis: Redis;
  logger: Logger;
  notify?: (mattermostUserId: string, message: string) => Promise<void>;
  /** Users' Mattermost languages; without it, a user who chose no language gets the default one. */
  profiles?: Profiles;
  now?: () => number;
  /** The slash command, for messages ("/gitlab"). */
  trigger?: string;
  /** Passed to the token manager (tests shorten them). */
  tokenOptions?: { refreshMarginMs?: number; lockTtlMs?: number; lockWaitMs?: number };
}

/** The settings account linking needs that are not set. */
export function missingAccountSettings(config: Pick<Config, "gitlab" | "encryptionKey">): string[] {
  const missing: string[] = [];
  if (!config.gitlab.url) missing.push("GITLAB_URL");
  if (!config.gitlab.oauthClientId) missing.push("GITLAB_OAUTH_CLIENT_ID");
  if (!config.gitlab.oauthClientSecret) missing.push("GITLAB_OAUTH_CLIENT_SECRET");
  if (!config.encryptionKey) missing.push("ENCRYPTION_KEY");
  return missing;
}

export function setupGitlabAccounts(deps: GitlabAccountsDeps): GitlabAccountsSetup {
  const { config, db, redis, logger } = deps;
  const missing = missingAccountSettings(config);
  if (missing.length > 0) return { ready: false, missing };
  const now = deps.now ?? Date.now;
  const trigger = deps.trigger ?? "/gitlab";
  const gitlabUrl = config.gitlab.url!;
  const publicUrl = config.publicUrl.replace(/\/+$/, "");
  const cipher = createTokenCipher(config.encryptionKey!, config.encryptionKeysPrevious);
  const oauth = createGitlabOAuth(
    { gitlabUrl, clientId: config.gitlab.oauthClientId!, clientSecret: config.gitlab.oauthClientSecret!, redirectUri: `${publicUrl}${CALLBACK_PATH}` },
    { now },
  );
  const notify = deps.notify ?? (async () => {});
  const defaultLocale: Locale = config.defaultLocale ?? "en";
  const profiles: Profiles = deps.profiles ?? { locale: async () => defaultLocale, timeZone: async () => "UTC" };
  async function localeOf(userId: string): Promise<Locale> {
    try {
      return await languageOf(await getUserSettings(db, userId), profiles, userId);
    } catch (error) {
      logger.warn({ user_id: userId, err: (error as Error).message }, "user settings not read; writing in the default language");
      return defaultLocale;
    }
  }
  const tokens = createGitlabTokens({
    db,
    redis,
    keyPrefix: config.queuePrefix,
    cipher,
    oauth,
    logger,
    now,
    ...deps.tokenOptions,
    onGrantRevoked: async (link) =>
      notify(
        link.mattermostUserId,
        t(await localeOf(link.mattermostUserId), "account.dm.revoked", { who: escapeInline(`@${link.gitlabUsername}`), command: `\`${trigger} connect\`` }),
      ),
  });
  const states = createOAuthStates({ redis, keyPrefix: config.queuePrefix, now });
  const pendingLinks = createPendingLinks({ redis, keyPrefix: config.queuePrefix, cipher, now });

  const accounts: GitlabAccounts = {
    gitlabUrl,
    publicUrl,
    oauth,
    tokens,
    states,
    pendingLinks,
    cipher,
    now,
    notify,
    localeOf,
    async linkOfGitlabUser(gitlabUserId) {
      return (await findUserLinksByGitlabIds(db, [gitlabUserId]))[0];
    },
    async connectUrl(user) {
      const token = await states.issueConnect(user);
      return `${publicUrl}${CONNECT_PATH}?state=${token}`;
    },
    async withUser(userId, fn) {
      const link = await findUserLink(db, userId);
      if (!link) throw notConnected();
      return withUserGitlab(tokens, gitlabUrl, userId, (api) => fn(api, link));
    },
    async access(userId, path) {
      return accounts.withUser(userId, (api, link) => resourceAccess(api, link.gitlabUserId, path));
    },
  };
  return { ready: true, accounts };
}
