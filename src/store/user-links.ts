// Linked accounts: who a Mattermost user is on GitLab. Tokens arrive and leave encrypted (src/crypto.ts).
import { reusedQuery } from "./compiled.js";
import type { Db } from "./db.js";
import type { UserLinksTable } from "./schema.js";

export interface UserLink {
  mattermostUserId: string;
  gitlabUserId: number;
  gitlabUsername: string;
  /** Encrypted; decrypt with src/crypto.ts. */
  accessTokenEnc: string;
  refreshTokenEnc: string;
  expiresAt: number;
  createdAt: string;
}

function fromRow(r: UserLinksTable): UserLink {
  return {
    mattermostUserId: r.mattermost_user_id,
    gitlabUserId: Number(r.gitlab_user_id),
    gitlabUsername: r.gitlab_username,
    accessTokenEnc: r.access_token,
    refreshTokenEnc: r.refresh_token,
    expiresAt: Number(r.expires_at),
    createdAt: r.created_at,
  };
}

/**
 * Links a Mattermost user to a GitLab user, replacing any earlier link of either of them. Returns the
 * links it replaced (the user's own earlier one, and the GitLab account's link to another Mattermost user).
 */
export async function saveUserLink(db: Db, link: Omit<UserLink, "createdAt">): Promise<UserLink[]> {
  const now = new Date().toISOString();
  return db.transaction().execute(async (trx) => {
    const replaced = await trx
      .deleteFrom("user_links")
      .where((eb) => eb.or([eb("mattermost_user_id", "=", link.mattermostUserId), eb("gitlab_user_id", "=", link.gitlabUserId)]))
      .returningAll()
      .execute();
    await trx
      .insertInto("user_links")
      .values({
        mattermost_user_id: link.mattermostUserId,
        gitlab_user_id: link.gitlabUserId,
        gitlab_username: link.gitlabUsername,
        access_token: link.accessTokenEnc,
        refresh_token: link.refreshTokenEnc,
        expires_at: link.expiresAt,
        created_at: now,
        updated_at: now,
      })
      .execute();
    return replaced.map(fromRow);
  });
}

/** Stores a refreshed token pair (GitLab rotates the refresh token on every refresh). */
export async function updateUserTokens(db: Db, mattermostUserId: string, tokens: { accessTokenEnc: string; refreshTokenEnc: string; expiresAt: number }): Promise<void> {
  await db
    .updateTable("user_links")
    .set({ access_token: tokens.accessTokenEnc, refresh_token: tokens.refreshTokenEnc, expires_at: tokens.expiresAt, updated_at: new Date().toISOString() })
    .where("mattermost_user_id", "=", mattermostUserId)
    .execute();
}

export interface ExpectedLinkState {
  /** The link was made at this time (a reconnect makes a new link). */
  createdAt?: string;
  accessTokenEnc?: string;
  refreshTokenEnc?: string;
}

/**
 * Stores a token pair only if the row is still the one the caller read (compare-and-set): a token
 * refresh never writes into a link made again meanwhile, and key rotation never overwrites a refresh.
 * False when the row changed or is gone.
 */
export async function replaceUserTokens(
  db: Db,
  mattermostUserId: string,
  expected: ExpectedLinkState,
  tokens: { accessTokenEnc: string; refreshTokenEnc: string; expiresAt: number },
): Promise<boolean> {
  let q = db
    .updateTable("user_links")
    .set({ access_token: tokens.accessTokenEnc, refresh_token: tokens.refreshTokenEnc, expires_at: tokens.expiresAt, updated_at: new Date().toISOString() })
    .where("mattermost_user_id", "=", mattermostUserId);
  if (expected.createdAt !== undefined) q = q.where("created_at", "=", expected.createdAt);
  if (expected.accessTokenEnc !== undefined) q = q.where("access_token", "=", expected.accessTokenEnc);
  if (expected.refreshTokenEnc !== undefined) q = q.where("refresh_token", "=", expected.refreshTokenEnc);
  const result = await q.executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Deletes the link only if it is still the one the caller read (see replaceUserTokens). */
export async function deleteUserLinkIf(db: Db, mattermostUserId: string, expected: ExpectedLinkState): Promise<boolean> {
  let q = db.deleteFrom("user_links").where("mattermost_user_id", "=", mattermostUserId);
  if (expected.createdAt !== undefined) q = q.where("created_at", "=", expected.createdAt);
  if (expected.accessTokenEnc !== undefined) q = q.where("access_token", "=", expected.accessTokenEnc);
  if (expected.refreshTokenEnc !== undefined) q = q.where("refresh_token", "=", expected.refreshTokenEnc);
  const result = await q.executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function findUserLink(db: Db, mattermostUserId: string): Promise<UserLink | undefined> {
  const row = await db.selectFrom("user_links").selectAll().where("mattermost_user_id", "=", mattermostUserId).executeTakeFirst();
  return row ? fromRow(row) : undefined;
}

const selectLinksByUsernames = reusedQuery((db, p: { usernames: string[] }) =>
  db
    .selectFrom("user_links")
    .selectAll()
    .where((eb) => eb(eb.fn("lower", ["gitlab_username"]), "in", p.usernames)),
);

/** Links of the given GitLab usernames (case-insensitive); unknown names are left out. */
export async function findUserLinksByUsernames(db: Db, usernames: readonly string[]): Promise<UserLink[]> {
  if (usernames.length === 0) return [];
  const wanted = [...new Set(usernames.map((u) => u.toLowerCase()))];
  return (await selectLinksByUsernames.run(db, { usernames: wanted })).rows.map(fromRow);
}

const selectLinksByGitlabIds = reusedQuery((db, p: { ids: number[] }) =>
  db.selectFrom("user_links").selectAll().where("gitlab_user_id", "in", p.ids),
);

export async function findUserLinksByGitlabIds(db: Db, ids: readonly number[]): Promise<UserLink[]> {
  if (ids.length === 0) return [];
  return (await selectLinksByGitlabIds.run(db, { ids: [...new Set(ids)] })).rows.map(fromRow);
}

export async function listUserLinks(db: Db): Promise<UserLink[]> {
  return (await db.selectFrom("user_links").selectAll().orderBy("gitlab_username").execute()).map(fromRow);
}

export async function deleteUserLink(db: Db, mattermostUserId: string): Promise<boolean> {
  const result = await db.deleteFrom("user_links").where("mattermost_user_id", "=", mattermostUserId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
