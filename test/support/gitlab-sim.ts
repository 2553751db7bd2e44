// A GitLab server for tests: a plain node:http server on 127.0.0.1 with the OAuth 2.0 provider
// (Doorkeeper, as GitLab runs it) and the part of API v4 the bot uses. Behaviour follows GitLab's
// docs (https://docs.gitlab.com/api/oauth2/) and Doorkeeper's answers:
// - GET /oauth/authorize: unknown client or a redirect_uri that is not registered get an error page
//   (no redirect); other mistakes redirect back with `error`. A browser is "signed in" by the cookie
//   from `sessionCookie(user)`; without it GitLab sends it to /users/sign_in. The sim approves at once
//   (as for an application the user already authorized), unless `denyNext()`.
// - POST /oauth/token: client authentication (body or HTTP Basic) else 401 invalid_client.
//   authorization_code: the code works once, for 10 minutes, with the same redirect_uri and client,
//   and with PKCE the code_verifier must hash (S256) to the challenge, else 400 invalid_grant.
//   refresh_token: a new pair; the old refresh token and old access token stop working at once.
//   Access tokens last 7200 s (by the sim's clock, see `advanceClock`).
// - POST /oauth/revoke: revokes the pair the token belongs to; unknown tokens are fine (RFC 7009).
// - API calls need `Authorization: Bearer`; a revoked or expired token gets 401 invalid_token.
//   GET /api/v4/user, /projects/:id, /projects/:id/members/all/:user_id, /groups/:id,
//   /groups/:id/members/all/:user_id; membership is inherited from parent groups; a private project
//   or group is 404 to whoever is not a member.
// - Lists (offset pagination: per_page, page; X-Total, X-Total-Pages, X-Page, X-Per-Page,
//   X-Next-Page, X-Prev-Page and Link headers): GET /api/v4/todos (the caller's; state, default
//   pending), /merge_requests and /issues (scope created_by_me (default), assigned_to_me or all;
//   state; reviewer_id and assignee_id), of projects the caller can see; add them with
//   addMergeRequest, addIssue and addTodo.
// Every request is in `requests` (no secrets); anything not implemented is answered 404 and listed in
// `unhandled`, so a test can assert the bot asked for nothing the sim does not know.
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type SimVisibility = "public" | "internal" | "private";

export interface GitlabSimUser {
  id: number;
  username: string;
  name: string;
  isAdmin: boolean;
}

