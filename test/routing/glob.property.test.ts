// Branch globs are written by channel admins and matched against branch names anyone with push access
// picks, for every push, pipeline, job and deployment: matching must take linear time for any pair,
// stored globs from before the limits included, and mean what README says.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { branchMatches, parseStoredFeatures } from "../../src/routing/features.js";
import { compileGlob, globProblem } from "../../src/text/glob.js";
import { BUDGET_MS, elapsed } from "../text/time-budget.js";

const GLOB_PIECES = ["a", "b", ".", "-", "/", "*", "**", "?", "[", "]", "[ab]", "[!a]", "[^a-z]", "[]]", "\\", "\\*", "!", "{", "}", ",", "@(", "+(", ")", "|", "[:alpha:]"];
const NAME_PIECES = ["a", "b", ".", "-", "/", "_", "x", "*", "[", "\\"];

/** Pieces repeated, some many times: long runs are what make a backtracking matcher slow. */
function runsOf(pieces: string[], maxTimes: number, maxLength: number) {
  return fc
    .array(fc.tuple(fc.constantFrom(...pieces), fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: maxTimes }))), { maxLength: 10 })
    .map((runs) => runs.map(([piece, times]) => piece.repeat(times)).join("").slice(0, maxLength));
}

describe("branch glob matching", () => {
  it("takes under 50 ms for any glob a subscription may hold and any branch name", () => {
    compileGlob("warm/*/up")("warm/x/up");
    fc.assert(
      fc.property(runsOf(GLOB_PIECES, 100, 400), runsOf(NAME_PIECES, 6000, 8000), (glob, branch) => {
        const ms = elapsed(() => compileGlob(glob)(branch));
        if (ms >= BUDGET_MS) throw new Error(`${JSON.stringify(glob)} against ${branch.length} characters took ${ms.toFixed(1)} ms`);
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ["*a*a*a*a*a*a*a*a*a*b", "a".repeat(5000)],
    ["*a*a*a*a*a*a*a*a*a*b", "a".repeat(50)],
    [`${"*a".repeat(40)}*b`, "a".repeat(5000)],
    [`**/${"*a".repeat(5)}/**/b`, "a/".repeat(2500)],
    [`${"?".repeat(200)}*b`, "a".repeat(5000)],
  ])("matches %s against a long branch name at once", (glob, branch) => {
    let matched = true;
    expect(elapsed(() => (matched = compileGlob(glob)(branch)))).toBeLessThan(BUDGET_MS);
    expect(matched).toBe(false);
  });

  it("refuses, for a new subscription, the pathological glob's longer cousins", () => {
    expect(globProblem("*a*a*a*a*a*a*a*a*a*b")).toBeUndefined();
    expect(globProblem(`${"*a".repeat(11)}*b`)).toBe("too_many_stars");
  });

  it("matches what a plain backtracking reference matcher says, on small globs and names", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("a", "b", ".", "*", "?", "/", "**", "[ab]", "[!a]"), { maxLength: 6 }).map((p) => p.join("")),
        fc.array(fc.constantFrom("a", "b", ".", "/"), { maxLength: 8 }).map((p) => p.join("")),
        (glob, branch) => {
          expect(compileGlob(glob)(branch)).toBe(reference(glob.split("/"), branch.split("/")));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("never throws on a stored filter, whatever its globs", () => {
    fc.assert(
      fc.property(runsOf(GLOB_PIECES, 50, 300), runsOf(NAME_PIECES, 100, 300), (glob, branch) => {
        const filter = parseStoredFeatures(`pushes,branch:"x${glob}"`);
        expect(typeof branchMatches(filter, branch, {})).toBe("boolean");
      }),
      { numRuns: 300 },
    );
  });
});

/** Exponential on purpose (fine for a few characters): tries every way `**` and `*` can split the name. */
function reference(pattern: string[], names: string[]): boolean {
  const [first, ...rest] = pattern;
  if (first === undefined) return names.length === 0;
  if (first === "**") return reference(rest, names) || (names.length > 0 && reference(pattern, names.slice(1)));
  return names.length > 0 && segmentRegex(first).test(names[0] as string) && reference(rest, names.slice(1));
}

function segmentRegex(segment: string): RegExp {
  const source = segment
    .replaceAll("[!a]", "\0")
    .replaceAll("[ab]", "\u0001")
    .replaceAll(".", "\\.")
    .replaceAll("*", "[^/]*")
    .replaceAll("?", "[^/]")
    .replaceAll("\0", "[^a/]")
    .replaceAll("\u0001", "[ab]");
  return new RegExp(`^${source}$`);
}
