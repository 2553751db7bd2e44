// Queue "personal": the jobs that write to one person on a timetable rather than on an event.
// - "digest": one delayed job per user and digest window (deterministic id), however many messages
//   were held meanwhile; it turns the held messages into ONE grouped direct message.
// - "reminder": made by a BullMQ job scheduler per user (cron pattern at their hour, in their
//   Mattermost time zone); sends their to-do list when something is pending.
// Neither posts itself: each queues one delivery job, and the delivery worker posts it.
import { Queue, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { GitlabAccounts } from "../gitlab/accounts.js";
import { GitlabAuthError } from "../gitlab/tokens.js";
import { t } from "../i18n/index.js";
import type { Logger } from "../logger.js";
import { languageOf, type Profiles } from "../people/profiles.js";
import { localDay, reminderPattern, reminderSchedulerId } from "../people/reminders.js";
import type { HeldMessage } from "../people/route.js";
import { fetchTodo, formatTodo, pendingCount } from "../people/todo.js";
import type { Db } from "../store/db.js";
import { deleteDigestItems, holdDigestItem, listDigestItems } from "../store/digest-items.js";
import { findUserLink, listUserLinks } from "../store/user-links.js";
import { getUserSettings, getUserSettingsMany, type Digest, type UserSettings } from "../store/user-settings.js";
import { DEDUPE_TTL_MS, personalJobId, type DeliveryJobData } from "./jobs.js";
import { RETAINED_JOBS, type DeliveryQueue } from "./queues.js";

export const PERSONAL_QUEUE = "personal";

export interface PersonalJobData {
  /** The Mattermost user the job writes to. */
  userId: string;
}
export type PersonalQueue = Queue<PersonalJobData>;

export type DigestWindows = Record<Exclude<Digest, "off">, number>;
export const DIGEST_WINDOWS_MS: DigestWindows = { "15m": 15 * 60_000, "1h": 60 * 60_000, "1d": 24 * 60 * 60_000 };
/** A digest job runs this long after its window closes, so messages held at the last moment make it. */
const DIGEST_GRACE_MS = 1000;
/** A digest shows at most this many lines (and stays well under Mattermost's post limit). */
const DIGEST_MAX_LINES = 50;
const DIGEST_MAX_CHARS = 15_000;

export function openPersonalQueue(connection: Redis, prefix: string): PersonalQueue {
  return new Queue<PersonalJobData>(PERSONAL_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: { attempts: 8, backoff: { type: "exponential", delay: 5000 }, ...RETAINED_JOBS },
  });
}

/** The window a time falls in, and the digest job that closes it. */
export function digestWindow(userId: string, digest: Exclude<Digest, "off">, at: number, windows: DigestWindows = DIGEST_WINDOWS_MS): { jobId: string; runAt: number } {
  const length = windows[digest];
  const index = Math.floor(at / length);
  return { jobId: `digest-${userId}-${digest}-${index}`, runAt: (index + 1) * length + DIGEST_GRACE_MS };
}

/**
 * Holds messages for their users' digests: each is stored (once, by its id) before its user's digest
 * job for the current window is added; a job that exists already is left as it is.
 */
export async function holdForDigest(
  db: Db,
  queue: PersonalQueue,
  held: readonly HeldMessage[],
  opts: { now?: () => number; windows?: DigestWindows } = {},
): Promise<void> {
  const now = opts.now ?? Date.now;
  for (const h of held) await holdDigestItem(db, { id: h.id, mattermostUserId: h.userId, createdAt: h.createdAt, reason: h.reason, message: h.line });
  const jobs = new Map<string, { userId: string; runAt: number }>();
  // The window is read after the rows are stored: a job that has already run belongs to an earlier one.
  const at = now();
  for (const h of held) {
    const { jobId, runAt } = digestWindow(h.userId, h.digest, at, opts.windows);
    jobs.set(jobId, { userId: h.userId, runAt });
  }
  for (const [jobId, { userId, runAt }] of jobs) {
    await queue.add("digest", { userId }, { jobId, delay: Math.max(0, runAt - at) });
  }
}

/** Creates, changes or removes the user's reminder scheduler; returns when it runs next, if it does. */
export async function syncReminder(
  queue: PersonalQueue,
  userId: string,
  settings: Pick<UserSettings, "reminders" | "reminderHour" | "reminderWeekends">,
  timeZone: string,
  linked: boolean,
): Promise<number | undefined> {
  const id = reminderSchedulerId(userId);
  if (!linked || !settings.reminders) {
    await queue.removeJobScheduler(id);
    return undefined;
  }
  const pattern = reminderPattern(settings);
  const existing = await queue.getJobScheduler(id);
  if (existing?.pattern === pattern && existing.tz === timeZone) return existing.next;
  await queue.upsertJobScheduler(
    id,
    { pattern, tz: timeZone },
    { name: "reminder", data: { userId }, opts: { attempts: 3, backoff: { type: "exponential", delay: 60_000 }, ...RETAINED_JOBS } },
  );
  return (await queue.getJobScheduler(id))?.next;
}

/**
 * Makes the schedulers match the linked accounts: a scheduler for each linked user with reminders on
 * who has none (their time zone asked of Mattermost), none for anyone else. Existing schedulers are
 * kept; each one checks its user's time zone and hour when it runs.
 */
