// GitLab webhook payloads, only the fields the handlers read, as zod schemas (checked once at the
// door, see index.ts) with the TypeScript types inferred from them. Shapes follow GitLab's published
// examples (test/fixtures/gitlab-webhooks/). Fields GitLab may send as null or leave out are
// `nullish`; what a handler cannot do without is required, and its absence is a PayloadError.
import { z } from "zod";

const text = z.string().nullish();
const flag = z.boolean().nullish();
const count = z.number().nullish();
const ids = z.array(z.number()).nullish();

const user = z.object({
  id: count,
  name: text,
  username: text,
  avatar_url: text,
});
export type GitLabUser = z.infer<typeof user>;

const label = z.object({ title: z.string() });
const labels = z.array(label).nullish();

const project = z.object({
  id: z.number(),
  name: text,
  web_url: text,
  homepage: text,
  path_with_namespace: z.string().min(1),
  default_branch: text,
  /** 0 private, 10 internal, 20 public. */
  visibility_level: z.union([z.number(), z.string()]).nullish(),
});
export type GitLabProject = z.infer<typeof project>;

const commit = z.object({
  id: z.string(),
  message: text,
  title: text,
  url: text,
  author: z.object({ name: text }).nullish(),
});

const mergeRequestRef = z.object({
  iid: z.number(),
  title: text,
  url: text,
});

export const pushPayload = z.object({
  object_kind: text,
  before: z.string(),
  after: z.string(),
  ref: z.string().min(1),
  ref_protected: flag,
  checkout_sha: text,
  user_id: count,
  user_name: text,
  user_username: text,
  user_avatar: text,
  project_id: z.number(),
  project,
  commits: z.array(commit).nullish(),
  total_commits_count: count,
  /** Annotated tags only. */
  message: text,
});
export type PushPayload = z.infer<typeof pushPayload>;
export type TagPushPayload = PushPayload;

export const issuePayload = z.object({
  object_kind: text,
  user: user.nullish(),
  project,
  object_attributes: z.object({
    id: z.number(),
    iid: z.number(),
    title: z.string(),
    description: text,
    url: text,
    state: text,
    action: text,
    confidential: flag,
    created_at: text,
    updated_at: text,
    type: text,
    labels,
    /** Who the issue concerns personally (handlers/recipients/). */
    author_id: count,
    assignee_ids: ids,
  }),
  labels,
  assignees: z.array(user).nullish(),
  /** On `update`: what changed (only the parts `issue_updates` posts about). */
  changes: z
    .object({
      labels: z.object({ previous: labels, current: labels }).nullish(),
      assignees: z.object({ previous: z.array(user).nullish(), current: z.array(user).nullish() }).nullish(),
      due_date: z.object({ previous: text, current: text }).nullish(),
      description: z.object({ previous: text, current: text }).nullish(),
    })
    .nullish(),
});
export type IssuePayload = z.infer<typeof issuePayload>;

export const notePayload = z.object({
  user: user.nullish(),
  project,
  object_attributes: z.object({
    id: z.number(),
    note: z.string(),
    noteable_type: z.string(),
    url: text,
    action: text,
    system: flag,
    internal: flag,
    confidential: flag,
    created_at: text,
    updated_at: text,
    commit_id: text,
  }),
  issue: z
    .object({ iid: z.number(), title: text, confidential: flag, labels, url: text, type: text, author_id: count, assignee_ids: ids, assignee_id: count })
    .nullish(),
  merge_request: z
    .object({ iid: z.number(), title: text, labels, url: text, author_id: count, assignee_ids: ids, assignee_id: count, reviewer_ids: ids })
    .nullish(),
  commit: commit.nullish(),
  snippet: z.object({ id: z.number(), title: text, url: text }).nullish(),
});
export type NotePayload = z.infer<typeof notePayload>;

const userChange = z.object({ previous: z.array(user).nullish(), current: z.array(user).nullish() });

export const mergeRequestPayload = z.object({
  user: user.nullish(),
  project,
  object_attributes: z.object({
    id: z.number(),
    iid: z.number(),
    title: z.string(),
    description: text,
    url: text,
    state: text,
    action: text,
    source_branch: text,
    target_branch: text,
    created_at: text,
    updated_at: text,
    draft: flag,
    work_in_progress: flag,
    labels,
    /** Who the merge request concerns personally (handlers/recipients/). */
    author_id: count,
    assignee_ids: ids,
    reviewer_ids: ids,
  }),
  labels,
  changes: z
    .object({
      draft: z.object({ previous: flag, current: flag }).nullish(),
      reviewers: userChange.nullish(),
      assignees: userChange.nullish(),
      description: z.object({ previous: text, current: text }).nullish(),
    })
    .nullish(),
  assignees: z.array(user).nullish(),
  reviewers: z.array(user).nullish(),
});
export type MergeRequestPayload = z.infer<typeof mergeRequestPayload>;

export const pipelinePayload = z.object({
  object_attributes: z.object({
    id: z.number(),
    iid: count,
    name: text,
    ref: z.string(),
    tag: flag,
    sha: text,
    status: z.string(),
    duration: count,
    url: text,
  }),
  merge_request: mergeRequestRef.nullish(),
  user: user.nullish(),
  project,
  commit: commit.nullish(),
  builds: z
    .array(
      z.object({
        id: z.number(),
        stage: text,
        name: text,
        status: text,
        allow_failure: flag,
        failure_reason: text,
      }),
    )
    .nullish(),
});
export type PipelinePayload = z.infer<typeof pipelinePayload>;

