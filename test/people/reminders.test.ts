// Daily reminders: the schedule computed with a fixed clock (pure), the BullMQ job schedulers it
// becomes (real Redis), and one reminder sent through the personal and delivery workers with to-dos
// from the GitLab simulator, to a Mattermost user in Asia/Shanghai.
import type { Worker } from "bullmq";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GitlabAccounts } from "../../src/gitlab/accounts.js";
import { createLogger } from "../../src/logger.js";
import { createMattermostClient, type MattermostApi } from "../../src/mattermost/client.js";
import { createMetrics } from "../../src/metrics.js";
import { createProfiles, timeZoneFromMattermost, type Profiles } from "../../src/people/profiles.js";
import { localDay, nextReminderAt, reminderPattern, reminderSchedulerId } from "../../src/people/reminders.js";
import { producerConnection, waitReady, workerConnection } from "../../src/queue/connection.js";
import { startDeliveryWorker } from "../../src/queue/delivery-worker.js";
import { createPersonalJobs, openPersonalQueue, startPersonalWorker, syncAllReminders, syncReminder, type PersonalQueue } from "../../src/queue/personal.js";
import { openQueues, type DeliveryQueue } from "../../src/queue/queues.js";
import { deleteUserLink, saveUserLink } from "../../src/store/user-links.js";
import { DEFAULT_SETTINGS, updateUserSettings } from "../../src/store/user-settings.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { accountsConfig, linkUser, testAccounts } from "../support/gitlab-accounts.js";
import { startGitlabSim, type GitlabSim, type GitlabSimUser } from "../support/gitlab-sim.js";
import { newId, startMattermostSim, type MattermostSim, type SimUser } from "../support/mattermost-sim.js";
import { dropPrefix, redisUrl, uniquePrefix } from "../support/redis.js";
import { waitFor } from "../support/wait.js";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const SHANGHAI = "Asia/Shanghai";
const shanghai = { useAutomaticTimezone: "false", automaticTimezone: "", manualTimezone: SHANGHAI };

describe("reminder schedule (fixed clock)", () => {
  const nine = { reminderHour: 9, reminderWeekends: false };

  it("is a cron pattern at the hour, weekdays only unless weekends are asked for", () => {
    expect(reminderPattern(nine)).toBe("0 9 * * 1-5");
    expect(reminderPattern({ reminderHour: 17, reminderWeekends: true })).toBe("0 17 * * *");
  });

  it.each([
    // Friday 10:00 in Shanghai: past today's 9:00, and Saturday and Sunday are skipped.
    ["2026-11-27T02:00:00Z", nine, "2026-11-30T01:00:00.000Z"],
    // Thursday 08:30 in Shanghai: today at 9:00 (01:00 UTC).
    ["2026-11-26T00:30:00Z", nine, "2026-11-26T01:00:00.000Z"],
    // Friday 10:00 with weekends: Saturday 9:00.
    ["2026-11-27T02:00:00Z", { reminderHour: 9, reminderWeekends: true }, "2026-11-28T01:00:00.000Z"],
    // Sunday 23:30 UTC is already Monday 07:30 in Shanghai: Monday 9:00 there.
    ["2026-11-29T23:30:00Z", nine, "2026-11-30T01:00:00.000Z"],
  ] as const)("from %s: next run %s", (now, timing, expected) => {
    expect(iso(nextReminderAt(timing, SHANGHAI, at(now)))).toBe(expected);
  });

  it("follows the zone's clock across a daylight-saving change", () => {
    // New York leaves DST on 2026-11-01: 9:00 is 13:00 UTC before, 14:00 UTC after.
    expect(iso(nextReminderAt(nine, "America/New_York", at("2026-10-30T14:00:00Z")))).toBe("2026-11-02T14:00:00.000Z");
    expect(iso(nextReminderAt(nine, "America/New_York", at("2026-10-29T12:00:00Z")))).toBe("2026-10-29T13:00:00.000Z");
  });

  it("reads the day where the user is", () => {
    expect(localDay(SHANGHAI, at("2026-11-27T17:00:00Z"))).toEqual({ weekday: 6, date: "2026-11-28" });
    expect(localDay("UTC", at("2026-11-27T17:00:00Z"))).toEqual({ weekday: 5, date: "2026-11-27" });
  });

  it("takes the time zone Mattermost shows the user", () => {
    expect(timeZoneFromMattermost(shanghai)).toBe(SHANGHAI);
    expect(timeZoneFromMattermost({ useAutomaticTimezone: "true", automaticTimezone: "Europe/Berlin", manualTimezone: "" })).toBe("Europe/Berlin");
    expect(timeZoneFromMattermost({ useAutomaticTimezone: true, automaticTimezone: "", manualTimezone: "" })).toBe("UTC");
    expect(timeZoneFromMattermost({ useAutomaticTimezone: "false", automaticTimezone: "", manualTimezone: "Not/AZone" })).toBe("UTC");
    expect(timeZoneFromMattermost(undefined)).toBe("UTC");
  });
});

