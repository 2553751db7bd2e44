import { describe, expect, it } from "vitest";
import { EVENT_KINDS, eventKindOf, isKnownKind, notificationsFor, PayloadError } from "../../handlers/index.js";
import { fixtureIndex, rawFixture } from "./fixtures.js";

describe("handler registry", () => {
  it("knows the kinds the bot posts about", () => {
    expect([...EVENT_KINDS].sort()).toEqual(
      ["build", "deployment", "issue", "merge_request", "note", "pipeline", "push", "release", "tag_push", "wiki_page", "work_item"].sort(),
    );
    expect(isKnownKind("push")).toBe(true);
    expect(isKnownKind("toString")).toBe(false);
    expect(isKnownKind(undefined)).toBe(false);
  });

  it("reads the kind from object_kind, else event_name, else the X-Gitlab-Event header", () => {
    expect(eventKindOf({ object_kind: "push", event_name: "push" })).toBe("push");
    expect(eventKindOf({ event_name: "user_add_to_group" }, "Member Hook")).toBe("user_add_to_group");
    expect(eventKindOf({}, "Push Hook")).toBe("push");
    expect(eventKindOf({}, "Tag Push Hook")).toBe("tag_push");
    expect(eventKindOf({}, "Merge Request Hook")).toBe("merge_request");
    expect(eventKindOf({}, "Wiki Page Hook")).toBe("wiki_page");
    expect(eventKindOf({}, "Job Hook")).toBe("build");
    expect(eventKindOf({}, "Confidential Issue Hook")).toBe("issue");
    expect(eventKindOf({}, "Confidential Note Hook")).toBe("note");
    expect(eventKindOf(null)).toBeUndefined();
    expect(eventKindOf("push")).toBeUndefined();
    expect(eventKindOf({ object_kind: 42 }, " ")).toBeUndefined();
  });

  it("agrees with every fixture's documented kind and header", () => {
    for (const entry of fixtureIndex) {
      const payload = rawFixture(entry.file);
      const kind = eventKindOf(payload, entry.x_gitlab_event);
      if (entry.object_kind) expect(kind, entry.file).toBe(entry.object_kind);
      const result = notificationsFor(payload, entry.x_gitlab_event);
      expect(result.known, entry.file).toBe(isKnownKind(kind));
      if (!result.known) expect(result.notifications).toEqual([]);
    }
  });

  it("ignores unknown kinds", () => {
    expect(notificationsFor(rawFixture("emoji.json"), "Emoji Hook")).toEqual({ kind: "emoji", known: false, notifications: [] });
    expect(notificationsFor({}, undefined)).toEqual({ kind: undefined, known: false, notifications: [] });
    expect(notificationsFor({ object_kind: "constructor" })).toEqual({ kind: "constructor", known: false, notifications: [] });
  });

  it("throws PayloadError for a known kind that lacks what its handler needs", () => {
    expect(() => notificationsFor({ object_kind: "push" })).toThrow(PayloadError);
    expect(() => notificationsFor({}, "Pipeline Hook")).toThrow(/pipeline payload: /);
    try {
      notificationsFor({ object_kind: "merge_request", project: { id: 1, path_with_namespace: "a/b" } });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PayloadError);
      expect((error as PayloadError).kind).toBe("merge_request");
      expect((error as PayloadError).code).toBe("payload_invalid");
      expect((error as Error).message).toContain("object_attributes");
    }
  });
});
