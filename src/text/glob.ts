// Branch globs (`branch:<glob>` filters) matched without backtracking. A glob compiled to a regular
// expression (as picomatch does) can take seconds on a long branch name: `*a*a*a*a*a*a*a*a*a*b` against
// 50 characters took 1.6 s. Here a "*" only ever resumes from the last "*" seen, so matching takes at
// most (branch length × glob length) steps, whatever either holds.
//
// Meaning: `*` any characters but "/" (none included), `?` one character but "/", `[abc]`, `[a-z]`,
// `[!a]` or `[^a]` one character of (or not of) a set, never "/"; `**` as a whole segment any number of
// segments (none included), elsewhere like `*`; `\x` the character x; a leading `!` matches every
// branch the rest does not. Any other character stands for itself.

/** Longest glob a new subscription may use (GitLab refuses longer branch names). */
export const GLOB_MAX_CHARS = 255;
/** Most "*" a new subscription's glob may hold. */
export const GLOB_MAX_STARS = 10;

/** Why a new subscription may not use a glob; globs stored before these limits are still matched. */
export type GlobProblem = "too_long" | "too_many_stars" | "extglob" | "braces" | "posix_class";

export function globProblem(glob: string): GlobProblem | undefined {
  if (glob.length > GLOB_MAX_CHARS) return "too_long";
  let stars = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*") stars++;
    if (c === "{" || c === "}") return "braces";
    if ("@!+*?".includes(c) && glob[i + 1] === "(") return "extglob";
    if (c === "[" && glob[i + 1] === ":") return "posix_class";
  }
  return stars > GLOB_MAX_STARS ? "too_many_stars" : undefined;
}

const STAR = Symbol("star");
type CharTest = (c: string) => boolean;
/** One segment of a glob: tests of one character each, and stars. */
type SegmentPattern = (CharTest | typeof STAR)[];

/** The set a `[...]` at `open` describes, and where it ends; undefined when it never closes. */
function bracket(glob: string, open: number): { test: CharTest; end: number } | undefined {
  let i = open + 1;
  const negated = glob[i] === "!" || glob[i] === "^";
  if (negated) i++;
  const ranges: [string, string][] = [];
  const member = (): string => {
    if (glob[i] === "\\" && i + 1 < glob.length) i++;
    return glob[i++] as string;
  };
  // A "]" right after the opening is a member, not the end.
  for (let first = true; i < glob.length && (first || glob[i] !== "]"); first = false) {
    const low = member();
    let high = low;
    if (glob[i] === "-" && i + 1 < glob.length && glob[i + 1] !== "]") {
      i++;
      high = member();
    }
    ranges.push([low, high]);
  }
  if (i >= glob.length) return undefined;
  const test: CharTest = (c) => ranges.some(([low, high]) => c >= low && c <= high) !== negated;
  return { test, end: i };
}

function segmentPattern(glob: string): SegmentPattern {
  const out: SegmentPattern = [];
  let set: ReturnType<typeof bracket>;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*") {
      if (out[out.length - 1] !== STAR) out.push(STAR);
    } else if (c === "?") {
      out.push(() => true);
    } else if (c === "[" && (set = bracket(glob, i))) {
      out.push(set.test);
      i = set.end;
    } else {
      const literal = c === "\\" && i + 1 < glob.length ? (glob[++i] as string) : c;
      out.push((x) => x === literal);
    }
  }
  return out;
}

/**
 * Whether `length` items match `pattern`, where a star stands for any run of items (none included) and
 * `matches(p, i)` says whether pattern entry p matches item i. A failure resumes from the last star
 * only: a later star can take whatever an earlier one would have, so no other choice needs trying, and
 * each (entry, item) pair is tried at most once.
 */
function starMatch<P>(pattern: readonly (P | typeof STAR)[], length: number, matches: (p: P, item: number) => boolean): boolean {
  let p = 0;
  let item = 0;
  let star = -1;
  let resumeAt = 0;
  while (item < length) {
    const entry = pattern[p];
    if (entry === STAR) {
      star = p++;
      resumeAt = item;
    } else if (entry !== undefined && matches(entry, item)) {
      p++;
      item++;
    } else if (star >= 0) {
      p = star + 1;
      item = ++resumeAt;
    } else {
      return false;
    }
  }
  while (pattern[p] === STAR) p++;
  return p === pattern.length;
}

/** A matcher of branch names for a glob; any string is a glob (a malformed `[` stands for itself). */
export function compileGlob(glob: string): (branch: string) => boolean {
  const negated = glob.startsWith("!");
  const segments: (SegmentPattern | typeof STAR)[] = [];
  for (const part of (negated ? glob.slice(1) : glob).split("/")) {
    if (part !== "**") segments.push(segmentPattern(part));
    else if (segments[segments.length - 1] !== STAR) segments.push(STAR);
  }
  return (branch) => {
    const names = branch.split("/");
    const matched = starMatch(segments, names.length, (pattern, n) => {
      const name = names[n] as string;
      return starMatch(pattern, name.length, (test, i) => test(name[i] as string));
    });
    return matched !== negated;
  };
}
