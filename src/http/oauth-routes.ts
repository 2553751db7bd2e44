// GET /oauth/gitlab/connect and GET /oauth/gitlab/callback (SPEC.md): the browser half of connecting a
// GitLab account. `/gitlab connect` gives the user a single-use link; /connect takes its token, makes
// the PKCE pair and the OAuth `state`, gives the browser a cookie that binds the flow to it, and
// redirects to GitLab's /oauth/authorize. /callback accepts the answer only in that browser, only once
// and only within 10 minutes of the command; it exchanges the code, reads /api/v4/user and saves the
// link with both tokens encrypted. Anything else gets a plain HTML page saying what went wrong, and
// nothing is saved. No token or code is ever logged or shown. Pages are in the Mattermost user's
// language once the state names them, else in the browser's (Accept-Language).
import { timingSafeEqual } from "node:crypto";
import { Hono, type Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Locale } from "../config.js";
import type { GitlabAccountsSetup } from "../gitlab/accounts.js";
import { CALLBACK_PATH, CONNECT_PATH } from "../gitlab/accounts.js";
import { currentGitlabUser, describeGitlabError, type GitlabUser } from "../gitlab/client.js";
import { createPkcePair, GitlabOAuthError, type TokenSet } from "../gitlab/oauth.js";
import { t } from "../i18n/index.js";
import type { Logger } from "../logger.js";
import { newSecret, sha256Hex, STATE_TTL_MS } from "../oauth/states.js";
import { escapeInline } from "../text/markdown.js";

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

/** The browser's preferred language (Accept-Language, by weight): any Chinese -> zh-CN, else English. */
export function localeFromAcceptLanguage(header: string | undefined): Locale {
  let best: { tag: string; q: number } | undefined;
  for (const part of (header ?? "").split(",")) {
    const [tag = "", ...params] = part.split(";").map((x) => x.trim().toLowerCase());
    const weight = params.find((p) => p.startsWith("q="));
    const q = weight === undefined ? 1 : Number(weight.slice(2));
    if (!tag || tag === "*" || !(q > 0)) continue;
    if (!best || q > best.q) best = { tag, q };
  }
  return best && /^zh(-|$)/.test(best.tag) ? "zh-CN" : "en";
}

