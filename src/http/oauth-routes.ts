// GET /oauth/gitlab/connect and GET /oauth/gitlab/callback (SPEC.md): the browser half of connecting a
// GitLab account. `/gitlab connect` gives the user a single-use link; /connect takes its token, makes
// the PKCE pair and the OAuth `state`, gives the browser a cookie that binds the flow to it, and
// redirects to GitLab's /oauth/authorize. /callback accepts the answer only in that browser, only once
// and only within 10 minutes of the command; it exchanges the code, reads /api/v4/user and saves the
// link with both tokens encrypted. Anything else gets a plain HTML page saying what went wrong, and
// nothing is saved. No token or code is ever logged or shown.
import { timingSafeEqual } from "node:crypto";
import { Hono, type Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { GitlabAccountsSetup } from "../gitlab/accounts.js";
import { CALLBACK_PATH, CONNECT_PATH } from "../gitlab/accounts.js";
import { currentGitlabUser, describeGitlabError, type GitlabUser } from "../gitlab/client.js";
import { createPkcePair, GitlabOAuthError, type TokenSet } from "../gitlab/oauth.js";
import type { Logger } from "../logger.js";
import { newSecret, sha256Hex, STATE_TTL_MS } from "../oauth/states.js";

export interface OAuthRouteDeps {
  gitlab: GitlabAccountsSetup;
  logger: Logger;
  /** The slash command, for the pages' advice ("/gitlab"). */
  trigger?: string;
}

const COOKIE = "gmm_oauth";

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!);
}

