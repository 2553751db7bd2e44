// GitLab tokens at rest: AES-256-GCM under ENCRYPTION_KEY. A stored value reads
//   v1.<key id>.<iv>.<auth tag>.<ciphertext>      (base64url parts; the key id names the key, not the token)
// so `gitlab-mm keys rotate` can tell which values are still under an old key, and a server given
// ENCRYPTION_KEY plus ENCRYPTION_KEY_PREVIOUS reads both while the rotation runs.
// Nothing here ever puts a token, or a key, in an error message.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Binds every ciphertext to its purpose: a value made for something else will not decrypt as a token. */
const AAD = Buffer.from("gitlab-mattermost-bot/gitlab-token/v1");

export class TokenCryptoError extends Error {
  constructor(
    readonly code: "bad_key" | "unknown_key" | "malformed" | "tampered",
    message: string,
  ) {
    super(message);
    this.name = "TokenCryptoError";
  }
}

/** A short public name for a key: the first 8 hex digits of a hash of it (reveals nothing usable). */
export function keyIdOf(key: Buffer): string {
  return createHash("sha256").update("gitlab-mm key id\0").update(key).digest("hex").slice(0, 8);
}

/** A new random 32-byte key, base64 (what ENCRYPTION_KEY holds). */
export function generateKey(): string {
  return randomBytes(32).toString("base64");
}

/** ENCRYPTION_KEY's text to a key; throws when it is not 32 bytes of base64. */
export function parseKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = Buffer.from(trimmed, "base64");
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed) || key.length !== 32) {
    throw new TokenCryptoError("bad_key", "an encryption key must be 32 bytes encoded as base64 (openssl rand -base64 32)");
  }
  return key;
}

export interface TokenCipher {
  /** Id of the key new values are encrypted with. */
  readonly currentKeyId: string;
  encrypt(plaintext: string): string;
  decrypt(stored: string): string;
  /** The key id a stored value names (without decrypting it). */
  keyIdOfValue(stored: string): string;
  /** True when the value is not under the current key (what `keys rotate` rewrites). */
  isStale(stored: string): boolean;
}

/**
 * `current` encrypts; `current` and every key in `previous` decrypt, each value with the key its id
 * names. Keys must be 32 bytes.
 */
export function createTokenCipher(current: Buffer, previous: readonly Buffer[] = []): TokenCipher {
  for (const key of [current, ...previous]) {
    if (key.length !== 32) throw new TokenCryptoError("bad_key", "an encryption key must be 32 bytes");
  }
  const keys = new Map<string, Buffer>();
  for (const key of [...previous, current]) keys.set(keyIdOf(key), key);
  const currentKeyId = keyIdOf(current);

  function parts(stored: string): [string, Buffer, Buffer, Buffer] {
    const p = stored.split(".");
    if (p.length !== 5 || p[0] !== VERSION) throw new TokenCryptoError("malformed", "stored token is not in the expected encrypted format");
    const [, id, iv, tag, data] = p as [string, string, string, string, string];
    const ivBytes = Buffer.from(iv, "base64url");
    const tagBytes = Buffer.from(tag, "base64url");
    if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) throw new TokenCryptoError("malformed", "stored token is not in the expected encrypted format");
    return [id, ivBytes, tagBytes, Buffer.from(data, "base64url")];
  }

  return {
    currentKeyId,
    encrypt(plaintext) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", current, iv);
      cipher.setAAD(AAD);
      const data = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [VERSION, currentKeyId, iv.toString("base64url"), tag.toString("base64url"), data.toString("base64url")].join(".");
    },
    decrypt(stored) {
      const [id, iv, tag, data] = parts(stored);
      const key = keys.get(id);
      if (!key) {
        throw new TokenCryptoError(
          "unknown_key",
          `stored token is encrypted under key ${id}, which is neither ENCRYPTION_KEY nor in ENCRYPTION_KEY_PREVIOUS`,
        );
      }
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, iv);
        decipher.setAAD(AAD);
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(data), decipher.final()]).toString("utf8");
      } catch {
        throw new TokenCryptoError("tampered", "stored token failed its integrity check (altered, or encrypted under another key)");
      }
    },
    keyIdOfValue(stored) {
      return parts(stored)[0];
    },
    isStale(stored) {
      return parts(stored)[0] !== currentKeyId;
    },
  };
}
