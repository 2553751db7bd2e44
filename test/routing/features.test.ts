import { describe, expect, it } from "vitest";
import { branchMatches, FeatureError, formatFeatures, labelsMatch, parseFeatures } from "../../src/routing/features.js";

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
