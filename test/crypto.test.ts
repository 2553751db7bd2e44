import { describe, expect, it } from "vitest";
import { createTokenCipher, generateKey, keyIdOf, parseKey, TokenCryptoError } from "../src/crypto.js";

const key = () => parseKey(generateKey());
const TOKEN = "glpat-abcdef0123456789-secret-token";

describe("token encryption (AES-256-GCM)", () => {
  it("round-trips and never shows the token; every value has its own IV", () => {
    const cipher = createTokenCipher(key());
    const a = cipher.encrypt(TOKEN);
    const b = cipher.encrypt(TOKEN);
    expect(a).not.toBe(b);
    expect(a).not.toContain(TOKEN);
    expect(Buffer.from(a.split(".")[4]!, "base64url").toString()).not.toContain("secret");
    expect(a).toMatch(/^v1\.[0-9a-f]{8}\.[\w-]{16}\.[\w-]{22}\.[\w-]+$/);
    expect(cipher.decrypt(a)).toBe(TOKEN);
    expect(cipher.decrypt(b)).toBe(TOKEN);
    expect(cipher.decrypt(cipher.encrypt(""))).toBe("");
  });

  it("names the key in each value, so rotation can tell old values from new", () => {
    const oldKey = key();
    const newKey = key();
    const before = createTokenCipher(oldKey).encrypt(TOKEN);
    const during = createTokenCipher(newKey, [oldKey]);
    expect(during.keyIdOfValue(before)).toBe(keyIdOf(oldKey));
    expect(during.isStale(before)).toBe(true);
    expect(during.decrypt(before)).toBe(TOKEN);
    const after = during.encrypt(TOKEN);
    expect(during.keyIdOfValue(after)).toBe(keyIdOf(newKey));
    expect(during.isStale(after)).toBe(false);
    // The old key alone cannot read what the new key wrote.
    expect(() => createTokenCipher(oldKey).decrypt(after)).toThrowError(expect.objectContaining({ code: "unknown_key" }));
  });

  it("refuses altered values and values under another key with the same id field, without echoing them", () => {
    const cipher = createTokenCipher(key());
    const value = cipher.encrypt(TOKEN);
    const parts = value.split(".");
    const data = Buffer.from(parts[4]!, "base64url");
    data[0] = data[0]! ^ 1;
    const altered = [...parts.slice(0, 4), data.toString("base64url")].join(".");
    let error: unknown;
    try {
      cipher.decrypt(altered);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TokenCryptoError);
    expect((error as TokenCryptoError).code).toBe("tampered");
    expect((error as Error).message).not.toContain(parts[4]!);
    expect(() => cipher.decrypt("plain-token")).toThrowError(expect.objectContaining({ code: "malformed" }));
    expect(() => cipher.decrypt(`v1.${parts[1]}.AAAA.${parts[3]}.${parts[4]}`)).toThrowError(expect.objectContaining({ code: "malformed" }));
  });

  it("accepts only 32-byte base64 keys", () => {
    expect(parseKey(generateKey())).toHaveLength(32);
    expect(() => parseKey("c2hvcnQ=")).toThrowError(TokenCryptoError);
    expect(() => parseKey("not base64 at all!")).toThrowError(TokenCryptoError);
    expect(() => createTokenCipher(Buffer.alloc(16))).toThrowError(TokenCryptoError);
  });
});
