// A linked user's GitLab tokens over time. Access tokens last 2 hours; GitLab rotates the refresh token
// on every refresh, so a refresh made twice with the same refresh token fails the second time and two
// processes must never refresh one user at once: a Redis lock (SET NX PX with a random owner) serializes
// refreshes across processes, and whoever gets the lock first re-reads the database, because another
// process may have refreshed meanwhile. The new pair is written in one compare-and-set statement.
// `invalid_grant` means the grant is gone (revoked in GitLab, or expired): the link is deleted and the
// user is told how to reconnect. Tokens are decrypted only here and never logged. Each ciphertext is bound
// to its user and column (src/crypto.ts); a row still in the older unbound format is rewritten bound when
// it is first read.
import type { Redis } from "ioredis";
import { userLinkBinding, type TokenCipher } from "../crypto.js";
import type { Logger } from "../logger.js";
import { tryLock, type HeldLock } from "../redis-lock.js";
import type { Db } from "../store/db.js";
import { deleteUserLinkIf, findUserLink, replaceUserTokens, saveUserLink, type UserLink } from "../store/user-links.js";
import { GitlabOAuthError, type GitlabOAuth, type TokenSet } from "./oauth.js";

/** Why a user's GitLab token cannot be had; `message` is written for that user. */
export class GitlabAuthError extends Error {
  constructor(
    /** not_connected: no link; reconnect: GitLab refused the grant (link deleted); busy: refresh lock not obtained. */
    readonly code: "not_connected" | "reconnect" | "busy",
    message: string,
    /** reconnect: the GitLab account that was disconnected (for messages in the user's language). */
    readonly gitlabUsername?: string,
  ) {
    super(message);
    this.name = "GitlabAuthError";
  }
}

export interface GitlabTokensDeps {
  db: Db;
  redis: Redis;
  /** Prefix of this bot's Redis keys (QUEUE_PREFIX). */
  keyPrefix: string;
  cipher: TokenCipher;
  oauth: GitlabOAuth;
  logger: Logger;
  now?: () => number;
  /** Called after GitLab refused a refresh (invalid_grant) and the link was deleted: tell the user. */
  onGrantRevoked?: (link: UserLink) => Promise<void>;
  /** Refresh this long before the access token expires. Default 2 minutes. */
  refreshMarginMs?: number;
  /** How long a refresh lock lives if its holder dies. Default 30 s (longer than the refresh call's timeout). */
  lockTtlMs?: number;
  /** How long to wait for another process's refresh. Default 20 s. */
  lockWaitMs?: number;
}

export interface GitlabTokens {
  /** A usable access token for the user, refreshed first when it is about to expire. */
  accessToken(mattermostUserId: string): Promise<string>;
  /** GitLab refused `rejected` (401) before its expiry: refresh, unless another process already did. */
  refreshAfterRejection(mattermostUserId: string, rejected: string): Promise<string>;
  /**
   * Links the user with a new token pair (encrypted here). Returns the links it replaced: the user's own
   * earlier one, and the GitLab account's link to another Mattermost user.
   */
  link(mattermostUserId: string, gitlabUser: { id: number; username: string }, tokens: TokenSet): Promise<UserLink[]>;
  /** Revokes the user's tokens at GitLab (best effort) and deletes the link; the deleted link, if any. */
  unlink(mattermostUserId: string): Promise<{ link: UserLink; revoked: boolean } | undefined>;
  /** Revokes a stored link's token pair at GitLab, ignoring failures (e.g. tokens of a link just replaced). */
  revokeQuietly(link: Pick<UserLink, "mattermostUserId" | "accessTokenEnc" | "refreshTokenEnc">): Promise<boolean>;
  /** Revokes a token pair that was never stored (GitLab just issued it), ignoring failures. */
  revokeIssued(tokens: Pick<TokenSet, "accessToken" | "refreshToken">): Promise<boolean>;
}


const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function notConnected(): GitlabAuthError {
  return new GitlabAuthError("not_connected", "Your Mattermost account is not connected to GitLab.");
}

