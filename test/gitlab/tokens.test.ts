// Tokens over time against the GitLab simulator, real Redis and both databases: refresh when due,
// one refresh for two racing processes, invalid_grant disconnects and tells the user, a 401 before
// the expected expiry refreshes once; ciphertexts bound to their row, v1 rows rewritten bound on first read.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { escapeInline } from "../../src/text/markdown.js";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { userLinkBinding } from "../../src/crypto.js";
import type { GitlabAccounts } from "../../src/gitlab/accounts.js";
import { GitlabAuthError } from "../../src/gitlab/tokens.js";
import { createMattermostClient } from "../../src/mattermost/client.js";
import { directMessenger } from "../../src/mattermost/direct-message.js";
import { migrateToLatest, openDatabase, type Db } from "../../src/store/db.js";
import { findUserLink, replaceUserTokens, saveUserLink } from "../../src/store/user-links.js";
import { updateUserSettings } from "../../src/store/user-settings.js";
import { captureLogger, type CapturedLogger } from "../commands/helpers.js";
import { createTestDatabase, databaseKinds, sqliteFileUrl, type TestDatabase } from "../support/db.js";
import { accountsConfig, linkUser, testAccounts, type AccountsConfig } from "../support/gitlab-accounts.js";
import { startGitlabSim, type GitlabSim, type GitlabSimUser } from "../support/gitlab-sim.js";
import { startMattermostSim, type MattermostSim } from "../support/mattermost-sim.js";
import { dropPrefix, redisUrl } from "../support/redis.js";

let gitlab: GitlabSim;
let mm: MattermostSim;
let seq = 0;

beforeAll(async () => {
  gitlab = await startGitlabSim();
  mm = await startMattermostSim();
});
afterAll(async () => {
  await gitlab.close();
  await mm.close();
});

const refreshes = () => gitlab.requests.filter((r) => r.path === "/oauth/token" && r.grantType === "refresh_token");

