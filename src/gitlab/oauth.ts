// GitLab as OAuth 2.0 provider (https://docs.gitlab.com/api/oauth2/): the authorization-code flow
// with PKCE S256 and scope `api`, refresh (GitLab rotates the refresh token each time) and revoke.
// Plain fetch: gitbeaker has no OAuth endpoints. Outbound calls honour the proxy through undici's
// global dispatcher (set in main.ts). Tokens never appear in an error message.
import { createHash, randomBytes } from "node:crypto";

export const OAUTH_SCOPE = "api";

export interface GitlabOAuthSettings {
  /** GitLab base URL, without trailing slash. */
  gitlabUrl: string;
  clientId: string;
  clientSecret: string;
  /** PUBLIC_URL/oauth/gitlab/callback, exactly as registered in the GitLab application. */
  redirectUri: string;
}

export interface TokenSet {
  accessToken: string;
  refreshToken: string;
  /** When the access token expires (ms since epoch, by our clock). */
  expiresAt: number;
}

/**
 * `code` is GitLab's OAuth error code (`invalid_grant`, `invalid_client`, ...) when GitLab answered
 * one, else `network`, `timeout`, `server` (5xx) or `bad_response`.
 */
export class GitlabOAuthError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "GitlabOAuthError";
  }
}

export interface PkcePair {
  verifier: string;
  challenge: string;
}

/** RFC 7636: a 43-character verifier from 32 random bytes and its S256 challenge. */
export function createPkcePair(): PkcePair {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: pkceChallenge(verifier) };
}

export function pkceChallenge(verifier: string): string {
  return createHash("sha256").update(verifier).digest("base64url");
}

export interface GitlabOAuth {
  readonly settings: Readonly<Omit<GitlabOAuthSettings, "clientSecret">>;
  authorizeUrl(params: { state: string; codeChallenge: string }): string;
  exchangeCode(params: { code: string; codeVerifier: string }): Promise<TokenSet>;
  refresh(refreshToken: string): Promise<TokenSet>;
  /** Revokes the token (and with it its pair) at GitLab. RFC 7009: unknown tokens are not an error. */
  revoke(token: string): Promise<void>;
}

export interface GitlabOAuthOptions {
  now?: () => number;
  timeoutMs?: number;
}

/** Tokens without an expiry (GitLab before 15.0) are treated as lasting ten years. */
const NO_EXPIRY_MS = 10 * 365 * 24 * 3600_000;

export function createGitlabOAuth(settings: GitlabOAuthSettings, options: GitlabOAuthOptions = {}): GitlabOAuth {
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const base = settings.gitlabUrl.replace(/\/+$/, "");

  async function post(path: string, params: Record<string, string>, what: string): Promise<{ status: number; body: unknown }> {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
        body: new URLSearchParams({ ...params, client_id: settings.clientId, client_secret: settings.clientSecret }),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: "manual",
      });
    } catch (error) {
      const e = error as Error;
      if (e.name === "TimeoutError" || e.name === "AbortError") throw new GitlabOAuthError("timeout", `GitLab did not answer ${what} within ${timeoutMs} ms`);
      throw new GitlabOAuthError("network", `GitLab could not be reached for ${what}: ${e.message}`);
    }
    const text = await response.text().catch(() => "");
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON (an HTML error page from a proxy, say): judged by the status alone.
    }
    if (response.ok) return { status: response.status, body };
    const error = body && typeof body === "object" ? (body as { error?: unknown; error_description?: unknown }) : {};
    const code = typeof error.error === "string" ? error.error : response.status >= 500 ? "server" : "bad_response";
    const description = typeof error.error_description === "string" ? `: ${error.error_description.slice(0, 300)}` : "";
    throw new GitlabOAuthError(code, `GitLab answered ${response.status} (${code}) to ${what}${description}`, response.status);
  }

  function tokenSet(body: unknown, what: string): TokenSet {
    const b = (body ?? {}) as { access_token?: unknown; refresh_token?: unknown; expires_in?: unknown };
    if (typeof b.access_token !== "string" || !b.access_token || typeof b.refresh_token !== "string" || !b.refresh_token) {
      throw new GitlabOAuthError("bad_response", `GitLab's answer to ${what} has no access and refresh token`);
    }
    const expiresIn = typeof b.expires_in === "number" && b.expires_in > 0 ? b.expires_in * 1000 : NO_EXPIRY_MS;
    return { accessToken: b.access_token, refreshToken: b.refresh_token, expiresAt: now() + expiresIn };
  }

  return {
    settings: { gitlabUrl: base, clientId: settings.clientId, redirectUri: settings.redirectUri },
    authorizeUrl({ state, codeChallenge }) {
      const url = new URL(`${base}/oauth/authorize`);
      url.search = new URLSearchParams({
        client_id: settings.clientId,
        redirect_uri: settings.redirectUri,
        response_type: "code",
        state,
        scope: OAUTH_SCOPE,
        code_challenge: codeChallenge,
        code_challenge_method: "S256",
      }).toString();
      return url.toString();
    },
    async exchangeCode({ code, codeVerifier }) {
      const what = "the authorization code exchange";
      const { body } = await post(
        "/oauth/token",
        { grant_type: "authorization_code", code, redirect_uri: settings.redirectUri, code_verifier: codeVerifier },
        what,
      );
      return tokenSet(body, what);
    },
    async refresh(refreshToken) {
      const what = "the token refresh";
      const { body } = await post("/oauth/token", { grant_type: "refresh_token", refresh_token: refreshToken, redirect_uri: settings.redirectUri }, what);
      return tokenSet(body, what);
    },
    async revoke(token) {
      await post("/oauth/revoke", { token }, "the token revocation");
    },
  };
}
