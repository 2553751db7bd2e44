// Which channels get a notification: pure functions over the subscriptions the store found for the
// event's project path and its ancestor groups.
import type { Feature, Notification } from "../notification.js";
import type { Subscription } from "../store/subscriptions.js";
import { branchMatches, labelsMatch, parseStoredFeatures, type SubscriptionFilter } from "./features.js";

/** "a/b/c" -> ["a/b/c", "a/b", "a"]: a group subscription covers every project below it. */
export function ancestorPaths(projectPath: string): string[] {
  const parts = projectPath.toLowerCase().split("/").filter(Boolean);
  const paths: string[] = [];
  for (let i = parts.length; i > 0; i--) paths.push(parts.slice(0, i).join("/"));
  return paths;
}

const LABELLED: ReadonlySet<Feature> = new Set(["issues", "issue_updates", "merges", "issue_comments", "merge_request_comments"]);
const ON_BRANCH: ReadonlySet<Feature> = new Set(["pushes", "pipelines", "jobs", "deployments"]);
/** Pipeline statuses that `pipelines:failed` lets through ("fixed" is a success right after a failure). */
const FAILED_OR_FIXED = new Set(["failed", "fixed"]);

const filterCache = new Map<string, SubscriptionFilter>();

/** Parsed filters are cached by their text: the router runs for every event. */
export function filterOf(subscription: Pick<Subscription, "features">): SubscriptionFilter {
  let filter = filterCache.get(subscription.features);
  if (!filter) {
    filter = parseStoredFeatures(subscription.features);
    if (filterCache.size > 10_000) filterCache.clear();
    filterCache.set(subscription.features, filter);
  }
  return filter;
}

export function subscriptionWants(filter: SubscriptionFilter, n: Notification): boolean {
  if (n.confidential) {
    if (!filter.features.has("confidential_issues")) return false;
    if (n.feature !== "issues" && !filter.features.has(n.feature)) return false;
  } else if (!filter.features.has(n.feature)) {
    return false;
  }
  if (n.feature === "pipelines" && filter.pipelinesFailedOnly && !FAILED_OR_FIXED.has(n.status ?? "")) return false;
  if (LABELLED.has(n.feature) && !labelsMatch(filter, n.labels)) return false;
  if (ON_BRANCH.has(n.feature) && !branchMatches(filter, n.branch, n)) return false;
  return true;
}

export interface ChannelTarget {
  channelId: string;
  subscription: Subscription;
  filter: SubscriptionFilter;
}

/**
 * One target per channel at most. Where a channel subscribes to the project and to a group above it,
 * the most specific subscription (the longest path) decides, so a project can narrow its group's features.
 */
export function routeToChannels(n: Notification, candidates: Subscription[], ignoredUsernames: readonly string[] = []): ChannelTarget[] {
  if (n.actorUsername && ignoredUsernames.includes(n.actorUsername.toLowerCase())) return [];
  const wanted = new Set(ancestorPaths(n.projectPath));
  const byChannel = new Map<string, Subscription>();
  for (const s of candidates) {
    if (!wanted.has(s.path)) continue;
    const current = byChannel.get(s.channel_id);
    if (!current || s.path.length > current.path.length) byChannel.set(s.channel_id, s);
  }
  const targets: ChannelTarget[] = [];
  for (const [channelId, subscription] of byChannel) {
    const filter = filterOf(subscription);
    if (subscriptionWants(filter, n)) targets.push({ channelId, subscription, filter });
  }
  return targets;
}
