// What a handler says about one GitLab event: pure data, no I/O. The router decides where it goes.
import type { Locale } from "./config.js";
import type { Visibility } from "./gitlab/access.js";

export const FEATURES = [
  "issues",
  "confidential_issues",
  "merges",
  "pushes",
  "issue_comments",
  "merge_request_comments",
  "commit_comments",
  "snippet_comments",
  "pipelines",
  "jobs",
  "tags",
  "releases",
  "deployments",
  "wiki",
  "milestones",
  "feature_flags",
  "access_tokens",
  "vulnerabilities",
  "members",
  "projects",
  "issue_updates",
] as const;
export type Feature = (typeof FEATURES)[number];

/** SPEC.md: the features a subscription gets when it names none. */
export const DEFAULT_FEATURES: readonly Feature[] = [
  "issues",
  "merges",
  "pushes",
  "issue_comments",
  "merge_request_comments",
  "commit_comments",
  "pipelines",
  "tags",
  "releases",
  "deployments",
];

/** Mattermost message attachment (the subset we send), see Mattermost's "Message Attachments". */
export interface MessageAttachment {
  fallback: string;
  color?: string;
  pretext?: string;
  text?: string;
  author_name?: string;
  author_icon?: string;
  author_link?: string;
  title?: string;
  title_link?: string;
  fields?: { title: string; value: string; short?: boolean }[];
  footer?: string;
  /** Interactive buttons (Mattermost's "Interactive messages"); only the delivery side adds them, signed. */
  actions?: MessageAction[];
}

/** A button on a post: Mattermost POSTs `integration.context` to `integration.url` when someone clicks it. */
export interface MessageAction {
  /** Letters and digits only: Mattermost routes clicks by it. */
  id: string;
  name: string;
  type: "button";
  style?: "default" | "primary" | "success" | "good" | "warning" | "danger";
  integration: { url: string; context: Record<string, unknown> };
}

/**
 * Something a person may do on GitLab from a post, as a handler names it (no URL, no key): the delivery
 * side turns it into a signed button. Merge requests and issues are named by iid, pipelines and jobs by id.
 */
export type PostAction =
  | { kind: "mr.approve" | "mr.merge" | "issue.close" | "issue.reopen"; project: string; iid: number }
  | { kind: "pipeline.retry" | "job.play"; project: string; id: number };
export type PostActionKind = PostAction["kind"];

/** The body of one Mattermost post: plain Markdown, optionally with attachments. */
export interface PostContent {
  message: string;
  attachments?: MessageAttachment[];
}

export interface Notification {
  /** The subscription feature that lets this through (SPEC.md feature list). */
  feature: Feature;
  /** Full path of the project ("group/subgroup/project"), or of the group for group-only events. */
  projectPath: string;
  /**
   * What happened, deterministic and independent of the HTTP delivery: kind, object id, action and
   * time of change. The same event seen through a group hook and a project hook has the same key.
   * Only [A-Za-z0-9._/#!-] characters; the queue hashes it into job ids.
   */
  eventKey: string;
  /** Label titles on the issue or merge request (for `label:"x"` filters). */
  labels: string[];
  /** The branch a push, pipeline, job or deployment ran on (for `branch:` filters). */
  branch?: string;
  /** The project's default branch, when the payload says (for `branch:default`). */
  defaultBranch?: string;
  /** Whether that branch is protected, when the payload says (for `branch:protected`). */
  protectedBranch?: boolean;
  /** Confidential issues and internal notes: only private channels that ask for `confidential_issues`. */
  confidential: boolean;
  /** GitLab username of who caused the event; events of ignored accounts are dropped. */
  actorUsername?: string;
  /** Status of a finished pipeline or job, for `pipelines:failed`. */
  status?: string;
  /** Issue or merge request this belongs to, e.g. "group/project!12"; threads are keyed by it. */
  threadKey?: string;
  /** How the thread's subject changed, for editing the thread's root post. */
  threadUpdate?: ThreadUpdate;
  /**
   * Who may see the project, as the payload says (undefined: it does not say). Anything but "public"
   * reaches only private channels, direct and group messages.
   */
  visibility?: Visibility;
  /** Buttons the channel post offers (subscriptions with `buttons:off` get none). */
  actions?: PostAction[];
  /** Builds the post in a language; called once per language that subscribers need. */
  render(locale: Locale): PostContent;
}

/** GitLab's visibility in webhook payloads: `visibility_level` (0 private, 10 internal, 20 public) or its name. */
export function visibilityOfLevel(level: unknown): Visibility | undefined {
  if (level === 20 || level === "public") return "public";
  if (level === 10 || level === "internal") return "internal";
  if (level === 0 || level === "private") return "private";
  return undefined;
}

/** What an event changes about the issue or merge request a thread is about; its root post shows it. */
export interface ThreadUpdate {
  state?: "opened" | "draft" | "merged" | "closed";
  /** GitLab username that approved / revoked an approval. */
  approvedBy?: string;
  unapprovedBy?: string;
  /** The latest pipeline of the merge request (or of its source branch). */
  pipeline?: { status: string; url?: string };
}

/** Mattermost refuses posts longer than this many characters. */
export const MATTERMOST_MAX_POST_CHARS = 16383;
