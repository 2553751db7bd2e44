// GET /oauth/gitlab/connect, GET /oauth/gitlab/callback and POST /oauth/gitlab/confirm (SPEC.md): the
// browser half of connecting a GitLab account. `/gitlab connect` gives the user a single-use link;
// /connect takes its token, makes the PKCE pair and the OAuth `state`, gives the browser a cookie that
// binds the flow to it, and redirects to GitLab's /oauth/authorize. /callback accepts the answer only in
// that browser, only once and only within 10 minutes of the command; it exchanges the code and reads
// /api/v4/user, but links nothing: GitLab approves an application it knows without asking, so the
// person at the browser may not be the one who typed the command. It shows a page naming both accounts
// (and the Mattermost user the GitLab account would be taken from), whose form posts to /confirm with a
// CSRF token; /confirm, in the same browser, once, within 10 minutes, links or (cancel) revokes.
// Anything else gets a plain HTML page saying what went wrong, and nothing is saved. No token or code
// is ever logged or shown. Pages are in the Mattermost user's language once the state names them, else
// in the browser's (Accept-Language); the confirmation and what follows it always in the browser's.
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Locale } from "../config.js";
import type { GitlabAccounts, GitlabAccountsSetup } from "../gitlab/accounts.js";
import { CALLBACK_PATH, CONFIRM_PATH, CONNECT_PATH } from "../gitlab/accounts.js";
import { currentGitlabUser, describeGitlabError, type GitlabUser } from "../gitlab/client.js";
import { createPkcePair, GitlabOAuthError, type TokenSet } from "../gitlab/oauth.js";
import { t } from "../i18n/index.js";
import type { Logger } from "../logger.js";
import type { MattermostApi } from "../mattermost/client.js";
import { csrfMatches, type PendingLinkRequest } from "../oauth/pending-links.js";
import { newSecret, sameHash, sha256Hex, STATE_TTL_MS } from "../oauth/states.js";
import { escapeInline } from "../text/markdown.js";

export interface OAuthRouteDeps {
  gitlab: GitlabAccountsSetup;
  logger: Logger;
  /** Mattermost, to name the accounts on the confirmation page. */
  mattermost?: Pick<MattermostApi, "getUser">;
  /** The slash command, for the pages' advice ("/gitlab"). */
  trigger?: string;
}

const COOKIE = "gmm_oauth";
const COOKIE_PATH = "/oauth/gitlab";
/** The confirmation form is two short fields; anything larger is not from our page. */
const CONFIRM_MAX_BYTES = 4096;

interface ConfirmForm {
  action: string;
  csrfToken: string;
  confirm: string;
  cancel: string;
}

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

