// Prometheus metrics (GET /metrics). One registry per app instance, so tests do not share counters.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface Metrics {
  registry: Registry;
  webhooksReceived: Counter<"kind">;
  webhooksRejected: Counter<"reason">;
  jobs: Gauge<"queue" | "state">;
  spooledWebhooks: Gauge<never>;
  postLatency: Histogram<never>;
  mattermostErrors: Counter<"kind">;
  /** Mattermost refused the bot (401/403): its token was revoked or it lost a channel. Worth an alert. */
  mattermostAuthFailures: Counter<never>;
  /** Posts deliberately not made (a private project's event for a public channel, confidential content). */
  deliveriesWithheld: Counter<"reason">;
  gitlabErrors: Counter<"kind">;
  /** Actions taken on GitLab for a Mattermost user (commands, buttons), by action and outcome. */
  gitlabActions: Counter<"action" | "outcome">;
}

export function createMetrics(options: { defaults?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaults) collectDefaultMetrics({ register: registry });
  return {
    registry,
    webhooksReceived: new Counter({
      name: "gitlab_webhooks_received_total",
      help: "GitLab webhooks accepted, by event kind",
      labelNames: ["kind"],
      registers: [registry],
    }),
    webhooksRejected: new Counter({
      name: "gitlab_webhooks_rejected_total",
      help: "GitLab webhooks refused, by reason (token, too_large, malformed, queue_unavailable)",
      labelNames: ["reason"],
      registers: [registry],
    }),
    jobs: new Gauge({
      name: "queue_jobs",
      help: "Jobs per queue and state",
      labelNames: ["queue", "state"],
      registers: [registry],
    }),
    spooledWebhooks: new Gauge({
      name: "webhook_spool_size",
      help: "Webhooks kept in the database spool while Redis did not answer, not yet queued",
      registers: [registry],
    }),
    postLatency: new Histogram({
      name: "webhook_to_post_seconds",
      help: "Time from receiving a webhook to its Mattermost post",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    mattermostErrors: new Counter({
      name: "mattermost_api_errors_total",
      help: "Failed Mattermost API calls, by kind (rate_limited, server, network, client)",
      labelNames: ["kind"],
      registers: [registry],
    }),
    gitlabErrors: new Counter({
      name: "gitlab_api_errors_total",
      help: "Failed GitLab API calls, by kind",
      labelNames: ["kind"],
      registers: [registry],
    }),
    gitlabActions: new Counter({
      name: "gitlab_actions_total",
      help: "Actions taken on GitLab from Mattermost, by action (issue.close, mr.merge, ...) and outcome (ok or a failure code)",
      labelNames: ["action", "outcome"],
      registers: [registry],
    }),
    mattermostAuthFailures: new Counter({
      name: "mattermost_auth_failures_total",
      help: "Mattermost calls refused with 401 or 403 (bot token revoked, bot removed from a channel); retried",
      registers: [registry],
    }),
    deliveriesWithheld: new Counter({
      name: "deliveries_withheld_total",
      help: "Posts not made on purpose, by reason (not_public: a non-public project's event for a public channel; confidential)",
      labelNames: ["reason"],
      registers: [registry],
    }),
  };
}
