// A subscription's events of non-public projects stop when its subscriber loses GitLab access or
// disconnects; GitLab is asked through a cache, and the channel is told once.
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { GitlabAccounts } from "../../src/gitlab/accounts.js";
import { planDeliveries } from "../../src/queue/events-worker.js";
import { createSubscriberAccess, visibilityOfLevel, type SubscriberAccess } from "../../src/routing/subscriber-access.js";
import { upsertSubscription, type Subscription } from "../../src/store/subscriptions.js";
import { deleteUserLink } from "../../src/store/user-links.js";
import { captureLogger } from "../commands/helpers.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { fixture } from "../support/fixtures.js";
import { accountsConfig, linkUser, testAccounts, type AccountsConfig } from "../support/gitlab-accounts.js";
import { startGitlabSim, type GitlabSim, type GitlabSimUser } from "../support/gitlab-sim.js";
import { dropPrefix, redisUrl } from "../support/redis.js";

const FRESH = 60_000;
let gitlab: GitlabSim;
let redis: Redis;
let config: AccountsConfig;
let seq = 0;

beforeAll(async () => {
  gitlab = await startGitlabSim();
  redis = new Redis(redisUrl);
  config = accountsConfig(gitlab);
});
afterAll(async () => {
  await gitlab.close();
  redis.disconnect();
  await dropPrefix(config.queuePrefix);
});

describe("subscriber access", () => {
  let tdb: TestDatabase;
  let accounts: GitlabAccounts;
  let access: SubscriberAccess;
  let clock: { now: number };
  let gUser: GitlabSimUser;
  let path: string;
  const subscriber = () => `subscriber${seq}`.padEnd(26, "0");

  async function subscription(visibility: Subscription["visibility"], kind: "project" | "group" = "project", p = path): Promise<Subscription> {
    return (await upsertSubscription(tdb.db, { channelId: `chan${seq}`, path: p, features: "issues", createdBy: subscriber(), ...(visibility ? { visibility: visibility as "private", kind } : {}) })).subscription;
  }
  const apiCalls = () => gitlab.requests.filter((r) => r.path.startsWith("/api/v4/"));

  beforeEach(async () => {
    seq++;
    gitlab.reset();
    clock = { now: Date.now() };
    tdb = await createTestDatabase("sqlite");
    const logger = captureLogger().logger;
    accounts = testAccounts({ config, db: tdb.db, redis, logger });
    access = createSubscriberAccess({ db: tdb.db, redis, keyPrefix: config.queuePrefix, accounts, logger, now: () => clock.now, freshMs: FRESH });
    path = `team${seq}/secret`;
    gitlab.addProject(path, "private");
    gUser = gitlab.addUser({ username: `sub${seq}` });
    gitlab.addMember(path, gUser, 20);
    await linkUser(accounts, gitlab, subscriber(), gUser);
  });
  afterEach(async () => {
    expect(gitlab.unhandled).toEqual([]);
    await tdb.drop();
  });

  it("lets public projects' events through without asking GitLab, and trusts unchecked (CLI) subscriptions", async () => {
    expect(await access.check(await subscription("public"))).toEqual({ allowed: true });
    expect(await access.check(await subscription("private"), "public")).toEqual({ allowed: true });
    expect(await access.check(await subscription(null, "project", `${path}-cli`))).toEqual({ allowed: true });
    expect(apiCalls()).toEqual([]);
  });

  it("asks GitLab once per subscription while the answer is fresh", async () => {
    const s = await subscription("private");
    for (let i = 0; i < 5; i++) expect(await access.check(s)).toEqual({ allowed: true });
    const calls = apiCalls().length;
    expect(calls).toBeGreaterThan(0);
    clock.now += FRESH - 1000;
    await access.check(s, "private");
    expect(apiCalls()).toHaveLength(calls);
    clock.now += 2000;
    await access.check(s, "internal");
    expect(apiCalls().length).toBeGreaterThan(calls);
  });

  it("stops non-public events when the subscriber loses access, tells the channel once, and resumes when access is back", async () => {
    const s = await subscription("private");
    expect((await access.check(s)).allowed).toBe(true);
    gitlab.removeMember(path, gUser);
    // Still cached: GitLab is not asked for every event.
    expect((await access.check(s)).allowed).toBe(true);
    clock.now += FRESH + 1;
    const lost = await access.check(s);
    expect(lost.allowed).toBe(false);
    expect(lost.notice).toContain(`Events of team${seq}/secret that are not public no longer reach this channel`);
    expect(lost.notice).toContain(`\`/gitlab subscriptions add team${seq}/secret\``);
    expect(await access.check(s)).toEqual({ allowed: false });
    clock.now += FRESH + 1;
    expect(await access.check(s)).toEqual({ allowed: false });

    gitlab.addMember(path, gUser, 30);
    clock.now += FRESH + 1;
    expect(await access.check(s)).toEqual({ allowed: true });
    gitlab.addMember(path, gUser, 10);
    clock.now += FRESH + 1;
    const again = await access.check(s);
    expect(again.allowed).toBe(false);
    expect(again.notice).toContain("is no longer Reporter or above");
  });

  it("stops when the subscriber disconnects", async () => {
    const s = await subscription("internal", "group", `team${seq}`);
    gitlab.addMember(`team${seq}`, gUser, 20);
    expect((await access.check(s)).allowed).toBe(true);
    await deleteUserLink(tdb.db, subscriber());
    clock.now += FRESH + 1;
    const verdict = await access.check(s);
    expect(verdict.allowed).toBe(false);
    expect(verdict.notice).toContain("disconnected their GitLab account");
  });

  it("keeps the last answer while GitLab cannot be asked", async () => {
    const s = await subscription("private");
    expect((await access.check(s)).allowed).toBe(true);
    clock.now += FRESH + 1;
    gitlab.failNext({ path: /^\/api\/v4\//, status: 500, times: 5 });
    expect((await access.check(s)).allowed).toBe(true);
  });

  it("the events worker drops the channel's events and posts the notice once; public projects' events still pass", async () => {
    const projectPath = "gitlabhq/gitlab-test";
    gitlab.addProject(projectPath, "private");
    gitlab.addMember(projectPath, gUser, 20);
    const s = await subscription("private", "project", projectPath);
    const issue = fixture<{ project: Record<string, unknown> }>("issue.json");
    const body = (level: number) => JSON.stringify({ ...issue, project: { ...issue.project, visibility_level: level } });
    const plan = (level: number) =>
      planDeliveries({ kind: "issue", eventHeader: "Issue Hook", receivedAt: Date.now(), body: body(level) }, { db: tdb.db, defaultLocale: "en", ignoredUsernames: [], subscriberAccess: access });
    expect((await plan(0)).deliveries.map((d) => d.data.channelId)).toEqual([s.channel_id]);

    gitlab.removeMember(projectPath, gUser);
    clock.now += FRESH + 1;
    const first = await plan(0);
    expect(first.deliveries).toHaveLength(1);
    expect(first.deliveries[0]!.data.post.message).toContain("no longer reach this channel");
    expect((await plan(0)).deliveries).toEqual([]);
    expect((await plan(20)).deliveries.map((d) => d.data.eventKey)).not.toContain(`access-lost/${s.id}`);
    expect((await plan(20)).deliveries).toHaveLength(1);
  });

  it("reads GitLab's visibility_level numbers", () => {
    expect([0, 10, 20, "public", 99, undefined].map(visibilityOfLevel)).toEqual(["private", "internal", "public", "public", undefined, undefined]);
  });
});
