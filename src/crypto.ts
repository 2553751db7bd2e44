// GitLab tokens at rest: AES-256-GCM under ENCRYPTION_KEY. A stored value reads
//   v2.<key id>.<iv>.<auth tag>.<ciphertext>      (base64url parts; the key id names the key, not the token)
// so `gitlab-mm keys rotate` can tell which values are still under an old key, and a server given
// ENCRYPTION_KEY plus ENCRYPTION_KEY_PREVIOUS reads both while the rotation runs.
// A v2 value is bound to where it is stored (the owner, e.g. the Mattermost user id, and the column) through
// the additional authenticated data: copied into another user's row or another column, it does not decrypt.
// v1 values (bound only to their purpose) are still read, so rows written before can be upgraded.
// Nothing here ever puts a token, or a key, in an error message.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

const VERSION = "v2";
const LEGACY_VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** v1 bound every ciphertext to its purpose only: a value made for something else does not decrypt as a token. */
const LEGACY_AAD = Buffer.from("gitlab-mattermost-bot/gitlab-token/v1");

/** Where a value is stored: it decrypts only with the same owner and field. */
export interface TokenBinding {
  /** Whose value it is, e.g. the Mattermost user id. */
  owner: string;
  /** Which value of the owner's it is, e.g. the column name. */
  field: string;
}

/** The binding of a token in `user_links`: its Mattermost user and its column. */
export function userLinkBinding(mattermostUserId: string, column: "access_token" | "refresh_token"): TokenBinding {
  return { owner: mattermostUserId, field: column };
}

function boundAad(binding: TokenBinding): Buffer {
  // JSON keeps the parts apart whatever characters they hold.
  return Buffer.from(JSON.stringify(["gitlab-mattermost-bot/gitlab-token/v2", binding.owner, binding.field]));
}

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
  /** A v2 value, readable only with the same binding. */
  encrypt(plaintext: string, binding: TokenBinding): string;
  /**
   * A v1 value, bound to no row, as earlier versions of the bot wrote them: for tests that need a row in
   * that format (the next read of such a row rewrites it as v2). The bot itself always passes a binding.
   */
  encrypt(plaintext: string): string;
  /** Reads a v2 value with the binding it was written with, or a v1 value (which has none). */
  decrypt(stored: string, binding: TokenBinding): string;
  /** The key id a stored value names (without decrypting it). */
  keyIdOfValue(stored: string): string;
  /** True when the value is in the v1 format (not bound to its row). */
  isLegacyFormat(stored: string): boolean;
  /** True when the value is not under the current key or not in the current format (what `keys rotate` rewrites). */
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

  function parts(stored: string): { version: string; id: string; iv: Buffer; tag: Buffer; data: Buffer } {
    const p = stored.split(".");
    if (p.length !== 5 || (p[0] !== VERSION && p[0] !== LEGACY_VERSION)) throw new TokenCryptoError("malformed", "stored token is not in the expected encrypted format");
    const [version, id, iv, tag, data] = p as [string, string, string, string, string];
    const ivBytes = Buffer.from(iv, "base64url");
    const tagBytes = Buffer.from(tag, "base64url");
    if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) throw new TokenCryptoError("malformed", "stored token is not in the expected encrypted format");
    return { version, id, iv: ivBytes, tag: tagBytes, data: Buffer.from(data, "base64url") };
  }

  function encrypt(plaintext: string, binding?: TokenBinding): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", current, iv);
    cipher.setAAD(binding ? boundAad(binding) : LEGACY_AAD);
    const data = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [binding ? VERSION : LEGACY_VERSION, currentKeyId, iv.toString("base64url"), tag.toString("base64url"), data.toString("base64url")].join(".");
  }

  return {
    currentKeyId,
    encrypt,
    decrypt(stored, binding) {
      const { version, id, iv, tag, data } = parts(stored);
      const key = keys.get(id);
      if (!key) {
        throw new TokenCryptoError(
          "unknown_key",
          `stored token is encrypted under key ${id}, which is neither ENCRYPTION_KEY nor in ENCRYPTION_KEY_PREVIOUS`,
        );
      }
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, iv);
        decipher.setAAD(version === VERSION ? boundAad(binding) : LEGACY_AAD);
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(data), decipher.final()]).toString("utf8");
      } catch {
        throw new TokenCryptoError("tampered", "stored token failed its integrity check (altered, moved from another row or column, or encrypted under another key)");
      }
    },
    keyIdOfValue(stored) {
      return parts(stored).id;
    },
    isLegacyFormat(stored) {
      return parts(stored).version === LEGACY_VERSION;
    },
    isStale(stored) {
      const { version, id } = parts(stored);
      return version !== VERSION || id !== currentKeyId;
    },
  };
}
