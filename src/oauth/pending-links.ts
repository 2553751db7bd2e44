// Account links waiting for the person at the browser to confirm them (POST /oauth/gitlab/confirm).
// GitLab approves an application it already knows without asking again, so a connect link opened by
// someone else would link the sender's Mattermost account to the opener's GitLab account: after the
// OAuth callback nothing is linked until the page naming both accounts is confirmed.
// A pending link lives in Redis (shared by every bot process) under a hash of a secret cookie, so only
// the browser that finished the sign-in can use it; it holds a hash of the confirmation form's CSRF
// token, keeps GitLab's fresh tokens encrypted and bound to itself, is taken once, and dies
// STATE_TTL_MS after the callback.
import type { Redis } from "ioredis";
import type { TokenBinding, TokenCipher } from "../crypto.js";
import type { TokenSet } from "../gitlab/oauth.js";
import { newSecret, redisTtlMs, sameHash, SECRET_PATTERN, sha256Hex, takenFrom, type Taken } from "./states.js";

export interface PendingLinkRequest {
  mattermostUserId: string;
  mattermostUsername: string;
  gitlabUser: { id: number; username: string; name: string };
  /** The other Mattermost user the GitLab account was linked to when the page was shown. */
  displacedUserId?: string;
}

export interface PendingLink extends PendingLinkRequest {
  /** When the callback made it (ms). */
  createdAt: number;
  /** sha256 (hex) of the form's CSRF token. */
  csrfHash: string;
}

interface StoredPendingLink extends PendingLink {
  accessTokenEnc: string;
  refreshTokenEnc: string;
  expiresAt: number;
}

export interface PendingLinks {
  /** Keeps a link to confirm; returns the secret for the browser's cookie and the form's CSRF token. */
  save(request: PendingLinkRequest, tokens: TokenSet): Promise<{ browserSecret: string; csrfToken: string }>;
  /** The browser's pending link, without using it (to check the form before spending it). */
  peek(browserSecret: string): Promise<Taken<PendingLink>>;
  /** Takes the browser's pending link (once), with its tokens; an expired one is taken too, its tokens to revoke. */
  take(browserSecret: string): Promise<TakenPendingLink>;
}

export type TakenPendingLink =
  | { ok: true; value: PendingLink & { tokens: TokenSet } }
  | { ok: false; reason: "unknown" }
  | { ok: false; reason: "expired"; tokens: TokenSet };

/** Whether the form's CSRF token is the one the pending link was made with. */
export function csrfMatches(pending: Pick<PendingLink, "csrfHash">, csrfToken: string | undefined): boolean {
  return csrfToken !== undefined && SECRET_PATTERN.test(csrfToken) && sameHash(sha256Hex(csrfToken), pending.csrfHash);
}

export function createPendingLinks(opts: { redis: Redis; keyPrefix: string; cipher: TokenCipher; now?: () => number }): PendingLinks {
  const { redis, cipher } = opts;
  const now = opts.now ?? Date.now;
  const key = (browserHash: string) => `${opts.keyPrefix}:oauth:confirm:${browserHash}`;
  // Bound to the pending link itself: a ciphertext moved to another one does not decrypt.
  const binding = (browserHash: string, field: "access_token" | "refresh_token"): TokenBinding => ({ owner: `pending-link:${browserHash}`, field });

  function tokensOf(browserHash: string, stored: StoredPendingLink): TokenSet {
    return {
      accessToken: cipher.decrypt(stored.accessTokenEnc, binding(browserHash, "access_token")),
      refreshToken: cipher.decrypt(stored.refreshTokenEnc, binding(browserHash, "refresh_token")),
      expiresAt: stored.expiresAt,
    };
  }

  function withoutTokens(stored: StoredPendingLink): PendingLink {
    const { accessTokenEnc: _a, refreshTokenEnc: _r, expiresAt: _e, ...link } = stored;
    return link;
  }

  return {
    async save(request, tokens) {
      const browserSecret = newSecret();
      const csrfToken = newSecret();
      const browserHash = sha256Hex(browserSecret);
      const stored: StoredPendingLink = {
        ...request,
        createdAt: now(),
        csrfHash: sha256Hex(csrfToken),
        accessTokenEnc: cipher.encrypt(tokens.accessToken, binding(browserHash, "access_token")),
        refreshTokenEnc: cipher.encrypt(tokens.refreshToken, binding(browserHash, "refresh_token")),
        expiresAt: tokens.expiresAt,
      };
      await redis.set(key(browserHash), JSON.stringify(stored), "PX", redisTtlMs(stored.createdAt, now()));
      return { browserSecret, csrfToken };
    },
    async peek(browserSecret) {
      if (!SECRET_PATTERN.test(browserSecret)) return { ok: false, reason: "unknown" };
      const taken = takenFrom<StoredPendingLink>(await redis.get(key(sha256Hex(browserSecret))), now());
      return taken.ok ? { ok: true, value: withoutTokens(taken.value) } : taken;
    },
    async take(browserSecret) {
      if (!SECRET_PATTERN.test(browserSecret)) return { ok: false, reason: "unknown" };
      const browserHash = sha256Hex(browserSecret);
      const raw = await redis.getdel(key(browserHash));
      const taken = takenFrom<StoredPendingLink>(raw, now());
      if (taken.ok) return { ok: true, value: { ...withoutTokens(taken.value), tokens: tokensOf(browserHash, taken.value) } };
      if (taken.reason === "expired" && raw) return { ok: false, reason: "expired", tokens: tokensOf(browserHash, JSON.parse(raw) as StoredPendingLink) };
      return { ok: false, reason: "unknown" };
    },
  };
}
