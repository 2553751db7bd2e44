// What `gitlab-mm setup` asks of GitLab, as an administrator with a personal access token: the
// instance-wide OAuth applications (https://docs.gitlab.com/api/applications/). GitLab answers the
// secret only when it creates an application or renews its secret, never in the list.
import { Gitlab } from "@gitbeaker/rest";
import { classifyGitlabError } from "./errors.js";
import { requesterFn } from "./requester.js";

/** How long one setup request may take. */
const QUERY_TIMEOUT_MS = 15_000;

export interface OAuthApplication {
  /** GitLab's numeric id (for renew-secret). */
  id: number;
  /** The OAuth client id (`application_id`). */
  clientId: string;
  name: string;
  redirectUri: string;
  confidential: boolean;
}

export interface OAuthApplicationWithSecret extends OAuthApplication {
  secret: string;
}

export type GitlabSetupFailure = "unauthorized" | "not_admin" | "other";

/** A GitLab answer setup cannot go on from; `reason` says which, `message` is one line without tokens. */
export class GitlabSetupError extends Error {
  constructor(
    readonly reason: GitlabSetupFailure,
    message: string,
  ) {
    super(message);
    this.name = "GitlabSetupError";
  }
}

export interface GitlabSetupApi {
  listApplications(): Promise<OAuthApplication[]>;
  createApplication(app: { name: string; redirectUri: string; scopes: string[]; confidential: boolean }): Promise<OAuthApplicationWithSecret>;
  renewApplicationSecret(id: number): Promise<OAuthApplicationWithSecret>;
}

interface ApplicationJson {
  id: number;
  application_id: string;
  application_name: string;
  callback_url: string;
  confidential?: boolean;
  secret?: string;
}

function applicationOf(json: ApplicationJson): OAuthApplication {
  return { id: json.id, clientId: json.application_id, name: json.application_name, redirectUri: json.callback_url, confidential: json.confidential !== false };
}

function withSecret(json: ApplicationJson): OAuthApplicationWithSecret {
  if (typeof json.secret !== "string" || json.secret === "") throw new GitlabSetupError("other", "GitLab's answer holds no application secret");
  return { ...applicationOf(json), secret: json.secret };
}

function setupErrorOf(error: unknown, what: string): GitlabSetupError {
  const failure = classifyGitlabError(error);
  if (failure.code === "unauthorized") return new GitlabSetupError("unauthorized", `GitLab refused the token (401) when asked to ${what}: check GITLAB_ADMIN_TOKEN (a personal access token with scope api)`);
  if (failure.code === "forbidden") return new GitlabSetupError("not_admin", `GitLab answered 403 when asked to ${what}`);
  const said = failure.status === undefined ? failure.code : `${failure.status}${failure.detail ? ` (${failure.detail})` : ""}`;
  return new GitlabSetupError("other", `GitLab could not ${what}: ${said}`);
}

export function createGitlabSetupApi(host: string, adminToken: string): GitlabSetupApi {
  const api = new Gitlab({ host, token: adminToken, queryTimeout: QUERY_TIMEOUT_MS, requesterFn });
  async function attempt<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw setupErrorOf(error, what);
    }
  }
  return {
    async listApplications() {
      const list = await attempt("list the OAuth applications", () => api.Applications.all());
      return (list as unknown as ApplicationJson[]).map(applicationOf);
    },
    async createApplication(app) {
      const created = await attempt("create the OAuth application", () => api.Applications.create(app.name, app.redirectUri, app.scopes.join(" "), { confidential: app.confidential }));
      return withSecret(created as unknown as ApplicationJson);
    },
    async renewApplicationSecret(id) {
      // Gitbeaker has no call for renew-secret (GitLab 16.11 and later); its requester adds the token.
      const renewed = await attempt("renew the OAuth application's secret", () => api.Applications.requester.post<Record<string, unknown>>(`applications/${id}/renew-secret`));
      return withSecret(renewed.body as unknown as ApplicationJson);
    },
  };
}