export interface GitlabSimApp {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

export interface GitlabSimRequest {
  method: string;
  path: string;
  status: number;
  /** For POST /oauth/token. */
  grantType?: string;
  /** The user the bearer token belongs to, for API calls. */
  userId?: number;
}

/** An issue as the sim holds it (see `GitlabSim.issue`). */
export interface SimIssue {
  project: string;
  iid: number;
  title: string;
  state: string;
  description: string;
  labels: string[];
  confidential: boolean;
  authorId: number;
  assigneeIds: number[];
  /** Where the issue was moved to, if it was. */
  movedTo?: { project: string; iid: number };
  notes: { body: string; authorId: number }[];
}

// ---- merge requests, pipelines and jobs: types ----
export interface SimProjectCiChanges {
  defaultBranch?: string;
  branches?: string[];
  /** Only Maintainers merge into these (GitLab protects the default branch so by default). */
  protectedBranches?: string[];
  /** "Pipelines must succeed" (only_allow_merge_if_pipeline_succeeds). */
  pipelineMustSucceed?: boolean;
  /** "All threads must be resolved" (only_allow_merge_if_all_discussions_are_resolved). */
  discussionsMustBeResolved?: boolean;
  /** Jobs `.gitlab-ci.yml` runs in an ordinary pipeline (none: creating one is refused). */
  jobs?: string[];
  /** Jobs with `rules: - if: $GITLAB_CHATOPS_JOB == "<name>"`: a pipeline with that variable runs only that job. */
  chatJobs?: string[];
}

export interface SimMergeRequestChanges {
  sourceBranch?: string;
  targetBranch?: string;
  draft?: boolean;
  hasConflicts?: boolean;
  unresolvedDiscussions?: boolean;
  approvalsRequired?: number;
  approvedBy?: GitlabSimUser[];
}

export interface SimMergeRequest {
  state: string;
  approvedBy: string[];
  autoMerge: boolean;
  mergedBy?: string;
}

export interface SimPipeline {
  project: string;
  ref: string;
  status: string;
  source: string;
  userId: number;
  variables: { key: string; value: string; variable_type: string }[];
  jobs: { id: number; name: string; status: string }[];
}
// ---- end of merge requests, pipelines and jobs: types ----

// ---- environments, deployments and webhooks: types ----
/** A project or group webhook as GitLab holds it (the token is never in GitLab's answers; tests read it here). */
export interface SimHook {
  id: number;
  url: string;
  token: string | undefined;
  enableSslVerification: boolean;
  /** The `*_events` flags that are on, e.g. ["push_events", "issues_events"]. */
  events: string[];
}
// ---- end of environments, deployments and webhooks: types ----

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

export interface GitlabSim {
  url: string;
  app: GitlabSimApp;
  /** Registers another OAuth application (e.g. with another redirect URI). */
  addApp(redirectUri: string): GitlabSimApp;
  addUser(u: { username: string; name?: string; isAdmin?: boolean }): GitlabSimUser;
  /** A group; missing parent groups are made with the same visibility. */
  addGroup(path: string, visibility?: SimVisibility): { id: number; fullPath: string };
  /** A project; missing parent groups are made with the same visibility. */
  addProject(path: string, visibility?: SimVisibility): { id: number; pathWithNamespace: string };
  /** Direct membership of a project or group (10 guest, 20 reporter, 30 developer, 40 maintainer, 50 owner). */
  addMember(path: string, user: GitlabSimUser, accessLevel: number): void;
  removeMember(path: string, user: GitlabSimUser): void;
  setVisibility(path: string, visibility: SimVisibility): void;
  /** Whether a project or group exists at the path. */
  exists(path: string): boolean;
  /** Cookie header value of a browser signed in to GitLab as the user. */
  sessionCookie(user: GitlabSimUser): string;
  /** Tokens as if the user had authorized the app (for tests that do not walk the browser flow). */
  issueTokens(user: GitlabSimUser, app?: GitlabSimApp): IssuedTokens;
  /** The user revokes the application in their GitLab profile: every token of theirs stops working. */
  revokeAll(user: GitlabSimUser): void;
  tokenState(token: string): "active" | "expired" | "revoked" | "unknown";
  /** Every access and refresh token issued to the user, oldest first. */
  issuedTo(user: GitlabSimUser): string[];
  /** The next authorization is denied by the user (redirect with error=access_denied). */
  denyNext(): void;
  /** Moves the sim's clock (token and code expiry) forward. */
  advanceClock(ms: number): void;
  /** A merge request in a project (state "opened" unless said). */
  addMergeRequest(m: { project: string; iid: number; title: string; author: GitlabSimUser; reviewers?: GitlabSimUser[]; assignees?: GitlabSimUser[]; state?: string }): void;
  /** An issue in a project (state "opened" unless said). */
  addIssue(i: { project: string; iid: number; title: string; author: GitlabSimUser; assignees?: GitlabSimUser[]; state?: string }): void;
  /** A to-do of `user` about a merge request or issue added before (state "pending" unless said). */
  addTodo(user: GitlabSimUser, t: { project: string; target: "MergeRequest" | "Issue"; iid: number; action: string; author: GitlabSimUser; state?: "pending" | "done" }): void;
  /** Who may use a project's issues: everyone who sees it (default), only its members, or nobody. */
  setIssuesAccess(path: string, access: "enabled" | "private" | "disabled"): void;
  /** Makes an issue added before confidential. */
  setIssueConfidential(project: string, iid: number): void;
  /** An issue as GitLab holds it now (made by addIssue or through the API), with its comments. */
  issue(project: string, iid: number): SimIssue | undefined;
  // ---- merge requests, pipelines and jobs (the `/gitlab mr`, `pipeline` and `run` commands) ----
  /** A project's branches (default: `main`), default branch, protected branches (default: the default branch), merge checks and CI jobs. */
  setProjectCi(path: string, ci: SimProjectCiChanges): void;
  /** What addMergeRequest does not say: branches, draft, conflicts, open discussions, approvals. */
  setMergeRequest(project: string, iid: number, changes: SimMergeRequestChanges): void;
  /** A merge request as GitLab holds it now. */
  mergeRequest(project: string, iid: number): SimMergeRequest | undefined;
  /** A pipeline of `ref` with these jobs (one stage each, in order); returns its id. */
  addPipeline(project: string, p: { ref: string; jobs: { name: string; status: string; trace?: string }[]; user?: GitlabSimUser; duration?: number }): number;
  /** A job of a pipeline moves on (its trace grows by `trace`); the pipeline's status follows, auto-merge too. */
  setJob(pipelineId: number, name: string, j: { status: string; trace?: string }): void;
  /** A pipeline as GitLab holds it now. */
  pipeline(id: number): SimPipeline | undefined;
  // ---- end of merge requests, pipelines and jobs ----
  // ---- environments, deployments and webhooks (the `/gitlab deploy` and `webhook` commands) ----
  /** An environment of a project; returns its id (the existing one's when it exists). */
  addEnvironment(project: string, name: string): number;
  /** A deployment to `environment` (made when missing) by the job `job` of a pipeline added before; status "success" unless said. */
  addDeployment(project: string, d: { environment: string; pipelineId: number; job: string; status?: string; finishedAt?: string }): number;
  /** A webhook already on a project or group; `events` are `*_events` flags (default: push_events). */
  addHook(path: string, h: { url: string; token?: string; events?: string[] }): number;
  /** The webhooks of a project or group as GitLab holds them, with their secret tokens. */
  hooks(path: string): SimHook[];
  /** Group webhooks are a paid feature: without them GitLab has no /groups/:id/hooks (404). */
  setGroupHooksAvailable(available: boolean): void;
  // ---- end of environments, deployments and webhooks ----
  // ---- Applications API and personal access tokens (gitlab-mm setup) ----
  /** A personal access token of the user (scope api), for `PRIVATE-TOKEN`. */
  addPersonalAccessToken(user: GitlabSimUser): string;
  /** Every OAuth application, as GitLab holds it (secrets included). */
  applications(): { id: number; name: string; scopes: string[]; confidential: boolean; clientId: string; clientSecret: string; redirectUri: string }[];
  // ---- end of the Applications API and personal access tokens ----
  /** The next matching request(s) get this status and body instead of an answer. */
  failNext(f: { method?: string; path?: RegExp; status: number; body?: unknown; times?: number; headers?: Record<string, string> }): void;
  /** The next matching request(s) are answered after `ms`. */
  delayNext(d: { method?: string; path?: RegExp; ms: number; times?: number }): void;
  requests: GitlabSimRequest[];
  unhandled: string[];
  reset(): void;
  close(): Promise<void>;
}

const ACCESS_TOKEN_TTL_S = 7200;
const CODE_TTL_MS = 10 * 60_000;

const INVALID_GRANT = {
  error: "invalid_grant",
  error_description:
    "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.",
};
const INVALID_CLIENT = {
  error: "invalid_client",
  error_description: "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.",
};

interface Namespace {
  id: number;
  kind: "group" | "project";
  path: string;
  name: string;
  visibility: SimVisibility;
  members: Map<number, number>;
}

interface CodeRecord {
  clientId: string;
  redirectUri: string;
  userId: number;
  scope: string;
  challenge?: string;
  method?: string;
  createdAt: number;
  used: boolean;
}

interface TokenRecord {
  accessToken: string;
  refreshToken: string;
  clientId: string;
  userId: number;
  scope: string;
  createdAt: number;
  revoked: boolean;
}

interface Failure {
  method?: string;
  path?: RegExp;
  status: number;
  body?: unknown;
  times: number;
  /** E.g. Retry-After on a 429, as GitLab's rate limiter sends it. */
  headers?: Record<string, string>;
}
interface Delay {
  method?: string;
  path?: RegExp;
  ms: number;
  times: number;
}

const random = (bytes = 32) => randomBytes(bytes).toString("hex");

export async function startGitlabSim(opts: { redirectUri?: string } = {}): Promise<GitlabSim> {
  let clockOffset = 0;
  const now = () => Date.now() + clockOffset;
  let nextUserId = 100;
  let nextNamespaceId = 1000;

  const apps = new Map<string, GitlabSimApp>();
  const users = new Map<number, GitlabSimUser>();
  const sessions = new Map<string, number>();
  const namespaces = new Map<string, Namespace>();
  const codes = new Map<string, CodeRecord>();
  const byAccess = new Map<string, TokenRecord>();
  const byRefresh = new Map<string, TokenRecord>();
  let failures: Failure[] = [];
  let delays: Delay[] = [];
  let denyNext = false;
  const requests: GitlabSimRequest[] = [];
  const unhandled: string[] = [];
  interface WorkRecord {
    id: number;
    kind: "MergeRequest" | "Issue";
    project: string;
    iid: number;
    title: string;
    authorId: number;
    reviewerIds: number[];
    assigneeIds: number[];
    state: string;
    createdAt: string;
  }
  interface TodoRecord {
    id: number;
    userId: number;
    work: WorkRecord;
    action: string;
    authorId: number;
    state: "pending" | "done";
    createdAt: string;
  }
  const work: WorkRecord[] = [];
  const todos: TodoRecord[] = [];
  let nextWorkId = 5000;

  function addApp(redirectUri: string): GitlabSimApp {
    const app = { clientId: random(32), clientSecret: `gloas-${random(32)}`, redirectUri };
    apps.set(app.clientId, app);
    return app;
  }
  const app = addApp(opts.redirectUri ?? "http://127.0.0.1/oauth/gitlab/callback");

  function ensureNamespace(kind: "group" | "project", path: string, visibility: SimVisibility): Namespace {
    const key = path.toLowerCase();
    const existing = namespaces.get(key);
    if (existing) return existing;
    const parts = path.split("/");
    if (parts.length > 1) ensureNamespace("group", parts.slice(0, -1).join("/"), visibility);
    const ns: Namespace = { id: nextNamespaceId++, kind, path, name: parts[parts.length - 1]!, visibility, members: new Map() };
    namespaces.set(key, ns);
    return ns;
  }

  function namespace(path: string): Namespace {
    const ns = namespaces.get(path.toLowerCase());
    if (!ns) throw new Error(`gitlab-sim: no project or group ${path}`);
    return ns;
  }

  /** The user's access level: the highest of the namespace's and its ancestors' memberships. */
  function effectiveLevel(ns: Namespace, userId: number): number {
    const parts = ns.path.toLowerCase().split("/");
    let level = 0;
    for (let i = parts.length; i > 0; i--) {
      const n = namespaces.get(parts.slice(0, i).join("/"));
      level = Math.max(level, n?.members.get(userId) ?? 0);
    }
    return level;
  }

  function canSee(ns: Namespace, user: GitlabSimUser): boolean {
    if (ns.visibility === "public" || ns.visibility === "internal" || user.isAdmin) return true;
    return effectiveLevel(ns, user.id) > 0;
  }

  function issue(userId: number, clientId: string, scope: string): TokenRecord {
    const record: TokenRecord = { accessToken: random(32), refreshToken: random(32), clientId, userId, scope, createdAt: now(), revoked: false };
    byAccess.set(record.accessToken, record);
    byRefresh.set(record.refreshToken, record);
    return record;
  }

  function tokenJson(r: TokenRecord) {
    return { access_token: r.accessToken, token_type: "Bearer", expires_in: ACCESS_TOKEN_TTL_S, refresh_token: r.refreshToken, scope: r.scope, created_at: Math.floor(r.createdAt / 1000) };
  }

  function expired(r: TokenRecord): boolean {
    return now() > r.createdAt + ACCESS_TOKEN_TTL_S * 1000;
  }

  function userJson(u: GitlabSimUser, self: boolean): Record<string, unknown> {
    const base: Record<string, unknown> = {
      id: u.id,
      username: u.username,
      name: u.name,
      state: "active",
      locked: false,
      avatar_url: `https://www.gravatar.com/avatar/${u.id}`,
      web_url: `${url}/${u.username}`,
    };
    if (self) Object.assign(base, { email: `${u.username}@example.com`, is_admin: u.isAdmin, created_at: "2024-01-01T00:00:00.000Z" });
    return base;
  }

  function projectJson(ns: Namespace, user: GitlabSimUser): Record<string, unknown> {
    const parent = ns.path.split("/").slice(0, -1).join("/");
    const group = namespaces.get(parent.toLowerCase());
    const direct = ns.members.get(user.id);
    const viaGroups = group ? effectiveLevel(group, user.id) : 0;
    return {
      id: ns.id,
      name: ns.name,
      path: ns.name,
      path_with_namespace: ns.path,
      name_with_namespace: ns.path.split("/").join(" / "),
      visibility: ns.visibility,
      web_url: `${url}/${ns.path}`,
      default_branch: ciOf(ns).defaultBranch,
      namespace: group ? { id: group.id, name: group.name, path: group.name, kind: "group", full_path: group.path } : null,
      permissions: {
        project_access: direct ? { access_level: direct, notification_level: 3 } : null,
        group_access: viaGroups ? { access_level: viaGroups, notification_level: 3 } : null,
      },
    };
  }

  function groupJson(ns: Namespace): Record<string, unknown> {
    const parent = namespaces.get(ns.path.split("/").slice(0, -1).join("/").toLowerCase());
    return { id: ns.id, name: ns.name, path: ns.name, full_name: ns.path.split("/").join(" / "), full_path: ns.path, visibility: ns.visibility, web_url: `${url}/groups/${ns.path}`, parent_id: parent?.id ?? null };
  }

  function memberJson(u: GitlabSimUser, level: number): Record<string, unknown> {
    return { ...userJson(u, false), access_level: level, created_at: "2024-01-01T00:00:00.000Z", expires_at: null };
  }

  function findNamespace(kind: "group" | "project", idOrPath: string): Namespace | undefined {
    if (/^\d+$/.test(idOrPath)) return [...namespaces.values()].find((n) => n.kind === kind && n.id === Number(idOrPath));
    const ns = namespaces.get(idOrPath.toLowerCase());
    return ns?.kind === kind ? ns : undefined;
  }

  function cookies(req: IncomingMessage): Map<string, string> {
    const jar = new Map<string, string>();
    for (const part of (req.headers.cookie ?? "").split(";")) {
      const eq = part.indexOf("=");
      if (eq > 0) jar.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
    return jar;
  }

  function clientOf(req: IncomingMessage, params: Record<string, string>): GitlabSimApp | undefined {
    let id = params.client_id;
    let secret = params.client_secret;
    const auth = req.headers.authorization;
    if (auth?.startsWith("Basic ")) {
      const [u, p] = Buffer.from(auth.slice(6), "base64").toString().split(":");
      id = decodeURIComponent(u ?? "");
      secret = decodeURIComponent(p ?? "");
    }
    const found = id ? apps.get(id) : undefined;
    return found && secret === found.clientSecret ? found : undefined;
  }

  type Answer = { status: number; body?: unknown; html?: string; location?: string; headers?: Record<string, string>; /** A text/plain body (job traces). */ text?: string };

  function tokenEndpoint(req: IncomingMessage, params: Record<string, string>, record: GitlabSimRequest): Answer {
    record.grantType = params.grant_type;
    const client = clientOf(req, params);
    if (!client) return { status: 401, body: INVALID_CLIENT };
    if (params.grant_type === "authorization_code") {
      if (!params.code) return { status: 400, body: { error: "invalid_request", error_description: "Missing required parameter: code." } };
      const code = codes.get(params.code);
      if (!code || code.used || code.clientId !== client.clientId || now() > code.createdAt + CODE_TTL_MS || code.redirectUri !== params.redirect_uri) {
        return { status: 400, body: INVALID_GRANT };
      }
      if (code.challenge) {
        if (!params.code_verifier) return { status: 400, body: { error: "invalid_request", error_description: "Missing required parameter: code_verifier." } };
        const computed = code.method === "S256" ? createHash("sha256").update(params.code_verifier).digest("base64url") : params.code_verifier;
        if (computed !== code.challenge) return { status: 400, body: INVALID_GRANT };
      }
      code.used = true;
      return { status: 200, body: tokenJson(issue(code.userId, client.clientId, code.scope)) };
    }
    if (params.grant_type === "refresh_token") {
      if (!params.refresh_token) return { status: 400, body: { error: "invalid_request", error_description: "Missing required parameter: refresh_token." } };
      const old = byRefresh.get(params.refresh_token);
      if (!old || old.revoked || old.clientId !== client.clientId) return { status: 400, body: INVALID_GRANT };
      old.revoked = true;
      return { status: 200, body: tokenJson(issue(old.userId, old.clientId, old.scope)) };
    }
    return { status: 400, body: { error: "unsupported_grant_type", error_description: "The authorization grant type is not supported by the authorization server." } };
  }

  function authorizeEndpoint(req: IncomingMessage, query: URLSearchParams): Answer {
    const client = apps.get(query.get("client_id") ?? "");
    if (!client) return { status: 401, html: "<h1>An error has occurred</h1><p>Client authentication failed due to unknown client.</p>" };
    const redirectUri = query.get("redirect_uri") ?? "";
    if (redirectUri !== client.redirectUri) {
      return { status: 400, html: "<h1>An error has occurred</h1><p>The redirect uri included is not valid.</p>" };
    }
    const state = query.get("state");
    const back = (params: Record<string, string>): Answer => {
      const target = new URL(redirectUri);
      for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
      if (state !== null) target.searchParams.set("state", state);
      return { status: 302, location: target.toString() };
    };
    if (query.get("response_type") !== "code") return back({ error: "unsupported_response_type", error_description: "The authorization server does not support this response type." });
    const scope = query.get("scope") ?? "api";
    if (!scope.split(" ").every((s) => ["api", "read_user", "read_api"].includes(s))) {
      return back({ error: "invalid_scope", error_description: "The requested scope is invalid, unknown, or malformed." });
    }
    const challenge = query.get("code_challenge") ?? undefined;
    const method = query.get("code_challenge_method") ?? (challenge ? "plain" : undefined);
    if (challenge && method !== "S256" && method !== "plain") {
      return back({ error: "invalid_request", error_description: "The code challenge method must be plain or S256." });
    }
    const userId = sessions.get(cookies(req).get("_gitlab_session") ?? "");
    if (userId === undefined) return { status: 302, location: `${url}/users/sign_in` };
    if (denyNext) {
      denyNext = false;
      return back({ error: "access_denied", error_description: "The resource owner or authorization server denied the request." });
    }
    const code = random(32);
    codes.set(code, { clientId: client.clientId, redirectUri, userId, scope, challenge, method, createdAt: now(), used: false });
    return back({ code });
  }

  function revokeEndpoint(req: IncomingMessage, params: Record<string, string>): Answer {
    const client = clientOf(req, params);
    if (!client) return { status: 403, body: { error: "unauthorized_client", error_description: "You are not authorized to revoke this token" } };
    const record = byAccess.get(params.token ?? "") ?? byRefresh.get(params.token ?? "");
    if (record) {
      if (record.clientId !== client.clientId) return { status: 403, body: { error: "unauthorized_client", error_description: "You are not authorized to revoke this token" } };
      record.revoked = true;
    }
    return { status: 200, body: {} };
  }

  function apiEndpoint(req: IncomingMessage, segments: string[], record: GitlabSimRequest, raw: string): Answer | undefined {
    const auth = req.headers.authorization ?? "";
    const bearer = auth.startsWith("Bearer ") ? auth.slice(7) : undefined;
    const token = bearer ? byAccess.get(bearer) : undefined;
    if (!bearer || !token) return { status: 401, body: { message: "401 Unauthorized" } };
    if (token.revoked) return { status: 401, body: { error: "invalid_token", error_description: "Token was revoked. You have to re-authorize from the user profile." } };
    if (expired(token)) return { status: 401, body: { error: "invalid_token", error_description: "Token is expired. You can either do re-authorization or token refresh." } };
    const me = users.get(token.userId)!;
    record.userId = me.id;
    const mergeRequestsAndPipelinesAnswer = mergeRequestsAndPipelinesApi(req, segments, me, raw);
    if (mergeRequestsAndPipelinesAnswer) return mergeRequestsAndPipelinesAnswer;
    const deploymentsAndHooksAnswer = deploymentsAndHooksApi(req, segments, me, raw);
    if (deploymentsAndHooksAnswer) return deploymentsAndHooksAnswer;
    const issuesAnswer = issuesApi(req, segments, me, raw);
    if (issuesAnswer) return issuesAnswer;
    const [resource, id, sub, all, memberId] = segments;
    if (req.method !== "GET") return undefined;
    if (resource === "user" && id === undefined) return { status: 200, body: userJson(me, true) };
    if (id === undefined && (resource === "todos" || resource === "merge_requests" || resource === "issues")) {
      return listEndpoint(resource, me, new URL(req.url ?? "/", "http://sim").searchParams);
    }
    if (resource === "projects" || resource === "groups") {
      const kind = resource === "projects" ? "project" : "group";
      const notFound = { status: 404, body: { message: `404 ${kind === "project" ? "Project" : "Group"} Not Found` } };
      const ns = id === undefined ? undefined : findNamespace(kind, id);
      if (id === undefined) return undefined;
      if (!ns || !canSee(ns, me)) return notFound;
      if (sub === undefined) return { status: 200, body: kind === "project" ? projectJson(ns, me) : groupJson(ns) };
      if (sub === "members" && all === "all" && memberId !== undefined && /^\d+$/.test(memberId) && segments.length === 5) {
        const member = users.get(Number(memberId));
        const level = member ? effectiveLevel(ns, member.id) : 0;
        if (!member || level === 0) return { status: 404, body: { message: "404 Not found" } };
        return { status: 200, body: memberJson(member, level) };
      }
    }
    return undefined;
  }

  function workJson(w: WorkRecord): Record<string, unknown> {
    const sigil = w.kind === "MergeRequest" ? "!" : "#";
    const userOf = (uid: number) => userJson(users.get(uid)!, false);
    const ns = namespaces.get(w.project.toLowerCase());
    return {
      id: w.id,
      iid: w.iid,
      project_id: ns?.id ?? null,
      title: w.title,
      state: w.state,
      web_url: `${url}/${w.project}/-/${w.kind === "MergeRequest" ? "merge_requests" : "issues"}/${w.iid}`,
      author: userOf(w.authorId),
      assignees: w.assigneeIds.map(userOf),
      ...(w.kind === "MergeRequest" ? { reviewers: w.reviewerIds.map(userOf), draft: false } : { confidential: false }),
      references: { short: `${sigil}${w.iid}`, relative: `${sigil}${w.iid}`, full: `${w.project}${sigil}${w.iid}` },
      created_at: w.createdAt,
      updated_at: w.createdAt,
    };
  }

  function todoJson(t: TodoRecord): Record<string, unknown> {
    const ns = namespaces.get(t.work.project.toLowerCase());
    const target = workJson(t.work);
    return {
      id: t.id,
      project: { id: ns?.id ?? null, name: ns?.name ?? "", name_with_namespace: t.work.project.split("/").join(" / "), path: ns?.name ?? "", path_with_namespace: t.work.project },
      author: userJson(users.get(t.authorId)!, false),
      action_name: t.action,
      target_type: t.work.kind,
      target,
      target_url: target.web_url,
      body: t.work.title,
      state: t.state,
      created_at: t.createdAt,
      updated_at: t.createdAt,
    };
  }

  /** GitLab's offset pagination: one page and the headers that describe all of them. */
  function page(rows: Record<string, unknown>[], query: URLSearchParams, path: string): Answer {
    const perPage = Math.min(100, Math.max(1, Number(query.get("per_page") ?? 20) || 20));
    const current = Math.max(1, Number(query.get("page") ?? 1) || 1);
    const totalPages = Math.max(1, Math.ceil(rows.length / perPage));
    const headers: Record<string, string> = {
      "X-Total": String(rows.length),
      "X-Total-Pages": String(totalPages),
      "X-Per-Page": String(perPage),
      "X-Page": String(current),
      "X-Next-Page": current < totalPages ? String(current + 1) : "",
      "X-Prev-Page": current > 1 ? String(current - 1) : "",
    };
    const link = (n: number, rel: string) => {
      const q = new URLSearchParams(query);
      q.set("page", String(n));
      q.set("per_page", String(perPage));
      return `<${url}/api/v4/${path}?${q}>; rel="${rel}"`;
    };
    const links = [...(current < totalPages ? [link(current + 1, "next")] : []), ...(current > 1 ? [link(current - 1, "prev")] : []), link(1, "first"), link(totalPages, "last")];
    headers.Link = links.join(", ");
    return { status: 200, body: rows.slice((current - 1) * perPage, current * perPage), headers };
  }

  function listEndpoint(resource: "todos" | "merge_requests" | "issues", me: GitlabSimUser, query: URLSearchParams, inProject?: Namespace): Answer {
    if (resource === "todos") {
      const state = query.get("state") ?? "pending";
      const mine = todos.filter((t) => t.userId === me.id && t.state === state).sort((a, b) => b.id - a.id);
      return page(mine.map(todoJson), query, resource);
    }
    const kind = resource === "merge_requests" ? "MergeRequest" : "Issue";
    const scope = query.get("scope") ?? "created_by_me";
    const state = query.get("state") ?? "all";
    const reviewer = query.get("reviewer_id");
    const assignee = query.get("assignee_id");
    const rows = work
      .filter((w) => w.kind === kind)
      .filter((w) => {
        const ns = namespaces.get(w.project.toLowerCase());
        return ns !== undefined && canSee(ns, me) && (inProject === undefined || ns === inProject);
      })
      .filter((w) => state === "all" || w.state === state)
      .filter((w) => (scope === "created_by_me" ? w.authorId === me.id : scope === "assigned_to_me" ? w.assigneeIds.includes(me.id) : true))
      .filter((w) => reviewer === null || w.reviewerIds.includes(Number(reviewer)))
      .filter((w) => assignee === null || w.assigneeIds.includes(Number(assignee)))
      .sort((a, b) => b.id - a.id);
    return page(rows.map(workJson), query, resource);
  }

  // ---- Issues API (the `/gitlab issue` commands) ----
  // GET and POST /projects/:id/issues (search, state; title, description, labels, assignee_ids,
  // confidential), GET and PUT /projects/:id/issues/:iid (state_event), POST .../notes (body), POST
  // .../move (to_project_id), GET /users?username=. Issues live in `work` (so /issues lists see them);
  // what only these endpoints need sits beside them in `issueExtras`. Rules from GitLab's permissions
  // page and API: whoever sees a public or internal project reads and creates issues and comments (a
  // private one: its members), unless `setIssuesAccess` keeps issues to members (create 403, read 404);
  // a confidential issue is 404 to all but Reporter and above, its author and its assignees; closing and
  // reopening need Reporter and above, the author or an assignee (403); moving needs Reporter and above
  // in both projects (400 with MoveService's sentence, as GitLab answers).
  interface IssueExtras {
    description: string;
    labels: string[];
    confidential: boolean;
    movedToId: number | null;
    notes: { id: number; body: string; authorId: number }[];
  }
  const issueExtras = new WeakMap<WorkRecord, IssueExtras>();
  const issuesAccess = new Map<number, "enabled" | "private" | "disabled">();

  function extrasOf(w: WorkRecord): IssueExtras {
    let extras = issueExtras.get(w);
    if (!extras) {
      extras = { description: "", labels: [], confidential: false, movedToId: null, notes: [] };
      issueExtras.set(w, extras);
    }
    return extras;
  }

  function findIssue(project: string, iid: number): WorkRecord | undefined {
    return work.find((w) => w.kind === "Issue" && w.project.toLowerCase() === project.toLowerCase() && w.iid === iid);
  }

  function issuesOpenTo(ns: Namespace, me: GitlabSimUser): boolean {
    if (!canSee(ns, me)) return false;
    const access = issuesAccess.get(ns.id) ?? "enabled";
    if (access === "disabled") return false;
    return access === "enabled" || me.isAdmin || effectiveLevel(ns, me.id) >= 10;
  }

  function canReadIssue(ns: Namespace, w: WorkRecord, me: GitlabSimUser): boolean {
    if (!issuesOpenTo(ns, me)) return false;
    if (!extrasOf(w).confidential) return true;
    return me.isAdmin || effectiveLevel(ns, me.id) >= 20 || w.authorId === me.id || w.assigneeIds.includes(me.id);
  }

  function issueJson(w: WorkRecord): Record<string, unknown> {
    const extras = extrasOf(w);
    return { ...workJson(w), description: extras.description, labels: extras.labels, confidential: extras.confidential, moved_to_id: extras.movedToId, user_notes_count: extras.notes.length };
  }

  function newIssue(ns: Namespace, from: { title: string; authorId: number; assigneeIds: number[] }, extras: Omit<IssueExtras, "movedToId" | "notes">): WorkRecord {
    const iid = Math.max(0, ...work.filter((w) => w.kind === "Issue" && w.project.toLowerCase() === ns.path.toLowerCase()).map((w) => w.iid)) + 1;
    const w: WorkRecord = { id: nextWorkId++, kind: "Issue", project: ns.path, iid, title: from.title, authorId: from.authorId, reviewerIds: [], assigneeIds: from.assigneeIds, state: "opened", createdAt: new Date(now()).toISOString() };
    work.push(w);
    issueExtras.set(w, { ...extras, movedToId: null, notes: [] });
    return w;
  }

  function issuesApi(req: IncomingMessage, segments: string[], me: GitlabSimUser, raw: string): Answer | undefined {
    const method = req.method ?? "GET";
    const query = new URL(req.url ?? "/", "http://sim").searchParams;
    if (segments.length === 1 && segments[0] === "users" && method === "GET" && query.has("username")) {
      const name = (query.get("username") ?? "").toLowerCase();
      return page([...users.values()].filter((u) => u.username.toLowerCase() === name).map((u) => userJson(u, false)), query, "users");
    }
    const [resource, projectId, issues, iidText, action] = segments;
    if (resource !== "projects" || projectId === undefined || issues !== "issues" || segments.length > 5) return undefined;
    const ns = findNamespace("project", projectId);
    if (!ns || !canSee(ns, me)) return { status: 404, body: { message: "404 Project Not Found" } };
    const body = parseBody(req, raw);
    const forbidden: Answer = { status: 403, body: { message: "403 Forbidden" } };
    const notFound: Answer = { status: 404, body: { message: "404 Not found" } };
    if (iidText === undefined) {
      if (method === "GET") {
        const search = (query.get("search") ?? "").toLowerCase();
        const state = query.get("state") ?? "all";
        const rows = work
          .filter((w) => w.kind === "Issue" && w.project.toLowerCase() === ns.path.toLowerCase() && canReadIssue(ns, w, me))
          .filter((w) => state === "all" || w.state === state)
          .filter((w) => search === "" || w.title.toLowerCase().includes(search) || extrasOf(w).description.toLowerCase().includes(search))
          .sort((a, b) => b.id - a.id);
        return page(rows.map(issueJson), query, `projects/${ns.id}/issues`);
      }
      if (method !== "POST") return undefined;
      if (!issuesOpenTo(ns, me)) return forbidden;
      const title = body.title ?? "";
      if (title.trim() === "") return { status: 400, body: { error: "title is missing" } };
      if ([...title].length > 255) return { status: 400, body: { message: { title: ["is too long (maximum is 255 characters)"] } } };
      const assigneeIds = (body.assignee_ids ?? "").split(",").filter((s) => /^\d+$/.test(s)).map(Number).filter((id) => users.has(id));
      const labels = (body.labels ?? "").split(",").map((l) => l.trim()).filter((l) => l !== "");
      const created = newIssue(ns, { title, authorId: me.id, assigneeIds }, { description: body.description ?? "", labels, confidential: body.confidential === "true" });
      return { status: 201, body: issueJson(created) };
    }
    const w = /^\d+$/.test(iidText) ? findIssue(ns.path, Number(iidText)) : undefined;
    if (!w || !canReadIssue(ns, w, me)) return notFound;
    const extras = extrasOf(w);
    if (action === undefined) {
      if (method === "GET") return { status: 200, body: issueJson(w) };
      if (method !== "PUT") return undefined;
      if (!(me.isAdmin || effectiveLevel(ns, me.id) >= 20 || w.authorId === me.id || w.assigneeIds.includes(me.id))) return forbidden;
      if (body.state_event === "close") w.state = "closed";
      if (body.state_event === "reopen") w.state = "opened";
      return { status: 200, body: issueJson(w) };
    }
    if (action === "notes" && method === "POST") {
      const text = body.body ?? "";
      if (text.trim() === "") return { status: 400, body: { error: "body is missing" } };
      const note = { id: nextWorkId++, body: text, authorId: me.id };
      extras.notes.push(note);
      const at = new Date(now()).toISOString();
      const noteJson = { id: note.id, type: null, body: text, author: userJson(me, false), created_at: at, updated_at: at, system: false, noteable_id: w.id, noteable_type: "Issue", noteable_iid: w.iid, project_id: ns.id, resolvable: false, confidential: false, internal: false };
      return { status: 201, body: noteJson };
    }
    if (action === "move" && method === "POST") {
      const target = findNamespace("project", body.to_project_id ?? "");
      if (!target || !canSee(target, me)) return { status: 404, body: { message: "404 Project Not Found" } };
      if (target.id === ns.id) return { status: 400, body: { message: "Cannot move issue to project it originates from!" } };
      const admin = (n: Namespace) => me.isAdmin || effectiveLevel(n, me.id) >= 20;
      if (extras.movedToId !== null || !admin(ns) || !admin(target)) return { status: 400, body: { message: "Cannot move issue due to insufficient permissions!" } };
      const moved = newIssue(target, w, { description: extras.description, labels: extras.labels, confidential: extras.confidential });
      w.state = "closed";
      extras.movedToId = moved.id;
      return { status: 201, body: issueJson(moved) };
    }
    return undefined;
  }
  // ---- end of the Issues API ----

  // ---- Merge requests, pipelines and jobs (the `/gitlab mr`, `pipeline` and `run` commands) ----
  // GET /projects/:id/merge_requests (as /merge_requests, in one project), GET .../merge_requests/:iid
  // (detailed_merge_status, user.can_merge, head_pipeline), GET .../approvals, POST .../approve and
  // .../unapprove, PUT .../merge (sha, auto_merge or merge_when_pipeline_succeeds); POST
  // /projects/:id/pipeline (ref, variables), GET /projects/:id/pipelines/:id and /pipelines/latest?ref=,
  // POST .../retry and .../cancel, GET .../pipelines/:id/jobs, GET /projects/:id/jobs/:id and .../trace
  // (text/plain). Rules from GitLab's API and permissions pages: merge requests are read by whoever
  // sees the project; merging needs Developer, Maintainer into a protected branch, else 401 (GitLab
  // says `unauthorized!` there); a merge request that is not mergeable is 405, one with conflicts 422,
  // a `sha` that is not the source branch's head 409; with auto_merge and a running head pipeline it is
  // set to merge when the pipeline succeeds. Approving needs Developer and not being the author, once
  // (else 401); unapproving what one did not approve is 404. Pipelines and jobs of a private project are
  // read by Reporters (403 below); creating, retrying and cancelling need Developer (403); a ref that is
  // not a branch is 400 "Reference not found"; a configuration with no job for it is 400.
  interface ProjectCi {
    defaultBranch: string;
    branches: Set<string>;
    protectedBranches: Set<string> | undefined;
    pipelineMustSucceed: boolean;
    discussionsMustBeResolved: boolean;
    jobs: string[];
    chatJobs: string[];
  }
  interface MergeRequestExtras {
    sourceBranch: string;
    targetBranch: string;
    draft: boolean;
    hasConflicts: boolean;
    unresolvedDiscussions: boolean;
    approvalsRequired: number;
    approvedBy: number[];
    autoMergeBy: number | null;
    mergedBy: number | null;
    mergedAt: string | null;
  }
  interface JobRecord {
    id: number;
    name: string;
    status: string;
    trace: string;
    createdAt: string;
    startedAt: string | null;
    finishedAt: string | null;
  }
  interface PipelineRecord {
    id: number;
    iid: number;
    project: Namespace;
    ref: string;
    source: string;
    userId: number;
    variables: { key: string; value: string; variable_type: string }[];
    jobs: JobRecord[];
    createdAt: string;
    duration?: number;
  }
  const projectCi = new Map<number, ProjectCi>();
  const mergeRequestExtras = new WeakMap<WorkRecord, MergeRequestExtras>();
  const pipelines: PipelineRecord[] = [];
  let nextPipelineId = 9000;
  let nextJobId = 70000;
  const ACTIVE = new Set(["created", "waiting_for_resource", "preparing", "pending", "running", "scheduled", "manual"]);

  function ciOf(ns: Namespace): ProjectCi {
    let ci = projectCi.get(ns.id);
    if (!ci) {
      ci = { defaultBranch: "main", branches: new Set(["main"]), protectedBranches: undefined, pipelineMustSucceed: false, discussionsMustBeResolved: false, jobs: ["test"], chatJobs: [] };
      projectCi.set(ns.id, ci);
    }
    return ci;
  }

  function branchSha(ns: Namespace, branch: string): string {
    return createHash("sha1").update(`${ns.path}:${branch}`).digest("hex");
  }

  function findMergeRequest(project: string, iid: number): WorkRecord | undefined {
    return work.find((w) => w.kind === "MergeRequest" && w.project.toLowerCase() === project.toLowerCase() && w.iid === iid);
  }

  function mergeRequestOf(w: WorkRecord): MergeRequestExtras {
    let extras = mergeRequestExtras.get(w);
    if (!extras) {
      extras = { sourceBranch: `feature-${w.iid}`, targetBranch: ciOf(namespace(w.project)).defaultBranch, draft: false, hasConflicts: false, unresolvedDiscussions: false, approvalsRequired: 0, approvedBy: [], autoMergeBy: null, mergedBy: null, mergedAt: null };
      mergeRequestExtras.set(w, extras);
    }
    return extras;
  }

  function pipelineStatus(p: PipelineRecord): string {
    const states = p.jobs.map((j) => j.status);
    if (states.length === 0) return "skipped";
    if (states.includes("running")) return "running";
    if (states.some((s) => ACTIVE.has(s))) return states.every((s) => ACTIVE.has(s)) ? "pending" : "running";
    if (states.includes("failed")) return "failed";
    if (states.includes("canceled")) return "canceled";
    return "success";
  }

  function headPipeline(ns: Namespace, branch: string): PipelineRecord | undefined {
    return pipelines.filter((p) => p.project === ns && p.ref === branch).sort((a, b) => b.id - a.id)[0];
  }

  function mayMerge(ns: Namespace, m: MergeRequestExtras, me: GitlabSimUser): boolean {
    const ci = ciOf(ns);
    const protectedBranch = (ci.protectedBranches ?? new Set([ci.defaultBranch])).has(m.targetBranch);
    return me.isAdmin || effectiveLevel(ns, me.id) >= (protectedBranch ? 40 : 30);
  }

  /** GitLab's detailed_merge_status, the first check that fails (in the order GitLab checks them). */
  function detailedMergeStatus(ns: Namespace, w: WorkRecord): string {
    const m = mergeRequestOf(w);
    const ci = ciOf(ns);
    if (w.state !== "opened") return "not_open";
    if (m.draft) return "draft_status";
    if (ci.discussionsMustBeResolved && m.unresolvedDiscussions) return "discussions_not_resolved";
    if (ci.pipelineMustSucceed) {
      const head = headPipeline(ns, m.sourceBranch);
      const status = head ? pipelineStatus(head) : undefined;
      if (status !== undefined && ACTIVE.has(status)) return "ci_still_running";
      if (status !== "success") return "ci_must_pass";
    }
    if (m.hasConflicts) return "conflict";
    if (m.approvedBy.length < m.approvalsRequired) return "not_approved";
    return "mergeable";
  }

  function pipelineJson(p: PipelineRecord): Record<string, unknown> {
    const status = pipelineStatus(p);
    const started = p.jobs.map((j) => j.startedAt).filter((s): s is string => s !== null).sort()[0] ?? null;
    const finished = ACTIVE.has(status) ? null : (p.jobs.map((j) => j.finishedAt).filter((s): s is string => s !== null).sort().at(-1) ?? null);
    const duration = p.duration ?? (started && finished ? Math.round((Date.parse(finished) - Date.parse(started)) / 1000) : null);
    return {
      id: p.id,
      iid: p.iid,
      project_id: p.project.id,
      status,
      source: p.source,
      ref: p.ref,
      sha: branchSha(p.project, p.ref),
      before_sha: "0000000000000000000000000000000000000000",
      tag: false,
      yaml_errors: null,
      user: userJson(users.get(p.userId)!, false),
      created_at: p.createdAt,
      updated_at: new Date(now()).toISOString(),
      started_at: started,
      finished_at: finished,
      committed_at: null,
      duration: ACTIVE.has(status) ? null : duration,
      queued_duration: null,
      coverage: null,
      web_url: `${url}/${p.project.path}/-/pipelines/${p.id}`,
      detailed_status: { text: status, label: status, group: status },
    };
  }

  function jobJson(p: PipelineRecord, j: JobRecord): Record<string, unknown> {
    const duration = j.startedAt && j.finishedAt ? (Date.parse(j.finishedAt) - Date.parse(j.startedAt)) / 1000 : null;
    return {
      id: j.id,
      name: j.name,
      stage: j.name,
      status: j.status,
      ref: p.ref,
      tag: false,
      allow_failure: false,
      created_at: j.createdAt,
      started_at: j.startedAt,
      finished_at: j.finishedAt,
      duration,
      queued_duration: null,
      failure_reason: j.status === "failed" ? "script_failure" : undefined,
      user: userJson(users.get(p.userId)!, false),
      pipeline: { id: p.id, project_id: p.project.id, ref: p.ref, sha: branchSha(p.project, p.ref), status: pipelineStatus(p) },
      web_url: `${url}/${p.project.path}/-/jobs/${j.id}`,
    };
  }

  function mergeRequestJson(ns: Namespace, w: WorkRecord, me: GitlabSimUser): Record<string, unknown> {
    const m = mergeRequestOf(w);
    const head = headPipeline(ns, m.sourceBranch);
    const status = detailedMergeStatus(ns, w);
    const userOf = (id: number | null) => (id === null ? null : userJson(users.get(id)!, false));
    return {
      ...workJson(w),
      description: "",
      source_branch: m.sourceBranch,
      target_branch: m.targetBranch,
      draft: m.draft,
      work_in_progress: m.draft,
      has_conflicts: m.hasConflicts,
      blocking_discussions_resolved: !m.unresolvedDiscussions,
      merge_status: status === "mergeable" ? "can_be_merged" : "cannot_be_merged",
      detailed_merge_status: status,
      merge_when_pipeline_succeeds: m.autoMergeBy !== null,
      merge_user: userOf(m.autoMergeBy ?? m.mergedBy),
      merged_by: userOf(m.mergedBy),
      merged_at: m.mergedAt,
      sha: branchSha(ns, m.sourceBranch),
      head_pipeline: head ? pipelineJson(head) : null,
      user: { can_merge: mayMerge(ns, m, me) },
    };
  }

  function approvalsJson(ns: Namespace, w: WorkRecord, me: GitlabSimUser): Record<string, unknown> {
    const m = mergeRequestOf(w);
    return {
      id: w.id,
      iid: w.iid,
      project_id: ns.id,
      title: w.title,
      state: w.state,
      approved: m.approvedBy.length >= m.approvalsRequired,
      approvals_required: m.approvalsRequired,
      approvals_left: Math.max(0, m.approvalsRequired - m.approvedBy.length),
      approved_by: m.approvedBy.map((id) => ({ user: userJson(users.get(id)!, false) })),
      user_has_approved: m.approvedBy.includes(me.id),
      user_can_approve: canApprove(ns, w, me),
    };
  }

  function canApprove(ns: Namespace, w: WorkRecord, me: GitlabSimUser): boolean {
    const m = mergeRequestOf(w);
    return w.state === "opened" && w.authorId !== me.id && !m.approvedBy.includes(me.id) && (me.isAdmin || effectiveLevel(ns, me.id) >= 30);
  }

  function merge(w: WorkRecord, byUserId: number): void {
    const m = mergeRequestOf(w);
    w.state = "merged";
    m.mergedBy = byUserId;
    m.mergedAt = new Date(now()).toISOString();
    m.autoMergeBy = null;
  }

  /** After a pipeline changed: merge requests set to auto-merge on it merge, or lose auto-merge when it fails. */
  function settleAutoMerge(p: PipelineRecord): void {
    const status = pipelineStatus(p);
    if (ACTIVE.has(status)) return;
    for (const w of work) {
      if (w.kind !== "MergeRequest" || w.project.toLowerCase() !== p.project.path.toLowerCase()) continue;
      const m = mergeRequestOf(w);
      if (m.autoMergeBy === null || m.sourceBranch !== p.ref || headPipeline(p.project, p.ref) !== p) continue;
      if (status === "success" && detailedMergeStatus(p.project, w) === "mergeable") merge(w, m.autoMergeBy);
      else m.autoMergeBy = null;
    }
  }

  function createPipeline(ns: Namespace, ref: string, userId: number, variables: PipelineRecord["variables"], source: string): PipelineRecord | Answer {
    const ci = ciOf(ns);
    if (!ci.branches.has(ref)) return { status: 400, body: { message: { base: ["Reference not found"] } } };
    const chatJob = variables.find((v) => v.key === "GITLAB_CHATOPS_JOB")?.value;
    const names = chatJob === undefined ? ci.jobs : ci.chatJobs.filter((n) => n === chatJob);
    if (names.length === 0) return { status: 400, body: { message: { base: ["Pipeline will not run for the selected trigger. The rules configuration prevented any jobs from being added to the pipeline."] } } };
    const at = new Date(now()).toISOString();
    const id = nextPipelineId++;
    const p: PipelineRecord = {
      id,
      iid: pipelines.filter((x) => x.project === ns).length + 1,
      project: ns,
      ref,
      source,
      userId,
      variables,
      jobs: names.map((name) => ({ id: nextJobId++, name, status: "pending", trace: "", createdAt: at, startedAt: null, finishedAt: null })),
      createdAt: at,
    };
    pipelines.push(p);
    return p;
  }

  function setJobStatus(j: JobRecord, status: string): void {
    const at = new Date(now()).toISOString();
    if (status === "running" || (!ACTIVE.has(status) && j.startedAt === null)) j.startedAt ??= at;
    j.finishedAt = ACTIVE.has(status) ? null : at;
    j.status = status;
  }

  /** Pipeline variables as GitLab takes them: a JSON array of {key, value, variable_type}, or variables[n][key] form fields. */
  function variablesOf(req: IncomingMessage, raw: string): PipelineRecord["variables"] {
    const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim();
    if (type === "application/json") {
      try {
        const json = JSON.parse(raw) as { variables?: { key?: unknown; value?: unknown; variable_type?: unknown }[] };
        return (json.variables ?? []).map((v) => ({ key: String(v.key ?? ""), value: String(v.value ?? ""), variable_type: String(v.variable_type ?? "env_var") }));
      } catch {
        return [];
      }
    }
    const form = new URLSearchParams(raw);
    const out: PipelineRecord["variables"] = [];
    for (let n = 0; form.has(`variables[${n}][key]`); n++) {
      out.push({ key: form.get(`variables[${n}][key]`) ?? "", value: form.get(`variables[${n}][value]`) ?? "", variable_type: form.get(`variables[${n}][variable_type]`) ?? "env_var" });
    }
    return out;
  }

  function mergeRequestsAndPipelinesApi(req: IncomingMessage, segments: string[], me: GitlabSimUser, raw: string): Answer | undefined {
    const method = req.method ?? "GET";
    const query = new URL(req.url ?? "/", "http://sim").searchParams;
    const [resource, projectId, kind, idText, action, extra] = segments;
    if (resource !== "projects" || projectId === undefined || extra !== undefined) return undefined;
    if (kind !== "merge_requests" && kind !== "pipeline" && kind !== "pipelines" && kind !== "jobs") return undefined;
    const ns = findNamespace("project", projectId);
    if (!ns || !canSee(ns, me)) return { status: 404, body: { message: "404 Project Not Found" } };
    const level = me.isAdmin ? 50 : effectiveLevel(ns, me.id);
    const forbidden: Answer = { status: 403, body: { message: "403 Forbidden" } };
    const notFound: Answer = { status: 404, body: { message: "404 Not found" } };
    const unauthorized: Answer = { status: 401, body: { message: "401 Unauthorized" } };

    if (kind === "merge_requests") {
      if (idText === undefined) return method === "GET" ? listEndpoint("merge_requests", me, query, ns) : undefined;
      const w = /^\d+$/.test(idText) ? findMergeRequest(ns.path, Number(idText)) : undefined;
      if (!w) return notFound;
      const m = mergeRequestOf(w);
      if (action === undefined && method === "GET") return { status: 200, body: mergeRequestJson(ns, w, me) };
      if (action === "approvals" && method === "GET") return { status: 200, body: approvalsJson(ns, w, me) };
      if (action === "approve" && method === "POST") {
        if (!canApprove(ns, w, me)) return unauthorized;
        m.approvedBy.push(me.id);
        return { status: 201, body: approvalsJson(ns, w, me) };
      }
      if (action === "unapprove" && method === "POST") {
        if (!m.approvedBy.includes(me.id)) return notFound;
        m.approvedBy = m.approvedBy.filter((id) => id !== me.id);
        return { status: 201, body: approvalsJson(ns, w, me) };
      }
      if (action === "merge" && method === "PUT") {
        if (!mayMerge(ns, m, me)) return unauthorized;
        const body = parseBody(req, raw);
        const auto = body.auto_merge === "true" || body.merge_when_pipeline_succeeds === "true";
        const status = detailedMergeStatus(ns, w);
        const head = headPipeline(ns, m.sourceBranch);
        const running = head !== undefined && ACTIVE.has(pipelineStatus(head));
        const waitsForPipeline = auto && running && (status === "ci_still_running" || status === "mergeable");
        if (!waitsForPipeline && status !== "mergeable") return status === "conflict" ? { status: 422, body: { message: "Branch cannot be merged" } } : { status: 405, body: { message: "405 Method Not Allowed" } };
        if (body.sha !== undefined && body.sha !== branchSha(ns, m.sourceBranch)) return { status: 409, body: { message: "SHA does not match HEAD of source branch: " + branchSha(ns, m.sourceBranch) } };
        if (waitsForPipeline) m.autoMergeBy = me.id;
        else merge(w, me.id);
        return { status: 200, body: mergeRequestJson(ns, w, me) };
      }
      return undefined;
    }

    const readable = ns.visibility !== "private" || level >= 20;
    if (kind === "pipeline") {
      if (idText !== undefined || method !== "POST") return undefined;
      if (level < 30) return forbidden;
      const body = parseBody(req, raw);
      const created = createPipeline(ns, body.ref ?? "", me.id, variablesOf(req, raw), "api");
      return "jobs" in created ? { status: 201, body: pipelineJson(created) } : created;
    }
    if (kind === "pipelines") {
      if (idText === undefined) return undefined;
      if (!readable) return forbidden;
      if (idText === "latest" && action === undefined && method === "GET") {
        const latest = headPipeline(ns, query.get("ref") ?? ciOf(ns).defaultBranch);
        return latest ? { status: 200, body: pipelineJson(latest) } : notFound;
      }
      const p = /^\d+$/.test(idText) ? pipelines.find((x) => x.project === ns && x.id === Number(idText)) : undefined;
      if (!p) return notFound;
      if (action === undefined && method === "GET") return { status: 200, body: pipelineJson(p) };
      if (action === "jobs" && method === "GET") {
        const scopes = [...query.getAll("scope[]"), ...query.getAll("scope")];
        const jobs = p.jobs.filter((j) => scopes.length === 0 || scopes.includes(j.status));
        return page(jobs.map((j) => jobJson(p, j)), query, `projects/${ns.id}/pipelines/${p.id}/jobs`);
      }
      if ((action === "retry" || action === "cancel") && method === "POST") {
        if (level < 30) return forbidden;
        for (const j of p.jobs) {
          if (action === "retry" && (j.status === "failed" || j.status === "canceled")) {
            j.status = "pending";
            j.startedAt = null;
            j.finishedAt = null;
          }
          if (action === "cancel" && ACTIVE.has(j.status)) setJobStatus(j, "canceled");
        }
        settleAutoMerge(p);
        return { status: action === "retry" ? 201 : 200, body: pipelineJson(p) };
      }
      return undefined;
    }
    // jobs
    if (idText === undefined || method !== "GET" || !/^\d+$/.test(idText)) return undefined;
    if (!readable) return forbidden;
    const p = pipelines.find((x) => x.project === ns && x.jobs.some((j) => j.id === Number(idText)));
    const j = p?.jobs.find((x) => x.id === Number(idText));
    if (!p || !j) return notFound;
    if (action === undefined) return { status: 200, body: jobJson(p, j) };
    if (action === "trace") return { status: 200, text: j.trace };
    return undefined;
  }
  // ---- end of merge requests, pipelines and jobs ----

  // ---- Environments, deployments and webhooks (the `/gitlab deploy` and `webhook` commands) ----
  // GET /projects/:id/environments (name, search), GET /projects/:id/deployments (environment, status,
  // order_by, sort; newest first needs `status=success` with `order_by=finished_at`), POST
  // /projects/:id/jobs/:job_id/play; GET and POST /projects/:id/hooks and /groups/:id/hooks, PUT
  // .../hooks/:hook_id. Rules from GitLab's API and permissions pages: environments and deployments are
  // read by Reporters and above (403); playing a job needs Developer (403), and a job that is not
  // manual is 400 "Unplayable Job"; project hooks need Maintainer, group hooks Owner (403); without
  // group webhooks (a tier that has none) /groups/:id/hooks does not exist (404). A hook's token is
  // never in an answer; flags not given when adding are off, except push_events and
  // enable_ssl_verification (on).
  interface EnvironmentRecord {
    id: number;
    project: Namespace;
    name: string;
    createdAt: string;
  }
  interface DeploymentRecord {
    id: number;
    iid: number;
    environment: EnvironmentRecord;
    pipeline: PipelineRecord;
    job: JobRecord;
    status: string;
    createdAt: string;
    finishedAt: string | null;
  }
  interface HookRecord {
    id: number;
    owner: Namespace;
    url: string;
    token: string | undefined;
    enableSslVerification: boolean;
    events: Set<string>;
    createdAt: string;
  }
  const HOOK_EVENTS = [
    "push_events",
    "tag_push_events",
    "issues_events",
    "confidential_issues_events",
    "merge_requests_events",
    "note_events",
    "confidential_note_events",
    "job_events",
    "pipeline_events",
    "wiki_page_events",
    "deployment_events",
    "releases_events",
    "feature_flag_events",
    "emoji_events",
    "resource_access_token_events",
    "milestone_events",
    "vulnerability_events",
  ];
  const GROUP_HOOK_EVENTS = [...HOOK_EVENTS, "subgroup_events", "member_events", "project_events"];
  const environments: EnvironmentRecord[] = [];
  const deployments: DeploymentRecord[] = [];
  const hookRecords: HookRecord[] = [];
  let groupHooksAvailable = true;
  let nextDeploymentId = 30000;

  function ensureEnvironment(ns: Namespace, name: string): EnvironmentRecord {
    const found = environments.find((e) => e.project === ns && e.name === name);
    if (found) return found;
    const created: EnvironmentRecord = { id: nextDeploymentId++, project: ns, name, createdAt: new Date(now()).toISOString() };
    environments.push(created);
    return created;
  }

  function environmentJson(e: EnvironmentRecord): Record<string, unknown> {
    const slug = e.name.toLowerCase().replace(/[^a-z0-9]/g, "-").slice(0, 24);
    return { id: e.id, name: e.name, slug, external_url: null, state: "available", tier: "other", created_at: e.createdAt, updated_at: e.createdAt };
  }

  function deploymentJson(d: DeploymentRecord): Record<string, unknown> {
    const ns = d.environment.project;
    return {
      id: d.id,
      iid: d.iid,
      ref: d.pipeline.ref,
      sha: branchSha(ns, d.pipeline.ref),
      status: d.status,
      created_at: d.createdAt,
      updated_at: d.finishedAt ?? d.createdAt,
      finished_at: d.finishedAt,
      user: userJson(users.get(d.pipeline.userId)!, false),
      environment: environmentJson(d.environment),
      deployable: jobJson(d.pipeline, d.job),
    };
  }

  function hookJson(h: HookRecord): Record<string, unknown> {
    const flags = h.owner.kind === "group" ? GROUP_HOOK_EVENTS : HOOK_EVENTS;
    return {
      id: h.id,
      url: h.url,
      name: "",
      description: "",
      [h.owner.kind === "group" ? "group_id" : "project_id"]: h.owner.id,
      created_at: h.createdAt,
      ...Object.fromEntries(flags.map((f) => [f, h.events.has(f)])),
      push_events_branch_filter: "",
      enable_ssl_verification: h.enableSslVerification,
      alert_status: "executable",
      disabled_until: null,
      url_variables: [],
    };
  }

  /** Sets the flags the body names ("true"/"false", as form or JSON); others stay as they are. */
  function applyHookBody(h: HookRecord, body: Record<string, string>): void {
    for (const flag of h.owner.kind === "group" ? GROUP_HOOK_EVENTS : HOOK_EVENTS) {
      if (body[flag] === "true") h.events.add(flag);
      if (body[flag] === "false") h.events.delete(flag);
    }
    if (body.enable_ssl_verification !== undefined) h.enableSslVerification = body.enable_ssl_verification === "true";
    if (body.token !== undefined) h.token = body.token;
    if (body.url !== undefined) h.url = body.url;
  }

  function hooksApi(req: IncomingMessage, ns: Namespace, level: number, hookIdText: string | undefined, raw: string): Answer | undefined {
    const method = req.method ?? "GET";
    const query = new URL(req.url ?? "/", "http://sim").searchParams;
    if (ns.kind === "group" && !groupHooksAvailable) return { status: 404, body: { error: "404 Not Found" } };
    if (level < (ns.kind === "group" ? 50 : 40)) return { status: 403, body: { message: "403 Forbidden" } };
    const body = parseBody(req, raw);
    if (hookIdText === undefined) {
      if (method === "GET") return page(hookRecords.filter((h) => h.owner === ns).map(hookJson), query, `${ns.kind}s/${ns.id}/hooks`);
      if (method !== "POST") return undefined;
      if (!body.url) return { status: 400, body: { error: "url is missing" } };
      const h: HookRecord = { id: nextDeploymentId++, owner: ns, url: body.url, token: undefined, enableSslVerification: true, events: new Set(["push_events"]), createdAt: new Date(now()).toISOString() };
      applyHookBody(h, body);
      hookRecords.push(h);
      return { status: 201, body: hookJson(h) };
    }
    const h = hookRecords.find((x) => x.owner === ns && String(x.id) === hookIdText);
    if (!h) return { status: 404, body: { message: "404 Not found" } };
    if (method === "GET") return { status: 200, body: hookJson(h) };
    if (method !== "PUT") return undefined;
    applyHookBody(h, body);
    return { status: 200, body: hookJson(h) };
  }

  function deploymentsAndHooksApi(req: IncomingMessage, segments: string[], me: GitlabSimUser, raw: string): Answer | undefined {
    const method = req.method ?? "GET";
    const query = new URL(req.url ?? "/", "http://sim").searchParams;
    const [resource, id, kind, subId, action, extra] = segments;
    if ((resource !== "projects" && resource !== "groups") || id === undefined || extra !== undefined) return undefined;
    if (kind !== "hooks" && (resource !== "projects" || (kind !== "environments" && kind !== "deployments" && !(kind === "jobs" && action === "play")))) return undefined;
    const ns = findNamespace(resource === "projects" ? "project" : "group", id);
    if (!ns || !canSee(ns, me)) return { status: 404, body: { message: `404 ${resource === "projects" ? "Project" : "Group"} Not Found` } };
    const level = me.isAdmin ? 50 : effectiveLevel(ns, me.id);
    if (kind === "hooks") return action === undefined ? hooksApi(req, ns, level, subId, raw) : undefined;
    const forbidden: Answer = { status: 403, body: { message: "403 Forbidden" } };

    if (kind === "jobs") {
      if (method !== "POST" || subId === undefined || !/^\d+$/.test(subId)) return undefined;
      const p = pipelines.find((x) => x.project === ns && x.jobs.some((j) => j.id === Number(subId)));
      const j = p?.jobs.find((x) => x.id === Number(subId));
      if (!p || !j) return { status: 404, body: { message: "404 Not found" } };
      if (level < 30) return forbidden;
      if (j.status !== "manual") return { status: 400, body: { message: "400 Bad request - Unplayable Job" } };
      setJobStatus(j, "pending");
      return { status: 200, body: jobJson(p, j) };
    }
    if (method !== "GET" || subId !== undefined) return undefined;
    if (level < 20) return forbidden;
    if (kind === "environments") {
      const name = query.get("name");
      const search = query.get("search")?.toLowerCase();
      const rows = environments.filter((e) => e.project === ns && (name === null || e.name === name) && (search === undefined || e.name.toLowerCase().includes(search)));
      return page(rows.map(environmentJson), query, `projects/${ns.id}/environments`);
    }
    const orderBy = query.get("order_by") ?? "id";
    const status = query.get("status");
    if (orderBy === "finished_at" && status !== "success") return { status: 400, body: { message: "400 Bad request - `finished_at` sorting requires `status` to be `success`" } };
    const environment = query.get("environment");
    const key = (d: DeploymentRecord): string | number => (orderBy === "finished_at" ? (d.finishedAt ?? "") : d.id);
    const rows = deployments
      .filter((d) => d.environment.project === ns && (environment === null || d.environment.name === environment) && (status === null || d.status === status))
      .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0) * (query.get("sort") === "desc" ? -1 : 1));
    return page(rows.map(deploymentJson), query, `projects/${ns.id}/deployments`);
  }
  // ---- end of environments, deployments and webhooks ----

