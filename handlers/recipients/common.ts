// Whom an event concerns personally: the shapes every recipients file returns, and what they share
// (mentions, the actor, people lists). Pure, like the handlers: payload in, notices out.
import type { Notification } from "../../src/notification.js";
import { MAX_MENTIONS, mentionedUsernames } from "../../src/text/mentions.js";

/** A GitLab user as a payload names them: by id, by username, or both. */
export interface PersonRef {
  id?: number;
  username?: string;
}

/**
 * Why a person gets a direct message. Each has a line `personal.reason.<reason>` in the catalogs; when
 * one event concerns a person for several reasons, the first in this list is the one they are told.
 */
export const PERSONAL_REASONS = [
  "review_requested",
  "assigned",
  "unassigned",
  "mentioned",
  "mr_merged",
  "mr_approved",
  "mr_unapproved",
  "mr_closed",
  "mr_reopened",
  "pipeline_failed_mr",
  "pipeline_failed_started",
  "issue_closed_author",
  "issue_closed_assignee",
  "issue_reopened_author",
  "issue_reopened_assignee",
  "comment_mr_author",
  "comment_issue_author",
  "comment_mr_assignee",
  "comment_issue_assignee",
  "comment_mr_reviewer",
] as const;
export type PersonalReason = (typeof PERSONAL_REASONS)[number];

export function reasonRank(reason: PersonalReason): number {
  return PERSONAL_REASONS.indexOf(reason);
}

/** The roles the bot remembers about a merge request (src/store/merge-request-people.ts). */
export type KnownRole = "author" | "assignees" | "reviewers";

export interface PersonalNotice {
  /**
   * The post the direct message repeats under its reason line: usually the notification the channels
   * get; for changes no channel hears about (a new assignee of a merge request), one made for the DM.
   * Its eventKey, threadKey and confidentiality are the DM's.
   */
  notification: Notification;
  /** Who acted; never told about their own action. */
  actor?: PersonRef;
  recipients: { person: PersonRef; reason: PersonalReason }[];
  /**
   * People the payload does not name but earlier events of the merge request did (a pipeline payload
   * has no author; a comment's has no reviewers): the router looks them up by the notification's
   * merge request thread key (set by then also for pipelines of a branch with an open MR).
   */
  known?: { roles: Partial<Record<KnownRole, PersonalReason>> };
}

export { mentionedUsernames };

/** Usernames mentioned in `current` that `previous` did not mention (an edited description). */
export function newlyMentioned(previous: string | null | undefined, current: string | null | undefined): string[] {
  const before = new Set(mentionedUsernames(previous).map((u) => u.toLowerCase()));
  return mentionedUsernames(current).filter((u) => !before.has(u.toLowerCase()));
}

export interface UserLike {
  id?: number | null;
  username?: string | null;
}

/** A payload's user as a PersonRef, or undefined when it names nobody. */
export function personOf(u: UserLike | null | undefined): PersonRef | undefined {
  if (!u) return undefined;
  const ref: PersonRef = {};
  if (typeof u.id === "number") ref.id = u.id;
  if (u.username) ref.username = u.username;
  return ref.id === undefined && ref.username === undefined ? undefined : ref;
}

export function samePerson(a: PersonRef, b: PersonRef): boolean {
  if (a.id !== undefined && b.id !== undefined) return a.id === b.id;
  return !!a.username && !!b.username && a.username.toLowerCase() === b.username.toLowerCase();
}

/**
 * People of a list of users and of ids (an issue's `assignees` may carry no ids, its `assignee_ids`
 * no names): each user, then each id no listed user has. One person may so appear twice, by name and
 * by id; the router sends each Mattermost user one message.
 */
export function people(users: readonly (UserLike | null | undefined)[] | null | undefined, ...ids: (readonly number[] | number | null | undefined)[]): PersonRef[] {
  const out: PersonRef[] = [];
  for (const u of users ?? []) {
    const p = personOf(u);
    if (p && !out.some((o) => samePerson(o, p))) out.push(p);
  }
  for (const group of ids) {
    for (const id of typeof group === "number" ? [group] : (group ?? [])) if (!out.some((o) => o.id === id)) out.push({ id });
  }
  return out;
}

/** People in `current` that are not in `previous`. */
export function added(previous: readonly PersonRef[], current: readonly PersonRef[]): PersonRef[] {
  return current.filter((c) => !previous.some((p) => samePerson(p, c)));
}

/** Builder for a notice's recipients: one entry per (person, reason). */
export class Recipients {
  readonly list: { person: PersonRef; reason: PersonalReason }[] = [];
  add(persons: PersonRef | readonly PersonRef[] | undefined, reason: PersonalReason): this {
    if (!persons) return this;
    for (const person of Array.isArray(persons) ? (persons as PersonRef[]) : [persons as PersonRef]) this.list.push({ person, reason });
    return this;
  }
  private mentioned = 0;
  /** Adds the mentioned people, up to {@link MAX_MENTIONS} for the whole event. */
  mentions(usernames: readonly string[], confidential: boolean): this {
    // Confidential items reach only their author, assignees and reviewers, never whoever is mentioned.
    if (confidential) return this;
    const kept = usernames.slice(0, Math.max(0, MAX_MENTIONS - this.mentioned));
    this.mentioned += kept.length;
    return this.add(
      kept.map((username) => ({ username })),
      "mentioned",
    );
  }
}
