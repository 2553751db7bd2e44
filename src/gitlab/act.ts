// Acting on GitLab as a Mattermost user, from a slash command or a button: the call runs with the
// person's own token (GitLab decides what they may do), is audited (src/audit.ts), and a failure comes
// back as one coded value that the caller turns into a sentence in the person's language.
import { auditGitlabAction, type AuditEntry } from "../audit.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../metrics.js";
import type { UserLink } from "../store/user-links.js";
import type { GitlabAccounts } from "./accounts.js";
import { describeGitlabError, type GitlabApi } from "./client.js";
import { classifyGitlabError, type GitlabFailure } from "./errors.js";
import { GitlabAuthError } from "./tokens.js";

export class GitlabActionError extends Error {
  constructor(readonly failure: GitlabFailure) {
    super(`GitLab refused or failed: ${failure.code}${failure.status ? ` (${failure.status})` : ""}`);
    this.name = "GitlabActionError";
  }
}

export interface GitlabRequest {
  mattermostUserId: string;
  /** `family.verb` for actions that change something (audited); absent for reads. */
  action?: string;
  /** The object as people write it, for the audit line and the error sentence. */
  object: string;
  via: AuditEntry["via"];
}

/**
 * Runs `fn` as the user. Throws GitlabAuthError when they are not (or no longer) connected, and
 * GitlabActionError for anything GitLab refused or could not do; both are audited for actions.
 */
export async function actAsUser<T>(
  deps: { accounts: GitlabAccounts; logger: Logger; metrics?: Metrics },
  request: GitlabRequest,
  fn: (api: GitlabApi, link: UserLink) => Promise<T>,
): Promise<T> {
  let gitlabUsername: string | undefined;
  const audit = (outcome: string) => {
    if (request.action) {
      auditGitlabAction(deps.logger, deps.metrics, { mattermostUserId: request.mattermostUserId, gitlabUsername, action: request.action, object: request.object, outcome, via: request.via });
    }
  };
  try {
    const value = await deps.accounts.withUser(request.mattermostUserId, (api, link) => {
      gitlabUsername = link.gitlabUsername;
      return fn(api, link);
    });
    audit("ok");
    return value;
  } catch (error) {
    if (error instanceof GitlabAuthError) {
      audit(error.code);
      throw error;
    }
    if (error instanceof GitlabActionError) {
      audit(error.failure.code);
      throw error;
    }
    const failure = classifyGitlabError(error);
    deps.metrics?.gitlabErrors.inc({ kind: failure.code });
    deps.logger.warn({ object: request.object, action: request.action ?? "read", err: describeGitlabError(error) }, "GitLab call for a user failed");
    audit(failure.code);
    throw new GitlabActionError(failure);
  }
}
