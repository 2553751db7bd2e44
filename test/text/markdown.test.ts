import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  escapeBlock,
  escapeInline,
  excerptOf,
  link,
  linkMarkdown,
  markdownToPlain,
  neutralizeMentions,
  plain,
  safeUrl,
  shortSha,
  stripHtml,
  truncate,
  wholeExcerptOf,
} from "../../src/text/markdown.js";

const Z = "\u200B";

describe("stripHtml", () => {
  it("removes tags, comments and autolinks, however nested", () => {
    expect(stripHtml("a <b>bold</b> <img src=x onerror=alert(1)> c")).toBe("a bold  c");
    expect(stripHtml("<scr<script>ipt>alert(1)</script>")).toBe("alert(1)");
    expect(stripHtml("x <!-- hidden --> y <!-- open")).toBe("x  y ");
    expect(stripHtml("see <http://evil.example> or <mailto:a@b.c>")).toBe("see  or ");
  });

  it("keeps comparisons that are not tags", () => {
    expect(stripHtml("a < b and c > d, 1<2")).toBe("a < b and c > d, 1<2");
  });
});

describe("truncate", () => {
  it("cuts with an ellipsis, never inside a surrogate pair", () => {
    expect(truncate("abcdef", 10)).toBe("abcdef");
    expect(truncate("abcdef", 4)).toBe("abc…");
    expect(truncate("ab😀cd", 4)).toBe("ab…");
    expect(truncate("abc", 0)).toBe("");
  });
});

describe("neutralizeMentions", () => {
  it("puts a zero-width space after every @, once", () => {
    expect(neutralizeMentions("@all @channel a@b")).toBe(`@${Z}all @${Z}channel a@${Z}b`);
    expect(neutralizeMentions(neutralizeMentions("@here"))).toBe(`@${Z}here`);
  });
});

describe("escapeInline", () => {
  it("defuses mentions", () => {
    expect(escapeInline("ping @all and @jsmith")).toBe(`ping @${Z}all and @${Z}jsmith`);
  });

  it("escapes links, images, emphasis, code, tables and HTML", () => {
    expect(escapeInline("[x](http://evil) ![i](http://evil/x.png)")).toBe("\\[x\\](http://evil) !\\[i\\](http://evil/x.png)");
    expect(escapeInline("*b* _i_ ~~s~~ `c` |a|b| &amp; $x$")).toBe("\\*b\\* \\_i\\_ \\~\\~s\\~\\~ \\`c\\` \\|a\\|b\\| \\&amp; \\$x\\$");
    expect(escapeInline("a\\b")).toBe("a\\\\b");
    expect(escapeInline("<script>alert(1)</script> 1 < 2")).toBe("alert(1) 1 \\< 2");
  });

  it("escapes what would start a block", () => {
    expect(escapeInline("# heading")).toBe("\\# heading");
    expect(escapeInline("- item")).toBe("\\- item");
    expect(escapeInline("1. first")).toBe("1\\. first");
    expect(escapeInline("> quote")).toBe("\\> quote");
    expect(escapeInline("#23 is an issue")).toBe("#23 is an issue");
    expect(escapeInline("-x")).toBe("-x");
  });

  it("folds newlines and control characters into one line", () => {
    expect(escapeInline("a\n\n# b\r\n```\tc\u202Ed\u0000")).toBe("a # b \\`\\`\\` cd");
    expect(escapeInline(null)).toBe("");
    expect(escapeInline(42)).toBe("42");
  });

  it("cuts long strings before escaping", () => {
    expect(escapeInline("x".repeat(1000), 10)).toBe("xxxxxxxxx…");
    expect(escapeInline("_".repeat(1000), 5)).toBe("\\_\\_\\_\\_…");
  });
});

