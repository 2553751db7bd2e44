// The registry: one line per GitLab event kind (payload `object_kind`), each with the schema its
// payload is checked against and its pure handler. A kind spelled wrong, or a handler that takes
// another kind's payload, fails to compile.
import type { z } from "zod";
import type { Notification } from "../src/notification.js";
import { PayloadError } from "./common.js";
import { deployment } from "./deployment.js";
import { issue } from "./issue.js";
import { job } from "./job.js";
import { mergeRequest } from "./merge-request.js";
import { note } from "./note.js";
import {
  deploymentPayload,
  issuePayload,
  jobPayload,
  mergeRequestPayload,
  notePayload,
  pipelinePayload,
  pushPayload,
  releasePayload,
  wikiPagePayload,
} from "./payloads.js";
import { pipeline } from "./pipeline.js";
import { push } from "./push.js";
import { release } from "./release.js";
import { tagPush } from "./tag-push.js";
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
} satisfies { [K in EventKind]: Handler<K> };

export const EVENT_KINDS = Object.keys(handlers) as EventKind[];

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

/** The kind of an event: payload `object_kind`, else `event_name`, else the X-Gitlab-Event header ("Push Hook" -> push). */
export function eventKindOf(payload: unknown, eventHeader?: string): string | undefined {
  if (payload && typeof payload === "object") {
    const { object_kind: objectKind, event_name: eventName } = payload as Record<string, unknown>;
    if (typeof objectKind === "string" && objectKind !== "") return objectKind;
    if (typeof eventName === "string" && eventName !== "") return eventName;
  }
  const header = eventHeader?.trim();
  if (!header) return undefined;
  return HEADER_KINDS[header] ?? (header.replace(/\s+Hook$/i, "").trim().toLowerCase().replace(/\s+/g, "_") || undefined);
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
): { kind: string | undefined; known: boolean; notifications: Notification[] } {
  const kind = eventKindOf(payload, eventHeader);
  if (!isKnownKind(kind)) return { kind, known: false, notifications: [] };
  return { kind, known: true, notifications: run(kind, payload) };
}

function run<K extends EventKind>(kind: K, payload: unknown): Notification[] {
  return handlerFor(kind)(parsePayload(kind, payload));
}
