// Someone merely @mentioned in a private or internal project gets a direct message only if GitLab,
// asked with their own account, says they see the project.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRecipientAccess } from "../../src/people/recipient-access.js";
import { planDeliveries } from "../../src/queue/events-worker.js";
import type { Profiles } from "../../src/people/profiles.js";
import { captureLogger } from "../commands/helpers.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { fixture } from "../support/fixtures.js";
import { accountsConfig, linkUser, testAccounts, type AccountsConfig } from "../support/gitlab-accounts.js";
import { startGitlabSim, type GitlabSim } from "../support/gitlab-sim.js";
import { dropPrefix, redisUrl } from "../support/redis.js";

let gitlab: GitlabSim;
let redis: Redis;
let config: AccountsConfig;
let tdb: TestDatabase;

beforeAll(async () => {
  gitlab = await startGitlabSim();
  redis = new Redis(redisUrl);
  config = accountsConfig(gitlab);
  tdb = await createTestDatabase("sqlite");
});
afterAll(async () => {
  await gitlab.close();
  redis.disconnect();
  await dropPrefix(config.queuePrefix);
  await tdb.drop();
});

describe("mentions in non-public projects", () => {
  it("reach only mentioned people who can see the project", async () => {
    const logger = captureLogger().logger;
    const accounts = testAccounts({ config, db: tdb.db, redis, logger });
    const path = "secret-team/app";
    gitlab.addProject(path, "private");
    const insider = gitlab.addUser({ username: "insider" });
    const outsider = gitlab.addUser({ username: "outsider" });
    gitlab.addMember(path, insider, 30);
    await linkUser(accounts, gitlab, "mm-insider".padEnd(26, "0"), insider);
    await linkUser(accounts, gitlab, "mm-outsider".padEnd(26, "0"), outsider);

    const issue = fixture<Record<string, unknown> & { project: Record<string, unknown>; object_attributes: Record<string, unknown> }>("issue.json");
    const body = {
      ...issue,
      project: { ...issue.project, path_with_namespace: path, visibility_level: 0 },
      object_attributes: { ...issue.object_attributes, description: "Please look, @insider and @outsider" },
    };
    const profiles: Profiles = { locale: async () => "en", timeZone: async () => "UTC" };
    const plan = (recipientAccess?: ReturnType<typeof createRecipientAccess>) =>
      planDeliveries(
        { kind: "issue", eventHeader: "Issue Hook", receivedAt: 1, body: JSON.stringify(body) },
        { db: tdb.db, defaultLocale: "en", ignoredUsernames: [], people: { profiles, queue: undefined as never, recipientAccess } },
      );
    const dmTo = async (recipientAccess?: ReturnType<typeof createRecipientAccess>) =>
      (await plan(recipientAccess)).deliveries.map((d) => d.data.userId).filter(Boolean);

    const access = createRecipientAccess({ redis, keyPrefix: config.queuePrefix, accounts, logger });
    expect(await dmTo(access)).toEqual(["mm-insider".padEnd(26, "0")]);
    // Without a way to ask GitLab, nobody merely mentioned hears of a private project.
    expect(await dmTo(undefined)).toEqual([]);
    // The answer is kept: a second event does not ask GitLab again.
    const asked = gitlab.requests.length;
    await dmTo(access);
    expect(gitlab.requests.length).toBe(asked);
  });
});