  // ---- Applications API and personal access tokens (gitlab-mm setup) ----
  // https://docs.gitlab.com/api/applications/: instance-wide OAuth applications, administrators only
  // (401 without a valid token, 403 for anyone else). GET /applications lists them without their
  // secrets; POST /applications (name, redirect_uri, scopes required; confidential defaults to true)
  // answers with the secret; POST /applications/:id/renew-secret gives a new secret, and the old one
  // stops working at once. Applications made here are OAuth clients the sim's /oauth endpoints know.
  // A personal access token authenticates as `PRIVATE-TOKEN: <token>` or `Authorization: Bearer <token>`.
  interface ApplicationMeta {
    id: number;
    name: string;
    scopes: string[];
    confidential: boolean;
  }
  const applicationMeta = new Map<string, ApplicationMeta>();
  const personalAccessTokens = new Map<string, number>();
  let nextApplicationId = 1;
  const OAUTH_SCOPES = ["api", "read_api", "read_user", "read_repository", "write_repository", "openid", "profile", "email"];

  function metaOf(a: GitlabSimApp): ApplicationMeta {
    let meta = applicationMeta.get(a.clientId);
    if (!meta) {
      meta = { id: nextApplicationId++, name: "OAuth application", scopes: ["api"], confidential: true };
      applicationMeta.set(a.clientId, meta);
    }
    return meta;
  }
  function applicationJson(a: GitlabSimApp, withSecret: boolean): Record<string, unknown> {
    const meta = metaOf(a);
    return { id: meta.id, application_id: a.clientId, application_name: meta.name, ...(withSecret ? { secret: a.clientSecret } : {}), callback_url: a.redirectUri, confidential: meta.confidential };
  }
  function applicationsCaller(req: IncomingMessage): GitlabSimUser | undefined {
    const header = req.headers["private-token"];
    const auth = req.headers.authorization ?? "";
    const token = typeof header === "string" ? header : auth.startsWith("Bearer ") ? auth.slice(7) : "";
    const viaToken = personalAccessTokens.get(token);
    if (viaToken !== undefined) return users.get(viaToken);
    const oauth = byAccess.get(token);
    return oauth && !oauth.revoked && !expired(oauth) && oauth.scope.split(" ").includes("api") ? users.get(oauth.userId) : undefined;
  }

