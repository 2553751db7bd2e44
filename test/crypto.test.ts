import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createTokenCipher, generateKey, keyIdOf, parseKey, TokenCryptoError, userLinkBinding } from "../src/crypto.js";

const key = () => parseKey(generateKey());
const TOKEN = "glpat-abcdef0123456789-secret-token";
const ANN = "annannannannannannannannan";
const BEN = "benbenbenbenbenbenbenbenbe";
const annAccess = userLinkBinding(ANN, "access_token");

// The v1 format as the bot wrote it before values were bound to their row (AAD: the purpose only).
const V1_AAD = Buffer.from("gitlab-mattermost-bot/gitlab-token/v1");
function writtenByV1(k: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", k, iv);
  c.setAAD(V1_AAD);
  const data = Buffer.concat([c.update(plaintext, "utf8"), c.final()]);
  return ["v1", keyIdOf(k), iv.toString("base64url"), c.getAuthTag().toString("base64url"), data.toString("base64url")].join(".");
}
function readAsV1(k: Buffer, stored: string): string {
  const [, , iv, tag, data] = stored.split(".") as [string, string, string, string, string];
  const d = createDecipheriv("aes-256-gcm", k, Buffer.from(iv, "base64url"));
  d.setAAD(V1_AAD);
  d.setAuthTag(Buffer.from(tag, "base64url"));
  return Buffer.concat([d.update(Buffer.from(data, "base64url")), d.final()]).toString("utf8");
}

describe("token encryption (AES-256-GCM)", () => {
  it("round-trips and never shows the token; every value has its own IV", () => {
    const cipher = createTokenCipher(key());
    const a = cipher.encrypt(TOKEN, annAccess);
    const b = cipher.encrypt(TOKEN, annAccess);
    expect(a).not.toBe(b);
    expect(a).not.toContain(TOKEN);
    expect(Buffer.from(a.split(".")[4]!, "base64url").toString()).not.toContain("secret");
    expect(a).toMatch(/^v2\.[0-9a-f]{8}\.[\w-]{16}\.[\w-]{22}\.[\w-]+$/);
    expect(cipher.decrypt(a, annAccess)).toBe(TOKEN);
    expect(cipher.decrypt(b, annAccess)).toBe(TOKEN);
    expect(cipher.decrypt(cipher.encrypt("", annAccess), annAccess)).toBe("");
  });

  it("names the key in each value, so rotation can tell old values from new", () => {
    const oldKey = key();
    const newKey = key();
    const before = createTokenCipher(oldKey).encrypt(TOKEN, annAccess);
    const during = createTokenCipher(newKey, [oldKey]);
    expect(during.keyIdOfValue(before)).toBe(keyIdOf(oldKey));
    expect(during.isStale(before)).toBe(true);
    expect(during.decrypt(before, annAccess)).toBe(TOKEN);
    const after = during.encrypt(TOKEN, annAccess);
    expect(during.keyIdOfValue(after)).toBe(keyIdOf(newKey));
    expect(during.isStale(after)).toBe(false);
    // The old key alone cannot read what the new key wrote.
    expect(() => createTokenCipher(oldKey).decrypt(after, annAccess)).toThrowError(expect.objectContaining({ code: "unknown_key" }));
  });

  it("refuses altered values and values under another key with the same id field, without echoing them", () => {
    const cipher = createTokenCipher(key());
    const value = cipher.encrypt(TOKEN, annAccess);
    const parts = value.split(".");
    const data = Buffer.from(parts[4]!, "base64url");
    data[0] = data[0]! ^ 1;
    const altered = [...parts.slice(0, 4), data.toString("base64url")].join(".");
    let error: unknown;
    try {
      cipher.decrypt(altered, annAccess);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TokenCryptoError);
    expect((error as TokenCryptoError).code).toBe("tampered");
    expect((error as Error).message).not.toContain(parts[4]!);
    expect(() => cipher.decrypt("plain-token", annAccess)).toThrowError(expect.objectContaining({ code: "malformed" }));
    expect(() => cipher.decrypt(`v2.${parts[1]}.AAAA.${parts[3]}.${parts[4]}`, annAccess)).toThrowError(expect.objectContaining({ code: "malformed" }));
    expect(() => cipher.decrypt(`v3.${parts.slice(1).join(".")}`, annAccess)).toThrowError(expect.objectContaining({ code: "malformed" }));
  });

  it("binds each value to its owner and column: moved to another user's row or another column, it does not decrypt", () => {
    const cipher = createTokenCipher(key());
    const annsAccess = cipher.encrypt(TOKEN, annAccess);
    const bensAccess = cipher.encrypt("ben's token", userLinkBinding(BEN, "access_token"));
    // Swapped between the two users' rows.
    expect(() => cipher.decrypt(annsAccess, userLinkBinding(BEN, "access_token"))).toThrowError(expect.objectContaining({ code: "tampered" }));
    expect(() => cipher.decrypt(bensAccess, annAccess)).toThrowError(expect.objectContaining({ code: "tampered" }));
    // Moved to the other column of the same row.
    expect(() => cipher.decrypt(annsAccess, userLinkBinding(ANN, "refresh_token"))).toThrowError(expect.objectContaining({ code: "tampered" }));
    // A v1 marker on a v2 value does not get it read without its binding either.
    expect(() => cipher.decrypt(annsAccess.replace(/^v2\./, "v1."), userLinkBinding(BEN, "access_token"))).toThrowError(expect.objectContaining({ code: "tampered" }));
    expect(cipher.decrypt(annsAccess, annAccess)).toBe(TOKEN);
    // Owner and field cannot be shifted into each other.
    const shifted = cipher.encrypt(TOKEN, { owner: "a", field: "bc" });
    expect(() => cipher.decrypt(shifted, { owner: "ab", field: "c" })).toThrowError(expect.objectContaining({ code: "tampered" }));
  });

  it("still reads v1 values, which it marks legacy and stale; writes v1 only when given no binding", () => {
    const k = key();
    const cipher = createTokenCipher(k);
    const old = writtenByV1(k, TOKEN);
    expect(cipher.isLegacyFormat(old)).toBe(true);
    expect(cipher.isStale(old)).toBe(true);
    expect(cipher.keyIdOfValue(old)).toBe(keyIdOf(k));
    expect(cipher.decrypt(old, annAccess)).toBe(TOKEN);
    const bound = cipher.encrypt(TOKEN, annAccess);
    expect(cipher.isLegacyFormat(bound)).toBe(false);
    expect(cipher.isStale(bound)).toBe(false);
    const unbound = cipher.encrypt(TOKEN);
    expect(cipher.isLegacyFormat(unbound)).toBe(true);
    expect(readAsV1(k, unbound)).toBe(TOKEN);
  });

  it("accepts only 32-byte base64 keys", () => {
    expect(parseKey(generateKey())).toHaveLength(32);
    expect(() => parseKey("c2hvcnQ=")).toThrowError(TokenCryptoError);
    expect(() => parseKey("not base64 at all!")).toThrowError(TokenCryptoError);
    expect(() => createTokenCipher(Buffer.alloc(16))).toThrowError(TokenCryptoError);
  });
});