/** Job events: `object_kind: "build"`. Older GitLab sends no `project` object, only `repository`. */
export const jobPayload = z.object({
  ref: z.string(),
  tag: flag,
  sha: text,
  build_id: z.number(),
  build_name: text,
  build_stage: text,
  build_status: z.string(),
  build_allow_failure: flag,
  build_failure_reason: text,
  build_duration: count,
  pipeline_id: count,
  project_id: count,
  user: user.nullish(),
  commit: z.object({ sha: text, message: text }).nullish(),
  repository: z.object({ name: text, homepage: text }).nullish(),
  project: project.partial().nullish(),
  merge_request: mergeRequestRef.nullish(),
  /** `action`: what the job does to the environment (start, the default, deploys; stop, prepare, verify, access do not). */
  environment: z.object({ name: text, action: text }).nullish(),
});
export type JobPayload = z.infer<typeof jobPayload>;

export const deploymentPayload = z.object({
  status: z.string(),
  status_changed_at: text,
  deployment_id: z.number(),
  deployable_id: count,
  deployable_url: text,
  environment: z.string(),
  environment_external_url: text,
  project,
  ref: text,
  short_sha: text,
  user: user.nullish(),
  user_url: text,
  commit_url: text,
  commit_title: text,
});
export type DeploymentPayload = z.infer<typeof deploymentPayload>;

export const releasePayload = z.object({
  id: z.number(),
  created_at: text,
  updated_at: text,
  released_at: text,
  name: text,
  description: text,
  tag: z.string(),
  url: text,
  action: z.string(),
  project,
  user: user.nullish(),
  assets: z.object({ links: z.array(z.object({ name: text, url: text })).nullish() }).nullish(),
  commit: commit.nullish(),
});
export type ReleasePayload = z.infer<typeof releasePayload>;

export const wikiPagePayload = z.object({
  user: user.nullish(),
  project,
  object_attributes: z.object({
    title: z.string(),
    content: text,
    message: text,
    slug: z.string(),
    url: text,
    action: z.string(),
    diff_url: text,
    version_id: text,
  }),
});
export type WikiPagePayload = z.infer<typeof wikiPagePayload>;

export const milestonePayload = z.object({
  project,
  object_attributes: z.object({
    id: z.number(),
    iid: count,
    title: z.string(),
    description: text,
    state: text,
    created_at: text,
    updated_at: text,
    start_date: text,
    due_date: text,
  }),
  action: z.string(),
});
export type MilestonePayload = z.infer<typeof milestonePayload>;

/** No action and no time: `active` says whether the flag was turned on or off. */
export const featureFlagPayload = z.object({
  project,
  user: user.nullish(),
  object_attributes: z.object({
    id: z.number(),
    name: z.string(),
    description: text,
    active: z.boolean(),
  }),
});
export type FeatureFlagPayload = z.infer<typeof featureFlagPayload>;

/** A project or group access token about to expire (`event_name: "expiring_access_token"`). */
export const accessTokenPayload = z
  .object({
    project: project.nullish(),
    group: z.object({ group_id: count, group_name: text, group_path: text, full_path: z.string().min(1) }).nullish(),
    object_attributes: z.object({
      id: z.number(),
      name: z.string(),
      created_at: text,
      expires_at: z.string().min(1),
      /** Newer GitLab warns more than once ("7d", "30d", "60d"). */
      interval: text,
    }),
    event_name: text,
  })
  .refine((p) => Boolean(p.project || p.group), { message: "needs a project or a group", path: ["project"] });
export type AccessTokenPayload = z.infer<typeof accessTokenPayload>;

/**
 * The project of a GitLab URL such as `https://host/group/project/-/security/vulnerabilities/1`: its
 * path and web URL, or undefined when the URL has no `/-/` part below a project.
 */
export function projectOfObjectUrl(url: string): { path: string; webUrl: string } | undefined {
  const m = /^(https?:\/\/[^/?#\s]+)\/([^?#\s]+?)\/-\//i.exec(url.trim());
  if (!m) return undefined;
  const path = m[2] as string;
  if (path.split("/").some((part) => part === "" || part === "." || part === "..")) return undefined;
  return { path, webUrl: `${m[1]}/${path}` };
}

/** No project object: the project is read from the vulnerability's URL. */
export const vulnerabilityPayload = z.object({
  object_attributes: z.object({
    url: z.string().refine((u) => projectOfObjectUrl(u) !== undefined, "not the URL of a vulnerability in a project"),
    title: z.string(),
    state: text,
    severity: text,
    project_id: count,
    created_at: text,
    updated_at: text,
  }),
});
export type VulnerabilityPayload = z.infer<typeof vulnerabilityPayload>;

/** Group member events (group hooks; no object_kind). `group_path` is the group's own path segment. */
export const memberPayload = z.object({
  event_name: z.string(),
  group_name: text,
  group_path: z.string().min(1),
  group_id: z.number(),
  user_username: text,
  user_name: text,
  user_id: z.number(),
  group_access: text,
  expires_at: text,
  created_at: text,
  updated_at: text,
});
export type MemberPayload = z.infer<typeof memberPayload>;

/** A project created or deleted in a group (group hooks; no object_kind). */
export const projectEventPayload = z.object({
  event_name: z.string(),
  name: text,
  path: text,
  path_with_namespace: z.string().min(1),
  project_id: z.number(),
  owners: z.array(z.object({ name: text })).nullish(),
  project_visibility: text,
  created_at: text,
  updated_at: text,
});
export type ProjectEventPayload = z.infer<typeof projectEventPayload>;

/** A subgroup created or deleted in a group (group hooks; no object_kind). */
export const subgroupPayload = z.object({
  event_name: z.string(),
  name: text,
  path: text,
  full_path: z.string().min(1),
  group_id: z.number(),
  parent_name: text,
  parent_full_path: z.string().min(1),
  created_at: text,
  updated_at: text,
});
export type SubgroupPayload = z.infer<typeof subgroupPayload>;