  function applicationsApi(req: IncomingMessage, segments: string[], record: GitlabSimRequest, raw: string): Answer | undefined {
    const [resource, id, action] = segments;
    if (resource !== "applications") return undefined;
    const me = applicationsCaller(req);
    if (!me) return { status: 401, body: { message: "401 Unauthorized" } };
    record.userId = me.id;
    if (!me.isAdmin) return { status: 403, body: { message: "403 Forbidden" } };
    if (req.method === "GET" && id === undefined) return { status: 200, body: [...apps.values()].map((a) => applicationJson(a, false)) };
    if (req.method === "POST" && id === undefined) {
      const params = parseBody(req, raw);
      for (const name of ["name", "redirect_uri", "scopes"]) {
        if (!params[name]) return { status: 400, body: { error: `${name} is missing` } };
      }
      const scopes = params.scopes!.split(" ").filter(Boolean);
      if (scopes.length === 0 || !scopes.every((s) => OAUTH_SCOPES.includes(s))) return { status: 400, body: { message: { scopes: ["doesn't match configured on the server."] } } };
      if (!URL.canParse(params.redirect_uri!)) return { status: 400, body: { message: { redirect_uri: ["must be an absolute URI."] } } };
      const created = addApp(params.redirect_uri!);
      applicationMeta.set(created.clientId, { id: nextApplicationId++, name: params.name!, scopes, confidential: params.confidential !== "false" });
      return { status: 200, body: applicationJson(created, true) };
    }
    if (req.method === "POST" && id !== undefined && action === "renew-secret" && segments.length === 3) {
      const found = [...apps.values()].find((a) => String(metaOf(a).id) === id);
      if (!found) return { status: 404, body: { message: "404 Application Not Found" } };
      found.clientSecret = `gloas-${random(32)}`;
      return { status: 200, body: applicationJson(found, true) };
    }
    return undefined;
  }
  // ---- end of the Applications API and personal access tokens ----

