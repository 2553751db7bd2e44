import { describe, expect, it } from "vitest";
import { mentionedUsernames } from "../../../handlers/recipients/index.js";

describe("mentionedUsernames", () => {
  it.each<[string, string[]]>([
    ["Hey @alice, please look", ["alice"]],
    ["@bob.smith and @carol_x and @dave-o", ["bob.smith", "carol_x", "dave-o"]],
    ["thanks @erin.", ["erin"]],
    ["(cc @frank) @frank again, @FRANK", ["frank"]],
    ["mail me at gina@example.com", []],
    ["@all @here @channel @everyone please", []],
    ["ping @group/subgroup and @team/", []],
    ["`@inline` code and ``@double `x` code``", []],
    ["```\n@fenced\n```\nafter @real", ["real"]],
    ["~~~js\nconst a = '@tilde';\n~~~", []],
    ["    @indented code\n@not_code", ["not_code"]],
    ["<code>@html</code> <pre>@pre</pre> @ok", ["ok"]],
    ["line one\n@start of line", ["start"]],
    ["@@double and a@b", []],
    ["@123 is an issue-like number, @u2 is a user", ["u2"]],
    ["", []],
  ])("%j", (text, names) => {
    expect(mentionedUsernames(text)).toEqual(names);
  });

  it("keeps an unclosed code fence from hiding the rest only up to its end", () => {
    expect(mentionedUsernames("```\n@inside forever")).toEqual([]);
  });
});
