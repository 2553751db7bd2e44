// Whether a person may read about a non-public project. Authors, assignees and reviewers of an issue
// or merge request can; someone merely @mentioned may not (GitLab sends the mention anyway), so a
// mention in a private or internal project reaches them only if GitLab, asked with their own account,
// says they see the project. Answers are kept in Redis for a while, shared by every process.
import type { Redis } from "ioredis";
import type { GitlabAccounts } from "../gitlab/accounts.js";
import { describeGitlabError } from "../gitlab/client.js";
import type { Logger } from "../logger.js";

export interface RecipientAccess {
  canSee(mattermostUserId: string, projectPath: string): Promise<boolean>;
}

export function createRecipientAccess(deps: { redis: Redis; keyPrefix: string; accounts?: GitlabAccounts; logger: Logger; freshMs?: number }): RecipientAccess {
  const freshMs = deps.freshMs ?? 15 * 60_000;
  return {
    async canSee(userId, projectPath) {
      if (!deps.accounts) return false;
      const key = `${deps.keyPrefix}:recipient-access:${userId}:${projectPath.toLowerCase()}`;
      const cached = await deps.redis.get(key);
      if (cached !== null) return cached === "1";
      try {
        const ok = (await deps.accounts.access(userId, projectPath)) !== undefined;
        await deps.redis.set(key, ok ? "1" : "0", "PX", freshMs);
        return ok;
      } catch (error) {
        // When GitLab cannot say, the mention is not forwarded: better silent than a leak.
        deps.logger.warn({ user: userId, path: projectPath, err: describeGitlabError(error) }, "could not check whether a mentioned user sees the project");
        return false;
      }
    },
  };
}
