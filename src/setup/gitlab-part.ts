// Setup's GitLab step: the instance-wide OAuth application people connect their accounts with.
// GitLab shows an application's secret only when it is made or renewed, so an application that
// already exists is kept as it is when `.env` holds its client id and a secret, and otherwise its
// secret is renewed only when the person asks for it (the old secret stops working at once).
import { GitlabSetupError, type GitlabSetupApi, type OAuthApplication } from "../gitlab/setup-api.js";
import type { StepOutcome } from "./step.js";

export const OAUTH_APPLICATION_NAME = "Mattermost bot";
export const OAUTH_SCOPES = ["api"];

export interface OAuthApplicationInput {
  redirectUri: string;
  dryRun: boolean;
  renewSecret: boolean;
  /** What the settings file holds now. */
  current: { clientId?: string; clientSecret?: string };
}

export interface OAuthApplicationResult {
  step: StepOutcome;
  /** GITLAB_OAUTH_CLIENT_ID and _SECRET to write, when they change. */
  settings: Record<string, string>;
}

const SUBJECT = `GitLab OAuth application "${OAUTH_APPLICATION_NAME}"`;

/** GitLab keeps several redirect URIs of one application separated by whitespace. */
function registers(app: OAuthApplication, redirectUri: string): boolean {
  return app.redirectUri.split(/\s/).includes(redirectUri);
}

function byHand(redirectUri: string): string {
  return `the GitLab token is not an administrator's: create the OAuth application by hand under Admin Area > Applications (or a group's Settings > Applications) with redirect URI ${redirectUri}, scope api and Confidential checked, and set GITLAB_OAUTH_CLIENT_ID and GITLAB_OAUTH_CLIENT_SECRET to its Application ID and Secret`;
}

export async function ensureOAuthApplication(api: GitlabSetupApi, input: OAuthApplicationInput): Promise<OAuthApplicationResult> {
  const { redirectUri, current } = input;
  let apps: OAuthApplication[];
  try {
    apps = await api.listApplications();
  } catch (error) {
    if (!(error instanceof GitlabSetupError) || error.reason !== "not_admin") throw error;
    if (current.clientId && current.clientSecret) {
      return { step: { status: "exists", subject: SUBJECT, detail: "kept from the settings file (not checked: the GitLab token is not an administrator's)" }, settings: {} };
    }
    return { step: { status: "needs you", subject: SUBJECT, detail: byHand(redirectUri) }, settings: {} };
  }

  const matching = apps.filter((a) => registers(a, redirectUri));
  const app = matching.find((a) => a.clientId === current.clientId) ?? matching[0];
  if (!app) {
    if (input.dryRun) return { step: { status: "would create", subject: SUBJECT, detail: `redirect URI ${redirectUri}, scope api, confidential` }, settings: {} };
    const created = await api.createApplication({ name: OAUTH_APPLICATION_NAME, redirectUri, scopes: OAUTH_SCOPES, confidential: true });
    return {
      step: { status: "created", subject: SUBJECT, detail: `application id ${created.clientId}, redirect URI ${redirectUri}` },
      settings: { GITLAB_OAUTH_CLIENT_ID: created.clientId, GITLAB_OAUTH_CLIENT_SECRET: created.secret },
    };
  }

  const subject = `GitLab OAuth application "${app.name}" (id ${app.id})`;
  if (app.clientId === current.clientId && current.clientSecret && !input.renewSecret) {
    return { step: { status: "exists", subject, detail: `redirect URI ${redirectUri}` }, settings: {} };
  }
  if (input.renewSecret) {
    if (input.dryRun) return { step: { status: "would repair", subject, detail: "renew its secret (the old secret would stop working)" }, settings: {} };
    const renewed = await api.renewApplicationSecret(app.id);
    return {
      step: { status: "repaired", subject, detail: "secret renewed (the old secret no longer works)" },
      settings: { GITLAB_OAUTH_CLIENT_ID: renewed.clientId, GITLAB_OAUTH_CLIENT_SECRET: renewed.secret },
    };
  }
  return {
    step: {
      status: "needs you",
      subject,
      detail: `it has redirect URI ${redirectUri}, but GitLab never shows an existing application's secret: run again with --renew-oauth-secret (the old secret stops working), or set GITLAB_OAUTH_CLIENT_ID=${app.clientId} and GITLAB_OAUTH_CLIENT_SECRET to its secret`,
    },
    settings: {},
  };
}
