// The router's personal half: from the notices of one event (handlers/recipients/, pure) to direct
// messages. GitLab users become Mattermost users through linked accounts; only those with
// notifications on, never whoever acted, each once per event with the most telling reason, in their
// language. Users with a digest get the message held for it instead.
import { visibilityOf, type EventKind, type PayloadOf } from "../../handlers/index.js";
import { timeKey } from "../../handlers/common.js";
import type { MergeRequestPayload } from "../../handlers/payloads.js";
import { personalNoticesFor, reasonRank, type KnownRole, type PersonalNotice, type PersonalReason, type PersonRef } from "../../handlers/recipients/index.js";
import type { Locale } from "../config.js";
import { t } from "../i18n/index.js";
import type { Notification, PostContent } from "../notification.js";
import { personalJobId, type DeliveryJobData } from "../queue/jobs.js";
import type { Db } from "../store/db.js";
import { findMergeRequestPeople, saveMergeRequestPeople } from "../store/merge-request-people.js";
import { findUserLinksByGitlabIds, findUserLinksByUsernames, type UserLink } from "../store/user-links.js";
import { getUserSettingsMany, type Digest } from "../store/user-settings.js";
import { truncate } from "../text/markdown.js";
import { languageOf, type Profiles } from "./profiles.js";
import type { RecipientAccess } from "./recipient-access.js";

export interface PersonalRouteDeps {
  db: Db;
  profiles: Profiles;
  ignoredUsernames: readonly string[];
  /** Whether someone only mentioned may read about a project that is not public (absent: they may not). */
  recipientAccess?: RecipientAccess;
  now?: () => number;
}

export interface PlannedDirectMessage {
  id: string;
  data: DeliveryJobData & { userId: string };
}

/** A direct message held for the user's digest. */
export interface HeldMessage {
  id: string;
  userId: string;
  digest: Exclude<Digest, "off">;
  reason: PersonalReason;
  /** The digest's line for it, in the user's language. */
  line: string;
  createdAt: number;
}

export interface PersonalPlan {
  deliveries: PlannedDirectMessage[];
  held: HeldMessage[];
}

/** The line above the repeated post: why this reaches them. */
export function reasonLine(locale: Locale, reason: PersonalReason): string {
  return `**${t(locale, `personal.reason.${reason}`)}**`;
}

/** A direct message: the reason line, then the post the channels get. */
export function directMessagePost(locale: Locale, reason: PersonalReason, post: PostContent): PostContent {
  return { ...post, message: `${reasonLine(locale, reason)}\n${post.message}` };
}

/** A held message as one line of a digest: the reason and the post's first line. */
export function digestLine(locale: Locale, reason: PersonalReason, post: PostContent): string {
  const first = post.message.split("\n")[0] ?? "";
  return truncate(`${t(locale, `personal.reason.${reason}`)} · ${first}`, 1000);
}

/**
 * Remembers who a merge request concerns, for later events that do not say (pipelines, comments).
 * Called by the events worker beside its other writes of the event (they share a commit), before planPersonal.
 */
export async function rememberMergeRequest(db: Db, p: MergeRequestPayload): Promise<void> {
  const a = p.object_attributes;
  const idsOf = (users: MergeRequestPayload["assignees"]) => (users ?? []).map((u) => u.id).filter((id): id is number => typeof id === "number");
  await saveMergeRequestPeople(
    db,
    `${p.project.path_with_namespace}!${a.iid}`,
    {
      ...(typeof a.author_id === "number" ? { authorId: a.author_id } : {}),
      assigneeIds: a.assignee_ids ?? idsOf(p.assignees),
      reviewerIds: a.reviewer_ids ?? idsOf(p.reviewers),
    },
    timeKey(a.updated_at ?? a.created_at),
  );
}

/** Adds the people the bot remembers about the notice's merge request, in the roles it asks for. */
async function withKnownPeople(db: Db, notice: PersonalNotice): Promise<PersonalNotice["recipients"]> {
  const threadKey = notice.notification.threadKey;
  if (!notice.known || !threadKey?.includes("!")) return notice.recipients;
  const people = await findMergeRequestPeople(db, threadKey);
  if (!people) return notice.recipients;
  const byRole: Record<KnownRole, number[]> = {
    author: people.authorId === undefined ? [] : [people.authorId],
    assignees: people.assigneeIds,
    reviewers: people.reviewerIds,
  };
  const out = [...notice.recipients];
  for (const [role, reason] of Object.entries(notice.known.roles) as [KnownRole, PersonalReason][]) {
    for (const id of byRole[role]) out.push({ person: { id }, reason });
  }
  return out;
}

