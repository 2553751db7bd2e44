// Secret tokens for the webhooks the bot makes itself: one per project or group, derived from a
// master secret (GITLAB_WEBHOOK_SECRET), so a token read off one project's hook settings cannot
// speak for any other project, and the bot need store none of them.
import { createHmac } from "node:crypto";
import { ancestorPaths } from "../routing/router.js";

/** Marks a derived token (and its scheme's version), so ingress knows to check its scope. */
export const DERIVED_TOKEN_PREFIX = "glmm1_";

export interface WebhookScope {
  kind: "project" | "group";
  /** Full path, e.g. "my-group/sub/app"; case and stray slashes do not matter. */
  path: string;
}

/** The secret token of a hook on `scope`: HMAC-SHA256 of the kind and lower-cased path, base64url. */
export function webhookTokenFor(masterSecret: string, scope: WebhookScope): string {
  const path = ancestorPaths(scope.path)[0] ?? "";
  const mac = createHmac("sha256", masterSecret).update(`${scope.kind}:${path}`).digest("base64url");
  return `${DERIVED_TOKEN_PREFIX}${mac}`;
}

export function looksDerived(token: string): boolean {
  return token.startsWith(DERIVED_TOKEN_PREFIX);
}

/**
 * Every derived token that may speak for an event at `path`: the project's own and those of the
 * groups above it, from each master secret (an older master still counts while hooks are re-keyed).
 * A group event's path is the group's: its own group token and its ancestors' count.
 */
export function tokensAcceptedFor(masterSecrets: readonly string[], path: string): string[] {
  const paths = ancestorPaths(path);
  return masterSecrets.flatMap((master) => [
    ...(paths[0] === undefined ? [] : [webhookTokenFor(master, { kind: "project", path: paths[0] })]),
    ...paths.map((p) => webhookTokenFor(master, { kind: "group", path: p })),
  ]);
}
