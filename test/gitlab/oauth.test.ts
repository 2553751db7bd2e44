// The OAuth client against the GitLab simulator: PKCE S256, code exchange, refresh rotation, revoke,
// and GitLab's error answers as codes.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createGitlabOAuth, createPkcePair, GitlabOAuthError, pkceChallenge, type GitlabOAuth } from "../../src/gitlab/oauth.js";
import { startGitlabSim, type GitlabSim, type GitlabSimUser } from "../support/gitlab-sim.js";

const REDIRECT = "http://bot.test/oauth/gitlab/callback";
let sim: GitlabSim;
let oauth: GitlabOAuth;
let alice: GitlabSimUser;

beforeAll(async () => {
  sim = await startGitlabSim({ redirectUri: REDIRECT });
  oauth = createGitlabOAuth({ gitlabUrl: sim.url, clientId: sim.app.clientId, clientSecret: sim.app.clientSecret, redirectUri: REDIRECT });
  alice = sim.addUser({ username: "alice" });
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

/** What a signed-in browser gets back from GitLab's authorize page. */
async function authorize(url: string, user: GitlabSimUser = alice): Promise<URL> {
  const res = await fetch(url, { headers: { Cookie: sim.sessionCookie(user) }, redirect: "manual" });
  expect(res.status).toBe(302);
  return new URL(res.headers.get("location")!);
}

describe("GitLab OAuth client", () => {
  it("builds the authorize URL: code flow, scope api, PKCE S256, the registered redirect", () => {
    const url = new URL(oauth.authorizeUrl({ state: "s1", codeChallenge: "c1" }));
    expect(url.origin + url.pathname).toBe(`${sim.url}/oauth/authorize`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: sim.app.clientId,
      redirect_uri: REDIRECT,
      response_type: "code",
      state: "s1",
      scope: "api",
      code_challenge: "c1",
      code_challenge_method: "S256",
    });
  });

  it("makes RFC 7636 verifiers and S256 challenges", () => {
    const { verifier, challenge } = createPkcePair();
    expect(verifier).toMatch(/^[\w-]{43}$/);
    expect(challenge).toBe(pkceChallenge(verifier));
    expect(challenge).toMatch(/^[\w-]{43}$/);
    expect(challenge).not.toBe(verifier);
  });

  it("exchanges a code with the right verifier once; a wrong or missing verifier is invalid_grant", async () => {
    const pkce = createPkcePair();
    const back = await authorize(oauth.authorizeUrl({ state: "st", codeChallenge: pkce.challenge }));
    expect(back.searchParams.get("state")).toBe("st");
    const code = back.searchParams.get("code")!;

    await expect(oauth.exchangeCode({ code, codeVerifier: createPkcePair().verifier })).rejects.toMatchObject({ code: "invalid_grant", status: 400 });
    const before = Date.now();
    const tokens = await oauth.exchangeCode({ code, codeVerifier: pkce.verifier });
    expect(tokens.accessToken).not.toBe(tokens.refreshToken);
    expect(tokens.expiresAt).toBeGreaterThanOrEqual(before + 7200_000);
    expect(tokens.expiresAt).toBeLessThan(Date.now() + 7200_000 + 1000);
    expect(sim.tokenState(tokens.accessToken)).toBe("active");
    // A code works once.
    await expect(oauth.exchangeCode({ code, codeVerifier: pkce.verifier })).rejects.toMatchObject({ code: "invalid_grant" });
  });

  it("refresh rotates: the old refresh and access tokens stop working at once", async () => {
    const first = sim.issueTokens(alice);
    const second = await oauth.refresh(first.refreshToken);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(sim.tokenState(first.accessToken)).toBe("revoked");
    expect(sim.tokenState(second.accessToken)).toBe("active");
    const error = await oauth.refresh(first.refreshToken).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitlabOAuthError);
    expect(error).toMatchObject({ code: "invalid_grant", status: 400 });
    expect((error as Error).message).not.toContain(first.refreshToken);
    expect(sim.requests.filter((r) => r.path === "/oauth/token").map((r) => r.grantType)).toEqual(["refresh_token", "refresh_token"]);
  });

  it("revokes a token pair; revoking again is fine", async () => {
    const t = sim.issueTokens(alice);
    await oauth.revoke(t.refreshToken);
    expect(sim.tokenState(t.accessToken)).toBe("revoked");
    await oauth.revoke(t.refreshToken);
    await oauth.revoke("never-issued");
  });

  it("turns a wrong client secret, a 5xx and an unreachable GitLab into coded errors", async () => {
    const wrong = createGitlabOAuth({ gitlabUrl: sim.url, clientId: sim.app.clientId, clientSecret: "wrong", redirectUri: REDIRECT });
    await expect(wrong.refresh(sim.issueTokens(alice).refreshToken)).rejects.toMatchObject({ code: "invalid_client", status: 401 });
    sim.failNext({ path: /^\/oauth\/token$/, status: 503, body: { message: "down" } });
    await expect(oauth.refresh(sim.issueTokens(alice).refreshToken)).rejects.toMatchObject({ code: "server", status: 503 });
    const nowhere = createGitlabOAuth({ gitlabUrl: "http://127.0.0.1:9", clientId: "x", clientSecret: "y", redirectUri: REDIRECT });
    await expect(nowhere.refresh("r")).rejects.toMatchObject({ code: "network" });
    sim.delayNext({ path: /^\/oauth\/token$/, ms: 400 });
    const slow = createGitlabOAuth({ gitlabUrl: sim.url, clientId: sim.app.clientId, clientSecret: sim.app.clientSecret, redirectUri: REDIRECT }, { timeoutMs: 100 });
    await expect(slow.refresh(sim.issueTokens(alice).refreshToken)).rejects.toMatchObject({ code: "timeout" });
  });

  it("the simulator refuses a redirect URI that is not registered, and sends signed-out browsers to sign in", async () => {
    const other = createGitlabOAuth({ gitlabUrl: sim.url, clientId: sim.app.clientId, clientSecret: sim.app.clientSecret, redirectUri: "http://evil.test/cb" });
    const res = await fetch(other.authorizeUrl({ state: "s", codeChallenge: "c" }), { headers: { Cookie: sim.sessionCookie(alice) }, redirect: "manual" });
    expect(res.status).toBe(400);
    const signedOut = await fetch(oauth.authorizeUrl({ state: "s", codeChallenge: "c" }), { redirect: "manual" });
    expect(signedOut.headers.get("location")).toBe(`${sim.url}/users/sign_in`);
    expect(sim.unhandled).toEqual([]);
  });
});
