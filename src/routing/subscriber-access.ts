// Whether a subscription's subscriber still may see what it posts: the person whose
// GitLab account vouched for a subscription (`created_by`) must stay connected and keep Reporter or
// above on the subscribed path, or events of non-public projects stop reaching that channel. GitLab is
// asked at most once per subscription every `freshMs` (the answer is kept in Redis, shared by every
// process); when GitLab cannot be asked, the last answer stands. The first time a subscription loses
// its subscriber's access, the caller gets a notice to post in the channel, once (until access is back).
import type { Redis } from "ioredis";
import type { GitlabAccounts } from "../gitlab/accounts.js";
import { ACCESS_LEVEL, type Visibility } from "../gitlab/access.js";
import { describeGitlabError } from "../gitlab/client.js";
import { GitlabAuthError } from "../gitlab/tokens.js";
import type { Logger } from "../logger.js";
import type { Db } from "../store/db.js";
import type { Subscription } from "../store/subscriptions.js";
import { findUserLink } from "../store/user-links.js";
import { escapeInline } from "../text/markdown.js";

export interface AccessVerdict {
  allowed: boolean;
  /** Set once, when the subscription has just lost its subscriber's access: tell the channel. */
  notice?: string;
}

export interface SubscriberAccessDeps {
  db: Db;
  redis: Redis;
  keyPrefix: string;
  /** Undefined when GitLab accounts are not configured: nothing can be checked, subscriptions keep working. */
  accounts?: GitlabAccounts;
  logger: Logger;
  now?: () => number;
  /** How long an answer from GitLab is trusted. Default 15 minutes. */
  freshMs?: number;
  /** The slash command, for the notice. */
  trigger?: string;
}

export interface SubscriberAccess {
  /**
   * May this subscription receive an event of a project with this visibility (undefined: not known,
   * then the subscription's own visibility decides)? Public projects' events always pass.
   */
  check(subscription: Subscription, eventVisibility?: Visibility): Promise<AccessVerdict>;
}

type Cached = { ok: boolean; at: number; reason?: string };

export { visibilityOfLevel } from "../notification.js";

export function createSubscriberAccess(deps: SubscriberAccessDeps): SubscriberAccess {
  const { db, redis, logger } = deps;
  const now = deps.now ?? Date.now;
  const freshMs = deps.freshMs ?? 15 * 60_000;
  const trigger = deps.trigger ?? "/gitlab";
  const cacheKey = (s: Subscription) => `${deps.keyPrefix}:sub-access:${s.id}:${s.created_by}`;
  const toldKey = (s: Subscription) => `${deps.keyPrefix}:sub-access-lost:${s.id}`;

  async function ask(s: Subscription): Promise<Cached | undefined> {
    const accounts = deps.accounts!;
    if (!(await findUserLink(db, s.created_by))) return { ok: false, at: now(), reason: "disconnected" };
    try {
      const access = await accounts.access(s.created_by, s.path);
      if (!access) return { ok: false, at: now(), reason: "no longer sees it" };
      if (access.accessLevel < ACCESS_LEVEL.reporter) return { ok: false, at: now(), reason: "is no longer Reporter or above" };
      return { ok: true, at: now() };
    } catch (error) {
      if (error instanceof GitlabAuthError && error.code !== "busy") return { ok: false, at: now(), reason: "disconnected" };
      logger.warn({ subscription: s.id, path: s.path, err: error instanceof GitlabAuthError ? error.message : describeGitlabError(error) }, "could not re-check a subscriber's GitLab access");
      return undefined;
    }
  }

  return {
    async check(s, eventVisibility) {
      // Unchecked subscriptions (admin CLI, or made before checks existed) are the administrator's word.
      if (s.visibility === null || s.visibility === undefined) return { allowed: true };
      if (eventVisibility === "public") return { allowed: true };
      if (eventVisibility === undefined && s.visibility === "public" && s.kind === "project") return { allowed: true };
      if (!deps.accounts) return { allowed: true };

      const raw = await redis.get(cacheKey(s));
      let cached: Cached | undefined = raw ? (JSON.parse(raw) as Cached) : undefined;
      if (!cached || now() - cached.at > freshMs) {
        const answer = await ask(s);
        if (answer) {
          cached = answer;
          // Kept a day, so a GitLab outage falls back on the last answer.
          await redis.set(cacheKey(s), JSON.stringify(answer), "PX", Math.max(freshMs, 24 * 3600_000));
        }
      }
      if (!cached) return { allowed: true }; // never answered yet: it was allowed when subscribed
      if (cached.ok) {
        await redis.del(toldKey(s));
        return { allowed: true };
      }
      const first = (await redis.set(toldKey(s), String(now()), "NX")) === "OK";
      if (!first) return { allowed: false };
      logger.info({ subscription: s.id, path: s.path, channel_id: s.channel_id, reason: cached.reason }, "subscription paused: its subscriber lost GitLab access");
      const why = cached.reason === "disconnected" ? "disconnected their GitLab account" : `${cached.reason} in GitLab`;
      const path = escapeInline(s.path, 300);
      return {
        allowed: false,
        notice:
          `Events of ${path} that are not public no longer reach this channel: the person who subscribed it ${why}. ` +
          `A channel admin who can see ${path} in GitLab can resume them with \`${trigger} subscriptions add ${s.path}\`.`,
      };
    },
  };
}
