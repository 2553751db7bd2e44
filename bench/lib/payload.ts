// Webhook bodies: GitLab's published merge_request.json, its description padded so the body is ~10 KB.
import { fixtureText } from "../../test/support/fixtures.js";

export const TARGET_BYTES = 10 * 1024;
export const PROJECT_PATH = "gitlabhq/gitlab-test";
export const MR_EVENT_HEADER = "Merge Request Hook";

const LOREM =
  "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. " +
  "Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.\n\n";

interface MergeRequestPayload {
  object_attributes: { id: number; iid: number; title: string; description: string; updated_at: string; action: string; [k: string]: unknown };
  [k: string]: unknown;
}

function base(): MergeRequestPayload {
  return JSON.parse(fixtureText("merge_request.json")) as MergeRequestPayload;
}

function pad(payload: MergeRequestPayload, size: number): string {
  const without = Buffer.byteLength(JSON.stringify(payload));
  let description = "";
  while (without + Buffer.byteLength(JSON.stringify(description)) - 2 < size) description += LOREM;
  // JSON.stringify adds 2 quotes and escapes \n as 2 bytes; trim to land on the size.
  while (description.length > 0 && without + Buffer.byteLength(JSON.stringify(description)) - 2 > size) description = description.slice(0, -1);
  payload.object_attributes.description = description;
  return JSON.stringify(payload);
}

/** The same ~10 KB merge-request body every time (ingress runs send it with distinct Idempotency-Keys). */
export function paddedMergeRequest(): Buffer {
  return Buffer.from(pad(base(), TARGET_BYTES));
}

const ID = 987654321;
const IID = 876543219;
const TOKEN = "zq0qz";
const STAMP = "2030-01-01T00:00:00Z";

/**
 * Distinct "open" events of the padded payload: event `i` has its own MR id, iid, updated_at and a
 * title carrying `zq<i>qz`, by which its post is found again. Building one costs a few string replaces.
 */
export function distinctMergeRequests(): {
  body(i: number): string;
  indexOf(text: string): number | undefined;
  /** The event a post is about: its message names it, else its props (stringified only then). */
  indexOfPost(post: { message?: string; props?: unknown }): number | undefined;
} {
  const payload = base();
  const a = payload.object_attributes;
  a.id = ID;
  a.iid = IID;
  a.title = `Bench change ${TOKEN}`;
  a.updated_at = STAMP;
  a.action = "open";
  const template = pad(payload, TARGET_BYTES);
  const parts = template.split(/(987654321|876543219|zq0qz|2030-01-01T00:00:00Z)/);
  const t0 = Date.parse(STAMP);
  const indexOf = (text: string): number | undefined => {
    const m = /zq(\d+)qz/.exec(text);
    return m ? Number(m[1]) : undefined;
  };
  return {
    body(i) {
      let out = "";
      for (const part of parts) {
        if (part === String(ID)) out += String(1_000_000 + i);
        else if (part === String(IID)) out += String(100_000 + i);
        else if (part === TOKEN) out += `zq${i}qz`;
        else if (part === STAMP) out += new Date(t0 + i * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
        else out += part;
      }
      return out;
    },
    indexOf,
    indexOfPost: (post) => indexOf(post.message ?? "") ?? indexOf(JSON.stringify(post.props ?? {})),
  };
}
