// Bull Board at /admin/queues: the bot's queues (events, deliveries, personal) in a browser, for
// administrators. Off unless QUEUE_DASHBOARD is on, and then every request (page, assets, JSON API)
// needs ADMIN_TOKEN: as a bearer header (scripts), or, since a browser cannot send a header from a
// typed URL, as a session cookie from the sign-in form. The cookie holds an expiry and an HMAC keyed
// by the token, never the token, so it cannot be replayed against the admin API, it dies with the
// session, and changing ADMIN_TOKEN ends every session. Cookie-borne writes must come from PUBLIC_URL's
// origin (on top of SameSite=Strict), so another site cannot retry or remove jobs through a signed-in
// browser. Bull Board's actions (retry, remove, empty a queue) stay available: administrators need retry.
import { createHmac } from "node:crypto";
import type { Queue } from "bullmq";
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import { bodyLimit, type BodyVariables } from "./middleware/body-limit.js";
import { bearerToken, matchingSecret } from "./middleware/token-auth.js";

export const QUEUE_DASHBOARD_PATH = "/admin/queues";
const SIGN_IN_PATH = `${QUEUE_DASHBOARD_PATH}/login`;
const API_PREFIX = `${QUEUE_DASHBOARD_PATH}/api/`;
const STATIC_PREFIX = `${QUEUE_DASHBOARD_PATH}/static/`;
export const SESSION_COOKIE = "gitlab_mm_queues";
/** A working day: a forgotten browser does not stay signed in for ever. */
export const SESSION_SECONDS = 12 * 3600;
/** `<expiry seconds>.<base64url HMAC-SHA256>` is about 60 characters; anything longer is not ours. */
const MAX_SESSION_LENGTH = 128;
/** The sign-in form has one field of at most a few hundred characters. */
const MAX_SIGN_IN_BYTES = 4096;
/** GET and HEAD change nothing, so a cookie alone may carry them; every other method is a write. */
const READ_METHODS = new Set(["GET", "HEAD"]);

export interface QueueDashboardDeps {
  config: Pick<Config, "queueDashboard" | "adminToken" | "publicUrl">;
  /** Every queue the bot has (`AppDeps.queues`); personal is absent where people features are not wired. */
  queues: { events: Queue; deliveries: Queue; personal?: Queue };
  logger: Logger;
  /** Milliseconds since the epoch; tests move it to expire a session. */
  now?: () => number;
}

/** Sessions signed with the admin token: `<expiry>.<HMAC(token, expiry)>`. */
function sessionSigner(adminToken: string, now: () => number) {
  const mac = (expiry: string) => createHmac("sha256", adminToken).update(`queue-dashboard-session:${expiry}`).digest("base64url");
  return {
    issue(): string {
      const expiry = String(Math.floor(now() / 1000) + SESSION_SECONDS);
      return `${expiry}.${mac(expiry)}`;
    },
    valid(cookie: string | undefined): boolean {
      if (cookie === undefined || cookie.length > MAX_SESSION_LENGTH) return false;
      const dot = cookie.indexOf(".");
      const expiry = cookie.slice(0, dot);
      if (dot < 1 || dot > 12 || !/^[0-9]+$/.test(expiry)) return false;
      const secondsLeft = Number(expiry) - now() / 1000;
      if (secondsLeft <= 0 || secondsLeft > SESSION_SECONDS) return false;
      return matchingSecret(cookie.slice(dot + 1), [mac(expiry)]) === 0;
    },
  };
}

function signInPage(c: Context, status: 200 | 401, note?: string): Response {
  c.header("Cache-Control", "no-store");
  return c.html(
    [
      "<!doctype html>",
      '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
      "<title>Queues: sign in</title></head>",
      '<body style="font-family: system-ui, sans-serif; max-width: 28rem; margin: 4rem auto; padding: 0 1rem">',
      "<h1>gitlab-mattermost-bot queues</h1>",
      note === undefined ? "" : `<p role="alert"><strong>${note}</strong></p>`,
      `<form method="post" action="${SIGN_IN_PATH}">`,
      '<p><label for="token">Admin token (ADMIN_TOKEN)</label><br>',
      '<input id="token" name="token" type="password" autocomplete="current-password" required style="width: 100%"></p>',
      '<p><button type="submit">Sign in</button></p>',
      "</form></body></html>",
    ].join(""),
    status,
  );
}

const notFound = (c: Context) => c.json({ error: "not found" }, 404);

