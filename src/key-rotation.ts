// `gitlab-mm keys rotate`: re-encrypt every stored GitLab token under a new key, while the bot runs.
// Each row is rewritten with a compare-and-set on its old ciphertexts, so a token refresh that lands
// meanwhile is never overwritten: the row is read again and rotated from its new values. Rows still in
// the older unbound format are rewritten too, bound to their user and column, even under the current key.
import { createTokenCipher, keyIdOf, TokenCryptoError, userLinkBinding } from "./crypto.js";
import type { Db } from "./store/db.js";
import { findUserLink, listUserLinks, replaceUserTokens } from "./store/user-links.js";

export interface RotationResult {
  newKeyId: string;
  rewritten: number;
  alreadyCurrent: number;
  /** Links that could not be read with any key given (their owners must connect again). */
  failed: { mattermostUserId: string; gitlabUsername: string; reason: string }[];
}

/** Re-encrypts every link under `newKey`; `oldKeys` (and `newKey` itself) are tried for decryption. */
export async function rotateTokenKeys(db: Db, newKey: Buffer, oldKeys: readonly Buffer[]): Promise<RotationResult> {
  const cipher = createTokenCipher(newKey, oldKeys);
  const result: RotationResult = { newKeyId: keyIdOf(newKey), rewritten: 0, alreadyCurrent: 0, failed: [] };
  for (const listed of await listUserLinks(db)) {
    let link = listed;
    for (let attempt = 0; ; attempt++) {
      if (!cipher.isStale(link.accessTokenEnc) && !cipher.isStale(link.refreshTokenEnc)) {
        result.alreadyCurrent++;
        break;
      }
      const access = userLinkBinding(link.mattermostUserId, "access_token");
      const refresh = userLinkBinding(link.mattermostUserId, "refresh_token");
      let next;
      try {
        next = {
          accessTokenEnc: cipher.encrypt(cipher.decrypt(link.accessTokenEnc, access), access),
          refreshTokenEnc: cipher.encrypt(cipher.decrypt(link.refreshTokenEnc, refresh), refresh),
          expiresAt: link.expiresAt,
        };
      } catch (error) {
        const reason = error instanceof TokenCryptoError ? error.message : String(error);
        result.failed.push({ mattermostUserId: link.mattermostUserId, gitlabUsername: link.gitlabUsername, reason });
        break;
      }
      const expected = { accessTokenEnc: link.accessTokenEnc, refreshTokenEnc: link.refreshTokenEnc };
      if (await replaceUserTokens(db, link.mattermostUserId, expected, next)) {
        result.rewritten++;
        break;
      }
      // Refreshed (or disconnected) meanwhile: rotate what is there now.
      const current = await findUserLink(db, link.mattermostUserId);
      if (!current) break;
      if (attempt >= 5) {
        result.failed.push({ mattermostUserId: link.mattermostUserId, gitlabUsername: link.gitlabUsername, reason: "kept changing during rotation; run keys rotate again" });
        break;
      }
      link = current;
    }
  }
  return result;
}
