// GitLab's REST API through @gitbeaker/rest, as one user: a client built from that user's OAuth token.
// The token is asked for on every request (gitbeaker takes a token function), so a long command gets a
// refreshed token when the old one expires; a 401 before the expected expiry (revoked, or the clock
// is off) refreshes once and retries once.
import { GitbeakerRequestError, GitbeakerTimeoutError, Gitlab } from "@gitbeaker/rest";
import { requesterFn } from "./requester.js";
import type { GitlabTokens } from "./tokens.js";

export type GitlabApi = Gitlab;

/** How long one GitLab request may take (gitbeaker's default is five minutes; a person is waiting). */
const QUERY_TIMEOUT_MS = 10_000;

export function createGitlabApi(host: string, oauthToken: string | (() => Promise<string>)): GitlabApi {
  return new Gitlab({ host, oauthToken, queryTimeout: QUERY_TIMEOUT_MS, requesterFn });
}

/** The HTTP status of a failed gitbeaker request, if GitLab answered. */
export function gitlabStatusOf(error: unknown): number | undefined {
  if (error instanceof GitbeakerRequestError) return error.cause?.response?.status;
  return undefined;
}

/** A short description of a failed GitLab call for logs and messages (never holds a token). */
export function describeGitlabError(error: unknown): string {
  if (error instanceof GitbeakerTimeoutError) return "GitLab did not answer in time";
  const status = gitlabStatusOf(error);
  if (status !== undefined) return `GitLab answered ${status}${error instanceof Error && error.message ? ` (${error.message.slice(0, 200)})` : ""}`;
  return `GitLab could not be reached (${error instanceof Error ? error.message : String(error)})`;
}

/**
 * Runs `fn` with a client acting as the Mattermost user. Throws GitlabAuthError when the user has no
 * link or GitLab no longer accepts it.
 */
export async function withUserGitlab<T>(tokens: GitlabTokens, host: string, mattermostUserId: string, fn: (api: GitlabApi) => Promise<T>): Promise<T> {
  let used: string | undefined;
  const api = createGitlabApi(host, async () => (used = await tokens.accessToken(mattermostUserId)));
  try {
    return await fn(api);
  } catch (error) {
    if (gitlabStatusOf(error) !== 401 || used === undefined) throw error;
    const fresh = await tokens.refreshAfterRejection(mattermostUserId, used);
    return fn(createGitlabApi(host, fresh));
  }
}

export interface GitlabUser {
  id: number;
  username: string;
  name: string;
  isAdmin: boolean;
}

/** GET /api/v4/user with a fresh access token (right after the code exchange). */
export async function currentGitlabUser(host: string, accessToken: string): Promise<GitlabUser> {
  const user = (await createGitlabApi(host, accessToken).Users.showCurrentUser()) as unknown as Record<string, unknown>;
  if (typeof user.id !== "number" || typeof user.username !== "string") throw new Error("GitLab's /api/v4/user answer has no id and username");
  return { id: user.id, username: user.username, name: typeof user.name === "string" ? user.name : user.username, isAdmin: user.is_admin === true };
}
