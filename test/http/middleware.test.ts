// The shared edge of the HTTP routes: options checked when a middleware is made, secrets compared
// whole, deadlines that answer instead of throwing; and the derived webhook tokens.
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { bodyLimit, type BodyVariables } from "../../src/http/middleware/body-limit.js";
import { timeout, TimeoutError, withTimeout } from "../../src/http/middleware/timeout.js";
import { matchingSecret, tokenAuth } from "../../src/http/middleware/token-auth.js";
import { DERIVED_TOKEN_PREFIX, tokensAcceptedFor, webhookTokenFor } from "../../src/http/webhook-tokens.js";

describe("middleware factories", () => {
  it("refuse bad options when made, not when a request comes", () => {
    const refused = () => new Response(null, { status: 401 });
    expect(() => tokenAuth({ secrets: [], token: () => "x", onRefused: refused })).toThrow(/at least one secret/);
    expect(() => tokenAuth({ secrets: ["ok", ""], token: () => "x", onRefused: refused })).toThrow(/no empty one/);
    expect(() => bodyLimit({ maxBytes: 0, onTooLarge: refused })).toThrow(/positive whole number/);
    expect(() => bodyLimit({ maxBytes: 1.5, onTooLarge: refused })).toThrow(/positive whole number/);
    expect(() => timeout(-1, refused)).toThrow(/positive whole number/);
  });

  it("matchingSecret finds the secret presented, whatever its length, and nothing else", () => {
    expect(matchingSecret("b-secret", ["a-secret", "b-secret"])).toBe(1);
    expect(matchingSecret("b-secre", ["a-secret", "b-secret"])).toBe(-1);
    expect(matchingSecret("b-secret-and-more", ["a-secret", "b-secret"])).toBe(-1);
    expect(matchingSecret(undefined, ["a-secret"])).toBe(-1);
  });

  it("bodyLimit leaves the bytes it read for the handler", async () => {
    const app = new Hono<{ Variables: BodyVariables }>();
    app.post("/", bodyLimit({ maxBytes: 8, onTooLarge: (c) => c.text("too large", 413) }), (c) => c.text(new TextDecoder().decode(c.get("body"))));
    expect(await (await app.request("/", { method: "POST", body: "12345678" })).text()).toBe("12345678");
    expect((await app.request("/", { method: "POST", body: "123456789" })).status).toBe(413);
  });

  it("timeout answers for a handler that does not, and lets a quick one through", async () => {
    const app = new Hono();
    app.get("/slow", timeout(20, (c) => c.text("late", 503)), () => new Promise<Response>(() => {}));
    app.get("/quick", timeout(5000, (c) => c.text("late", 503)), (c) => c.text("done"));
    expect((await app.request("/slow")).status).toBe(503);
    expect(await (await app.request("/quick")).text()).toBe("done");
  });

  it("withTimeout rejects with a TimeoutError, or passes the answer and the failure on", async () => {
    await expect(withTimeout(new Promise(() => {}), 10)).rejects.toBeInstanceOf(TimeoutError);
    await expect(withTimeout(Promise.resolve(7), 1000)).resolves.toBe(7);
    await expect(withTimeout(Promise.reject(new Error("boom")), 1000)).rejects.toThrow("boom");
  });
});

describe("webhookTokenFor", () => {
  it("is one stable token per master, kind and path (case and stray slashes aside)", () => {
    const token = webhookTokenFor("master-secret-1", { kind: "project", path: "Group/App" });
    expect(token).toMatch(new RegExp(`^${DERIVED_TOKEN_PREFIX}[A-Za-z0-9_-]{43}$`));
    expect(webhookTokenFor("master-secret-1", { kind: "project", path: "/group/app/" })).toBe(token);
    expect(webhookTokenFor("master-secret-1", { kind: "group", path: "group/app" })).not.toBe(token);
    expect(webhookTokenFor("master-secret-1", { kind: "project", path: "group/app2" })).not.toBe(token);
    expect(webhookTokenFor("master-secret-2", { kind: "project", path: "group/app" })).not.toBe(token);
  });

  it("accepts, for a path, its project token and its groups' tokens from every master", () => {
    const accepted = tokensAcceptedFor(["m-new-secret", "m-old-secret"], "a/b/app");
    expect(accepted).toContain(webhookTokenFor("m-old-secret", { kind: "project", path: "a/b/app" }));
    expect(accepted).toContain(webhookTokenFor("m-new-secret", { kind: "group", path: "a" }));
    expect(accepted).toContain(webhookTokenFor("m-new-secret", { kind: "group", path: "a/b" }));
    expect(accepted).not.toContain(webhookTokenFor("m-new-secret", { kind: "project", path: "a/b" }));
    expect(accepted).not.toContain(webhookTokenFor("m-new-secret", { kind: "group", path: "b" }));
  });
});
