// Pipelines, personally: a failed pipeline goes to whoever started it and to the author of its merge
// request. Nobody "acted" when a pipeline fails, so the one who started it is told too.
import type { Notification } from "../../src/notification.js";
import type { PipelinePayload } from "../payloads.js";
import { personOf, Recipients, type PersonalNotice } from "./common.js";

export function pipelineRecipients(p: PipelinePayload, notifications: Notification[]): PersonalNotice[] {
  const n = notifications[0];
  if (!n || p.object_attributes.status !== "failed") return [];
  const r = new Recipients().add(personOf(p.user), "pipeline_failed_started");
  // The payload does not name the merge request's author: the router knows it from the MR's events.
  return [{ notification: n, recipients: r.list, known: { roles: { author: "pipeline_failed_mr" } } }];
}
