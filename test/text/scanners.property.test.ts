// Every scanner that reads what a stranger wrote (comments, descriptions, titles, headers, URLs, command
// text) must finish in linear time: a scanner that backtracks stops the event loop, BullMQ's locks lapse
// and the next process takes the job and freezes too. Random Markdown-ish text, long runs included,
// goes into each; each call has a time budget.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { splitWords } from "../../commands/words.js";
import { eventKindOf } from "../../handlers/index.js";
import { jobProjectPath } from "../../handlers/job.js";
import type { JobPayload } from "../../handlers/payloads.js";
import { FeatureError, parseFeatures } from "../../src/routing/features.js";
import { escapeBlock, escapeInline, markdownToPlain, neutralizeMentions, plain, safeUrl, stripHtml, truncate } from "../../src/text/markdown.js";
import { MAX_MENTIONS, mentionedUsernames } from "../../src/text/mentions.js";
import { BUDGET_MS, elapsed } from "./time-budget.js";

// Pieces that matter to the scanners: code spans and fences, mentions, HTML, links, escapes, line breaks.
const PIECES = ["`", "``", "```", "~~~", "@", "@x", "@a.b-c_d", "a", "1", ".", "-", "/", "_", "*", "**", "\\", "\\[", "[", "]", "(", ")",
  "](", "<", ">", "<code>", "</code>", "<pre ", "</pre>", "<!--", "-->", "<a:", "<b", " ", "    ", "\t", "\n", "\n\n", "\r\n", "#", "|", "$", "&",
  ":", "http://x", "!", "\"", "{", "}", "Hook", "\u200B", "😀"];

/** Text made of pieces, each repeated up to thousands of times (the runs that make a regex backtrack). */
const markdownish = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom(...PIECES), fc.string({ maxLength: 4 })), fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 6000 }))), { maxLength: 12 })
  .map((runs) => runs.map(([piece, times]) => piece.repeat(times)).join("").slice(0, 80_000));

function withinBudget(name: string, scan: (s: string) => unknown): void {
  scan("warm up @x `y` <code>z</code> [a](http://b)");
  fc.assert(
    fc.property(markdownish, (text) => {
      const ms = elapsed(() => scan(text));
      if (ms >= BUDGET_MS) throw new Error(`${name} took ${ms.toFixed(1)} ms on ${text.length} characters starting ${JSON.stringify(text.slice(0, 60))}`);
    }),
    { numRuns: 150 },
  );
}

describe("mention scanner", () => {
  it("finishes within the budget on any text", () => {
    withinBudget("mentionedUsernames", mentionedUsernames);
  });

  it("gives distinct names that follow an @ in the text, at most 100", () => {
    fc.assert(
      fc.property(markdownish, (text) => {
        const names = mentionedUsernames(text);
        expect(names.length).toBeLessThanOrEqual(MAX_MENTIONS);
        expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(names.length);
        for (const name of names) expect(text).toContain(`@${name}`);
      }),
      { numRuns: 100 },
    );
  });

  it.each([2_000, 5_000, 100_000])("reads @x followed by %i backticks at once", (backticks) => {
    const text = `@x${"`".repeat(backticks)}`;
    let names: string[] = [];
    expect(elapsed(() => (names = mentionedUsernames(text)))).toBeLessThan(BUDGET_MS);
    expect(names).toEqual(["x"]);
  });

  it.each([
    ["backtick runs of every length", Array.from({ length: 300 }, (_, i) => "`".repeat(i + 1) + " @a").join("\n")],
    ["unclosed <code> tags", "<code>@a ".repeat(10_000)],
    ["unclosed tags with no >", "<pre @a".repeat(10_000)],
    ["a name of dots", `@a${".".repeat(60_000)}b`],
    ["fences that never close", "```\n~~~\n".repeat(8_000)],
  ])("reads %s at once", (_name, text) => {
    expect(elapsed(() => mentionedUsernames(text))).toBeLessThan(BUDGET_MS);
  });
});

describe("Markdown text helpers", () => {
  it.each<[string, (s: string) => unknown]>([
    ["escapeInline", (s) => escapeInline(s, 20_000)],
    ["escapeBlock", (s) => escapeBlock(s, 20_000)],
    ["plain", (s) => plain(s, 20_000)],
    ["stripHtml", stripHtml],
    ["truncate", (s) => truncate(s, s.length - 1)],
    ["neutralizeMentions", neutralizeMentions],
    ["safeUrl", (s) => safeUrl(`http://x/${s}`)],
    ["markdownToPlain", markdownToPlain],
    ["markdownToPlain of escaped text", (s) => markdownToPlain(escapeBlock(s, 20_000))],
  ])("%s finishes within the budget on any text", (name, scan) => {
    withinBudget(name, scan);
  });

  it("cuts a long run of backslashes and @ at once", () => {
    const text = `${"\\@".repeat(40_000)}x`;
    let cut = "";
    expect(elapsed(() => (cut = truncate(text, text.length - 1)))).toBeLessThan(BUDGET_MS);
    expect(cut).toBe("…");
  });

  it("reads escaped brackets that open no link at once", () => {
    const markdown = `[${"\\[".repeat(20_000)}`;
    let text = "";
    expect(elapsed(() => (text = markdownToPlain(markdown)))).toBeLessThan(BUDGET_MS);
    expect(text).toBe(`[${"[".repeat(20_000)}`);
  });
});

describe("payload and command fields", () => {
  it("reads an X-Gitlab-Event header of any shape within the budget", () => {
    withinBudget("eventKindOf", (header) => eventKindOf(undefined, header));
    let kind: string | undefined;
    expect(elapsed(() => (kind = eventKindOf(undefined, `Push${" ".repeat(60_000)}x`)))).toBeLessThan(BUDGET_MS);
    expect(kind).toBe("push_x");
  });

  it("reads a job's project from a homepage with a long run of slashes within the budget", () => {
    const p = { repository: { homepage: `http://gitlab.example/group/project${"/".repeat(60_000)}` } } as unknown as JobPayload;
    let path = "";
    expect(elapsed(() => (path = jobProjectPath(p)))).toBeLessThan(BUDGET_MS);
    expect(path).toBe("group/project");
    withinBudget("jobProjectPath", (s) => {
      try {
        jobProjectPath({ repository: { homepage: `http://x/${s}` } } as unknown as JobPayload);
      } catch {
        // A homepage that names no project is refused; only the time matters here.
      }
    });
  });

  it("splits command text and reads feature lists within the budget", () => {
    withinBudget("splitWords", splitWords);
    withinBudget("parseFeatures", (s) => {
      try {
        parseFeatures(s);
      } catch (error) {
        if (!(error instanceof FeatureError)) throw error;
      }
    });
  });
});