export function queueDashboardRoutes(deps: QueueDashboardDeps): Hono<{ Variables: BodyVariables }> {
  const app = new Hono<{ Variables: BodyVariables }>();
  const { config, logger } = deps;
  const adminToken = config.adminToken;
  // Off, the dashboard is as absent as any unknown path (and not the admin API's 401/403).
  if (!config.queueDashboard || adminToken === undefined) {
    app.all(`${QUEUE_DASHBOARD_PATH}/*`, notFound);
    return app;
  }
  const session = sessionSigner(adminToken, deps.now ?? Date.now);
  const publicOrigin = new URL(config.publicUrl).origin;
  // Compared with PUBLIC_URL, not the request's own URL, which a reverse proxy rewrites.
  const fromPublicOrigin = (c: Context) => c.req.header("origin") === publicOrigin;
  const crossOrigin = (c: Context) => {
    logger.warn({ path: c.req.path, origin: c.req.header("origin")?.slice(0, 200) ?? null }, "queue dashboard: write from another origin refused");
    return c.json({ error: `refused: the request must come from a page at ${publicOrigin} (PUBLIC_URL)`, code: "cross_origin" }, 403);
  };
  const refused = (c: Context) => {
    c.header("WWW-Authenticate", 'Bearer realm="queues"');
    if (c.req.path.startsWith(API_PREFIX) || c.req.path.startsWith(STATIC_PREFIX)) {
      return c.json({ error: `the queue dashboard needs Authorization: Bearer <ADMIN_TOKEN>, or signing in at ${SIGN_IN_PATH}`, code: "unauthorized" }, 401);
    }
    return signInPage(c, 401);
  };

  const headers: MiddlewareHandler = async (c, next) => {
    // Its buttons remove jobs: never inside another site's frame.
    c.header("X-Frame-Options", "DENY");
    // Job data holds people's messages; only the hashed static assets may be cached.
    if (!c.req.path.startsWith(STATIC_PREFIX)) c.header("Cache-Control", "no-store");
    await next();
  };
  // `/admin/queues/*` covers `/admin/queues` itself too.
  app.use(`${QUEUE_DASHBOARD_PATH}/*`, headers);

  app.get(SIGN_IN_PATH, (c) => signInPage(c, 200));
  app.post(
    SIGN_IN_PATH,
    async (c, next) => (fromPublicOrigin(c) ? next() : crossOrigin(c)),
    bodyLimit({ maxBytes: MAX_SIGN_IN_BYTES, onTooLarge: (c) => c.json({ error: "the body is too large", code: "too_large" }, 413) }),
    (c) => {
      const token = new URLSearchParams(Buffer.from(c.get("body")).toString("utf8")).get("token");
      if (matchingSecret(token, [adminToken]) !== 0) {
        logger.warn({ path: c.req.path }, "queue dashboard: sign-in with a wrong token refused");
        return signInPage(c, 401, "That is not the admin token.");
      }
      setCookie(c, SESSION_COOKIE, session.issue(), {
        path: QUEUE_DASHBOARD_PATH,
        httpOnly: true,
        secure: config.publicUrl.startsWith("https:"),
        sameSite: "Strict",
        maxAge: SESSION_SECONDS,
      });
      logger.info("queue dashboard: administrator signed in");
      return c.redirect(QUEUE_DASHBOARD_PATH, 303);
    },
  );

  const adminOnly: MiddlewareHandler = async (c, next) => {
    const bearer = bearerToken(c.req.header("authorization"));
    if (bearer !== undefined) {
      // A header no other site can make a browser send: no origin to check.
      if (matchingSecret(bearer, [adminToken]) !== 0) return refused(c);
    } else {
      if (!session.valid(getCookie(c, SESSION_COOKIE))) return refused(c);
      if (!READ_METHODS.has(c.req.method) && !fromPublicOrigin(c)) return crossOrigin(c);
    }
    await next();
  };
  app.use(`${QUEUE_DASHBOARD_PATH}/*`, adminOnly);
  // Bull Board is loaded at the first request that passed the checks; paths it does not know end
  // there, not in the admin API's routes behind it.
  let board: Promise<Hono> | undefined;
  app.all(`${QUEUE_DASHBOARD_PATH}/*`, async (c) => {
    board ??= import("./queue-board.js").then(({ boardApp }) => {
      const shown = [deps.queues.events, deps.queues.deliveries, deps.queues.personal].filter((q): q is Queue => q !== undefined);
      return boardApp(shown, QUEUE_DASHBOARD_PATH, notFound);
    });
    const answer = await (await board).fetch(c.req.raw, c.env);
    // Through this context, so the headers set above (framing, caching) stay on the answer.
    return c.newResponse(answer.body, answer);
  });
  return app;
}