describe("escapeBlock", () => {
  it("keeps lines, escaping each, and drops indentation and blank runs", () => {
    expect(escapeBlock("# Title\n\n\n\n    code\n> quote\n---\n|a|b|\n|-|-|\n```js\n@here")).toBe(
      "\\# Title\n\ncode\n\\> quote\n\\---\n\\|a\\|b\\|\n\\|-\\|-\\|\n\\`\\`\\`js\n" + `@${Z}here`,
    );
  });

  it("cuts at the character limit, then at twelve lines", () => {
    const long = escapeBlock("word ".repeat(200));
    expect(long.length).toBeLessThanOrEqual(500);
    expect(long.endsWith("…")).toBe(true);
    const tall = escapeBlock(Array.from({ length: 30 }, (_, i) => `line ${i}`).join("\n"));
    expect(tall.split("\n")).toHaveLength(12);
    expect(tall.endsWith("line 11…")).toBe(true);
    expect(excerptOf("word ".repeat(200)).cut).toBe(true);
    expect(excerptOf(Array.from({ length: 30 }, () => "x").join("\n")).cut).toBe(true);
    expect(excerptOf("short")).toEqual({ text: "short", cut: false });
  });

  it("reads only the start of a long text when that gives the same excerpt as the whole", () => {
    // Pieces whose meaning depends on what follows: tags and comments cut by the end of the window,
    // CR LF, surrogate pairs, runs of spaces and blank lines that fold away.
    const pieces = ["word ", "x", " ", "    ", "\t", "\n", "\n\n\n", "\r", "\r\n", "\u2028", "😀", "@all", "<b>", "</b>", "<!--", "-->", "<a href=x>", "<", ">", "#", "\\"];
    const longText = fc
      .array(fc.tuple(fc.constantFrom(...pieces), fc.integer({ min: 1, max: 400 })), { minLength: 1, maxLength: 30 })
      .map((runs) => runs.map(([piece, times]) => piece.repeat(times)).join(""))
      .filter((text) => text.length > 2000);
    fc.assert(
      fc.property(longText, fc.constantFrom(40, 500, 3000), (text, maxChars) => {
        expect(excerptOf(text, maxChars)).toEqual(wholeExcerptOf(text, maxChars));
      }),
      { numRuns: 400 },
    );
  });

  it("reads the whole text when a tag may run past the start it read first", () => {
    // Twelve lines, then a thirteenth that is only a tag: the whole text has twelve lines, not more.
    const text = `${"a\n".repeat(12)}${" ".repeat(1970)}<b${"y".repeat(100)}>`;
    expect(excerptOf(text)).toEqual({ text: "a\n".repeat(11) + "a", cut: false });
  });

  it("reads past a start that is only blank lines and markup", () => {
    const text = `${"\n".repeat(3000)}<!-- ${"template ".repeat(400)}-->\nThe change`;
    expect(excerptOf(text)).toEqual({ text: "The change", cut: false });
  });

  it("gives an empty string for nothing", () => {
    expect(escapeBlock(undefined)).toBe("");
    expect(escapeBlock("\n \n")).toBe("");
  });
});

describe("safeUrl and link", () => {
  it("accepts only absolute http(s) URLs", () => {
    expect(safeUrl("https://gitlab.example.com/a/b")).toBe("https://gitlab.example.com/a/b");
    expect(safeUrl("javascript:alert(1)")).toBeUndefined();
    expect(safeUrl("data:text/html,x")).toBeUndefined();
    expect(safeUrl("//evil.example/x")).toBeUndefined();
    expect(safeUrl("/relative")).toBeUndefined();
    expect(safeUrl("http://")).toBeUndefined();
    expect(safeUrl(null)).toBeUndefined();
  });

  it("encodes what would end the link or open new Markdown", () => {
    expect(safeUrl("http://x.example/a b)c(d[e]<f>")).toBe("http://x.example/a%20b%29c%28d%5Be%5D%3Cf%3E");
  });

  it("builds [text](url) with escaped text, or just the text without a safe URL", () => {
    expect(link("a [b] @all", "http://x.example/p")).toBe(`[a \\[b\\] @${Z}all](http://x.example/p)`);
    expect(link("text", "javascript:alert(1)")).toBe("text");
    expect(linkMarkdown("`abc1234`", "http://x.example/c")).toBe("[`abc1234`](http://x.example/c)");
    expect(linkMarkdown("", "http://x.example/c")).toBe("");
  });

  it("shows shas short in code style, anything else escaped", () => {
    expect(shortSha("da1560886d4f094c3e6c9ef40349f7d38b5d27d7")).toBe("`da156088`");
    expect(shortSha("`@all`")).toBe(`\\\`@${Z}all\\\``);
  });
});

