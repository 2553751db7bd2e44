// The audit trail of what the bot did on GitLab for people: one structured log line per action (who in
// Mattermost, who in GitLab, what, on which object, with what outcome) and a counter in /metrics.
import type { Logger } from "./logger.js";
import type { Metrics } from "./metrics.js";

export interface AuditEntry {
  mattermostUserId: string;
  /** The GitLab account the action ran as, when known (absent when the person is not connected). */
  gitlabUsername?: string;
  /** What was done, as `family.verb`: `issue.close`, `mr.merge`, `pipeline.retry`. */
  action: string;
  /** The object as people write it: `group/project#12`, `group/project!7`, `group/project` pipeline 42. */
  object: string;
  /** `ok`, or the failure's code (`forbidden`, `not_found`, `not_connected`, ...). */
  outcome: string;
  /** Where it was asked from: a slash command or a button. */
  via: "command" | "button";
}

export function auditGitlabAction(logger: Logger, metrics: Metrics | undefined, entry: AuditEntry): void {
  logger.info(
    {
      audit: true,
      mattermost_user_id: entry.mattermostUserId,
      gitlab_username: entry.gitlabUsername ?? null,
      action: entry.action,
      object: entry.object,
      outcome: entry.outcome,
      via: entry.via,
    },
    "gitlab action",
  );
  metrics?.gitlabActions.inc({ action: entry.action, outcome: entry.outcome });
}
