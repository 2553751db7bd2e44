// Payloads of older GitLab releases: derived from GitLab's published examples by taking out what
// later releases added (each variant names the release that added it, as far as we know; "unsure"
// where we do not), plus sweeps over every field of every example: taken out, null, of another type,
// or beside fields GitLab may add tomorrow. A handler may post, post nothing, or refuse the payload
// (PayloadError, which the events worker drops as unrecoverable); any other error would fail the job
// over and over, so none may escape. The personal side (handlers/recipients/) is held to the same.
import { describe, expect, it } from "vitest";
import { notificationsFor, PayloadError, type EventKind, type PayloadOf } from "../../handlers/index.js";
import { personalNoticesFor } from "../../handlers/recipients/index.js";
import { LOCALES } from "../../src/config.js";
import type { Notification, PostContent } from "../../src/notification.js";
import { fixtureIndex, rawFixture } from "./fixtures.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
/** A field's place: object keys, with "*" for every element of an array (alone: the elements themselves). */
type Path = readonly string[];

interface Handled {
  notifications: Notification[];
  posts: PostContent[];
}
type Outcome = Handled | { refused: string };

/** What the events worker does with a payload, short of I/O: handler, posts in both languages, recipients. */
function handle(payload: Json, header: string): Outcome {
  try {
    const { kind, known, notifications, parsed } = notificationsFor(payload, header);
    const posts = notifications.flatMap((n) => LOCALES.map((locale) => n.render(locale)));
    if (known) personalNoticesFor(kind as EventKind, parsed as PayloadOf<EventKind>, notifications);
    return { notifications, posts };
  } catch (error) {
    if (error instanceof PayloadError) return { refused: error.message };
    throw error;
  }
}

function handled(outcome: Outcome): Handled {
  if ("refused" in outcome) throw new Error(`payload refused: ${outcome.refused}`);
  return outcome;
}

/** Every path in a value (array elements share one path). */
function pathsOf(value: Json, prefix: string[] = [], found = new Map<string, Path>()): Path[] {
  if (Array.isArray(value)) {
    const items = [...prefix, "*"];
    if (value.length > 0) found.set(items.join("."), items);
    for (const item of value) pathsOf(item, items, found);
  }
  else if (value !== null && typeof value === "object") {
    for (const [key, child] of Object.entries(value)) {
      const path = [...prefix, key];
      found.set(path.join("."), path);
      pathsOf(child, path, found);
    }
  }
  return [...found.values()];
}

/** A copy of `value` with the field at `path` replaced (`undefined`: taken out). */
function withField(value: Json, path: Path, replacement: Json | undefined): Json {
  const [head, ...rest] = path;
  if (head === undefined) return value;
  if (Array.isArray(value)) {
    if (head !== "*") return value;
    // The elements themselves: taken out (an empty list), or each replaced.
    if (rest.length === 0) return replacement === undefined ? [] : value.map(() => replacement);
    return value.map((item) => withField(item, rest, replacement));
  }
  if (value === null || typeof value !== "object" || !Object.hasOwn(value, head)) return value;
  const copy: JsonObject = { ...value };
  if (rest.length > 0) copy[head] = withField(copy[head]!, rest, replacement);
  else if (replacement === undefined) delete copy[head];
  else copy[head] = replacement;
  return copy;
}

const without = (value: Json, ...paths: string[]) => paths.reduce((v, p) => withField(v, p.split("."), undefined), value);

/** Every object in the value gains fields GitLab does not send (yet). */
function withUnknownFields(value: Json): Json {
  if (Array.isArray(value)) return value.map(withUnknownFields);
  if (value === null || typeof value !== "object") return value;
  const copy: JsonObject = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withUnknownFields(v)]));
  copy.added_in_a_future_release = { nested: [1, "two", null], flag: true };
  copy.another_new_field = null;
  return copy;
}

/** The examples, as a bot receives them; a job posts only when it failed, so that one failed. */
const EXAMPLES = fixtureIndex.map((entry) => {
  const payload = rawFixture(entry.file) as JsonObject;
  return { file: entry.file, header: entry.x_gitlab_event, payload: entry.file === "job.json" ? { ...payload, build_status: "failed" } : payload };
});
const example = (file: string) => EXAMPLES.find((e) => e.file === file)!;

/** The same kind of posts as the current release's payload: as many, for the same feature and subject. */
function expectSamePosts(older: Handled, current: Handled, opts: { sameThread?: boolean } = {}) {
  expect(older.notifications.length).toBe(current.notifications.length);
  expect(older.notifications.length).toBeGreaterThan(0);
  older.notifications.forEach((n, i) => {
    expect(n.feature).toBe(current.notifications[i]!.feature);
    expect(n.projectPath).toBe(current.notifications[i]!.projectPath);
    if (opts.sameThread !== false) expect(n.threadKey).toBe(current.notifications[i]!.threadKey);
  });
  for (const post of older.posts) expect(JSON.stringify(post)).not.toBe("{}");
}

