// The one Hono app: routes split by concern (SPEC.md "HTTP routes").
import { Hono } from "hono";
import type { Redis } from "ioredis";
import type { Config } from "./config.js";
import { actionButtonsOf } from "./actions/buttons.js";
import { missingAccountSettings, type GitlabAccountsSetup } from "./gitlab/accounts.js";
import { actionsRoutes } from "./http/actions-route.js";
import { autocompleteRoutes } from "./http/autocomplete.js";
import { adminRoutes } from "./http/admin-routes.js";
import { commandRoutes } from "./http/command-route.js";
import { redisCommandTokenTeams } from "./http/command-token-teams.js";
import { healthRoutes, metricsRoutes } from "./http/health-routes.js";
import { oauthRoutes } from "./http/oauth-routes.js";
import { queueDashboardRoutes } from "./http/queue-dashboard.js";
import { webhookRoutes } from "./http/webhook-route.js";
import type { Logger } from "./logger.js";
import type { MattermostApi } from "./mattermost/client.js";
import type { Metrics } from "./metrics.js";
import type { PeopleServices } from "./people/services.js";
import type { WebhookIntake } from "./queue/intake.js";
import type { PersonalQueue } from "./queue/personal.js";
import type { DeliveryQueue, EventQueue } from "./queue/queues.js";
import type { Db } from "./store/db.js";

export interface AppDeps {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  db: Db;
  redis: Redis;
  /** Where accepted webhooks wait for the worker side; one per process, over `redis`. */
  intake: WebhookIntake;
  queues: { events: EventQueue; deliveries: DeliveryQueue; personal?: PersonalQueue };
  mattermost: MattermostApi;
  /** Linked GitLab accounts (OAuth routes, commands acting on GitLab); see setupGitlabAccounts. */
  gitlab?: GitlabAccountsSetup;
  /** The personal side for commands (`/gitlab settings`, `/gitlab todo`): profiles, reminder schedules. */
  people?: PeopleServices;
}

export function createApp(deps: AppDeps): Hono {
  const { config, logger, metrics, db, redis, intake, queues, mattermost } = deps;
  const app = new Hono();
  app.route(
    "/",
    webhookRoutes({ intake, redis, spool: db, secrets: config.webhookSecrets, maxBytes: config.webhookMaxBytes, logger, metrics }),
  );
  const gitlab = deps.gitlab ?? { ready: false, missing: missingAccountSettings(config) };
  const tokenTeams = redisCommandTokenTeams(redis, config.queuePrefix);
  app.route("/", commandRoutes({ db, mattermost, config, logger, metrics, gitlab, people: deps.people, tokenTeams }));
  app.route("/", oauthRoutes({ gitlab, logger, mattermost }));
  app.route("/", actionsRoutes({ mattermost, gitlab, buttons: actionButtonsOf(config), config, logger, metrics }));
  app.route("/", autocompleteRoutes({ locale: config.defaultLocale }));
  app.route("/", healthRoutes({ redis, db, metrics, queues }));
  app.route("/", queueDashboardRoutes({ config, queues, logger })); // before /admin/*, whose bearer check knows no sign-in cookie
  app.route("/", adminRoutes({ config, db, redis, logger }));
  if (config.metricsPort === undefined) app.route("/", metricsRoutes({ metrics, queues, intake, token: config.metricsToken }));
  app.notFound((c) => c.json({ error: "not found" }, 404));
  app.onError((error, c) => {
    logger.error({ err: error.message, path: c.req.path }, "unhandled error");
    return c.json({ error: "internal error" }, 500);
  });
  return app;
}

/** /metrics alone, for METRICS_PORT (the main app then leaves it out). */
export function createMetricsApp(deps: Pick<AppDeps, "config" | "metrics" | "queues" | "intake">): Hono {
  const app = new Hono();
  app.route("/", metricsRoutes({ metrics: deps.metrics, queues: deps.queues, intake: deps.intake, token: deps.config.metricsToken }));
  app.notFound((c) => c.json({ error: "not found" }, 404));
  return app;
}