describe("reminders with BullMQ, GitLab and Mattermost", () => {
  const prefix = uniquePrefix("reminders");
  let sim: MattermostSim;
  let gitlab: GitlabSim;
  let t: TestDatabase;
  let producer: Redis;
  let consumer: Redis;
  let personal: PersonalQueue;
  let deliveries: DeliveryQueue;
  let mattermost: MattermostApi;
  let profiles: Profiles;
  let accounts: GitlabAccounts;
  let workers: Worker[] = [];
  let reader: SimUser;
  let readerGitlab: GitlabSimUser;
  const logger = createLogger("silent");
  // Wednesday 2026-11-25, 09:00 in Shanghai.
  let clock = at("2026-11-25T01:00:00Z");

  beforeAll(async () => {
    sim = await startMattermostSim();
    gitlab = await startGitlabSim();
    t = await createTestDatabase("sqlite");
    producer = producerConnection(redisUrl);
    consumer = workerConnection(redisUrl);
    await waitReady(producer);
    personal = openPersonalQueue(producer, prefix);
    deliveries = openQueues(producer, prefix).deliveries;
    mattermost = createMattermostClient(sim.url, sim.botToken);
    profiles = createProfiles({ mattermost, defaultLocale: "en" });
    accounts = testAccounts({ config: accountsConfig(gitlab, { queuePrefix: prefix }), db: t.db, redis: producer, logger });
    reader = sim.addUser({ username: "reader", locale: "zh-CN", timezone: shanghai });
    readerGitlab = gitlab.addUser({ username: "reader" });
    const alice = gitlab.addUser({ username: "alice" });
    gitlab.addProject("acme/app", "private");
    gitlab.addMember("acme/app", readerGitlab, 30);
    gitlab.addMember("acme/app", alice, 30);
    gitlab.addMergeRequest({ project: "acme/app", iid: 7, title: "Faster builds", author: alice, reviewers: [readerGitlab] });
    gitlab.addTodo(readerGitlab, { project: "acme/app", target: "MergeRequest", iid: 7, action: "review_requested", author: alice });
    await linkUser(accounts, gitlab, reader.id, readerGitlab);
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await Promise.all([personal.close(), deliveries.close()]);
    producer.disconnect();
    consumer.disconnect();
    await dropPrefix(prefix);
    await Promise.all([sim.close(), gitlab.close()]);
    await t.drop();
  });

  it("schedules the user's reminder at their hour in their time zone, and removes it when turned off", async () => {
    const before = Date.now();
    const next = await syncReminder(personal, reader.id, DEFAULT_SETTINGS, SHANGHAI, true);
    const scheduler = await personal.getJobScheduler(reminderSchedulerId(reader.id));
    expect(scheduler).toMatchObject({ pattern: "0 9 * * 1-5", tz: SHANGHAI, name: "reminder" });
    expect([nextReminderAt(DEFAULT_SETTINGS, SHANGHAI, before), nextReminderAt(DEFAULT_SETTINGS, SHANGHAI, Date.now())]).toContain(next);
    expect(scheduler?.template?.data).toEqual({ userId: reader.id });

    await syncReminder(personal, reader.id, { ...DEFAULT_SETTINGS, reminderHour: 18, reminderWeekends: true }, SHANGHAI, true);
    expect(await personal.getJobScheduler(reminderSchedulerId(reader.id))).toMatchObject({ pattern: "0 18 * * *", tz: SHANGHAI });
    expect(await personal.getJobSchedulersCount()).toBe(1);

    await syncReminder(personal, reader.id, { ...DEFAULT_SETTINGS, reminders: false }, SHANGHAI, true);
    expect(await personal.getJobScheduler(reminderSchedulerId(reader.id))).toBeUndefined();
  });

  it("gives every linked user with reminders on a scheduler, and nobody else", async () => {
    const gone = newId(); // a user Mattermost no longer has
    await saveUserLink(t.db, { mattermostUserId: gone, gitlabUserId: 9999, gitlabUsername: "gone", accessTokenEnc: "x", refreshTokenEnc: "y", expiresAt: 0 });
    const quiet = sim.addUser({ username: "quiet" });
    await saveUserLink(t.db, { mattermostUserId: quiet.id, gitlabUserId: 9998, gitlabUsername: "quiet", accessTokenEnc: "x", refreshTokenEnc: "y", expiresAt: 0 });
    await updateUserSettings(t.db, quiet.id, { reminders: false });
    expect(await syncAllReminders({ db: t.db, queue: personal, profiles })).toEqual({ added: 2, removed: 0 });
    expect(await personal.getJobScheduler(reminderSchedulerId(reader.id))).toMatchObject({ pattern: "0 9 * * 1-5", tz: SHANGHAI });
    // Unknown to Mattermost: defaults (UTC).
    expect(await personal.getJobScheduler(reminderSchedulerId(gone))).toMatchObject({ tz: "UTC" });
    expect(await personal.getJobScheduler(reminderSchedulerId(quiet.id))).toBeUndefined();

    await deleteUserLink(t.db, gone);
    expect(await syncAllReminders({ db: t.db, queue: personal, profiles })).toEqual({ added: 0, removed: 1 });
    expect(await personal.getJobSchedulersCount()).toBe(1);
  });

  it("sends one reminder through the workers: the to-do list, in the user's language", async () => {
    workers = [
      startPersonalWorker({ db: t.db, queue: personal, deliveries, profiles, logger, gitlab: () => accounts, connection: consumer, prefix, now: () => clock }),
      startDeliveryWorker({ db: t.db, mattermost, botUserId: sim.bot.id, logger, metrics: createMetrics(), connection: consumer, prefix }),
    ];
    // What the scheduler does at 9:00: a "reminder" job for the user.
    await personal.add("reminder", { userId: reader.id });
    const dm = (await mattermost.createDirectChannel(sim.bot.id, reader.id)).id;
    await waitFor(() => sim.posts(dm).length === 1, 10_000, "the reminder");
    const message = sim.posts(dm)[0]!.message;
    expect(message.split("\n")[0]).toBe("**GitLab 每日提醒**：以下事项等待您处理。");
    expect(message).toContain(`**待办事项**：1\n- [acme/app!7 Faster builds](${gitlab.url}/acme/app/-/merge_requests/7) · 请求评审 · @\u200Balice`);
    expect(message).toContain("**等待您评审的合并请求**：1");
    expect(gitlab.unhandled).toEqual([]);
    expect(sim.violations).toEqual([]);
  });

  it("skips weekends unless asked, days with nothing pending, and users no longer connected", async () => {
    const jobs = createPersonalJobs({ db: t.db, queue: personal, deliveries, profiles, logger, gitlab: () => accounts, now: () => clock });
    clock = at("2026-11-28T01:00:00Z"); // Saturday 09:00 in Shanghai
    expect(await jobs.reminder(reader.id)).toEqual({ sent: false, why: "weekend" });
    await updateUserSettings(t.db, reader.id, { reminderWeekends: true });
    expect(await jobs.reminder(reader.id)).toMatchObject({ sent: true });

    clock = at("2026-11-25T01:00:00Z"); // back to Wednesday
    const idle = gitlab.addUser({ username: "idle" });
    const idleUser = sim.addUser({ username: "idle" });
    await linkUser(accounts, gitlab, idleUser.id, idle);
    expect(await jobs.reminder(idleUser.id)).toEqual({ sent: false, why: "nothing pending" });

    await deleteUserLink(t.db, idleUser.id);
    expect(await jobs.reminder(idleUser.id)).toEqual({ sent: false, why: "not connected" });
    expect(await personal.getJobScheduler(reminderSchedulerId(idleUser.id))).toBeUndefined();
  });
});
