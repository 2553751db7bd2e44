// GET /oauth/gitlab/connect, /callback and POST /confirm over HTTP, with the slash command, the GitLab
// simulator and the Mattermost simulator: the whole connect flow, and every way a state can be wrong.
import { userLinkBinding } from "../../src/crypto.js";
import { escapeInline } from "../../src/text/markdown.js";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Hono } from "hono";
import { localeFromAcceptLanguage, oauthRoutes } from "../../src/http/oauth-routes.js";
import { findUserLink, listUserLinks } from "../../src/store/user-links.js";
import { updateUserSettings } from "../../src/store/user-settings.js";
import { captureLogger } from "../commands/helpers.js";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../support/db.js";
import { CALLBACK_URL } from "../support/gitlab-accounts.js";
import { startGitlabSim, type GitlabSim, type GitlabSimUser } from "../support/gitlab-sim.js";
import { startMattermostSim, type MattermostSim } from "../support/mattermost-sim.js";
import { connectUrlIn, pressOn, startHarness, type Harness } from "./harness.js";

let gitlab: GitlabSim;
let mm: MattermostSim;
let seq = 0;

beforeAll(async () => {
  gitlab = await startGitlabSim({ redirectUri: CALLBACK_URL });
  mm = await startMattermostSim();
});
afterAll(async () => {
  await gitlab.close();
  await mm.close();
});