export async function syncAllReminders(deps: { db: Db; queue: PersonalQueue; profiles: Profiles }): Promise<{ added: number; removed: number }> {
  const links = await listUserLinks(deps.db);
  const settings = await getUserSettingsMany(
    deps.db,
    links.map((l) => l.mattermostUserId),
  );
  const schedulers = await deps.queue.getJobSchedulers(0, -1);
  const existing = new Set(schedulers.map((s) => s.key));
  const wanted = new Set<string>();
  let added = 0;
  let removed = 0;
  for (const link of links) {
    const s = settings.get(link.mattermostUserId);
    if (!s?.reminders) continue;
    const id = reminderSchedulerId(link.mattermostUserId);
    wanted.add(id);
    if (existing.has(id)) continue;
    await syncReminder(deps.queue, link.mattermostUserId, s, await deps.profiles.timeZone(link.mattermostUserId), true);
    added++;
  }
  for (const key of existing) {
    if (key.startsWith("reminder-") && !wanted.has(key)) {
      await deps.queue.removeJobScheduler(key);
      removed++;
    }
  }
  return { added, removed };
}

export interface PersonalJobsDeps {
  db: Db;
  queue: PersonalQueue;
  deliveries: DeliveryQueue;
  profiles: Profiles;
  logger: Logger;
  /** Linked GitLab accounts (reminders fetch to-dos with them); undefined when GitLab is not configured. */
  gitlab?: () => GitlabAccounts | undefined;
  now?: () => number;
}

export type PersonalOutcome = { sent: boolean; why?: string; deliveryId?: string };

export function createPersonalJobs(deps: PersonalJobsDeps) {
  const now = deps.now ?? Date.now;

  async function queueMessage(id: string, data: DeliveryJobData): Promise<void> {
    await deps.deliveries.add("post", data, { jobId: id, deduplication: { id, ttl: DEDUPE_TTL_MS } });
  }

  /** One grouped direct message with everything held for the user. */
  async function digest(jobId: string, userId: string): Promise<PersonalOutcome> {
    const items = await listDigestItems(deps.db, userId);
    if (items.length === 0) return { sent: false, why: "nothing held" };
    const settings = await getUserSettings(deps.db, userId);
    if (!settings.notifications) {
      await deleteDigestItems(
        deps.db,
        items.map((i) => i.id),
      );
      return { sent: false, why: "notifications off" };
    }
    const locale = await languageOf(settings, deps.profiles, userId);
    const lines = [t(locale, items.length === 1 ? "personal.digest.title_one" : "personal.digest.title_other", { count: items.length })];
    let chars = lines[0]!.length;
    let shown = 0;
    for (const item of items) {
      const line = `- ${item.message}`;
      if (shown >= DIGEST_MAX_LINES || chars + line.length > DIGEST_MAX_CHARS) break;
      lines.push(line);
      chars += line.length + 1;
      shown++;
    }
    if (shown < items.length) lines.push(t(locale, "common.and_more", { count: items.length - shown }));
    const eventKey = `digest/${jobId}`;
    const id = personalJobId(eventKey, userId);
    await queueMessage(id, { userId, eventKey, confidential: false, post: { message: lines.join("\n") }, locale, receivedAt: Math.min(...items.map((i) => i.createdAt)) });
    // Only what this message holds: messages held meanwhile wait for the next window's job.
    await deleteDigestItems(
      deps.db,
      items.map((i) => i.id),
    );
    return { sent: true, deliveryId: id };
  }

  /** The daily reminder: the to-do list, when something is pending. */
  async function reminder(userId: string): Promise<PersonalOutcome> {
    const link = await findUserLink(deps.db, userId);
    const settings = await getUserSettings(deps.db, userId);
    if (!link || !settings.reminders) {
      await deps.queue.removeJobScheduler(reminderSchedulerId(userId));
      return { sent: false, why: link ? "reminders off" : "not connected" };
    }
    const timeZone = await deps.profiles.timeZone(userId);
    // The user may have moved (time zone) since the scheduler was made: the next run follows them.
    await syncReminder(deps.queue, userId, settings, timeZone, true);
    const day = localDay(timeZone, now());
    if (!settings.reminderWeekends && (day.weekday === 0 || day.weekday === 6)) return { sent: false, why: "weekend" };
    const accounts = deps.gitlab?.();
    if (!accounts) return { sent: false, why: "GitLab not configured" };
    let summary;
    try {
      summary = await fetchTodo(accounts, userId);
    } catch (error) {
      if (error instanceof GitlabAuthError && error.code !== "busy") return { sent: false, why: `GitLab account: ${error.code}` };
      throw error;
    }
    if (pendingCount(summary) === 0) return { sent: false, why: "nothing pending" };
    const locale = await languageOf(settings, deps.profiles, userId);
    const eventKey = `reminder/${day.date}`;
    const id = personalJobId(eventKey, userId);
    await queueMessage(id, { userId, eventKey, confidential: false, post: { message: formatTodo(locale, summary, accounts.gitlabUrl, "reminder") }, locale, receivedAt: now() });
    return { sent: true, deliveryId: id };
  }

  return { digest, reminder };
}

export function startPersonalWorker(deps: PersonalJobsDeps & { connection: Redis; prefix: string; concurrency?: number }): Worker<PersonalJobData> {
  const jobs = createPersonalJobs(deps);
  const worker = new Worker<PersonalJobData>(
    PERSONAL_QUEUE,
    async (job: Job<PersonalJobData>) => {
      const outcome = job.name === "digest" ? await jobs.digest(job.id ?? job.name, job.data.userId) : await jobs.reminder(job.data.userId);
      deps.logger.debug({ job: job.id, name: job.name, user: job.data.userId, ...outcome }, "personal job done");
      return outcome;
    },
    { connection: deps.connection, prefix: deps.prefix, concurrency: deps.concurrency ?? 4 },
  );
  worker.on("failed", (job, error) => deps.logger.warn({ job: job?.id, name: job?.name, user: job?.data.userId, err: error.message, attempts: job?.attemptsMade }, "personal job failed"));
  worker.on("error", (error) => deps.logger.error({ err: error.message }, "personal worker error"));
  return worker;
}