export function createGitlabTokens(deps: GitlabTokensDeps): GitlabTokens {
  const { db, redis, cipher, oauth, logger } = deps;
  const now = deps.now ?? Date.now;
  const margin = deps.refreshMarginMs ?? 120_000;
  const lockTtl = deps.lockTtlMs ?? 30_000;
  const lockWait = deps.lockWaitMs ?? 20_000;
  const lockKey = (userId: string) => `${deps.keyPrefix}:gitlab:refresh-lock:${userId}`;

  const accessOf = (link: Pick<UserLink, "mattermostUserId" | "accessTokenEnc">) => cipher.decrypt(link.accessTokenEnc, userLinkBinding(link.mattermostUserId, "access_token"));
  const refreshOf = (link: Pick<UserLink, "mattermostUserId" | "refreshTokenEnc">) => cipher.decrypt(link.refreshTokenEnc, userLinkBinding(link.mattermostUserId, "refresh_token"));
  function sealed(userId: string, tokens: Pick<TokenSet, "accessToken" | "refreshToken">) {
    return {
      accessTokenEnc: cipher.encrypt(tokens.accessToken, userLinkBinding(userId, "access_token")),
      refreshTokenEnc: cipher.encrypt(tokens.refreshToken, userLinkBinding(userId, "refresh_token")),
    };
  }

  /** The link's access token if it is good for a while and is not the one GitLab just refused. */
  function usable(link: UserLink, rejected?: string): string | undefined {
    if (link.expiresAt - now() <= margin) return undefined;
    const token = accessOf(link);
    return token === rejected ? undefined : token;
  }

  async function current(userId: string): Promise<UserLink> {
    const link = await findUserLink(db, userId);
    if (!link) throw notConnected();
    if (!cipher.isLegacyFormat(link.accessTokenEnc) && !cipher.isLegacyFormat(link.refreshTokenEnc)) return link;
    return bindLegacy(link);
  }

  /** Rewrites a row of the unbound format bound to its user and columns (compare-and-set on what was read). */
  async function bindLegacy(link: UserLink): Promise<UserLink> {
    const rewritten = { ...sealed(link.mattermostUserId, { accessToken: accessOf(link), refreshToken: refreshOf(link) }), expiresAt: link.expiresAt };
    const expected = { accessTokenEnc: link.accessTokenEnc, refreshTokenEnc: link.refreshTokenEnc };
    if (await replaceUserTokens(db, link.mattermostUserId, expected, rewritten)) {
      logger.info({ user_id: link.mattermostUserId }, "GitLab tokens re-encrypted bound to their user and column");
      return { ...link, ...rewritten };
    }
    // Refreshed, rotated, upgraded or removed meanwhile: what is there now is the answer (read as it is).
    const latest = await findUserLink(db, link.mattermostUserId);
    if (!latest) throw notConnected();
    return latest;
  }

  async function withLock<T>(userId: string, whileWaiting: () => Promise<T | undefined>, work: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + lockWait;
    let lock: HeldLock | undefined;
    while (!(lock = await tryLock(redis, lockKey(userId), lockTtl))) {
      // Another process is refreshing: its result lands in the database.
      const done = await whileWaiting();
      if (done !== undefined) return done;
      if (Date.now() > deadline) {
        throw new GitlabAuthError("busy", "GitLab is slow to renew your access right now; please try again in a minute.");
      }
      await sleep(40 + Math.random() * 60);
    }
    try {
      return await work();
    } finally {
      await lock.release().catch((error: Error) => logger.warn({ err: error.message }, "could not release a GitLab refresh lock"));
    }
  }

  async function refresh(userId: string, rejected?: string): Promise<string> {
    const log = logger.child({ user_id: userId });
    return withLock(
      userId,
      async () => {
        const link = await current(userId);
        return usable(link, rejected);
      },
      async () => {
        const link = await current(userId);
        const fresh = usable(link, rejected);
        if (fresh !== undefined) return fresh;
        const refreshToken = refreshOf(link);
        let tokens: TokenSet;
        try {
          tokens = await oauth.refresh(refreshToken);
        } catch (error) {
          if (error instanceof GitlabOAuthError && error.code === "invalid_grant") return revoked(userId, link, refreshToken);
          throw error;
        }
        const stored = await replaceUserTokens(
          db,
          userId,
          { createdAt: link.createdAt },
          { ...sealed(userId, tokens), expiresAt: tokens.expiresAt },
        );
        if (!stored) {
          // The user disconnected or connected again while we refreshed: the row we refreshed is gone.
          log.info("GitLab link changed during a token refresh; the refreshed tokens are dropped");
          await oauth.revoke(tokens.refreshToken).catch(() => {});
          const again = await current(userId);
          const token = usable(again);
          if (token === undefined) throw notConnected();
          return token;
        }
        log.debug("GitLab access token refreshed");
        return tokens.accessToken;
      },
    );
  }

  async function revoked(userId: string, link: UserLink, usedRefreshToken: string): Promise<string> {
    // Someone else may have refreshed with this token (a lock that outlived its holder): then their tokens stand.
    const again = await findUserLink(db, userId);
    if (again && again.createdAt === link.createdAt && refreshOf(again) !== usedRefreshToken) {
      const token = usable(again);
      if (token !== undefined) return token;
      throw new GitlabAuthError("busy", "GitLab is renewing your access right now; please try again.");
    }
    const deleted = await deleteUserLinkIf(db, userId, { createdAt: link.createdAt });
    logger.warn({ user_id: userId, gitlab_username: link.gitlabUsername }, "GitLab refused the refresh token (invalid_grant); link deleted");
    if (deleted && deps.onGrantRevoked) {
      await deps.onGrantRevoked(link).catch((error: Error) => logger.warn({ user_id: userId, err: error.message }, "could not tell the user their GitLab link was removed"));
    }
    throw new GitlabAuthError(
      "reconnect",
      `GitLab no longer accepts this bot's access to your account @${link.gitlabUsername} (it was revoked or has expired), so it was disconnected.`,
      link.gitlabUsername,
    );
  }

  async function revokeIssued(tokens: Pick<TokenSet, "accessToken" | "refreshToken">): Promise<boolean> {
    try {
      // Revoking either token revokes the pair in GitLab; both, in case one of them is already gone.
      await oauth.revoke(tokens.refreshToken);
      await oauth.revoke(tokens.accessToken);
      return true;
    } catch (error) {
      logger.warn({ err: (error as Error).message }, "could not revoke GitLab tokens");
      return false;
    }
  }

  async function revokeQuietly(link: Pick<UserLink, "mattermostUserId" | "accessTokenEnc" | "refreshTokenEnc">): Promise<boolean> {
    let tokens;
    try {
      tokens = { accessToken: accessOf(link), refreshToken: refreshOf(link) };
    } catch (error) {
      logger.warn({ user_id: link.mattermostUserId, err: (error as Error).message }, "could not read GitLab tokens to revoke them");
      return false;
    }
    return revokeIssued(tokens);
  }

  return {
    async accessToken(userId) {
      const link = await current(userId);
      return usable(link) ?? refresh(userId);
    },
    async refreshAfterRejection(userId, rejected) {
      return refresh(userId, rejected);
    },
    async link(userId, gitlabUser, tokens) {
      return saveUserLink(db, {
        mattermostUserId: userId,
        gitlabUserId: gitlabUser.id,
        gitlabUsername: gitlabUser.username,
        ...sealed(userId, tokens),
        expiresAt: tokens.expiresAt,
      });
    },
    async unlink(userId) {
      const link = await findUserLink(db, userId);
      if (!link) return undefined;
      // Under the refresh lock, so no refresh of this user is half-way when the tokens are revoked.
      return withLock(
        userId,
        async () => undefined,
        async () => {
          const latest = (await findUserLink(db, userId)) ?? link;
          const revokedAtGitlab = await revokeQuietly(latest);
          await deleteUserLinkIf(db, userId, { createdAt: latest.createdAt });
          return { link: latest, revoked: revokedAtGitlab };
        },
      );
    },
    revokeQuietly,
    revokeIssued,
  };
}