/** A small page in `locale`, with the confirmation form when given; every piece of text is escaped here. */
function page(c: Context, locale: Locale, status: 200 | 400 | 403 | 413 | 502 | 503, title: string, lines: string[], form?: ConfirmForm) {
  const formHtml = form
    ? [
        `<form method="post" action="${escapeHtml(form.action)}">`,
        `<input type="hidden" name="csrf_token" value="${escapeHtml(form.csrfToken)}">`,
        `<button type="submit" name="action" value="confirm">${escapeHtml(form.confirm)}</button>`,
        `<button type="submit" name="action" value="cancel">${escapeHtml(form.cancel)}</button>`,
        "</form>",
      ]
    : [];
  const body = [
    "<!doctype html>",
    `<html lang="${escapeHtml(locale)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<title>${escapeHtml(title)}</title>`,
    "<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;line-height:1.5}</style>",
    "</head><body>",
    `<h1>${escapeHtml(title)}</h1>`,
    ...lines.map((l) => `<p>${escapeHtml(l)}</p>`),
    ...formHtml,
    "</body></html>",
  ].join("\n");
  c.header("Cache-Control", "no-store");
  // The callback URL carries the authorization code: never let it leave in a Referer.
  c.header("Referrer-Policy", "no-referrer");
  // No page may be framed (the confirm button must not be clickjacked), and its form posts only here.
  c.header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'");
  c.header("X-Frame-Options", "DENY");
  c.header("X-Content-Type-Options", "nosniff");
  return c.html(body, status);
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
      path: COOKIE_PATH,
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
    deleteCookie(c, COOKIE, { path: COOKIE_PATH });
    if (!taken.ok) return page(c, locale, 400, t(locale, "account.page.signin_invalid.title"), [t(locale, "account.page.signin_used"), again(locale)]);
    const { mattermostUserId, codeVerifier } = taken.value;
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
      await accounts.tokens.revokeIssued(tokens);
      return page(c, locale, 502, t(locale, "account.page.no_user.title"), [t(locale, "account.page.nothing_connected"), again(locale)]);
    }

    // The person at this browser may not be the one who typed the command: link nothing until they confirm.
    const mattermostUsername = await usernameOf(mattermostUserId, taken.value.mattermostUsername);
    log.info({ gitlab_user_id: user.id, gitlab_username: user.username }, "GitLab sign-in done; waiting for the browser to confirm the link");
    return askToConfirm(c, accounts, { mattermostUserId, mattermostUsername, gitlabUser: { id: user.id, username: user.username, name: user.name } }, tokens);
  });

  /**
   * Keeps the link pending, binds it to this browser with a fresh cookie, and shows the page naming both
   * accounts and whom the GitLab account would be taken from, in the language of the person at the browser.
   */
  async function askToConfirm(c: Context, accounts: GitlabAccounts, request: Omit<PendingLinkRequest, "displacedUserId">, tokens: TokenSet) {
    const locale = browserLocale(c);
    const displacedUserId = await otherOwner(accounts, request);
    const saved = await accounts.pendingLinks.save({ ...request, displacedUserId }, tokens);
    setCookie(c, COOKIE, saved.browserSecret, {
      path: COOKIE_PATH,
      httpOnly: true,
      // Strict: the confirmation is posted from the bot's own page only.
      sameSite: "Strict",
      secure: accounts.publicUrl.startsWith("https:"),
      maxAge: STATE_TTL_MS / 1000,
    });
    const { gitlabUser } = request;
    const mattermost = `@${request.mattermostUsername}`;
    const lines = [
      t(locale, "account.page.confirm.mattermost", { mattermost }),
      t(locale, "account.page.confirm.gitlab", { gitlab: `@${gitlabUser.username}`, name: gitlabUser.name }),
      t(locale, "account.page.confirm.check"),
    ];
    if (displacedUserId) {
      const other = `@${await usernameOf(displacedUserId, displacedUserId)}`;
      lines.push(t(locale, "account.page.confirm.moves", { gitlab: `@${gitlabUser.username}`, other, mattermost }));
    }
    lines.push(t(locale, "account.page.confirm.once"));
    return page(c, locale, 200, t(locale, "account.page.confirm.title"), lines, {
      action: `${accounts.publicUrl}${CONFIRM_PATH}`,
      csrfToken: saved.csrfToken,
      confirm: t(locale, "account.page.confirm.button"),
      cancel: t(locale, "account.page.confirm.cancel"),
    });
  }

  /** The other Mattermost user the GitLab account is linked to now, if any. */
  async function otherOwner(accounts: GitlabAccounts, request: Pick<PendingLinkRequest, "mattermostUserId" | "gitlabUser">): Promise<string | undefined> {
    const current = await accounts.linkOfGitlabUser(request.gitlabUser.id);
    return current && current.mattermostUserId !== request.mattermostUserId ? current.mattermostUserId : undefined;
  }

  app.post(
    CONFIRM_PATH,
    bodyLimit({
      maxSize: CONFIRM_MAX_BYTES,
      onError: (c) => {
        const locale = browserLocale(c);
        return page(c, locale, 413, t(locale, "account.page.confirm_invalid.title"), [t(locale, "account.page.confirm_invalid")]);
      },
    }),
    async (c) => {
      if (!deps.gitlab.ready) return notConfigured(c, deps.gitlab.missing);
      const accounts = deps.gitlab.accounts;
      const locale = browserLocale(c);
      const invalid = () => page(c, locale, 400, t(locale, "account.page.confirm_invalid.title"), [t(locale, "account.page.confirm_invalid"), again(locale)]);
      const expired = () => page(c, locale, 400, t(locale, "account.page.confirm_expired.title"), [t(locale, "account.page.confirm_expired"), again(locale)]);

      const browserSecret = getCookie(c, COOKIE) ?? "";
      const pending = await accounts.pendingLinks.peek(browserSecret);
      if (!pending.ok) {
        logger.info({ reason: pending.reason }, "account link confirmation refused: no pending link for this browser");
        if (pending.reason !== "expired") return invalid();
        await discard(accounts, browserSecret);
        return expired();
      }
      const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
      const csrfToken = typeof form.csrf_token === "string" ? form.csrf_token : undefined;
      const log = logger.child({ user_id: pending.value.mattermostUserId });
      // A forged post is refused without spending the pending link, so it cannot spoil the real one.
      if (!csrfMatches(pending.value, csrfToken)) {
        log.warn({ with_token: csrfToken !== undefined }, "account link confirmation refused: missing or wrong CSRF token");
        return page(c, locale, 403, t(locale, "account.page.confirm_forged.title"), [t(locale, "account.page.confirm_forged")]);
      }
      const action = form.action;
      if (action !== "confirm" && action !== "cancel") return invalid();

      const taken = await accounts.pendingLinks.take(browserSecret);
      deleteCookie(c, COOKIE, { path: COOKIE_PATH });
      if (!taken.ok) {
        if (taken.reason !== "expired") return invalid();
        await accounts.tokens.revokeIssued(taken.tokens);
        return expired();
      }
      const { mattermostUserId, mattermostUsername, gitlabUser, tokens } = taken.value;
      if (action === "cancel") {
        const revoked = await accounts.tokens.revokeIssued(tokens);
        log.info({ gitlab_username: gitlabUser.username, revoked }, "account link cancelled at the confirmation page");
        return page(c, locale, 200, t(locale, "account.page.cancelled.title"), [t(locale, "account.page.cancelled"), t(locale, "account.page.close")]);
      }
      // The GitLab account was linked to someone the page did not name since it was shown: ask again.
      const ownerNow = await otherOwner(accounts, taken.value);
      if (ownerNow !== undefined && ownerNow !== taken.value.displacedUserId) {
        log.info({ gitlab_username: gitlabUser.username }, "the GitLab account was linked meanwhile; asking to confirm again");
        return askToConfirm(c, accounts, { mattermostUserId, mattermostUsername, gitlabUser }, tokens);
      }

      const replaced = await accounts.tokens.link(mattermostUserId, gitlabUser, tokens);
      for (const old of replaced) await accounts.tokens.revokeQuietly(old);
      // Whoever the GitLab account was taken from is told, whether or not the page knew of them.
      const displaced = replaced.filter((old) => old.mattermostUserId !== mattermostUserId);
      log.info({ gitlab_user_id: gitlabUser.id, gitlab_username: gitlabUser.username, replaced: replaced.length, displaced: displaced.map((d) => d.mattermostUserId) }, "GitLab account connected");
      for (const old of displaced) {
        const theirs = await accounts.localeOf(old.mattermostUserId);
        await accounts
          .notify(
            old.mattermostUserId,
            t(theirs, "account.dm.moved", { who: escapeInline(`@${old.gitlabUsername}`), mattermost: escapeInline(`@${mattermostUsername}`), command: `\`${trigger} connect\`` }),
          )
          .catch((err: Error) => log.warn({ err: err.message, displaced_user_id: old.mattermostUserId }, "could not tell the user their GitLab account moved"));
      }
      const userLocale = await accounts.localeOf(mattermostUserId);
      await accounts
        .notify(
          mattermostUserId,
          t(userLocale, "account.dm.connected", { who: escapeInline(`@${gitlabUser.username}`), me: `\`${trigger} me\``, disconnect: `\`${trigger} disconnect\`` }),
        )
        .catch((err: Error) => log.warn({ err: err.message }, "could not send the connected message"));
      return page(c, locale, 200, t(locale, "account.page.connected.title"), [
        t(locale, "account.page.connected", { mattermost: `@${mattermostUsername}`, gitlab: `@${gitlabUser.username}` }),
        t(locale, "account.page.close"),
      ]);
    },
  );

  /** Takes an expired pending link and revokes the tokens GitLab issued for it. */
  async function discard(accounts: GitlabAccounts, browserSecret: string): Promise<void> {
    const taken = await accounts.pendingLinks.take(browserSecret);
    if (taken.ok) await accounts.tokens.revokeIssued(taken.value.tokens);
    else if (taken.reason === "expired") await accounts.tokens.revokeIssued(taken.tokens);
  }

  /** A Mattermost user's username as Mattermost says it now, else `fallback`. */
  async function usernameOf(userId: string, fallback: string): Promise<string> {
    if (!deps.mattermost) return fallback;
    try {
      return (await deps.mattermost.getUser(userId)).username;
    } catch (error) {
      logger.warn({ user_id: userId, err: (error as Error).message }, "Mattermost user not read for the confirmation page");
      return fallback;
    }
  }

  return app;
}
