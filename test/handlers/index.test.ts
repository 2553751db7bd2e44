import { describe, expect, it } from "vitest";
import { EVENT_KINDS, eventKindOf, isKnownKind, notificationsFor, PayloadError } from "../../handlers/index.js";
import { fixtureIndex, rawFixture } from "./fixtures.js";

describe("handler registry", () => {
  it("knows the kinds the bot posts about", () => {
    expect([...EVENT_KINDS].sort()).toEqual(
      [
        "access_token",
        "build",
        "deployment",
        "feature_flag",
        "issue",
        "member",
        "merge_request",
        "milestone",
        "note",
        "pipeline",
        "project",
        "push",
        "release",
        "subgroup",
        "tag_push",
        "vulnerability",
        "wiki_page",
        "work_item",
      ].sort(),
    );
    expect(isKnownKind("push")).toBe(true);
    expect(isKnownKind("toString")).toBe(false);
    expect(isKnownKind(undefined)).toBe(false);
  });

  it("reads the kind from object_kind, else event_name, else the X-Gitlab-Event header", () => {
    expect(eventKindOf({ object_kind: "push", event_name: "push" })).toBe("push");
    expect(eventKindOf({ event_name: "user_add_to_group" }, "Member Hook")).toBe("member");
    expect(eventKindOf({ object_kind: "access_token", event_name: "expiring_access_token" })).toBe("access_token");
    expect(eventKindOf({}, "Push Hook")).toBe("push");
    expect(eventKindOf({}, "Tag Push Hook")).toBe("tag_push");
    expect(eventKindOf({}, "Merge Request Hook")).toBe("merge_request");
    expect(eventKindOf({}, "Wiki Page Hook")).toBe("wiki_page");
    expect(eventKindOf({}, "Job Hook")).toBe("build");
    expect(eventKindOf({}, "Confidential Issue Hook")).toBe("issue");
    expect(eventKindOf({}, "Confidential Note Hook")).toBe("note");
    expect(eventKindOf({}, "Milestone Hook")).toBe("milestone");
    expect(eventKindOf({}, "Feature Flag Hook")).toBe("feature_flag");
    expect(eventKindOf({}, "Resource Access Token Hook")).toBe("access_token");
    expect(eventKindOf({}, "Vulnerability Hook")).toBe("vulnerability");
    expect(eventKindOf({}, "Member Hook")).toBe("member");
    expect(eventKindOf({}, "Project Hook")).toBe("project");
    expect(eventKindOf({}, "Subgroup Hook")).toBe("subgroup");
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

  it("maps every group-hook event_name GitLab documents to its kind, and leaves others as they are", () => {
    const kinds = {
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
    for (const [eventName, kind] of Object.entries(kinds)) expect(eventKindOf({ event_name: eventName }), eventName).toBe(kind);
    expect(eventKindOf({ event_name: "repository_update" })).toBe("repository_update");
    expect(eventKindOf({ event_name: "toString" })).toBe("toString");
    expect(notificationsFor({ event_name: "repository_update" })).toEqual({ kind: "repository_update", known: false, notifications: [] });
  });

  it("posts one notification for every fixture of a kind it knows (but a job that passed)", () => {
    const expected: Record<string, number | "unknown"> = { "emoji.json": "unknown", "job.json": 0 };
    for (const entry of fixtureIndex) {
      const result = notificationsFor(rawFixture(entry.file), entry.x_gitlab_event);
      expect(result.known ? result.notifications.length : "unknown", entry.file).toBe(expected[entry.file] ?? 1);
    }
  });

  it("tells each notification who may see its project, as the payload says, and nothing where it does not say", () => {
    // The fixtures' visibility_level: 0 private, 10 internal, 20 public; group events and vulnerabilities name none.
    const expected: Record<string, string | undefined> = {
      "push.json": "private",
      "tag_push.json": "private",
      "issue.json": "public",
      "note_commit.json": "public",
      "note_merge_request.json": "internal",
      "note_issue.json": "internal",
      "note_snippet.json": "internal",
      "merge_request.json": "public",
      "wiki_page.json": "private",
      "pipeline.json": "public",
      "deployment.json": "private",
      "project_create.json": "private",
      "project_destroy.json": "private",
      "feature_flag.json": "public",
      "release.json": "private",
      "milestone.json": "public",
      "access_token_project.json": "private",
    };
    for (const entry of fixtureIndex) {
      for (const n of notificationsFor(rawFixture(entry.file), entry.x_gitlab_event).notifications) {
        expect(n.visibility, entry.file).toBe(expected[entry.file]);
      }
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