  function send(res: ServerResponse, a: Answer): void {
    if (a.location) {
      res.writeHead(a.status, { Location: a.location, "Content-Length": 0 });
      res.end();
      return;
    }
    if (a.text !== undefined) {
      res.writeHead(a.status, { "Content-Type": "text/plain; charset=utf-8" });
      res.end(a.text);
      return;
    }
    if (a.html !== undefined) {
      res.writeHead(a.status, { "Content-Type": "text/html; charset=utf-8" });
      res.end(a.html);
      return;
    }
    const text = JSON.stringify(a.body ?? {});
    res.writeHead(a.status, { "Content-Type": "application/json", "Cache-Control": "no-store", ...a.headers });
    res.end(text);
  }

  function take<T extends { method?: string; path?: RegExp; times: number }>(list: T[], method: string, path: string): T | undefined {
    const i = list.findIndex((f) => (!f.method || f.method.toUpperCase() === method) && (!f.path || f.path.test(path)));
    if (i === -1) return undefined;
    const f = list[i]!;
    f.times -= 1;
    if (f.times <= 0) list.splice(i, 1);
    return f;
  }

  function parseBody(req: IncomingMessage, raw: string): Record<string, string> {
    const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim();
    if (type === "application/json") {
      try {
        const json = JSON.parse(raw) as Record<string, unknown>;
        return Object.fromEntries(Object.entries(json).map(([k, v]) => [k, String(v)]));
      } catch {
        return {};
      }
    }
    return Object.fromEntries(new URLSearchParams(raw));
  }

