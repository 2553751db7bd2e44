// Button contexts: signed by the bot, refused when unsigned, changed in any field, or expired; the key
// comes from ACTIONS_SIGNING_KEY or, through HKDF, from ENCRYPTION_KEY.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { actionsKeyOf, signAction, verifyAction, type SignedActionContext } from "../../src/actions/signing.js";
import type { PostAction } from "../../src/notification.js";

const key = randomBytes(32);
const NOW = 1_800_000_000;
const approve: PostAction = { kind: "mr.approve", project: "acme/app", iid: 7 };
const retry: PostAction = { kind: "pipeline.retry", project: "acme/app", id: 4242 };

describe("button signatures", () => {
  it("accepts what it signed, until it expires, whatever order the fields come back in", () => {
    for (const action of [approve, retry]) {
      const context = signAction(key, action, NOW + 60);
      expect(verifyAction(key, context, NOW)).toEqual({ ok: true, action });
      // Mattermost hands the context back as JSON; key order is not ours to rely on.
      const reordered = Object.fromEntries(Object.entries(JSON.parse(JSON.stringify(context)) as Record<string, unknown>).reverse());
      expect(verifyAction(key, reordered, NOW)).toEqual({ ok: true, action });
      expect(verifyAction(key, context, NOW + 61)).toEqual({ ok: false, reason: "expired" });
    }
  });

  it("refuses a context with any field changed, or without a signature", () => {
    const context = signAction(key, approve, NOW + 60);
    const changed: Record<string, unknown>[] = [
      { ...context, project: "acme/other" },
      { ...context, iid: 8 },
      { ...context, action: "mr.merge" },
      { ...context, exp: NOW + 6_000_000 },
      { ...context, sig: signAction(key, { ...approve, iid: 8 }, NOW + 60).sig },
      { ...context, sig: "" },
    ];
    for (const c of changed) expect(verifyAction(key, c, NOW)).toEqual({ ok: false, reason: "bad_signature" });
    expect(verifyAction(randomBytes(32), context, NOW)).toEqual({ ok: false, reason: "bad_signature" });
    const { sig: _sig, ...unsigned } = context;
    expect(verifyAction(key, unsigned, NOW)).toEqual({ ok: false, reason: "malformed" });
  });

  it("refuses shapes it never signs before computing anything", () => {
    const context: SignedActionContext = signAction(key, approve, NOW + 60);
    const odd: unknown[] = [
      undefined,
      null,
      "mr.approve",
      [context],
      { ...context, v: 2 },
      { ...context, action: "project.delete" },
      { ...context, iid: undefined, id: 7 },
      { ...context, iid: -1 },
      { ...context, iid: 1.5 },
      { ...context, iid: "7" },
      { ...context, project: "" },
      { ...context, project: "a".repeat(5000) },
      { ...context, exp: "soon" },
      { ...context, sig: "x".repeat(10_000) },
    ];
    for (const c of odd) expect(verifyAction(key, c, NOW)).toEqual({ ok: false, reason: "malformed" });
  });

  it("derives the key from ACTIONS_SIGNING_KEY, else from ENCRYPTION_KEY, and never uses either as it is", () => {
    const encryptionKey = randomBytes(32);
    const fromEncryption = actionsKeyOf({ encryptionKey });
    const own = "s".repeat(40);
    const fromSetting = actionsKeyOf({ encryptionKey, actionsSigningKey: own });
    expect(fromEncryption).toHaveLength(32);
    expect(fromEncryption?.equals(encryptionKey)).toBe(false);
    expect(fromSetting?.equals(fromEncryption!)).toBe(false);
    expect(actionsKeyOf({ actionsSigningKey: own })?.equals(fromSetting!)).toBe(true);
    expect(actionsKeyOf({})).toBeUndefined();
    // A context signed under one key is refused under the other (a rotated key retires old buttons).
    expect(verifyAction(fromSetting!, signAction(fromEncryption!, approve, NOW + 60), NOW).ok).toBe(false);
  });
});