/** A small page in `locale`; every piece of text is escaped here. */
function page(c: Context, locale: Locale, status: 200 | 400 | 502 | 503, title: string, lines: string[]) {
  const body = [
    "<!doctype html>",
    `<html lang="${escapeHtml(locale)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">`,
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
  const again = (locale: Locale) => t(locale, "account.page.again", { command: `${trigger} connect` });
  const browserLocale = (c: Context) => localeFromAcceptLanguage(c.req.header("accept-language"));
  const app = new Hono();

  function notConfigured(c: Context, missing: string[]) {
    logger.warn({ missing }, "GitLab account linking is not configured");
    const locale = browserLocale(c);
    return page(c, locale, 503, t(locale, "account.page.not_configured.title"), [t(locale, "account.page.not_configured", { settings: missing.join(", ") })]);
  }

  app.get(CONNECT_PATH, async (c) => {
    if (!deps.gitlab.ready) return notConfigured(c, deps.gitlab.missing);
    const accounts = deps.gitlab.accounts;
    const token = c.req.query("state") ?? "";
    const taken = await accounts.states.takeConnect(token);
    if (!taken.ok) {
      logger.info({ reason: taken.reason }, "connect link refused");
      const locale = browserLocale(c);
      return taken.reason === "expired"
        ? page(c, locale, 400, t(locale, "account.page.link_expired.title"), [t(locale, "account.page.link_expired"), again(locale)])
        : page(c, locale, 400, t(locale, "account.page.link_invalid.title"), [t(locale, "account.page.link_invalid"), again(locale)]);
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
      const locale = browserLocale(c);
      if (pending.reason === "expired") {
        await accounts.states.takePending(state);
        return page(c, locale, 400, t(locale, "account.page.signin_expired.title"), [t(locale, "account.page.signin_expired"), again(locale)]);
      }
      return page(c, locale, 400, t(locale, "account.page.signin_invalid.title"), [t(locale, "account.page.signin_invalid"), again(locale)]);
    }
    // From here the state names the Mattermost user: write in their language.
    const locale = await accounts.localeOf(pending.value.mattermostUserId);
    // Only the browser that opened the connect link may finish it (a stolen or forged callback is refused
    // without spending the state, so it cannot spoil the real one).
    const cookie = getCookie(c, COOKIE);
    if (!cookie || !sameHash(sha256Hex(cookie), pending.value.browserHash)) {
      logger.warn({ user_id: pending.value.mattermostUserId }, "OAuth callback refused: it came from another browser than the one that started it");
      return page(c, locale, 400, t(locale, "account.page.other_browser.title"), [t(locale, "account.page.other_browser"), again(locale)]);
    }
    const taken = await accounts.states.takePending(state);
    deleteCookie(c, COOKIE, { path: "/oauth/gitlab" });
    if (!taken.ok) return page(c, locale, 400, t(locale, "account.page.signin_invalid.title"), [t(locale, "account.page.signin_used"), again(locale)]);
    const { mattermostUserId, mattermostUsername, codeVerifier } = taken.value;
    const log = logger.child({ user_id: mattermostUserId });

    const error = c.req.query("error");
    if (error) {
      log.info({ error }, "GitLab did not authorize the connection");
      const description = c.req.query("error_description");
      return page(c, locale, 400, t(locale, "account.page.denied.title"), [
        error === "access_denied"
          ? t(locale, "account.page.denied")
          : description
            ? t(locale, "account.page.gitlab_error_described", { error, description: description.slice(0, 300) })
            : t(locale, "account.page.gitlab_error", { error }),
        again(locale),
      ]);
    }
    const code = c.req.query("code");
    if (!code) return page(c, locale, 400, t(locale, "account.page.no_code.title"), [again(locale)]);

    let tokens: TokenSet;
    try {
      tokens = await accounts.oauth.exchangeCode({ code, codeVerifier });
    } catch (err) {
      const invalid = err instanceof GitlabOAuthError && err.code === "invalid_grant";
      log.warn({ err: (err as Error).message }, "OAuth code exchange failed");
      return page(c, locale, invalid ? 400 : 502, t(locale, "account.page.exchange_failed.title"), [
        t(locale, invalid ? "account.page.code_refused" : "account.page.exchange_unavailable"),
        again(locale),
      ]);
    }

    let user: GitlabUser;
    try {
      user = await currentGitlabUser(accounts.gitlabUrl, tokens.accessToken);
    } catch (err) {
      log.warn({ err: describeGitlabError(err) }, "reading /api/v4/user after the code exchange failed");
      await accounts.tokens.revokeQuietly({ accessTokenEnc: accounts.cipher.encrypt(tokens.accessToken), refreshTokenEnc: accounts.cipher.encrypt(tokens.refreshToken) });
      return page(c, locale, 502, t(locale, "account.page.no_user.title"), [t(locale, "account.page.nothing_connected"), again(locale)]);
    }

    const replaced = await accounts.tokens.link(mattermostUserId, user, tokens);
    if (replaced) await accounts.tokens.revokeQuietly(replaced);
    log.info({ gitlab_user_id: user.id, gitlab_username: user.username, replaced: replaced !== undefined }, "GitLab account connected");
    await accounts
      .notify(mattermostUserId, t(locale, "account.dm.connected", { who: escapeInline(`@${user.username}`), me: `\`${trigger} me\``, disconnect: `\`${trigger} disconnect\`` }))
      .catch((err: Error) => log.warn({ err: err.message }, "could not send the connected message"));
    return page(c, locale, 200, t(locale, "account.page.connected.title"), [
      t(locale, "account.page.connected", { mattermost: `@${mattermostUsername}`, gitlab: `@${user.username}` }),
      t(locale, "account.page.close"),
    ]);
  });

  return app;
}
