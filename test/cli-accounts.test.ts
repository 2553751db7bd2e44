// `gitlab-mm users list` and `gitlab-mm keys rotate` against both databases, with a running "server"
// (the accounts service) that keeps reading and refreshing tokens while the keys rotate.
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { cli } from "./support/cli.js";
import { createTokenCipher, generateKey, keyIdOf, parseKey, userLinkBinding } from "../src/crypto.js";
import type { GitlabAccounts } from "../src/gitlab/accounts.js";
import { rotateTokenKeys } from "../src/key-rotation.js";
import { openDatabase, type Db } from "../src/store/db.js";
import { deleteUserLink, findUserLink, listUserLinks, replaceUserTokens } from "../src/store/user-links.js";
import { captureLogger } from "./commands/helpers.js";
import { createTestDatabase, databaseKinds, sqliteFileUrl, type TestDatabase } from "./support/db.js";
import { accountsConfig, linkUser, testAccounts } from "./support/gitlab-accounts.js";
import { startGitlabSim, type GitlabSim, type GitlabSimUser } from "./support/gitlab-sim.js";
import { dropPrefix, redisUrl } from "./support/redis.js";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

let gitlab: GitlabSim;
let redis: Redis;
let seq = 0;
const prefixes: string[] = [];

beforeAll(async () => {
  gitlab = await startGitlabSim();
  redis = new Redis(redisUrl);
});
afterAll(async () => {
  await gitlab.close();
  redis.disconnect();
  for (const p of prefixes) await dropPrefix(p);
});


