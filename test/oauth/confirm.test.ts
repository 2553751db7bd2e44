// POST /oauth/gitlab/confirm: a connect link opened by someone other than the person who asked for it
// links nothing until the person at the browser confirms a page naming both accounts; the form's CSRF
// token and the browser's cookie must both match, once, within 10 minutes; cancel gives GitLab's tokens
// back; a GitLab account taken from another Mattermost user is never moved without telling them.
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { escapeInline } from "../../src/text/markdown.js";
import { findUserLink, listUserLinks } from "../../src/store/user-links.js";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../support/db.js";
import { CALLBACK_URL, linkUser } from "../support/gitlab-accounts.js";
import { startGitlabSim, type GitlabSim, type GitlabSimUser } from "../support/gitlab-sim.js";
import { startMattermostSim, type MattermostSim } from "../support/mattermost-sim.js";
import { redisUrl } from "../support/redis.js";
import { confirmFormIn, connectUrlIn, pressOn, startHarness, type Harness } from "./harness.js";

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

describe.each(databaseKinds)("confirming a GitLab account link (%s)", (kind) => {
  let tdb: TestDatabase;
  let h: Harness;
  let alice: { id: string; username: string };
  let bob: { id: string; username: string };
  let gBob: GitlabSimUser;

  beforeEach(async () => {
    seq++;
    gitlab.reset();
    tdb = await createTestDatabase(kind);
    h = startHarness({ db: tdb.db, gitlab, mm });
    alice = mm.addUser({ username: `alice${seq}` });
    bob = mm.addUser({ username: `bob${seq}` });
    gBob = gitlab.addUser({ username: `bob.gl_${seq}`, name: "Bob Builder" });
  });
  afterEach(async () => {
    expect(h.log.text()).not.toMatch(/[0-9a-f]{64}/); // no simulator token or code
    expect(mm.violations).toEqual([]);
    expect(gitlab.unhandled).toEqual([]);
    await h.close();
    await tdb.drop();
  });

  /** Bob's browser, signed in to GitLab as Bob. */
  function bobsBrowser() {
    const b = h.browser();
    b.setCookie(gitlab.url, gitlab.sessionCookie(gBob));
    return b;
  }

  /** Alice types `/gitlab connect` and the link reaches Bob, who opens it: the page his browser shows. */
  async function forwardedToBob() {
    const browser = bobsBrowser();
    const page = await browser.get(connectUrlIn((await h.command(alice, "connect")).text));
    expect(page.response.status).toBe(200);
    return { browser, page };
  }

  /** Every value under the harness's Redis prefix, as text. */
  async function redisText(): Promise<string> {
    const redis = new Redis(redisUrl);
    try {
      const keys = await redis.keys(`${h.config.queuePrefix}*`);
      const values = await Promise.all(keys.map(async (k) => ((await redis.type(k)) === "string" ? ((await redis.get(k)) ?? "") : "")));
      return keys.join("\n") + values.join("\n");
    } finally {
      redis.disconnect();
    }
  }

  it("a link forwarded to someone else links nothing until they confirm; the page names both accounts; cancel links nothing", async () => {
    const { browser, page } = await forwardedToBob();
    expect(page.text).toContain(`Mattermost account: @${alice.username}`);
    expect(page.text).toContain(`GitLab account: @${gBob.username} (Bob Builder)`);
    expect(page.text).toContain("If someone sent you this link, cancel");
    expect(await listUserLinks(tdb.db)).toEqual([]);
    // GitLab's fresh tokens wait in Redis, encrypted only.
    const issued = gitlab.issuedTo(gBob);
    expect(issued).toHaveLength(2);
    const stored = await redisText();
    expect(stored).toContain(":oauth:confirm:");
    for (const token of issued) expect(stored).not.toContain(token);

    const cancelled = await pressOn(browser, page.text, "cancel");
    expect(cancelled.response.status).toBe(200);
    expect(cancelled.text).toContain("<h1>Nothing was connected</h1>");
    expect(await listUserLinks(tdb.db)).toEqual([]);
    for (const token of issued) expect(gitlab.tokenState(token)).toBe("revoked");
    expect(browser.cookies("http://bot.test").size).toBe(0);
    expect(mm.posts().filter((p) => p.message.includes(gBob.username))).toEqual([]);
    // Nothing is left to confirm.
    expect((await pressOn(browser, page.text, "confirm")).response.status).toBe(400);
    expect(await listUserLinks(tdb.db)).toEqual([]);
  });

  it("the opener's own link is not taken over: the page says it would move, and cancel keeps it", async () => {
    await linkUser(h.accounts, gitlab, bob.id, gBob);
    const { browser, page } = await forwardedToBob();
    expect(page.text).toContain(`GitLab account @${gBob.username} is connected to Mattermost user @${bob.username} now. Confirming moves it to @${alice.username}, and @${bob.username} will be told by direct message.`);
    expect(await findUserLink(tdb.db, alice.id)).toBeUndefined();
    expect(await findUserLink(tdb.db, bob.id)).toMatchObject({ gitlabUserId: gBob.id });
    await pressOn(browser, page.text, "cancel");
    expect(await findUserLink(tdb.db, alice.id)).toBeUndefined();
    expect(await findUserLink(tdb.db, bob.id)).toMatchObject({ gitlabUserId: gBob.id });
    expect(gitlab.tokenState(gitlab.issuedTo(gBob)[0]!)).toBe("active");
  });

  it("a POST without or with a wrong CSRF token is refused (403) and does not spoil the real confirmation", async () => {
    const { browser, page } = await forwardedToBob();
    const form = confirmFormIn(page.text);
    expect(form.action).toBe("http://bot.test/oauth/gitlab/confirm");

    const without = await browser.post(form.action, { action: "confirm" });
    expect(without.response.status).toBe(403);
    expect(without.text).toContain("<h1>This request could not be verified</h1>");
    expect(without.response.headers.get("x-frame-options")).toBe("DENY");
    const wrong = await browser.post(form.action, { action: "confirm", csrf_token: "A".repeat(43) });
    expect(wrong.response.status).toBe(403);
    const garbage = await browser.post(form.action, { action: "confirm", csrf_token: "<script>" });
    expect(garbage.response.status).toBe(403);
    expect(garbage.text).not.toContain("<script>");
    expect(await listUserLinks(tdb.db)).toEqual([]);

    // Another browser (no cookie) with the right token is refused too.
    const other = bobsBrowser();
    const elsewhere = await other.post(form.action, { action: "confirm", csrf_token: form.csrfToken });
    expect(elsewhere.response.status).toBe(400);
    expect(elsewhere.text).toContain("<h1>This confirmation is not valid</h1>");
    expect(await listUserLinks(tdb.db)).toEqual([]);

    // The real one still works, once.
    const cookie = browser.cookies("http://bot.test").get("gmm_oauth")!;
    expect((await pressOn(browser, page.text, "confirm")).response.status).toBe(200);
    expect(await findUserLink(tdb.db, alice.id)).toMatchObject({ gitlabUserId: gBob.id });
    const replay = h.browser();
    replay.setCookie("http://bot.test", `gmm_oauth=${cookie}`);
    const used = await replay.post(form.action, { action: "confirm", csrf_token: form.csrfToken });
    expect(used.response.status).toBe(400);
    expect(used.text).toContain("It was already used or cancelled");
    expect(await listUserLinks(tdb.db)).toHaveLength(1);
  });

  it("an expired confirmation links nothing and gives GitLab's tokens back", async () => {
    const { browser, page } = await forwardedToBob();
    h.clock.now += 10 * 60_000 + 1;
    const late = await pressOn(browser, page.text, "confirm");
    expect(late.response.status).toBe(400);
    expect(late.text).toContain("<h1>This confirmation has expired</h1>");
    expect(await listUserLinks(tdb.db)).toEqual([]);
    for (const token of gitlab.issuedTo(gBob)) expect(gitlab.tokenState(token)).toBe("revoked");
  });

  it("an oversized or unknown post is refused and links nothing", async () => {
    const { browser, page } = await forwardedToBob();
    const form = confirmFormIn(page.text);
    const huge = await browser.post(form.action, { action: "confirm", csrf_token: form.csrfToken, padding: "x".repeat(10_000) });
    expect(huge.response.status).toBe(413);
    const unknown = await browser.post(form.action, { action: "transfer", csrf_token: form.csrfToken });
    expect(unknown.response.status).toBe(400);
    expect(await listUserLinks(tdb.db)).toEqual([]);
  });

  it("a GitLab account linked to someone else after the page was shown is not moved before a page names them", async () => {
    const { browser, page } = await forwardedToBob();
    expect(page.text).not.toContain("is connected to Mattermost user");
    const carol = mm.addUser({ username: `carol${seq}` });
    await linkUser(h.accounts, gitlab, carol.id, gBob);

    const asked = await pressOn(browser, page.text, "confirm");
    expect(asked.response.status).toBe(200);
    expect(asked.text).toContain(`GitLab account @${gBob.username} is connected to Mattermost user @${carol.username} now.`);
    expect(await findUserLink(tdb.db, alice.id)).toBeUndefined();
    expect(await findUserLink(tdb.db, carol.id)).toMatchObject({ gitlabUserId: gBob.id });
    // The first page's token is spent; the new page's works.
    expect((await pressOn(browser, page.text, "confirm")).response.status).toBe(403);
    expect((await pressOn(browser, asked.text, "confirm")).response.status).toBe(200);
    expect(await findUserLink(tdb.db, alice.id)).toMatchObject({ gitlabUserId: gBob.id });
    expect(await findUserLink(tdb.db, carol.id)).toBeUndefined();
    expect(mm.posts().some((p) => p.message.includes("is no longer connected to your Mattermost account") && p.message.includes(escapeInline(`@${alice.username}`)))).toBe(true);
  });

  it("moving a GitLab account from one Mattermost user to another tells the first by DM and revokes their tokens", async () => {
    const before = await linkUser(h.accounts, gitlab, bob.id, gBob);
    const { browser, page } = await forwardedToBob();
    const done = await pressOn(browser, page.text, "confirm");
    expect(done.response.status).toBe(200);
    expect(await findUserLink(tdb.db, bob.id)).toBeUndefined();
    expect(await findUserLink(tdb.db, alice.id)).toMatchObject({ gitlabUserId: gBob.id, gitlabUsername: gBob.username });
    expect(gitlab.tokenState(before.accessToken)).toBe("revoked");

    const dms = mm.posts().filter((p) => p.message.includes("is no longer connected to your Mattermost account") && p.message.includes(escapeInline(`@${gBob.username}`)));
    expect(dms).toHaveLength(1);
    expect(dms[0]!.user_id).toBe(mm.bot.id);
    expect(dms[0]!.message).toBe(
      `Your GitLab account ${escapeInline(`@${gBob.username}`)} is no longer connected to your Mattermost account: someone signed in to GitLab as ${escapeInline(`@${gBob.username}`)} connected it to Mattermost user ${escapeInline(`@${alice.username}`)}. If that was not you, revoke this bot's access in GitLab (User Settings > Applications) and type \`/gitlab connect\` to connect again.`,
    );
    const channel = mm.requests.find((r) => r.method === "POST" && r.path === "/api/v4/channels/direct" && JSON.stringify(r.body ?? "").includes(bob.id));
    expect(channel).toBeDefined();
    expect(mm.posts().some((p) => p.message.includes(`connected as ${escapeInline(`@${gBob.username}`)}`))).toBe(true);
  });
});
