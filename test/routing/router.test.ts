import { describe, expect, it } from "vitest";
import type { Notification } from "../../src/notification.js";
import { ancestorPaths, routeToChannels } from "../../src/routing/router.js";
import type { Subscription } from "../../src/store/subscriptions.js";

function sub(channel: string, path: string, features = ""): Subscription {
  return { id: `${channel}-${path}`, channel_id: channel, team_id: null, path, features, created_by: "test", created_at: "", kind: null, visibility: null };
}

function note(overrides: Partial<Notification>): Notification {
  return {
    feature: "pushes",
    projectPath: "Org/Team/Sub/App",
    eventKey: "k",
    labels: [],
    confidential: false,
    render: () => ({ message: "x" }),
    ...overrides,
  };
}

describe("ancestorPaths", () => {
  it("lists the project and every group above it, lower-cased", () => {
    expect(ancestorPaths("Org/Team/Sub/App")).toEqual(["org/team/sub/app", "org/team/sub", "org/team", "org"]);
  });
});

describe("routeToChannels", () => {
  it("matches group subscriptions at any depth, not only the parent", () => {
    const targets = routeToChannels(note({}), [sub("a", "org"), sub("b", "org/team"), sub("c", "org/team/sub/app"), sub("d", "other")]);
    expect(targets.map((t) => t.channelId).sort()).toEqual(["a", "b", "c"]);
  });

  it("does not match a sibling whose path only starts the same", () => {
    expect(routeToChannels(note({ projectPath: "org/app" }), [sub("a", "org/ap")])).toEqual([]);
  });

  it("posts once per channel, with the most specific subscription deciding", () => {
    const targets = routeToChannels(note({ feature: "pushes" }), [sub("a", "org", "pushes"), sub("a", "org/team/sub/app", "issues")]);
    expect(targets).toEqual([]);
    const both = routeToChannels(note({ feature: "issues" }), [sub("a", "org", "pushes"), sub("a", "org/team/sub/app", "issues")]);
    expect(both).toHaveLength(1);
  });

  it.each([
    ["issues", { feature: "issues" }, true],
    ["merges", { feature: "issues" }, false],
    ["pipelines:failed", { feature: "pipelines", status: "success" }, false],
    ["pipelines:failed", { feature: "pipelines", status: "failed" }, true],
    ["pipelines:failed", { feature: "pipelines", status: "fixed" }, true],
    ["pipelines", { feature: "pipelines", status: "success" }, true],
    ['issues,label:"bug"', { feature: "issues", labels: ["Bug"] }, true],
    ['issues,label:"bug"', { feature: "issues", labels: [] }, false],
    ['pushes,label:"bug"', { feature: "pushes", labels: [] }, true],
    ["pushes,branch:main", { feature: "pushes", branch: "main" }, true],
    ["pushes,branch:main", { feature: "pushes", branch: "dev" }, false],
    ["tags,branch:main", { feature: "tags", branch: "v1" }, true],
    ["issues", { feature: "issues", confidential: true }, false],
    ["issues,confidential_issues", { feature: "issues", confidential: true }, true],
    ["confidential_issues", { feature: "issue_comments", confidential: true }, false],
    ["confidential_issues,issue_comments", { feature: "issue_comments", confidential: true }, true],
  ] as const)("%s receives %j: %s", (features, overrides, expected) => {
    const targets = routeToChannels(note(overrides as Partial<Notification>), [sub("a", "org", features)]);
    expect(targets.length === 1).toBe(expected);
  });

  it("drops events caused by ignored accounts", () => {
    expect(routeToChannels(note({ actorUsername: "GitLab-Bot" }), [sub("a", "org")], ["gitlab-bot"])).toEqual([]);
  });
});
