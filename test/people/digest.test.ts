// Digests against real Redis, the databases and the Mattermost simulator: the events, delivery and
// personal workers as the bot runs them, with digest windows of a second or two and a clock the test
// holds still, so every message of a window is held and ONE grouped DM follows when it closes.
import type { Worker } from "bullmq";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.js";
import { createMattermostClient, type MattermostApi } from "../../src/mattermost/client.js";
import { createMetrics } from "../../src/metrics.js";
import { createProfiles } from "../../src/people/profiles.js";
import { producerConnection, waitReady, workerConnection } from "../../src/queue/connection.js";
import { startDeliveryWorker } from "../../src/queue/delivery-worker.js";
import { startEventsWorker } from "../../src/queue/events-worker.js";
import type { EventJobData } from "../../src/queue/jobs.js";
import { digestWindow, openPersonalQueue, startPersonalWorker, type DigestWindows, type PersonalQueue } from "../../src/queue/personal.js";
import { openQueues, type DeliveryQueue, type EventQueue } from "../../src/queue/queues.js";
import { listDigestItems } from "../../src/store/digest-items.js";
import { saveUserLink } from "../../src/store/user-links.js";
import { updateUserSettings } from "../../src/store/user-settings.js";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../support/db.js";
import { fixture } from "../support/fixtures.js";
import { startMattermostSim, type MattermostSim, type SimUser } from "../support/mattermost-sim.js";
import { dropPrefix, redisUrl, uniquePrefix } from "../support/redis.js";
import { waitFor } from "../support/wait.js";

type Json = Record<string, unknown>;
const note = fixture<Json & { object_attributes: Json; merge_request: Json }>("note_merge_request.json");
const logger = createLogger("silent");
const WINDOWS: DigestWindows = { "15m": 1500, "1h": 3000, "1d": 6000 };

/** A comment on the fixture's merge request (assignee 28) by someone else. */
function comment(id: number, text: string): EventJobData {
  const body = { ...note, user: { id: 300, username: "someone", name: "Someone" }, object_attributes: { ...note.object_attributes, id, note: text } };
  return { kind: "note", receivedAt: Date.now(), body: JSON.stringify(body) };
}

describe.each(databaseKinds)("digests on %s", (dbKind) => {
  const prefix = uniquePrefix("digest");
  let sim: MattermostSim;
  let t: TestDatabase;
  let producer: Redis;
  let consumer: Redis;
  let events: EventQueue;
  let deliveries: DeliveryQueue;
  let personal: PersonalQueue;
  let workers: Worker[];
  let mattermost: MattermostApi;
  let reader: SimUser;
  let dmChannel: string;
  // The clock the events worker reads: held still inside one window (aligned to its start).
  let clock = Math.ceil(Date.now() / WINDOWS["15m"]) * WINDOWS["15m"] + 100;

  beforeAll(async () => {
    sim = await startMattermostSim();
    t = await createTestDatabase(dbKind);
    producer = producerConnection(redisUrl);
    consumer = workerConnection(redisUrl);
    await waitReady(producer);
    ({ events, deliveries } = openQueues(producer, prefix));
    personal = openPersonalQueue(producer, prefix);
    mattermost = createMattermostClient(sim.url, sim.botToken);
    const profiles = createProfiles({ mattermost, defaultLocale: "en" });
    reader = sim.addUser({ username: "reader" });
    await saveUserLink(t.db, { mattermostUserId: reader.id, gitlabUserId: 28, gitlabUsername: "user28", accessTokenEnc: "x", refreshTokenEnc: "y", expiresAt: 0 });
    await updateUserSettings(t.db, reader.id, { digest: "15m" });
    dmChannel = (await mattermost.createDirectChannel(sim.bot.id, reader.id)).id;
    workers = [
      startEventsWorker({
        db: t.db,
        defaultLocale: "en",
        ignoredUsernames: [],
        connection: consumer,
        prefix,
        deliveries,
        logger,
        people: { profiles, queue: personal, digestWindows: WINDOWS, now: () => clock },
      }),
      startDeliveryWorker({ db: t.db, mattermost, botUserId: sim.bot.id, logger, metrics: createMetrics(), connection: consumer, prefix }),
      startPersonalWorker({ db: t.db, queue: personal, deliveries, profiles, logger, connection: consumer, prefix }),
    ];
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await Promise.all([events.close(), deliveries.close(), personal.close()]);
    producer.disconnect();
    consumer.disconnect();
    await dropPrefix(prefix);
    await sim.close();
    await t.drop();
  });

  async function eventsDone() {
    const counts = await events.getJobCounts("waiting", "active", "delayed");
    return (counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0) === 0;
  }

  it("holds a window's messages and sends them as one grouped DM when it closes", async () => {
    for (const [i, text] of ["first", "second", "third"].entries()) await events.add("note", comment(9000 + i, text), { jobId: `digest-test-${dbKind}-${i}` });
    await waitFor(eventsDone, 10_000, "events handled");
    // Three held, one pending digest job for the user and window.
    expect((await listDigestItems(t.db, reader.id)).map((i) => i.reason)).toEqual(["comment_mr_assignee", "comment_mr_assignee", "comment_mr_assignee"]);
    const delayed = await personal.getDelayed();
    expect(delayed.map((j) => j.id)).toEqual([digestWindow(reader.id, "15m", clock, WINDOWS).jobId]);
    expect(sim.posts(dmChannel)).toEqual([]);

    await waitFor(() => sim.posts(dmChannel).length === 1, 10_000, "the digest");
    const [digest] = sim.posts(dmChannel);
    const lines = digest!.message.split("\n");
    expect(lines[0]).toBe("**GitLab digest**: 3 notifications");
    expect(lines.slice(1)).toEqual([1, 2, 3].map(() => expect.stringMatching(/^- New comment on a merge request assigned to you · \*\*\[gitlab-org\/gitlab-test\]/)));
    expect(await listDigestItems(t.db, reader.id)).toEqual([]);
    expect(sim.violations).toEqual([]);
  });

  it("starts a new window for messages after it, in the language chosen meanwhile", async () => {
    clock += WINDOWS["15m"];
    await updateUserSettings(t.db, reader.id, { language: "zh-CN" });
    await events.add("note", comment(9100, "fourth"), { jobId: `digest-test-${dbKind}-4` });
    await waitFor(() => sim.posts(dmChannel).length === 2, 10_000, "the second digest");
    expect(sim.posts(dmChannel)[1]!.message.split("\n")).toEqual(["**GitLab 摘要**：1 条通知", expect.stringMatching(/^- 指派给您的合并请求有新评论 · /)]);
  });

  it("sends at once again when the digest is turned off", async () => {
    await updateUserSettings(t.db, reader.id, { digest: "off", language: undefined });
    await events.add("note", comment(9200, "fifth"), { jobId: `digest-test-${dbKind}-5` });
    await waitFor(() => sim.posts(dmChannel).length === 3, 10_000, "the direct message");
    expect(sim.posts(dmChannel)[2]!.message.split("\n")[0]).toBe("**New comment on a merge request assigned to you**");
    expect(await personal.getDelayed()).toEqual([]);
  });
});