/** A small page; every piece of text is escaped here. */
function page(c: Context, status: 200 | 400 | 502 | 503, title: string, lines: string[]) {
  const body = [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    "<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;line-height:1.5}</style>",
    "</head><body>",
    `<h1>${escapeHtml(title)}</h1>`,
    ...lines.map((l) => `<p>${escapeHtml(l)}</p>`),
    "</body></html>",
  ].join("\n");
  c.header("Cache-Control", "no-store");
  // The callback URL carries the authorization code: never let it leave in a Referer.
  c.header("Referrer-Policy", "no-referrer");
  c.header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
  c.header("X-Content-Type-Options", "nosniff");
  return c.html(body, status);
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

export function oauthRoutes(deps: OAuthRouteDeps): Hono {
  const { logger } = deps;
  const trigger = deps.trigger ?? "/gitlab";
  const again = `Type ${trigger} connect in Mattermost for a new link.`;
  const app = new Hono();

  function notConfigured(c: Context, missing: string[]) {
    logger.warn({ missing }, "GitLab account linking is not configured");
    return page(c, 503, "GitLab accounts cannot be connected yet", [
      "This bot is not set up to connect GitLab accounts. Ask your administrator to set: " + missing.join(", ") + ".",
    ]);
  }

  app.get(CONNECT_PATH, async (c) => {
    if (!deps.gitlab.ready) return notConfigured(c, deps.gitlab.missing);
    const accounts = deps.gitlab.accounts;
    const token = c.req.query("state") ?? "";
    const taken = await accounts.states.takeConnect(token);
    if (!taken.ok) {
      logger.info({ reason: taken.reason }, "connect link refused");
      return taken.reason === "expired"
        ? page(c, 400, "This link has expired", ["Connect links work for 10 minutes.", again])
        : page(c, 400, "This link is not valid", ["It was already used, or it was not made by this bot.", again]);
    }
    const request = taken.value;
    const pkce = createPkcePair();
    const browserSecret = newSecret();
    const state = await accounts.states.savePending({ ...request, codeVerifier: pkce.verifier, browserHash: sha256Hex(browserSecret) });
    setCookie(c, COOKIE, browserSecret, {
      path: "/oauth/gitlab",
      httpOnly: true,
      // Lax: sent on GitLab's top-level redirect back to the callback, not on cross-site subrequests.
      sameSite: "Lax",
      secure: accounts.publicUrl.startsWith("https:"),
      maxAge: Math.max(1, Math.ceil((request.createdAt + STATE_TTL_MS - accounts.now()) / 1000)),
    });
    c.header("Cache-Control", "no-store");
    c.header("Referrer-Policy", "no-referrer");
    logger.info({ user_id: request.mattermostUserId }, "sending a browser to GitLab to connect an account");
    return c.redirect(accounts.oauth.authorizeUrl({ state, codeChallenge: pkce.challenge }), 302);
  });

  app.get(CALLBACK_PATH, async (c) => {
    if (!deps.gitlab.ready) return notConfigured(c, deps.gitlab.missing);
    const accounts = deps.gitlab.accounts;
    const state = c.req.query("state") ?? "";
    const pending = await accounts.states.peekPending(state);
    if (!pending.ok) {
      logger.info({ reason: pending.reason }, "OAuth callback refused: unknown or expired state");
      if (pending.reason === "expired") {
        await accounts.states.takePending(state);
        return page(c, 400, "This sign-in has expired", ["Connecting must be finished within 10 minutes.", again]);
      }
      return page(c, 400, "This sign-in is not valid", ["It was already used, or it was not started by this bot.", again]);
    }
    // Only the browser that opened the connect link may finish it (a stolen or forged callback is refused
    // without spending the state, so it cannot spoil the real one).
    const cookie = getCookie(c, COOKIE);
    if (!cookie || !sameHash(sha256Hex(cookie), pending.value.browserHash)) {
      logger.warn({ user_id: pending.value.mattermostUserId }, "OAuth callback refused: it came from another browser than the one that started it");
      return page(c, 400, "This sign-in was started in another browser", [
        "Open the connect link from Mattermost and finish signing in to GitLab in the same browser.",
        again,
      ]);
    }
    const taken = await accounts.states.takePending(state);
    deleteCookie(c, COOKIE, { path: "/oauth/gitlab" });
    if (!taken.ok) return page(c, 400, "This sign-in is not valid", ["It was already used.", again]);
    const { mattermostUserId, mattermostUsername, codeVerifier } = taken.value;
    const log = logger.child({ user_id: mattermostUserId });

    const error = c.req.query("error");
    if (error) {
      log.info({ error }, "GitLab did not authorize the connection");
      const description = c.req.query("error_description");
      return page(c, 400, "GitLab did not authorize the connection", [
        error === "access_denied" ? "Access was denied on GitLab, so nothing was connected." : `GitLab answered: ${error}${description ? ` (${description.slice(0, 300)})` : ""}.`,
        again,
      ]);
    }
    const code = c.req.query("code");
    if (!code) return page(c, 400, "GitLab sent no authorization code", [again]);

    let tokens: TokenSet;
    try {
      tokens = await accounts.oauth.exchangeCode({ code, codeVerifier });
    } catch (err) {
      const invalid = err instanceof GitlabOAuthError && err.code === "invalid_grant";
      log.warn({ err: (err as Error).message }, "OAuth code exchange failed");
      return page(c, invalid ? 400 : 502, "GitLab did not accept the sign-in", [
        invalid ? "The authorization code was refused (it may have been used already, or it expired)." : "GitLab could not be asked to complete the sign-in.",
        again,
      ]);
    }

    let user: GitlabUser;
    try {
      user = await currentGitlabUser(accounts.gitlabUrl, tokens.accessToken);
    } catch (err) {
      log.warn({ err: describeGitlabError(err) }, "reading /api/v4/user after the code exchange failed");
      await accounts.tokens.revokeQuietly({ accessTokenEnc: accounts.cipher.encrypt(tokens.accessToken), refreshTokenEnc: accounts.cipher.encrypt(tokens.refreshToken) });
      return page(c, 502, "GitLab did not say who you are", ["Nothing was connected.", again]);
    }

    const replaced = await accounts.tokens.link(mattermostUserId, user, tokens);
    if (replaced) await accounts.tokens.revokeQuietly(replaced);
    log.info({ gitlab_user_id: user.id, gitlab_username: user.username, replaced: replaced !== undefined }, "GitLab account connected");
    await accounts
      .notify(mattermostUserId, `Your GitLab account is connected as @${user.username}. Type \`${trigger} me\` to see it, \`${trigger} disconnect\` to undo it.`)
      .catch((err: Error) => log.warn({ err: err.message }, "could not send the connected message"));
    return page(c, 200, "GitLab account connected", [
      `Mattermost user @${mattermostUsername} is now connected to GitLab as @${user.username}.`,
      "You can close this window and go back to Mattermost.",
    ]);
  });

  return app;
}
