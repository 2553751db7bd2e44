import { describe, expect, it } from "vitest";
import { branchMatches, FeatureError, formatFeatures, labelsMatch, parseFeatures, parseStoredFeatures } from "../../src/routing/features.js";
import { filterOf } from "../../src/routing/router.js";

describe("parseFeatures", () => {
  it("defaults to SPEC.md's feature list", () => {
    expect(formatFeatures(parseFeatures(""))).toBe(
      "issues,merges,pushes,issue_comments,merge_request_comments,commit_comments,pipelines,tags,releases,deployments",
    );
  });

  it.each([
    ["issues,merges", "issues,merges"],
    ["Merges, ISSUES", "issues,merges"],
    ["pipelines:failed", "pipelines:failed"],
    ['issues,label:"bug fix, urgent",label:UX', 'issues,label:"bug fix, urgent",label:"ux"'],
    ['merges label:"a" label:"b" labels:all', 'merges,label:"a",label:"b",labels:all'],
    ["pushes,branch:main,branch:release/*", "pushes,branch:main,branch:release/*"],
    ["branch:default", "issues,merges,pushes,issue_comments,merge_request_comments,commit_comments,pipelines,tags,releases,deployments,branch:default"],
    ["issues,lang:zh-cn", "issues,lang:zh-CN"],
    ["Buttons:Off merges", "merges,buttons:off"],
  ])("%s -> %s", (input, canonical) => {
    const parsed = parseFeatures(input);
    expect(formatFeatures(parsed)).toBe(canonical);
    expect(formatFeatures(parseFeatures(formatFeatures(parsed)))).toBe(canonical);
  });

  it.each([
    ["issuez", /unknown feature "issuez"/],
    ['label:"unclosed', /unclosed quote/],
    ["label:", /label: needs a name/],
    ["labels:all", /labels:all needs/],
    ["lang:fr", /unknown language "fr"/],
    ["branch:", /branch: needs/],
    [`branch:${"a".repeat(256)}`, /at most 255 characters/],
    ["branch:*a*a*a*a*a*a*a*a*a*a*b", /at most 10/],
    ["branch:@(main|dev)", /extglob/],
    ["branch:!(main)", /extglob/],
    ["branch:release/+(x)", /extglob/],
    ['branch:"release/{1,2}"', /braces/],
    ["branch:[[:digit:]]", /\[:class:\]/],
  ])("refuses %s", (input, message) => {
    expect(() => parseFeatures(input)).toThrow(FeatureError);
    expect(() => parseFeatures(input)).toThrow(message);
  });
});

describe("branch filters", () => {
  const info = { defaultBranch: "main" };
  it.each([
    ["", "anything", true],
    ["branch:main", "main", true],
    ["branch:main", "feature/x", false],
    ["branch:release/*", "release/1.2", true],
    ["branch:release/*", "release/1.2/hotfix", false],
    ["branch:release/**", "release/1.2/hotfix", true],
    ["branch:default", "main", true],
    ["branch:default", "dev", false],
    ["branch:protected", "main", true],
    ["branch:protected", "dev", false],
  ])("%s on %s -> %s", (features, branch, expected) => {
    expect(branchMatches(parseFeatures(features), branch, info)).toBe(expected);
  });

  it.each([
    ["branch:release-*", "release-1.2", true],
    ["branch:release-*", "release-", true],
    ["branch:v?.x", "v1.x", true],
    ["branch:v?.x", "v10.x", false],
    ["branch:feature/[a-c]*", "feature/b-login", true],
    ["branch:feature/[!a-c]*", "feature/b-login", false],
    ["branch:feature/[^a-c]*", "feature/x-login", true],
    ["branch:**/hotfix", "hotfix", true],
    ["branch:**/hotfix", "release/1/hotfix", true],
    ["branch:a/**/b", "a/b", true],
    ["branch:a/**/b", "a/x/y/b", true],
    ["branch:a**b", "ax/yb", false],
    ["branch:!main", "main", false],
    ["branch:!main", "dev", true],
    ["branch:fix\\*", "fix*", true],
    ["branch:fix\\*", "fix1", false],
    [`branch:${"*a".repeat(5)}*b`, "a".repeat(5000), false],
  ])("%s on %s -> %s", (features, branch, expected) => {
    expect(branchMatches(parseFeatures(features), branch, info)).toBe(expected);
  });

  it("still matches, safely, a glob stored before the limits", () => {
    const stored = `pushes,branch:${"*a".repeat(12)}*b,branch:"{main,dev}",branch:@(x)`;
    expect(() => parseFeatures(stored)).toThrow(FeatureError);
    const filter = filterOf({ features: stored });
    expect(filter).toEqual(parseStoredFeatures(stored));
    // Braces and extglobs no longer mean alternatives: their characters stand for themselves.
    expect(branchMatches(filter, "{main,dev}", info)).toBe(true);
    expect(branchMatches(filter, "main", info)).toBe(false);
    expect(branchMatches(filter, `${"a".repeat(5000)}b`, info)).toBe(true);
    expect(branchMatches(filter, "a".repeat(5000), info)).toBe(false);
  });

  it("uses the payload's protected flag when it has one", () => {
    expect(branchMatches(parseFeatures("branch:protected"), "stable", { defaultBranch: "main", protectedBranch: true })).toBe(true);
    expect(branchMatches(parseFeatures("branch:protected"), "main", { defaultBranch: "main", protectedBranch: false })).toBe(false);
  });
});

describe("label filters", () => {
  it.each([
    ["", [], true],
    ['label:"bug"', ["Bug", "API"], true],
    ['label:"bug"', ["API"], false],
    ['label:"bug",label:"api"', ["api"], true],
    ['label:"bug",label:"api",labels:all', ["api"], false],
    ['label:"bug",label:"api",labels:all', ["API", "bug", "x"], true],
  ] as const)("%s with %j -> %s", (features, labels, expected) => {
    expect(labelsMatch(parseFeatures(features), [...labels])).toBe(expected);
  });
});