describe.each(databaseKinds)("gitlab-mm users and keys (%s)", (kind) => {
  let url: string;
  let db: Db;
  let pg: TestDatabase | undefined;
  const OLD = generateKey();
  const NEW = generateKey();
  /** A bot process: ENCRYPTION_KEY and ENCRYPTION_KEY_PREVIOUS as given. */
  const server = (current: string, previous: string[] = []): GitlabAccounts => {
    const config = accountsConfig(gitlab, { encryptionKey: parseKey(current), encryptionKeysPrevious: previous.map(parseKey) });
    prefixes.push(config.queuePrefix);
    return testAccounts({ config, db, redis, logger: captureLogger().logger });
  };
  let users: { mm: string; gl: GitlabSimUser }[];

  beforeAll(async () => {
    if (kind === "postgres") {
      pg = await createTestDatabase("postgres");
      url = pg.url;
      db = pg.db;
    } else {
      url = sqliteFileUrl(mkdtempSync(join(tmpdir(), "gmm-keys-")));
      db = openDatabase(url).db;
      expect((await cli(["migrate"], { DATABASE_URL: url })).code).toBe(0);
    }
  });
  afterAll(async () => {
    if (pg) await pg.drop();
    else await db.destroy();
  });
  beforeEach(async () => {
    seq++;
    gitlab.reset();
    for (const l of await listUserLinks(db)) await deleteUserLink(db, l.mattermostUserId);
    const old = server(OLD);
    users = [];
    for (const name of ["ann", "ben"]) {
      const u = { mm: `${name}${seq}`.padEnd(26, "x"), gl: gitlab.addUser({ username: `${name}-${kind}-${seq}` }) };
      await linkUser(old, gitlab, u.mm, u.gl);
      users.push(u);
    }
  });

  it("users list shows who is connected and when the token expires, never a token", async () => {
    const { code, out, err } = await cli(["users", "list"], { DATABASE_URL: url });
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(out[0]).toMatch(/^MATTERMOST USER ID\s+GITLAB USERNAME\s+GITLAB ID\s+TOKEN EXPIRES\s+CONNECTED$/);
    expect(out).toHaveLength(3);
    for (const u of users) {
      const line = out.find((l) => l.startsWith(u.mm))!;
      expect(line).toContain(u.gl.username);
      expect(line).toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/);
    }
    const text = out.join("\n");
    for (const u of users) for (const t of gitlab.issuedTo(u.gl)) expect(text).not.toContain(t);
    expect(text).not.toContain("v1.");

    for (const u of users) await deleteUserLink(db, u.mm);
    expect((await cli(["users", "list"], { DATABASE_URL: url })).out).toEqual(["No Mattermost user has connected a GitLab account."]);
  });

  it("keys rotate --new-key re-encrypts every token while a server that knows both keys keeps working", async () => {
    const during = server(NEW, [OLD]);
    // Before: the tokens are under the old key, and the server reads them.
    expect(await during.tokens.accessToken(users[0]!.mm)).toBe(gitlab.issuedTo(users[0]!.gl)[0]);

    const { code, out, err } = await cli(["keys", "rotate", "--new-key", NEW], { DATABASE_URL: url, ENCRYPTION_KEY: NEW, ENCRYPTION_KEY_PREVIOUS: OLD });
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(out).toEqual([`Re-encrypted the tokens of 2 connected account(s) under key ${keyIdOf(parseKey(NEW))}; 0 already were.`]);
    for (const l of await listUserLinks(db)) {
      expect(during.cipher.keyIdOfValue(l.accessTokenEnc)).toBe(keyIdOf(parseKey(NEW)));
      expect(during.cipher.keyIdOfValue(l.refreshTokenEnc)).toBe(keyIdOf(parseKey(NEW)));
    }
    for (const u of users) expect(await during.tokens.accessToken(u.mm)).toBe(gitlab.issuedTo(u.gl)[0]);
    // After: the new key alone is enough; the old key alone is not.
    expect(await server(NEW).tokens.accessToken(users[1]!.mm)).toBe(gitlab.issuedTo(users[1]!.gl)[0]);
    await expect(server(OLD).tokens.accessToken(users[1]!.mm)).rejects.toMatchObject({ code: "unknown_key" });

    const again = await cli(["keys", "rotate", "--new-key", NEW], { DATABASE_URL: url, ENCRYPTION_KEY: NEW });
    expect(again.out).toEqual([`Re-encrypted the tokens of 0 connected account(s) under key ${keyIdOf(parseKey(NEW))}; 2 already were.`]);
    expect(gitlab.requests).toEqual([]);
  });

  it("a refresh racing the rotation is neither lost nor overwritten", async () => {
    const during = server(NEW, [OLD]);
    // Expire both links, so the server refreshes while the rotation rewrites them.
    for (const u of users) await linkUser(server(OLD), gitlab, u.mm, u.gl, Date.now() - 1000);
    gitlab.delayNext({ path: /^\/oauth\/token$/, ms: 50, times: 2 });
    const [tokens] = await Promise.all([Promise.all(users.map((u) => during.tokens.accessToken(u.mm))), rotateTokenKeys(db, parseKey(NEW), [parseKey(OLD)])]);
    for (const [i, u] of users.entries()) {
      const link = (await listUserLinks(db)).find((l) => l.mattermostUserId === u.mm)!;
      expect(during.cipher.isStale(link.accessTokenEnc)).toBe(false);
      const refresh = during.cipher.decrypt(link.refreshTokenEnc, userLinkBinding(u.mm, "refresh_token"));
      expect(gitlab.tokenState(refresh)).toBe("active");
      expect(during.cipher.decrypt(link.accessTokenEnc, userLinkBinding(u.mm, "access_token"))).toBe(tokens[i]);
      expect(gitlab.tokenState(tokens[i]!)).toBe("active");
    }
  });

  it("keys rotate rewrites rows of the unbound v1 format bound (v2), under the old key or already under the new one", async () => {
    // Ann's row as the bot wrote it under the old key before values were bound to their row; Ben's the same under the new key.
    const [ann, ben] = users as [(typeof users)[0], (typeof users)[0]];
    const [annTokens, benTokens] = [gitlab.issuedTo(ann.gl), gitlab.issuedTo(ben.gl)];
    for (const [u, k, t] of [[ann, OLD, annTokens], [ben, NEW, benTokens]] as const) {
      const cipher = createTokenCipher(parseKey(k));
      const link = (await findUserLink(db, u.mm))!;
      await replaceUserTokens(db, u.mm, {}, { accessTokenEnc: cipher.encrypt(t[0]!), refreshTokenEnc: cipher.encrypt(t[1]!), expiresAt: link.expiresAt });
    }
    const { code, out } = await cli(["keys", "rotate", "--new-key", NEW], { DATABASE_URL: url, ENCRYPTION_KEY: NEW, ENCRYPTION_KEY_PREVIOUS: OLD });
    expect(code).toBe(0);
    expect(out).toEqual([`Re-encrypted the tokens of 2 connected account(s) under key ${keyIdOf(parseKey(NEW))}; 0 already were.`]);
    const after = createTokenCipher(parseKey(NEW));
    for (const [u, t] of [[ann, annTokens], [ben, benTokens]] as const) {
      const link = (await findUserLink(db, u.mm))!;
      expect(link.accessTokenEnc).toMatch(/^v2\./);
      expect(link.refreshTokenEnc).toMatch(/^v2\./);
      expect(after.decrypt(link.accessTokenEnc, userLinkBinding(u.mm, "access_token"))).toBe(t[0]);
      expect(after.decrypt(link.refreshTokenEnc, userLinkBinding(u.mm, "refresh_token"))).toBe(t[1]);
    }
    expect(await server(NEW).tokens.accessToken(ann.mm)).toBe(annTokens[0]);
  });

  it("keys rotate without --new-key generates one and prints it, with what to set", async () => {
    const { code, out } = await cli(["keys", "rotate"], { DATABASE_URL: url, ENCRYPTION_KEY: OLD });
    expect(code).toBe(0);
    const generated = /^New key: (\S+)$/.exec(out.find((l) => l.startsWith("New key: "))!)![1]!;
    expect(parseKey(generated)).toHaveLength(32);
    expect(out.join("\n")).toContain("Set ENCRYPTION_KEY to the new key (and ENCRYPTION_KEY_PREVIOUS to the old one)");
    expect(await server(generated).tokens.accessToken(users[0]!.mm)).toBe(gitlab.issuedTo(users[0]!.gl)[0]);
  });

  it("refuses a malformed key (exit 2), a missing ENCRYPTION_KEY and tokens no key reads (exit 1)", async () => {
    const bad = await cli(["keys", "rotate", "--new-key", "c2hvcnQ="], { DATABASE_URL: url, ENCRYPTION_KEY: OLD });
    expect(bad.code).toBe(2);
    expect(bad.err[0]).toContain("--new-key: an encryption key must be 32 bytes");

    const none = await cli(["keys", "rotate", "--new-key", NEW], { DATABASE_URL: url });
    expect(none.code).toBe(1);
    expect(none.err).toEqual(["gitlab-mm keys rotate: ENCRYPTION_KEY is not set, so the stored tokens cannot be read: set it to the key the bot uses"]);

    const wrong = await cli(["keys", "rotate", "--new-key", NEW], { DATABASE_URL: url, ENCRYPTION_KEY: generateKey() });
    expect(wrong.code).toBe(1);
    expect(wrong.err.filter((l) => l.startsWith("could not re-encrypt"))).toHaveLength(2);
    expect(wrong.err.at(-1)).toContain("2 account(s) could not be re-encrypted");
    expect(wrong.err.join("\n")).not.toMatch(/[0-9a-f]{64}/);
  });
});
