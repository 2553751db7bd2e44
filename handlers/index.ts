// The registry: one line per GitLab event kind (payload `object_kind`; for group events, which have
// none, the kind their `event_name` maps to), each with the schema its payload is checked against and
// its pure handler. A kind spelled wrong, or a handler that takes another kind's payload, fails to compile.
import type { z } from "zod";
import type { Visibility } from "../src/gitlab/access.js";
import { visibilityOfLevel, type Notification } from "../src/notification.js";
import { accessToken } from "./access-token.js";
import { PayloadError } from "./common.js";
import { deployment } from "./deployment.js";
import { featureFlag } from "./feature-flag.js";
import { issue } from "./issue.js";
import { job } from "./job.js";
import { member } from "./member.js";
import { mergeRequest } from "./merge-request.js";
import { milestone } from "./milestone.js";
import { note } from "./note.js";
import {
  accessTokenPayload,
  deploymentPayload,
  featureFlagPayload,
  issuePayload,
  jobPayload,
  memberPayload,
  mergeRequestPayload,
  milestonePayload,
  notePayload,
  pipelinePayload,
  projectEventPayload,
  pushPayload,
  releasePayload,
  subgroupPayload,
  vulnerabilityPayload,
  wikiPagePayload,
} from "./payloads.js";
import { pipeline } from "./pipeline.js";
import { projectEvent } from "./project.js";
import { push } from "./push.js";
import { release } from "./release.js";
import { subgroup } from "./subgroup.js";
import { tagPush } from "./tag-push.js";
import { vulnerability } from "./vulnerability.js";
import { wikiPage } from "./wiki-page.js";

export { PayloadError };

const schemas = {
  push: pushPayload,
  tag_push: pushPayload,
  issue: issuePayload,
  work_item: issuePayload,
  note: notePayload,
  merge_request: mergeRequestPayload,
  pipeline: pipelinePayload,
  build: jobPayload,
  deployment: deploymentPayload,
  release: releasePayload,
  wiki_page: wikiPagePayload,
  milestone: milestonePayload,
  feature_flag: featureFlagPayload,
  access_token: accessTokenPayload,
  vulnerability: vulnerabilityPayload,
  member: memberPayload,
  project: projectEventPayload,
  subgroup: subgroupPayload,
} as const;

export type EventKind = keyof typeof schemas;
export type PayloadOf<K extends EventKind> = z.infer<(typeof schemas)[K]>;
export type Handler<K extends EventKind = EventKind> = (payload: PayloadOf<K>) => Notification[];

const handlers = {
  push,
  tag_push: tagPush,
  issue,
  work_item: issue,
  note,
  merge_request: mergeRequest,
  pipeline,
  build: job,
  deployment,
  release,
  wiki_page: wikiPage,
  milestone,
  feature_flag: featureFlag,
  access_token: accessToken,
  vulnerability,
  member,
  project: projectEvent,
  subgroup,
} satisfies { [K in EventKind]: Handler<K> };

export const EVENT_KINDS = Object.keys(handlers) as EventKind[];

/** Where each kind's payload says who may see its project; group events and vulnerabilities do not say. */
const visibilities = {
  push: (p) => visibilityOfLevel(p.project.visibility_level),
  tag_push: (p) => visibilityOfLevel(p.project.visibility_level),
  issue: (p) => visibilityOfLevel(p.project.visibility_level),
  work_item: (p) => visibilityOfLevel(p.project.visibility_level),
  note: (p) => visibilityOfLevel(p.project.visibility_level),
  merge_request: (p) => visibilityOfLevel(p.project.visibility_level),
  pipeline: (p) => visibilityOfLevel(p.project.visibility_level),
  build: (p) => visibilityOfLevel(p.project?.visibility_level),
  deployment: (p) => visibilityOfLevel(p.project.visibility_level),
  release: (p) => visibilityOfLevel(p.project.visibility_level),
  wiki_page: (p) => visibilityOfLevel(p.project.visibility_level),
  milestone: (p) => visibilityOfLevel(p.project.visibility_level),
  feature_flag: (p) => visibilityOfLevel(p.project.visibility_level),
  access_token: (p) => visibilityOfLevel(p.project?.visibility_level),
  vulnerability: () => undefined,
  member: () => undefined,
  project: (p) => visibilityOfLevel(p.project_visibility?.toLowerCase()),
  subgroup: () => undefined,
} satisfies { [K in EventKind]: (payload: PayloadOf<K>) => Visibility | undefined };

