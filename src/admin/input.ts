// Checks of what an administrator names (a path, features), shared by the CLI (a usage error, exit 2)
// and the admin API (400), so both refuse the same input with the same words.
import { canonicalFeatures, parseSubscriptionPath } from "../../commands/subscriptions.js";
import { CommandError } from "../../commands/types.js";

export class AdminInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AdminInputError";
  }
}

/** The normalised GitLab project or group path. */
export function checkSubscriptionPath(raw: string | undefined): string {
  if (raw === undefined) throw new AdminInputError("name the GitLab project or group path");
  const path = parseSubscriptionPath(raw);
  if (!path) throw new AdminInputError(`"${raw.slice(0, 300)}" is not a GitLab project or group path (letters, digits, _ . -, segments joined by /)`);
  return path;
}

/** The canonical text of a feature list (empty: the defaults). */
export function checkFeatures(text: string): string {
  try {
    return canonicalFeatures(text);
  } catch (error) {
    throw error instanceof CommandError ? new AdminInputError(error.message) : error;
  }
}