describe.each(databaseKinds)("connecting a GitLab account (%s)", (kind) => {
  let tdb: TestDatabase;
  let h: Harness;
  let alice: { id: string; username: string };
  let gAlice: GitlabSimUser;

  beforeEach(async () => {
    seq++;
    gitlab.reset();
    tdb = await createTestDatabase(kind);
    h = startHarness({ db: tdb.db, gitlab, mm });
    alice = mm.addUser({ username: `alice${seq}` });
    gAlice = gitlab.addUser({ username: `alice.gl_${seq}`, name: "Alice <b>Liddell</b>" });
  });
  afterEach(async () => {
    const logs = h.log.text();
    expect(logs).not.toMatch(/[0-9a-f]{64}/); // no simulator token or code
    expect(logs).not.toMatch(/state=[\w-]{43}/);
    expect(mm.violations).toEqual([]);
    expect(gitlab.unhandled).toEqual([]);
    await h.close();
    await tdb.drop();
  });

  /** A browser signed in to GitLab as `user`. */
  function browserOf(user: GitlabSimUser = gAlice) {
    const b = h.browser();
    b.setCookie(gitlab.url, gitlab.sessionCookie(user));
    return b;
  }

  /** `/gitlab connect`, then the browser up to (not into) the callback: returns the callback URL. */
  async function untilCallback(browser = browserOf()) {
    const url = connectUrlIn((await h.command(alice, "connect")).text);
    const res = await browser.get(url, { stopAt: (u) => u.pathname === "/oauth/gitlab/callback" });
    return { browser, callback: res.hops.at(-1)!.location!, hops: res.hops };
  }

  const accessOf = (link: { mattermostUserId: string; accessTokenEnc: string }) => h.accounts.cipher.decrypt(link.accessTokenEnc, userLinkBinding(link.mattermostUserId, "access_token"));

  it("command -> connect link -> GitLab -> callback -> confirm: link saved encrypted, success page, DM, /gitlab me", async () => {
    const reply = await h.command(alice, "connect");
    expect(reply.response_type).toBe("ephemeral");
    expect(reply.text).toContain("works once, only for you, for 10 minutes");
    const browser = browserOf();
    const res = await browser.get(connectUrlIn(reply.text));

    // bot /connect -> GitLab /oauth/authorize -> bot /callback
    expect(res.hops.map((hop) => [new URL(hop.url).pathname, hop.status])).toEqual([
      ["/oauth/gitlab/connect", 302],
      ["/oauth/authorize", 302],
      ["/oauth/gitlab/callback", 200],
    ]);
    const authorize = new URL(res.hops[1]!.url);
    expect(authorize.searchParams.get("code_challenge_method")).toBe("S256");
    expect(authorize.searchParams.get("scope")).toBe("api");
    expect(authorize.searchParams.get("redirect_uri")).toBe(CALLBACK_URL);
    // The callback links nothing yet: it asks to confirm, naming both accounts (GitLab's name escaped).
    expect(res.text).toContain("<h1>Connect these accounts?</h1>");
    expect(res.text).toContain(`Mattermost account: @${alice.username}`);
    expect(res.text).toContain(`GitLab account: @${gAlice.username} (Alice &lt;b&gt;Liddell&lt;/b&gt;)`);
    expect(res.text).not.toContain("is connected to Mattermost user");
    expect(await findUserLink(tdb.db, alice.id)).toBeUndefined();
    expect(res.response.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.response.headers.get("x-frame-options")).toBe("DENY");
    expect(res.response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(res.response.headers.get("cache-control")).toBe("no-store");

    const done = await pressOn(browser, res.text, "confirm");
    expect(done.response.status).toBe(200);
    expect(done.text).toContain("GitLab account connected");
    expect(done.text).toContain(`Mattermost user @${alice.username} is now connected to GitLab as @${gAlice.username}.`);
    expect(done.response.headers.get("x-frame-options")).toBe("DENY");
    // The browser-binding cookie is gone once used.
    expect(browser.cookies("http://bot.test").size).toBe(0);

    const link = (await findUserLink(tdb.db, alice.id))!;
    expect(link).toMatchObject({ gitlabUserId: gAlice.id, gitlabUsername: gAlice.username });
    const access = accessOf(link);
    expect(gitlab.tokenState(access)).toBe("active");
    expect(link.accessTokenEnc).toMatch(/^v2\./);
    expect(link.accessTokenEnc).not.toContain(access);
    expect(link.refreshTokenEnc).not.toContain(h.accounts.cipher.decrypt(link.refreshTokenEnc, userLinkBinding(alice.id, "refresh_token")));

    const dm = mm.posts().find((p) => p.message.includes(`connected as ${escapeInline(`@${gAlice.username}`)}`));
    expect(dm?.user_id).toBe(mm.bot.id);

    const me = await h.command(alice, "me");
    expect(me.response_type).toBe("ephemeral");
    expect(me.text).toContain(`You are connected to GitLab as [${escapeInline(`@${gAlice.username}`)}](${gitlab.url}/${gAlice.username})`);
    expect(me.text).toContain("Alice");
    expect(me.text).not.toContain("<b>");
    expect(gitlab.requests.filter((r) => r.path === "/oauth/token").map((r) => r.grantType)).toEqual(["authorization_code"]);
  });

  it("a replayed callback or connect link is refused and changes nothing", async () => {
    const { browser, callback } = await untilCallback();
    const confirmation = await browser.get(callback);
    const connectLink = confirmation.hops[0]!.url;
    expect((await pressOn(browser, confirmation.text, "confirm")).response.status).toBe(200);
    expect((await findUserLink(tdb.db, alice.id))).toBeDefined();
    const before = await listUserLinks(tdb.db);

    const replay = await browser.get(callback);
    expect(replay.response.status).toBe(400);
    expect(replay.text).toContain("This sign-in is not valid");
    expect(await listUserLinks(tdb.db)).toEqual(before);
    expect(gitlab.requests.filter((r) => r.path === "/oauth/token")).toHaveLength(1);

    const url = connectUrlIn((await h.command(alice, "connect")).text);
    expect((await browser.get(url, { maxRedirects: 0 })).response.status).toBe(302);
    const again = await browser.get(url, { maxRedirects: 0 });
    expect(again.response.status).toBe(400);
    expect(again.text).toContain("This link is not valid");
    expect(connectLink).toContain("/oauth/gitlab/callback");
  });

  it("an expired connect link, and a sign-in finished after 10 minutes, are refused", async () => {
    const url = connectUrlIn((await h.command(alice, "connect")).text);
    h.clock.now += 10 * 60_000 + 1;
    const late = await browserOf().get(url);
    expect(late.response.status).toBe(400);
    expect(late.text).toContain("This link has expired");

    h.clock.now = Date.now();
    const { browser, callback } = await untilCallback();
    h.clock.now += 10 * 60_000 + 1;
    const res = await browser.get(callback);
    expect(res.response.status).toBe(400);
    expect(res.text).toContain("This sign-in has expired");
    expect(await findUserLink(tdb.db, alice.id)).toBeUndefined();
    expect(gitlab.requests.filter((r) => r.path === "/oauth/token")).toEqual([]);
  });

  it("a callback from another browser (a foreign state) is refused without spoiling the real one", async () => {
    const { callback } = await untilCallback();
    const mallory = gitlab.addUser({ username: `mallory${seq}` });
    const other = browserOf(mallory);
    const res = await other.get(callback);
    expect(res.response.status).toBe(400);
    expect(res.text).toContain("This sign-in was started in another browser");
    expect(await findUserLink(tdb.db, alice.id)).toBeUndefined();

    // Mallory's own flow cannot take Alice's state either: her cookie belongs to her flow.
    const bob = mm.addUser({ username: `bob${seq}` });
    const bobUrl = connectUrlIn((await h.command(bob, "connect")).text);
    await other.get(bobUrl, { stopAt: (u) => u.pathname === "/oauth/gitlab/callback" });
    expect((await other.get(callback)).response.status).toBe(400);
    expect(await findUserLink(tdb.db, alice.id)).toBeUndefined();
    expect(gitlab.requests.filter((r) => r.path === "/oauth/token")).toEqual([]);
  });

  it("a state the bot never made, or none at all, is refused", async () => {
    const browser = browserOf();
    for (const query of ["state=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&code=x", "code=x", "state=%3Cscript%3E&code=x"]) {
      const res = await browser.get(`http://bot.test/oauth/gitlab/callback?${query}`);
      expect(res.response.status).toBe(400);
      expect(res.text).toContain("This sign-in is not valid");
      expect(res.text).not.toContain("<script>");
    }
    const res = await browser.get("http://bot.test/oauth/gitlab/connect?state=forged");
    expect(res.response.status).toBe(400);
    expect(await listUserLinks(tdb.db)).toEqual([]);
  });

  it("access denied at GitLab, or an error GitLab reports, is shown escaped and saves nothing", async () => {
    gitlab.denyNext();
    const url = connectUrlIn((await h.command(alice, "connect")).text);
    const denied = await browserOf().get(url);
    expect(denied.response.status).toBe(400);
    expect(denied.text).toContain("Access was denied on GitLab");

    const { browser, callback } = await untilCallback();
    const forged = new URL(callback);
    forged.searchParams.delete("code");
    forged.searchParams.set("error", "server_error");
    forged.searchParams.set("error_description", "<script>alert(1)</script>");
    const res = await browser.get(forged.toString());
    expect(res.response.status).toBe(400);
    expect(res.text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(res.text).not.toContain("<script>");
    expect(await listUserLinks(tdb.db)).toEqual([]);
  });

  it("a code GitLab will not exchange, or a GitLab that fails, saves nothing", async () => {
    const first = await untilCallback();
    gitlab.failNext({ path: /^\/oauth\/token$/, status: 400, body: { error: "invalid_grant", error_description: "bad" } });
    const refused = await first.browser.get(first.callback);
    expect(refused.response.status).toBe(400);
    expect(refused.text).toContain("The authorization code was refused");

    const second = await untilCallback();
    gitlab.failNext({ path: /^\/api\/v4\/user$/, status: 500 });
    const broken = await second.browser.get(second.callback);
    expect(broken.response.status).toBe(502);
    expect(await listUserLinks(tdb.db)).toEqual([]);
    // The tokens GitLab issued before /user failed were given back.
    const issued = gitlab.requests.filter((r) => r.path === "/oauth/revoke");
    expect(issued.length).toBeGreaterThan(0);
  });

  it("a Chinese-speaking user gets the DM in Chinese; a Chinese browser the confirmation and success pages", async () => {
    const chen = mm.addUser({ username: `chen${seq}`, locale: "zh-CN" });
    const reply = await h.command(chen, "connect");
    expect(reply.text).toContain("此链接仅您本人可用");
    const browser = browserOf();
    browser.setHeader("Accept-Language", "zh-CN,zh;q=0.9");
    const confirmation = await browser.get(connectUrlIn(reply.text));
    expect(confirmation.text).toContain('<html lang="zh-CN">');
    expect(confirmation.text).toContain("<h1>要连接这两个账号吗？</h1>");
    expect(confirmation.text).toContain(`Mattermost 账号：@${chen.username}`);
    expect(confirmation.text).toContain(`GitLab 账号：@${gAlice.username}（Alice &lt;b&gt;Liddell&lt;/b&gt;）`);
    expect(confirmation.text).toContain('<button type="submit" name="action" value="confirm">连接</button>');
    const res = await pressOn(browser, confirmation.text, "confirm");
    expect(res.response.status).toBe(200);
    expect(res.text).toContain('<html lang="zh-CN">');
    expect(res.text).toContain("<h1>GitLab 账号已连接</h1>");
    expect(res.text).toContain(`Mattermost 用户 @${chen.username} 现已连接到 GitLab，账号为 @${gAlice.username}。`);
    const dm = mm.posts().find((p) => p.message.includes(escapeInline(`@${gAlice.username}`)));
    expect(dm?.user_id).toBe(mm.bot.id);
    expect(dm?.message).toBe(`您的 GitLab 账号已连接，账号为 ${escapeInline(`@${gAlice.username}`)}。输入 \`/gitlab me\` 查看，输入 \`/gitlab disconnect\` 撤销。`);
  });

  it("the language chosen in /gitlab settings wins over the Mattermost one, on pages once the state names the user", async () => {
    await updateUserSettings(tdb.db, alice.id, { language: "zh-CN" });
    const { callback } = await untilCallback();
    // Another browser (no cookie), asking for English: the state names Alice, so the page is in her language.
    const res = await h.app.request(callback, { headers: { "Accept-Language": "en-US,en;q=0.9" } });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('<html lang="zh-CN">');
    expect(html).toContain("此次登录是在另一个浏览器中发起的");
    expect(html).toContain("请在 Mattermost 中输入 /gitlab connect 获取新链接。");
  });

  it("pages that know no user follow the browser's Accept-Language", async () => {
    const forged = `/oauth/gitlab/connect?state=${"A".repeat(43)}`;
    const zh = await h.app.request(forged, { headers: { "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8" } });
    expect(zh.status).toBe(400);
    const html = await zh.text();
    expect(html).toContain('<html lang="zh-CN">');
    expect(html).toContain("<title>此链接无效</title>");
    expect(html).toContain("此链接已被使用，或并非由此机器人生成。");
    const en = await h.app.request(forged, { headers: { "Accept-Language": "en-GB,zh-CN;q=0.5" } });
    const text = await en.text();
    expect(text).toContain('<html lang="en">');
    expect(text).toContain("This link is not valid");
    const callback = await h.app.request("/oauth/gitlab/callback?state=%3Cscript%3E&code=x", { headers: { "Accept-Language": "zh-TW" } });
    expect(await callback.text()).toContain("此次登录无效");
  });

  it("connecting again replaces the link and revokes the old tokens", async () => {
    const { browser, callback } = await untilCallback();
    await pressOn(browser, (await browser.get(callback)).text, "confirm");
    const first = (await findUserLink(tdb.db, alice.id))!;
    const firstAccess = accessOf(first);
    const again = await untilCallback();
    const confirmation = await again.browser.get(again.callback);
    // Her own earlier link is no other user's: nothing to warn about.
    expect(confirmation.text).not.toContain("is connected to Mattermost user");
    expect((await pressOn(again.browser, confirmation.text, "confirm")).response.status).toBe(200);
    const second = (await findUserLink(tdb.db, alice.id))!;
    expect(accessOf(second)).not.toBe(firstAccess);
    expect(gitlab.tokenState(firstAccess)).toBe("revoked");
    expect((await h.command(alice, "connect")).text).toContain(`You are connected to GitLab as ${escapeInline(`@${gAlice.username}`)}`);
  });
});

describe("OAuth routes without the OAuth settings", () => {
  it("answer 503 with a page that names the missing settings", async () => {
    const app = new Hono().route("/", oauthRoutes({ gitlab: { ready: false, missing: ["GITLAB_OAUTH_CLIENT_ID", "ENCRYPTION_KEY"] }, logger: captureLogger().logger }));
    for (const path of ["/oauth/gitlab/connect?state=x", "/oauth/gitlab/callback?state=x&code=y"]) {
      const res = await app.request(path);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain("GITLAB_OAUTH_CLIENT_ID, ENCRYPTION_KEY");
    }
  });
});

describe("localeFromAcceptLanguage", () => {
  it("takes the most wanted language: any Chinese is zh-CN, anything else English", () => {
    expect(localeFromAcceptLanguage("zh-CN,zh;q=0.9,en;q=0.8")).toBe("zh-CN");
    expect(localeFromAcceptLanguage("zh")).toBe("zh-CN");
    expect(localeFromAcceptLanguage("ZH-hans-CN")).toBe("zh-CN");
    expect(localeFromAcceptLanguage("en-US,en;q=0.9,zh-CN;q=0.8")).toBe("en");
    expect(localeFromAcceptLanguage("de;q=0.5, zh-CN;q=0.7")).toBe("zh-CN");
    expect(localeFromAcceptLanguage("zh-CN;q=0, fr")).toBe("en");
    expect(localeFromAcceptLanguage("*")).toBe("en");
    expect(localeFromAcceptLanguage("")).toBe("en");
    expect(localeFromAcceptLanguage(undefined)).toBe("en");
  });
});
