import { describe, expect, it } from "vitest";
import { Recipients } from "../../../handlers/recipients/common.js";
import { mentionedUsernames } from "../../../handlers/recipients/index.js";
import { MAX_MENTIONS, MENTION_SCAN_MAX_CHARS } from "../../../src/text/mentions.js";

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
    ["a lone ` backtick @open and a lone `` pair @pair", ["open", "pair"]],
    ["`span\n\n@after_blank_line`", ["after_blank_line"]],
    ["```js `x`\n@not_a_fence", ["not_a_fence"]],
    ["```\r\n@crlf_code\r\n```\r\n@crlf", ["crlf"]],
    ["```\n    ```\n@still_code", []],
    ["<CODE class=x>@upper</Code> <pre>\n\n@in_pre\n</pre> <code>@unclosed", ["unclosed"]],
  ])("%j", (text, names) => {
    expect(mentionedUsernames(text)).toEqual(names);
  });

  it("hides every line of a fenced code block, not only its first", () => {
    expect(mentionedUsernames("```\nline one\n@second_line\n@third_line\n```\nafter @real")).toEqual(["real"]);
    expect(mentionedUsernames("~~~~\n~~~\n@still_code\n~~~~\n@out")).toEqual(["out"]);
  });

  it("keeps an unclosed code fence from hiding the rest only up to its end", () => {
    expect(mentionedUsernames("```\n@inside forever")).toEqual([]);
  });

  it("names the first 100 people mentioned, each once", () => {
    const text = Array.from({ length: 150 }, (_, i) => `@user${i} @USER${i}`).join(" ");
    const names = mentionedUsernames(text);
    expect(names).toHaveLength(MAX_MENTIONS);
    expect(names[0]).toBe("user0");
    expect(names[99]).toBe("user99");
  });

  it("reads only the first 64 KiB, never a name the cut splits", () => {
    const filler = "x ".repeat((MENTION_SCAN_MAX_CHARS - 8) / 2);
    expect(mentionedUsernames(`${filler}@early_bird and far later @late`)).toEqual([]);
    expect(mentionedUsernames(`@first ${filler}@late`)).toEqual(["first"]);
  });

  it("tells at most 100 mentioned people per event, however many texts mention them", () => {
    const r = new Recipients();
    r.mentions(Array.from({ length: 80 }, (_, i) => `a${i}`), false).mentions(Array.from({ length: 80 }, (_, i) => `b${i}`), false);
    expect(r.list).toHaveLength(MAX_MENTIONS);
    expect(r.list.at(-1)?.person.username).toBe("b19");
  });
});
