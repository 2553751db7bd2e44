// The context of a button on a post names what the button does (`mr.approve` on `group/project!12`).
// Mattermost sends it back unchanged when someone clicks, so the bot signs it when it makes the post:
// HMAC-SHA256 over a canonical serialisation, with an expiry; a context the bot did not sign, changed
// or expired is refused before anything is done.
import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import type { Config } from "../config.js";
import type { PostAction, PostActionKind } from "../notification.js";

/** What travels in `integration.context`. */
export interface SignedActionContext {
  v: 1;
  action: PostActionKind;
  project: string;
  iid?: number;
  id?: number;
  /** Unix seconds after which the button no longer works. */
  exp: number;
  /** base64url HMAC-SHA256 of the other fields (see canonical()). */
  sig: string;
}

export type ActionVerdict = { ok: true; action: PostAction } | { ok: false; reason: "malformed" | "bad_signature" | "expired" };

/** How long a button works: a post's buttons outlive a busy month, not a rotation of the key. */
export const ACTION_TTL_SECONDS = 30 * 24 * 3600;

type ByIid = Extract<PostAction, { iid: number }>["kind"];
type ById = Extract<PostAction, { id: number }>["kind"];
const BY_IID: readonly string[] = ["mr.approve", "mr.merge", "issue.close", "issue.reopen"] satisfies ByIid[];
const BY_ID: readonly string[] = ["pipeline.retry", "job.play"] satisfies ById[];
const isByIid = (kind: string): kind is ByIid => BY_IID.includes(kind);
const isById = (kind: string): kind is ById => BY_ID.includes(kind);
/** GitLab's full paths are at most a few hundred characters; anything longer was not signed by us. */
const PROJECT_MAX_CHARS = 1024;
const HKDF_INFO = "gitlab-mm actions";

/**
 * The signing key: ACTIONS_SIGNING_KEY when set, else one derived from ENCRYPTION_KEY (HKDF, so the
 * token-encryption key itself never signs anything). Undefined when neither is set: no buttons then.
 */
export function actionsKeyOf(config: Pick<Config, "actionsSigningKey" | "encryptionKey">): Buffer | undefined {
  const secret = config.actionsSigningKey !== undefined ? Buffer.from(config.actionsSigningKey, "utf8") : config.encryptionKey;
  if (!secret) return undefined;
  return Buffer.from(hkdfSync("sha256", secret, Buffer.alloc(0), HKDF_INFO, 32));
}

/** One fixed order and form of the signed fields, whatever order JSON brings them back in. */
function canonical(action: PostAction, exp: number): string {
  return JSON.stringify([1, action.kind, action.project, "iid" in action ? action.iid : null, "id" in action ? action.id : null, exp]);
}

function mac(key: Buffer, action: PostAction, exp: number): Buffer {
  return createHmac("sha256", key).update(canonical(action, exp)).digest();
}

export function signAction(key: Buffer, action: PostAction, expiresAtSeconds: number): SignedActionContext {
  const target = "iid" in action ? { iid: action.iid } : { id: action.id };
  return { v: 1, action: action.kind, project: action.project, ...target, exp: expiresAtSeconds, sig: mac(key, action, expiresAtSeconds).toString("base64url") };
}

const isCount = (value: unknown): value is number => typeof value === "number" && Number.isSafeInteger(value) && value > 0;

/** The action, expiry and signature when the context has the shape the bot signs, else undefined. */
function shapeOf(context: unknown): { action: PostAction; exp: number; sig: string } | undefined {
  if (!context || typeof context !== "object" || Array.isArray(context)) return undefined;
  const c = context as Record<string, unknown>;
  const { action: kind, project, exp, sig } = c;
  if (c.v !== 1 || typeof kind !== "string" || typeof project !== "string" || typeof sig !== "string" || typeof exp !== "number") return undefined;
  if (project.length === 0 || project.length > PROJECT_MAX_CHARS || sig.length > 100 || !Number.isSafeInteger(exp)) return undefined;
  if (isByIid(kind) && isCount(c.iid) && c.id === undefined) return { action: { kind, project, iid: c.iid }, exp, sig };
  if (isById(kind) && isCount(c.id) && c.iid === undefined) return { action: { kind, project, id: c.id }, exp, sig };
  return undefined;
}

/** Checks a context Mattermost sent back: shape, then signature (constant time), then expiry. */
export function verifyAction(key: Buffer, context: unknown, nowSeconds: number): ActionVerdict {
  const c = shapeOf(context);
  if (!c) return { ok: false, reason: "malformed" };
  const expected = mac(key, c.action, c.exp);
  const given = Buffer.from(c.sig, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: "bad_signature" };
  if (c.exp < nowSeconds) return { ok: false, reason: "expired" };
  return { ok: true, action: c.action };
}