interface OlderRelease {
  /** What older releases send differently, and which release changed it. */
  what: string;
  file: string;
  /** Dotted paths ("*" for each array element) the older release does not send. */
  remove: string[];
  /** X-Gitlab-Event the older release sends, where it differs. */
  header?: string;
  /** "posts": the same posts as today's payload; "nothing": no post, and no error. */
  expect: "posts" | "nothing";
  /** The subject's thread may differ (the older payload does not name the merge request). */
  otherThread?: boolean;
}

const OLDER_RELEASES: OlderRelease[] = [
  {
    what: "merge requests without reviewers (reviewers arrived in GitLab 13.7; `reviewers` and `reviewer_ids` in the payload later, release unsure)",
    file: "merge_request.json",
    remove: ["reviewers", "object_attributes.reviewer_ids"],
    expect: "posts",
  },
  {
    what: "merge requests with `work_in_progress` only (`draft` replaced it around GitLab 13.x-14.x, release unsure)",
    file: "merge_request.json",
    remove: ["object_attributes.draft", "changes.draft"],
    expect: "posts",
  },
  {
    what: "merge requests with one assignee (`assignees` and `assignee_ids` came with several assignees, GitLab 11.x-12.x, unsure) and no top-level `labels` (unsure)",
    file: "merge_request.json",
    remove: ["assignees", "object_attributes.assignee_ids", "labels", "object_attributes.detailed_merge_status", "object_attributes.blocking_discussions_resolved"],
    expect: "posts",
  },
  {
    what: "merge request hooks without `object_attributes.action` (very old releases, before about GitLab 8.x, unsure): an opening cannot be told from an edit",
    file: "merge_request.json",
    remove: ["object_attributes.action"],
    expect: "nothing",
  },
  {
    what: "issues without a work item type (`object_attributes.type`, GitLab 15.x, unsure), several assignees or top-level labels (unsure)",
    file: "issue.json",
    remove: ["object_attributes.type", "assignees", "object_attributes.assignee_ids", "labels", "object_attributes.labels", "object_attributes.severity", "object_attributes.escalation_status"],
    expect: "posts",
  },
  {
    what: "issue hooks without `object_attributes.action` (very old releases, unsure)",
    file: "issue.json",
    remove: ["object_attributes.action"],
    expect: "nothing",
  },
  {
    what: "comments without `object_attributes.action` (added in GitLab 16.x, unsure)",
    file: "note_issue.json",
    remove: ["object_attributes.action"],
    expect: "posts",
  },
  {
    what: "comments on merge requests without `action`, or the merge request's `draft` (unsure) and `detailed_merge_status` (GitLab 15.6, unsure); the example names one `assignee_id`, as older releases do",
    file: "note_merge_request.json",
    remove: ["object_attributes.action", "merge_request.draft", "merge_request.detailed_merge_status"],
    expect: "posts",
  },
  {
    what: "pipelines without a name (`object_attributes.name`, GitLab 16.x, unsure), `iid` (unsure), jobs' `failure_reason` (unsure) or the merge request (pipeline hooks name it since about GitLab 11.x-12.x, unsure)",
    file: "pipeline.json",
    remove: ["object_attributes.name", "object_attributes.iid", "builds.*.failure_reason", "builds.*.allow_failure", "merge_request", "source_pipeline"],
    expect: "posts",
    otherThread: true,
  },
  {
    what: "job events without a `project` object (only `repository`), failure reason, pipeline id, environment, retries or durations (each added after the Job Hook appeared; releases unsure)",
    file: "job.json",
    remove: ["project", "build_failure_reason", "pipeline_id", "environment", "retries_count", "source_pipeline", "build_duration", "build_queued_duration"],
    expect: "posts",
  },
  {
    what: 'job events under their old name: header "Build Hook" and no `object_kind` (before GitLab 9.x renamed builds to jobs, unsure)',
    file: "job.json",
    remove: ["object_kind", "project"],
    header: "Build Hook",
    expect: "posts",
  },
  {
    what: "pushes without `ref_protected` (GitLab 16.x, unsure), `user_username` (unsure) or commit titles (unsure)",
    file: "push.json",
    remove: ["ref_protected", "user_username", "commits.*.title", "checkout_sha"],
    expect: "posts",
  },
  {
    what: "deployments without `status_changed_at`, `environment_external_url`, `deployable_url`, `user_url` or `commit_title` (each added after deployment hooks appeared; releases unsure)",
    file: "deployment.json",
    remove: ["status_changed_at", "environment_external_url", "environment_tier", "deployable_url", "user_url", "commit_title", "short_sha"],
    expect: "posts",
  },
  {
    what: "releases without assets, commit or `released_at` (unsure)",
    file: "release.json",
    remove: ["assets", "commit", "released_at"],
    expect: "posts",
  },
  {
    what: "wiki pages without `diff_url` or `version_id` (unsure)",
    file: "wiki_page.json",
    remove: ["object_attributes.diff_url", "object_attributes.version_id"],
    expect: "posts",
  },
];