/** Whether the bot has a handler for this kind. */
export function isKnownKind(kind: string | undefined): kind is EventKind {
  return kind !== undefined && Object.hasOwn(handlers, kind);
}

/** X-Gitlab-Event header -> kind, where the name does not simply follow "<Kind> Hook". */
const HEADER_KINDS: Record<string, string> = {
  "Job Hook": "build",
  "Confidential Issue Hook": "issue",
  "Confidential Note Hook": "note",
  "Resource Access Token Hook": "access_token",
};

/** Group-hook events that carry no object_kind: their `event_name` -> kind. */
const EVENT_NAME_KINDS: Record<string, EventKind> = {
  user_add_to_group: "member",
  user_update_for_group: "member",
  user_remove_from_group: "member",
  user_access_request_to_group: "member",
  user_access_request_denied_for_group: "member",
  project_create: "project",
  project_destroy: "project",
  subgroup_create: "subgroup",
  subgroup_destroy: "subgroup",
};

/**
 * The kind of an event: payload `object_kind`, else its `event_name` (mapped to a kind where we know
 * it, else as it is), else the X-Gitlab-Event header ("Push Hook" -> push).
 */
export function eventKindOf(payload: unknown, eventHeader?: string): string | undefined {
  if (payload && typeof payload === "object") {
    const { object_kind: objectKind, event_name: eventName } = payload as Record<string, unknown>;
    if (typeof objectKind === "string" && objectKind !== "") return objectKind;
    if (typeof eventName === "string" && eventName !== "") return Object.hasOwn(EVENT_NAME_KINDS, eventName) ? EVENT_NAME_KINDS[eventName] : eventName;
  }
  const header = eventHeader?.trim();
  if (!header) return undefined;
  // One white-space character before "Hook", not \s+ (trim() takes the rest): \s+ before an anchored
  // word is retried from every space of a long run.
  return HEADER_KINDS[header] ?? (header.replace(/\sHook$/i, "").trim().toLowerCase().replace(/\s+/g, "_") || undefined);
}

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join(".") || "(payload)"}: ${issue.message}`)
    .join("; ");
}

/** Checks a payload of a known kind; throws PayloadError when it lacks what the handler needs. */
export function parsePayload<K extends EventKind>(kind: K, payload: unknown): PayloadOf<K> {
  const result = schemas[kind].safeParse(payload);
  if (!result.success) throw new PayloadError(describe(result.error), kind);
  return result.data as PayloadOf<K>;
}

/** The handler of a known kind, typed by its payload. */
export function handlerFor<K extends EventKind>(kind: K): Handler<K> {
  return handlers[kind] as Handler<K>;
}

/**
 * The notifications of one webhook delivery. An unknown (or undeterminable) kind gives
 * `{ known: false, notifications: [] }`; a known kind whose payload lacks what its handler needs
 * throws PayloadError (the worker drops it as unrecoverable).
 */
export function notificationsFor(
  payload: unknown,
  eventHeader?: string,
): { kind: string | undefined; known: boolean; notifications: Notification[]; parsed?: unknown } {
  const kind = eventKindOf(payload, eventHeader);
  if (!isKnownKind(kind)) return { kind, known: false, notifications: [] };
  const parsed = parsePayload(kind, payload);
  // `parsed` is the payload as the handler saw it (for handlers/recipients/, which read the same fields).
  return { kind, known: true, notifications: run(kind, parsed), parsed };
}

/** Who may see the project of an event, as its payload says (undefined: it does not say). */
export function visibilityOf<K extends EventKind>(kind: K, payload: PayloadOf<K>): Visibility | undefined {
  return (visibilities[kind] as (payload: PayloadOf<K>) => Visibility | undefined)(payload);
}

function run<K extends EventKind>(kind: K, parsed: PayloadOf<K>): Notification[] {
  const visibility = visibilityOf(kind, parsed);
  return handlerFor(kind)(parsed).map((n) => ({ ...n, visibility }));
}