describe.each(databaseKinds)("GitLab tokens (%s)", (kind) => {
  /** Two bot processes: each its own database connection and Redis connection, sharing the data. */
  let procs: { db: Db; redis: Redis; accounts: GitlabAccounts; log: CapturedLogger }[];
  let tdb: TestDatabase | undefined;
  let config: AccountsConfig;
  let user: GitlabSimUser;
  let mmUser: { id: string; username: string };

  async function openShared(): Promise<[Db, Db]> {
    if (kind === "sqlite") {
      const url = sqliteFileUrl(mkdtempSync(join(tmpdir(), "gmm-tokens-")));
      const a = openDatabase(url).db;
      await migrateToLatest(a);
      return [a, openDatabase(url).db];
    }
    tdb = await createTestDatabase("postgres");
    return [tdb.db, openDatabase(tdb.url).db];
  }

  beforeEach(async () => {
    seq++;
    gitlab.reset();
    mm.reset();
    config = accountsConfig(gitlab);
    const dbs = await openShared();
    const messenger = directMessenger(createMattermostClient(mm.url, mm.botToken));
    procs = dbs.map((db) => {
      const redis = new Redis(redisUrl);
      const log = captureLogger();
      return { db, redis, log, accounts: testAccounts({ config, db, redis, logger: log.logger, notify: messenger }) };
    });
    user = gitlab.addUser({ username: `tok.user_${kind}-${seq}` });
    mmUser = mm.addUser({ username: `tokuser${seq}` });
  });

  afterEach(async () => {
    for (const p of procs) {
      const text = p.log.text();
      expect(text).not.toMatch(/[0-9a-f]{64}/); // no simulator token or code in any log line
      p.redis.disconnect();
    }
    if (tdb) {
      await procs[1]!.db.destroy();
      await tdb.drop();
      tdb = undefined;
    } else {
      await Promise.all(procs.map((p) => p.db.destroy()));
    }
    await dropPrefix(config.queuePrefix);
  });

  it("uses a token that is good for a while without asking GitLab", async () => {
    const issued = await linkUser(procs[0]!.accounts, gitlab, mmUser.id, user);
    expect(await procs[0]!.accounts.tokens.accessToken(mmUser.id)).toBe(issued.accessToken);
    expect(gitlab.requests).toEqual([]);
  });

  it("refreshes a token about to expire and stores the rotated pair, encrypted", async () => {
    const issued = await linkUser(procs[0]!.accounts, gitlab, mmUser.id, user, Date.now() + 30_000);
    const fresh = await procs[0]!.accounts.tokens.accessToken(mmUser.id);
    expect(fresh).not.toBe(issued.accessToken);
    expect(gitlab.tokenState(fresh)).toBe("active");
    expect(gitlab.tokenState(issued.refreshToken)).toBe("revoked");
    const link = (await findUserLink(procs[1]!.db, mmUser.id))!;
    expect(link.expiresAt).toBeGreaterThan(Date.now() + 7000_000);
    expect(link.accessTokenEnc).not.toContain(fresh);
    expect(procs[1]!.accounts.cipher.decrypt(link.accessTokenEnc, userLinkBinding(mmUser.id, "access_token"))).toBe(fresh);
    // The other process now reads the new token without refreshing again.
    expect(await procs[1]!.accounts.tokens.accessToken(mmUser.id)).toBe(fresh);
    expect(refreshes()).toHaveLength(1);
  });

  it("a row still in the unbound v1 format is read once and rewritten bound to its user and columns (v2)", async () => {
    const issued = gitlab.issueTokens(user);
    const cipher = procs[0]!.accounts.cipher;
    // As the bot wrote rows before ciphertexts were bound to them.
    await saveUserLink(procs[0]!.db, {
      mattermostUserId: mmUser.id,
      gitlabUserId: user.id,
      gitlabUsername: user.username,
      accessTokenEnc: cipher.encrypt(issued.accessToken),
      refreshTokenEnc: cipher.encrypt(issued.refreshToken),
      expiresAt: Date.now() + 3600_000,
    });
    const before = (await findUserLink(procs[0]!.db, mmUser.id))!;
    expect(before.accessTokenEnc).toMatch(/^v1\./);
    expect(before.refreshTokenEnc).toMatch(/^v1\./);

    expect(await procs[1]!.accounts.tokens.accessToken(mmUser.id)).toBe(issued.accessToken);
    const after = (await findUserLink(procs[0]!.db, mmUser.id))!;
    expect(after.accessTokenEnc).toMatch(/^v2\./);
    expect(after.refreshTokenEnc).toMatch(/^v2\./);
    expect(cipher.decrypt(after.accessTokenEnc, userLinkBinding(mmUser.id, "access_token"))).toBe(issued.accessToken);
    expect(cipher.decrypt(after.refreshTokenEnc, userLinkBinding(mmUser.id, "refresh_token"))).toBe(issued.refreshToken);
    expect(after).toMatchObject({ createdAt: before.createdAt, expiresAt: before.expiresAt, gitlabUserId: user.id });
    // Read again: nothing left to rewrite.
    expect(await procs[0]!.accounts.tokens.accessToken(mmUser.id)).toBe(issued.accessToken);
    expect(await findUserLink(procs[1]!.db, mmUser.id)).toEqual(after);
    expect(refreshes()).toEqual([]);
  });

  it("a ciphertext copied into another user's row, or into the other column, does not decrypt there", async () => {
    const otherId = `other${seq}`.padEnd(26, "x");
    await linkUser(procs[0]!.accounts, gitlab, mmUser.id, user);
    await linkUser(procs[0]!.accounts, gitlab, otherId, gitlab.addUser({ username: `tok.other_${kind}-${seq}` }));
    const db = procs[0]!.db;
    const mine = (await findUserLink(db, mmUser.id))!;
    const theirs = (await findUserLink(db, otherId))!;
    // Someone who can write to the database puts this user's access token into the other user's row.
    await replaceUserTokens(db, otherId, {}, { accessTokenEnc: mine.accessTokenEnc, refreshTokenEnc: theirs.refreshTokenEnc, expiresAt: theirs.expiresAt });
    await expect(procs[1]!.accounts.tokens.accessToken(otherId)).rejects.toMatchObject({ code: "tampered" });
    // ...or swaps the two columns of one row.
    await replaceUserTokens(db, mmUser.id, {}, { accessTokenEnc: mine.refreshTokenEnc, refreshTokenEnc: mine.accessTokenEnc, expiresAt: mine.expiresAt });
    await expect(procs[1]!.accounts.tokens.accessToken(mmUser.id)).rejects.toMatchObject({ code: "tampered" });
    expect(gitlab.requests).toEqual([]);
  });

  it("two processes racing for an expired token: exactly one refresh reaches GitLab, both get a working token", async () => {
    await linkUser(procs[0]!.accounts, gitlab, mmUser.id, user, Date.now() - 1000);
    gitlab.delayNext({ path: /^\/oauth\/token$/, ms: 300 });
    const results = await Promise.all([
      ...Array.from({ length: 4 }, () => procs[0]!.accounts.tokens.accessToken(mmUser.id)),
      ...Array.from({ length: 4 }, () => procs[1]!.accounts.tokens.accessToken(mmUser.id)),
    ]);
    expect(refreshes()).toHaveLength(1);
    expect(new Set(results).size).toBe(1);
    expect(gitlab.tokenState(results[0]!)).toBe("active");
    for (const p of procs) {
      const name = await p.accounts.withUser(mmUser.id, async (api) => ((await api.Users.showCurrentUser()) as unknown as { username: string }).username);
      expect(name).toBe(user.username);
    }
    expect(gitlab.unhandled).toEqual([]);
  });

  it("invalid_grant on refresh deletes the link and tells the user by DM how to reconnect", async () => {
    await linkUser(procs[0]!.accounts, gitlab, mmUser.id, user, Date.now() - 1000);
    gitlab.revokeAll(user);
    const error = await procs[0]!.accounts.tokens.accessToken(mmUser.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitlabAuthError);
    expect((error as GitlabAuthError).code).toBe("reconnect");
    expect(await findUserLink(procs[1]!.db, mmUser.id)).toBeUndefined();
    const dms = mm.posts().filter((p) => p.message.includes("/gitlab connect"));
    expect(dms).toHaveLength(1);
    expect(dms[0]!.user_id).toBe(mm.bot.id);
    expect(dms[0]!.message).toContain(escapeInline(`@${user.username}`));
    expect(mm.violations).toEqual([]);
    // Afterwards the user simply is not connected.
    await expect(procs[1]!.accounts.tokens.accessToken(mmUser.id)).rejects.toMatchObject({ code: "not_connected" });
  });

  it("tells a user who chose Chinese in Chinese how to reconnect", async () => {
    await updateUserSettings(procs[0]!.db, mmUser.id, { language: "zh-CN" });
    await linkUser(procs[0]!.accounts, gitlab, mmUser.id, user, Date.now() - 1000);
    gitlab.revokeAll(user);
    await expect(procs[0]!.accounts.tokens.accessToken(mmUser.id)).rejects.toMatchObject({ code: "reconnect", gitlabUsername: user.username });
    const dms = mm.posts().filter((p) => p.message.includes("/gitlab connect"));
    expect(dms.map((p) => p.message)).toEqual([
      `您的 GitLab 账号 ${escapeInline(`@${user.username}`)} 已断开连接：GitLab 已不再接受此机器人的访问授权（授权已被撤销或已过期）。输入 \`/gitlab connect\` 重新连接。`,
    ]);
  });

  it("a 401 before the expected expiry refreshes once and retries", async () => {
    const issued = await linkUser(procs[0]!.accounts, gitlab, mmUser.id, user);
    gitlab.advanceClock(3 * 3600_000); // GitLab thinks the access token expired; we do not
    const me = await procs[0]!.accounts.withUser(mmUser.id, (api) => api.Users.showCurrentUser());
    expect((me as unknown as { id: number }).id).toBe(user.id);
    expect(refreshes()).toHaveLength(1);
    expect(gitlab.tokenState(issued.accessToken)).toBe("revoked");
    expect(gitlab.requests.filter((r) => r.path === "/api/v4/user").map((r) => r.status)).toEqual([401, 200]);
  });

  it("disconnect revokes the pair at GitLab and deletes the link", async () => {
    const issued = await linkUser(procs[0]!.accounts, gitlab, mmUser.id, user);
    const result = await procs[1]!.accounts.tokens.unlink(mmUser.id);
    expect(result).toMatchObject({ revoked: true, link: { gitlabUsername: user.username } });
    expect(gitlab.tokenState(issued.accessToken)).toBe("revoked");
    expect(gitlab.tokenState(issued.refreshToken)).toBe("revoked");
    expect(await findUserLink(procs[0]!.db, mmUser.id)).toBeUndefined();
    expect(await procs[1]!.accounts.tokens.unlink(mmUser.id)).toBeUndefined();
  });
});