describe("plain", () => {
  it("is one safe line without Markdown escapes", () => {
    expect(plain("John_Smith *x*")).toBe("John_Smith *x*");
    expect(plain("@all <b>hi</b>\n[x](http://evil) ![i](http://e/x.png)")).toBe(`@${Z}all hi [x]${Z}(http://evil) !${Z}[i]${Z}(http://e/x.png)`);
  });
});

describe("markdownToPlain", () => {
  it("reads our Markdown as text, links as their text", () => {
    const md = `**${link("group/project", "http://x.example/g/p")}**: ${escapeInline("@bob")} merged ${link("!1 Fix [x](http://evil) *now*", "http://x.example/mr/1")}`;
    expect(markdownToPlain(md)).toBe(`group/project: @${Z}bob merged !1 Fix [x]${Z}(http://evil) *now*`);
  });
});

// The properties every escaped string must have, whatever the input.
const hostile = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: "grapheme", maxLength: 100 }),
  fc
    .array(fc.constantFrom("@all", "@channel", "@here", "@someone", "[x](http://evil)", "![i](http://evil/x.png)", "<script>", "</b>", "|a|b|", "```", "# h", "\n", "\\", "<http://evil>", "@", "]", "(", ")"), {
      maxLength: 40,
    })
    .map((parts) => parts.join("")),
);

/** Indexes of characters not preceded by an odd run of backslashes. */
function unescaped(s: string, ch: string): number[] {
  const out: number[] = [];
  for (let i = s.indexOf(ch); i >= 0; i = s.indexOf(ch, i + 1)) {
    let slashes = 0;
    for (let j = i - 1; j >= 0 && s[j] === "\\"; j--) slashes++;
    if (slashes % 2 === 0) out.push(i);
  }
  return out;
}

describe("escaping properties", () => {
  it("escapeInline and escapeBlock output has no mention, link, image, tag or table cell", () => {
    fc.assert(
      fc.property(hostile, (s) => {
        for (const out of [escapeInline(s), escapeBlock(s)]) {
          expect(out).not.toMatch(/@(?!\u200B)/);
          for (const ch of ["[", "]", "<", ">", "|", "`", "*", "_"]) expect(unescaped(out, ch)).toEqual([]);
        }
        expect(escapeInline(s)).not.toContain("\n");
      }),
      { numRuns: 300 },
    );
  });

  it("plain output has no mention, link, image or tag", () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const out = plain(s);
        expect(out).not.toMatch(/@(?!\u200B)/);
        expect(out).not.toMatch(/\]\(|!\[|<[A-Za-z/!]/);
        expect(out).not.toContain("\n");
      }),
      { numRuns: 300 },
    );
  });
});

describe("excerptOf", () => {
  it("says it cut the text exactly when the excerpt ends with an ellipsis", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom("a", "word word", "", "\n", "x".repeat(120)), { maxLength: 40 }), (parts) => {
        const s = parts.join("\n");
        expect(excerptOf(s).cut).toBe(excerptOf(s).text.endsWith("…"));
      }),
    );
  });

  it("gives the same excerpt whatever follows the thirteenth line", () => {
    const lines = fc.array(fc.constantFrom("a", "word  word", "", "  indented", "x".repeat(60)), { maxLength: 30 });
    fc.assert(
      fc.property(lines, lines, (head, tail) => {
        const first = [...head, ...Array.from({ length: 13 }, (_, i) => `line ${i}`)].join("\n");
        expect(excerptOf(`${first}\n${tail.join("\n")}`)).toEqual(excerptOf(first));
      }),
    );
  });
});

describe("cost", () => {
  it("stays fast on deeply nested tags and huge inputs", () => {
    const nested = "<a".repeat(50_000) + ">".repeat(50_000);
    const started = performance.now();
    expect(stripHtml(nested)).not.toMatch(/<[A-Za-z][^>]*>/);
    expect(escapeInline(nested)).not.toMatch(/(?<!\\)</);
    expect(stripHtml("<a<b<c>>>x")).toBe("x");
    expect(stripHtml("<a<b<c<d<e<f<g<h<i<j<k<l>>>>>>>>>>>>x")).toBe("abx");
    escapeBlock("@all ".repeat(1_000_000));
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