/**
 * Whether a link is this person: by id when the payload gives one (usernames can be renamed and
 * taken by someone else), else by username.
 */
function matches(link: UserLink, person: PersonRef): boolean {
  if (person.id !== undefined) return link.gitlabUserId === person.id;
  return person.username !== undefined && link.gitlabUsername.toLowerCase() === person.username.toLowerCase();
}

/** Whether a link may be whoever acted: by id or by username (when in doubt, they are not told). */
function mayBe(link: UserLink, actor: PersonRef): boolean {
  return link.gitlabUserId === actor.id || (actor.username !== undefined && link.gitlabUsername.toLowerCase() === actor.username.toLowerCase());
}

export async function planPersonal<K extends EventKind>(
  kind: K,
  payload: PayloadOf<K>,
  notifications: Notification[],
  receivedAt: number,
  deps: PersonalRouteDeps,
): Promise<PersonalPlan> {
  const now = deps.now ?? Date.now;
  const plan: PersonalPlan = { deliveries: [], held: [] };
  const ignored = new Set(deps.ignoredUsernames.map((u) => u.toLowerCase()));
  const notices = personalNoticesFor(kind, payload, notifications).filter((n) => !ignored.has((n.notification.actorUsername ?? "").toLowerCase()));
  if (notices.length === 0) return plan;

  const resolved = await Promise.all(notices.map(async (notice) => ({ notice, recipients: await withKnownPeople(deps.db, notice) })));
  const ids = new Set<number>();
  const names = new Set<string>();
  for (const { recipients } of resolved) {
    for (const { person } of recipients) {
      if (person.id !== undefined) ids.add(person.id);
      if (person.username) names.add(person.username.toLowerCase());
    }
  }
  const [byId, byName] = await Promise.all([findUserLinksByGitlabIds(deps.db, [...ids]), findUserLinksByUsernames(deps.db, [...names])]);
  const links = new Map<string, UserLink>();
  for (const link of [...byId, ...byName]) links.set(link.mattermostUserId, link);
  if (links.size === 0) return plan;

  // Each person once per event, with the most telling reason (the first notice wins a tie).
  const chosen = new Map<string, { notice: PersonalNotice; reason: PersonalReason }>();
  for (const { notice, recipients } of resolved) {
    for (const { person, reason } of recipients) {
      for (const link of links.values()) {
        if (!matches(link, person)) continue;
        if (notice.actor && mayBe(link, notice.actor)) continue;
        const current = chosen.get(link.mattermostUserId);
        if (!current || reasonRank(reason) < reasonRank(current.reason)) chosen.set(link.mattermostUserId, { notice, reason });
      }
    }
  }
  if (chosen.size === 0) return plan;

  // A mention in a private or internal project reaches only people GitLab says can see the project.
  if (visibilityOf(kind, payload) !== "public") {
    for (const [userId, { notice, reason }] of chosen) {
      if (reason !== "mentioned") continue;
      const sees = deps.recipientAccess ? await deps.recipientAccess.canSee(userId, notice.notification.projectPath) : false;
      if (!sees) chosen.delete(userId);
    }
  }
  if (chosen.size === 0) return plan;

  const settings = await getUserSettingsMany(deps.db, [...chosen.keys()]);
  const rendered = new Map<Notification, Map<Locale, PostContent>>();
  const render = (n: Notification, locale: Locale): PostContent => {
    let byLocale = rendered.get(n);
    if (!byLocale) rendered.set(n, (byLocale = new Map()));
    let post = byLocale.get(locale);
    if (!post) byLocale.set(locale, (post = n.render(locale)));
    return post;
  };

  for (const [userId, { notice, reason }] of chosen) {
    const s = settings.get(userId);
    if (!s?.notifications) continue;
    const locale = await languageOf(s, deps.profiles, userId);
    const n = notice.notification;
    const post = render(n, locale);
    const id = personalJobId(n.eventKey, userId);
    if (s.digest !== "off") {
      plan.held.push({ id, userId, digest: s.digest, reason, line: digestLine(locale, reason, post), createdAt: now() });
      continue;
    }
    plan.deliveries.push({
      id,
      data: {
        userId,
        eventKey: n.eventKey,
        // Direct messages about one issue or merge request thread together in the DM channel.
        ...(n.threadKey ? { threadKey: n.threadKey } : {}),
        confidential: n.confidential,
        post: directMessagePost(locale, reason, post),
        locale,
        receivedAt,
      },
    });
  }
  return plan;
}