  async function handle(req: IncomingMessage, res: ServerResponse, raw: string): Promise<void> {
    const method = req.method ?? "GET";
    const target = new URL(req.url ?? "/", "http://sim");
    const path = target.pathname;
    const record: GitlabSimRequest = { method, path, status: 0 };
    requests.push(record);
    const delay = take(delays, method, path);
    if (delay) await new Promise((r) => setTimeout(r, delay.ms));
    const failure = take(failures, method, path);
    let answer: Answer | undefined;
    if (failure) {
      answer = { status: failure.status, body: failure.body ?? { message: `${failure.status} injected failure` }, headers: failure.headers };
    } else if (path === "/oauth/authorize" && method === "GET") {
      answer = authorizeEndpoint(req, target.searchParams);
    } else if (path === "/oauth/token" && method === "POST") {
      answer = tokenEndpoint(req, { ...Object.fromEntries(target.searchParams), ...parseBody(req, raw) }, record);
    } else if (path === "/oauth/revoke" && method === "POST") {
      answer = revokeEndpoint(req, { ...Object.fromEntries(target.searchParams), ...parseBody(req, raw) });
    } else if (path.startsWith("/api/v4/")) {
      // Split before decoding: a project path is one segment, its slashes encoded as %2F.
      const segments = path.slice("/api/v4/".length).split("/").map((s) => decodeURIComponent(s));
      answer = applicationsApi(req, segments, record, raw) ?? apiEndpoint(req, segments, record, raw);
    }
    if (!answer) {
      unhandled.push(`${method} ${path}`);
      answer = { status: 404, body: { error: "404 Not Found" } };
    }
    record.status = answer.status;
    send(res, answer);
  }

  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      handle(req, res, Buffer.concat(chunks).toString("utf8")).catch((error: Error) => {
        unhandled.push(`${req.method} ${req.url}: ${error.message}`);
        if (!res.headersSent) res.writeHead(500, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ message: "500 Internal Server Error" }));
      });
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    app,
    addApp,
    addUser(u) {
      if ([...users.values()].some((x) => x.username.toLowerCase() === u.username.toLowerCase())) throw new Error(`gitlab-sim: user ${u.username} exists`);
      const user = { id: nextUserId++, username: u.username, name: u.name ?? u.username, isAdmin: u.isAdmin ?? false };
      users.set(user.id, user);
      return user;
    },
    addGroup(path, visibility = "private") {
      const ns = ensureNamespace("group", path, visibility);
      return { id: ns.id, fullPath: ns.path };
    },
    addProject(path, visibility = "private") {
      const ns = ensureNamespace("project", path, visibility);
      return { id: ns.id, pathWithNamespace: ns.path };
    },
    addMember(path, user, level) {
      namespace(path).members.set(user.id, level);
    },
    removeMember(path, user) {
      namespace(path).members.delete(user.id);
    },
    exists(path) {
      return namespaces.has(path.toLowerCase());
    },
    setVisibility(path, visibility) {
      namespace(path).visibility = visibility;
    },
    sessionCookie(user) {
      const session = random(16);
      sessions.set(session, user.id);
      return `_gitlab_session=${session}`;
    },
    issueTokens(user, forApp = app) {
      const r = issue(user.id, forApp.clientId, "api");
      return { accessToken: r.accessToken, refreshToken: r.refreshToken, expiresIn: ACCESS_TOKEN_TTL_S };
    },
    revokeAll(user) {
      for (const r of byAccess.values()) if (r.userId === user.id) r.revoked = true;
    },
    issuedTo(user) {
      return [...byAccess.values()].filter((r) => r.userId === user.id).flatMap((r) => [r.accessToken, r.refreshToken]);
    },
    tokenState(token) {
      const r = byAccess.get(token) ?? byRefresh.get(token);
      if (!r) return "unknown";
      if (r.revoked) return "revoked";
      return byAccess.has(token) && expired(r) ? "expired" : "active";
    },
    denyNext() {
      denyNext = true;
    },
    advanceClock(ms) {
      clockOffset += ms;
    },
    addMergeRequest(m) {
      namespace(m.project);
      work.push({
        id: nextWorkId++,
        kind: "MergeRequest",
        project: m.project,
        iid: m.iid,
        title: m.title,
        authorId: m.author.id,
        reviewerIds: (m.reviewers ?? []).map((u) => u.id),
        assigneeIds: (m.assignees ?? []).map((u) => u.id),
        state: m.state ?? "opened",
        createdAt: new Date(now()).toISOString(),
      });
    },
    addIssue(i) {
      namespace(i.project);
      work.push({
        id: nextWorkId++,
        kind: "Issue",
        project: i.project,
        iid: i.iid,
        title: i.title,
        authorId: i.author.id,
        reviewerIds: [],
        assigneeIds: (i.assignees ?? []).map((u) => u.id),
        state: i.state ?? "opened",
        createdAt: new Date(now()).toISOString(),
      });
    },
    addTodo(user, t) {
      const target = work.find((w) => w.kind === t.target && w.project.toLowerCase() === t.project.toLowerCase() && w.iid === t.iid);
      if (!target) throw new Error(`gitlab-sim: no ${t.target} ${t.project} ${t.iid}`);
      todos.push({ id: nextWorkId++, userId: user.id, work: target, action: t.action, authorId: t.author.id, state: t.state ?? "pending", createdAt: new Date(now()).toISOString() });
    },
    setIssuesAccess(path, access) {
      issuesAccess.set(namespace(path).id, access);
    },
    setIssueConfidential(project, iid) {
      const w = findIssue(project, iid);
      if (!w) throw new Error(`gitlab-sim: no issue ${project}#${iid}`);
      extrasOf(w).confidential = true;
    },
    issue(project, iid) {
      const w = findIssue(project, iid);
      if (!w) return undefined;
      const extras = extrasOf(w);
      const moved = extras.movedToId === null ? undefined : work.find((x) => x.id === extras.movedToId);
      return {
        project: w.project,
        iid: w.iid,
        title: w.title,
        state: w.state,
        description: extras.description,
        labels: [...extras.labels],
        confidential: extras.confidential,
        authorId: w.authorId,
        assigneeIds: [...w.assigneeIds],
        movedTo: moved ? { project: moved.project, iid: moved.iid } : undefined,
        notes: extras.notes.map((n) => ({ body: n.body, authorId: n.authorId })),
      };
    },
    // ---- merge requests, pipelines and jobs ----
    setProjectCi(path, changes) {
      const ci = ciOf(namespace(path));
      if (changes.defaultBranch !== undefined) ci.defaultBranch = changes.defaultBranch;
      if (changes.branches !== undefined) ci.branches = new Set(changes.branches);
      ci.branches.add(ci.defaultBranch);
      if (changes.protectedBranches !== undefined) ci.protectedBranches = new Set(changes.protectedBranches);
      if (changes.pipelineMustSucceed !== undefined) ci.pipelineMustSucceed = changes.pipelineMustSucceed;
      if (changes.discussionsMustBeResolved !== undefined) ci.discussionsMustBeResolved = changes.discussionsMustBeResolved;
      if (changes.jobs !== undefined) ci.jobs = [...changes.jobs];
      if (changes.chatJobs !== undefined) ci.chatJobs = [...changes.chatJobs];
    },
    setMergeRequest(project, iid, changes) {
      const w = findMergeRequest(project, iid);
      if (!w) throw new Error(`gitlab-sim: no merge request ${project}!${iid}`);
      const m = mergeRequestOf(w);
      const { approvedBy, ...rest } = changes;
      Object.assign(m, rest);
      if (approvedBy !== undefined) m.approvedBy = approvedBy.map((u) => u.id);
      const ci = ciOf(namespace(project));
      ci.branches.add(m.sourceBranch);
      ci.branches.add(m.targetBranch);
    },
    mergeRequest(project, iid) {
      const w = findMergeRequest(project, iid);
      if (!w) return undefined;
      const m = mergeRequestOf(w);
      const name = (id: number | null) => (id === null ? undefined : users.get(id)?.username);
      return { state: w.state, approvedBy: m.approvedBy.map((id) => users.get(id)!.username), autoMerge: m.autoMergeBy !== null, mergedBy: name(m.mergedBy) };
    },
    addPipeline(project, p) {
      const ns = namespace(project);
      ciOf(ns).branches.add(p.ref);
      const at = new Date(now()).toISOString();
      const record: PipelineRecord = {
        id: nextPipelineId++,
        iid: pipelines.filter((x) => x.project === ns).length + 1,
        project: ns,
        ref: p.ref,
        source: "push",
        userId: (p.user ?? [...users.values()][0]!).id,
        variables: [],
        jobs: p.jobs.map((j) => {
          const job: JobRecord = { id: nextJobId++, name: j.name, status: "pending", trace: j.trace ?? "", createdAt: at, startedAt: null, finishedAt: null };
          setJobStatus(job, j.status);
          return job;
        }),
        createdAt: at,
        duration: p.duration,
      };
      pipelines.push(record);
      return record.id;
    },
    setJob(pipelineId, name, j) {
      const p = pipelines.find((x) => x.id === pipelineId);
      const job = p?.jobs.find((x) => x.name === name);
      if (!p || !job) throw new Error(`gitlab-sim: no job ${name} in pipeline ${pipelineId}`);
      setJobStatus(job, j.status);
      if (j.trace !== undefined) job.trace += j.trace;
      settleAutoMerge(p);
    },
    pipeline(id) {
      const p = pipelines.find((x) => x.id === id);
      if (!p) return undefined;
      return { project: p.project.path, ref: p.ref, status: pipelineStatus(p), source: p.source, userId: p.userId, variables: p.variables.map((v) => ({ ...v })), jobs: p.jobs.map((j) => ({ id: j.id, name: j.name, status: j.status })) };
    },
    // ---- end of merge requests, pipelines and jobs ----
    addEnvironment(project, name) {
      return ensureEnvironment(namespace(project), name).id;
    },
    addDeployment(project, d) {
      const ns = namespace(project);
      const pipeline = pipelines.find((p) => p.id === d.pipelineId && p.project === ns);
      const job = pipeline?.jobs.find((j) => j.name === d.job);
      if (!pipeline || !job) throw new Error(`gitlab-sim: no job ${d.job} in pipeline ${d.pipelineId} of ${project}`);
      const environment = ensureEnvironment(ns, d.environment);
      const status = d.status ?? "success";
      const at = new Date(now()).toISOString();
      const record: DeploymentRecord = {
        id: nextDeploymentId++,
        iid: deployments.filter((x) => x.environment.project === ns).length + 1,
        environment,
        pipeline,
        job,
        status,
        createdAt: at,
        finishedAt: status === "success" || status === "failed" || status === "canceled" ? (d.finishedAt ?? at) : null,
      };
      deployments.push(record);
      return record.id;
    },
    addHook(path, h) {
      const record: HookRecord = { id: nextDeploymentId++, owner: namespace(path), url: h.url, token: h.token, enableSslVerification: true, events: new Set(h.events ?? ["push_events"]), createdAt: new Date(now()).toISOString() };
      hookRecords.push(record);
      return record.id;
    },
    hooks(path) {
      const ns = namespace(path);
      return hookRecords
        .filter((h) => h.owner === ns)
        .map((h) => ({ id: h.id, url: h.url, token: h.token, enableSslVerification: h.enableSslVerification, events: [...h.events].sort() }));
    },
    setGroupHooksAvailable(available) {
      groupHooksAvailable = available;
    },
    // ---- Applications API and personal access tokens (gitlab-mm setup) ----
    addPersonalAccessToken(user) {
      const token = `glpat-${random(10)}`;
      personalAccessTokens.set(token, user.id);
      return token;
    },
    applications() {
      return [...apps.values()].map((a) => ({ ...metaOf(a), clientId: a.clientId, clientSecret: a.clientSecret, redirectUri: a.redirectUri }));
    },
    // ---- end of the Applications API and personal access tokens ----
    failNext(f) {
      failures.push({ ...f, times: f.times ?? 1 });
    },
    delayNext(d) {
      delays.push({ ...d, times: d.times ?? 1 });
    },
    requests,
    unhandled,
    reset() {
      requests.length = 0;
      unhandled.length = 0;
      failures = [];
      delays = [];
      denyNext = false;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
