// Checks the secret a request presents (a header, a form field) against the accepted ones, as Hono's
// `bearerAuth`: options checked when the middleware is made, secrets compared in constant time.
import { createHash, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";

export interface TokenVariables {
  /** Index in `secrets` of the secret the request presented; undefined when `defer` let it through. */
  secretIndex: number | undefined;
}

export interface TokenAuthOptions {
  /** The accepted secrets: at least one, none empty. */
  secrets: readonly string[];
  /** The secret the request presents. */
  token: (c: Context) => string | undefined;
  /** The answer to a request whose secret matches none. Never log the secret or the body here. */
  onRefused: (c: Context) => Response | Promise<Response>;
  /** A secret that matches none but that a narrower check after this one will judge (it gets `secretIndex` undefined). */
  defer?: (token: string) => boolean;
}

/**
 * The index of the accepted secret that `presented` equals, or -1. Both sides are hashed first, so
 * lengths never differ and the comparison never stops early; every candidate is compared.
 */
export function matchingSecret(presented: string | undefined | null, accepted: readonly string[]): number {
  return secretMatcher(accepted)(presented);
}

const sha256 = (text: string): Buffer => createHash("sha256").update(text).digest();

/**
 * matchingSecret with the accepted secrets hashed once, for a check made on every request: only the
 * presented secret is hashed each time.
 */
export function secretMatcher(accepted: readonly string[]): (presented: string | undefined | null) => number {
  const expected = accepted.map(sha256);
  return (presented) => {
    if (presented === undefined || presented === null) return -1;
    const given = sha256(presented);
    let found = -1;
    expected.forEach((digest, index) => {
      if (timingSafeEqual(given, digest) && found === -1) found = index;
    });
    return found;
  };
}

export function tokenAuth(options: TokenAuthOptions): MiddlewareHandler<{ Variables: TokenVariables }> {
  const secrets = [...options.secrets];
  if (secrets.length === 0 || secrets.some((s) => s.length === 0)) throw new TypeError("tokenAuth: needs at least one secret, and no empty one");
  const { token, onRefused, defer } = options;
  const matching = secretMatcher(secrets);
  return async (c, next) => {
    const presented = token(c);
    const index = matching(presented);
    if (index >= 0) c.set("secretIndex", index);
    else if (presented && defer?.(presented)) c.set("secretIndex", undefined);
    else return onRefused(c);
    await next();
  };
}

/** The token of `Authorization: Bearer <token>`, read without a pattern (the header is the caller's). */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined || header.length > 1024) return undefined;
  const space = header.indexOf(" ");
  if (space === -1 || header.slice(0, space).toLowerCase() !== "bearer") return undefined;
  const token = header.slice(space + 1).trim();
  return token === "" ? undefined : token;
}