describe("payloads of older GitLab releases", () => {
  it.each(OLDER_RELEASES.map((r) => [r.what, r] as const))("%s", (_what, release) => {
    const { payload, header } = example(release.file);
    const current = handled(handle(payload, header));
    const older = handled(handle(without(payload, ...release.remove), release.header ?? header));
    if (release.expect === "nothing") expect(older.notifications).toEqual([]);
    else expectSamePosts(older, current, { sameThread: !release.otherThread });
  });

  it("each removal takes out a field the example has (the table stays true to the examples)", () => {
    for (const release of OLDER_RELEASES) {
      const { payload } = example(release.file);
      for (const path of release.remove) expect(JSON.stringify(without(payload, path)), `${release.file}: ${path}`).not.toBe(JSON.stringify(payload));
    }
  });
});

const PROJECT_EXAMPLES = EXAMPLES.filter((e) => e.payload.project && typeof e.payload.project === "object" && "visibility_level" in (e.payload.project as JsonObject));

describe("project visibility as different releases send it", () => {
  it.each([
    ["absent", undefined],
    ["null", null],
    ["a name", "private"],
    ["an unknown value", "secret"],
  ] as const)("visibility_level %s: the same posts", (_what, level) => {
    expect(PROJECT_EXAMPLES.length).toBeGreaterThan(10);
    for (const { file, payload, header } of PROJECT_EXAMPLES) {
      const current = handled(handle(payload, header));
      const variant = handled(handle(withField(payload, ["project", "visibility_level"], level), header));
      expect(variant.notifications.length, file).toBe(current.notifications.length);
    }
  });
});

describe("whole payloads", () => {
  it("a system hook (X-Gitlab-Event: System Hook) posts what the project hook posts", () => {
    const withKind = EXAMPLES.filter((e) => typeof e.payload.object_kind === "string");
    expect(withKind.length).toBeGreaterThan(15);
    for (const { file, payload, header } of withKind) {
      expect(handled(handle(payload, "System Hook")).posts, file).toEqual(handled(handle(payload, header)).posts);
    }
  });

  it.each([null, [], "text", 7, {}] as const)("%j under every event header: refused or nothing, never another error", (payload) => {
    for (const header of new Set(EXAMPLES.map((e) => e.header))) {
      const outcome = handle(payload, header);
      if (!("refused" in outcome)) expect(outcome.notifications).toEqual([]);
    }
  });
});

describe.each(EXAMPLES.map((e) => [e.file, e] as const))("every field of %s", (_file, { payload, header }) => {
  const paths = pathsOf(payload);

  it("taken out, null, or of another type: posts, nothing, or a refusal, never another error", () => {
    for (const path of paths) {
      for (const replacement of [undefined, null, "text", 7, true, [], {}] as const) {
        expect(() => handle(withField(payload, path, replacement), header), `${path.join(".")} = ${JSON.stringify(replacement)}`).not.toThrow();
      }
    }
  });

  it("stripped of every field it can do without, one after another, still handled", () => {
    // A field stays only when taking it out as well would make the payload refused (a job needs
    // `project` or `repository`, not both): what is left is all the handler needs.
    let bare: Json = payload;
    for (const path of paths) {
      const candidate = withField(bare, path, undefined);
      if (!("refused" in handle(candidate, header))) bare = candidate;
    }
    expect(pathsOf(bare).length).toBeLessThan(paths.length);
    expect(handled(handle(bare, header)).posts.length).toBe(2 * handled(handle(bare, header)).notifications.length);
  });

  it("beside fields GitLab adds later: the same posts", () => {
    const today = handle(payload, header);
    const tomorrow = handle(withUnknownFields(payload), header);
    if ("refused" in today) {
      expect(tomorrow).toEqual(today);
      return;
    }
    const t = handled(tomorrow);
    expect(t.posts).toEqual(today.posts);
    expect(t.notifications.map((n) => [n.eventKey, n.feature, n.threadKey, n.labels])).toEqual(today.notifications.map((n) => [n.eventKey, n.feature, n.threadKey, n.labels]));
  });
});
