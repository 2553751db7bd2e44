// The feature list of a subscription (SPEC.md "Features for subscriptions add"): parsed once into a
// filter, stored back as a normalised string so `subscriptions list` shows what is in force.
import { LOCALES, type Locale } from "../config.js";
import { DEFAULT_FEATURES, FEATURES, type Feature } from "../notification.js";
import { compileGlob, GLOB_MAX_CHARS, GLOB_MAX_STARS, globProblem, type GlobProblem } from "../text/glob.js";

export interface SubscriptionFilter {
  features: ReadonlySet<Feature>;
  /** `pipelines:failed`: only failures and the first success after one. */
  pipelinesFailedOnly: boolean;
  /** `label:"x"` values, lower-cased. */
  labels: string[];
  /** `labels:all`: every named label must be present (default: any of them). */
  labelsAll: boolean;
  /** `branch:` globs, and the keywords `default` and `protected`. */
  branches: string[];
  lang?: Locale;
  /** `buttons:off`: posts without Approve, Merge, Retry, Close/Reopen or Play buttons. */
  buttonsOff: boolean;
}

export class FeatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FeatureError";
  }
}

const KNOWN = new Set<string>(FEATURES);

/** Splits on commas and white space, keeping `label:"two words, with comma"` whole. */
function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let current = "";
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    if (!quoted && (ch === "," || /\s/.test(ch))) {
      if (current) tokens.push(current);
      current = "";
      continue;
    }
    current += ch;
  }
  if (quoted) throw new FeatureError(`unclosed quote in "${text.trim()}"`);
  if (current) tokens.push(current);
  return tokens;
}

function unquote(value: string): string {
  return value.startsWith('"') && value.endsWith('"') && value.length >= 2 ? value.slice(1, -1) : value;
}

/** Why a new subscription may not use a branch glob: each limit keeps matching cheap or its meaning plain. */
function globRefusal(glob: string, problem: GlobProblem): string {
  const shown = glob.length > 40 ? `${glob.slice(0, 40)}…` : glob;
  switch (problem) {
    case "too_long":
      return `branch:${shown} is too long: a branch glob has at most ${GLOB_MAX_CHARS} characters`;
    case "too_many_stars":
      return `branch:${shown} has too many "*": a branch glob has at most ${GLOB_MAX_STARS}`;
    case "extglob":
      return `branch:${shown} uses an extglob (@( ), !( ), +( ), *( ) or ?( )): branch globs have only *, **, ? and [ ]`;
    case "braces":
      return `branch:${shown} uses braces { }: name each branch in its own filter instead, e.g. branch:main branch:develop`;
    case "posix_class":
      return `branch:${shown} uses a [:class:]: list the characters instead, e.g. [a-z0-9]`;
  }
}

/** Parses the features of a new subscription; a mistake throws a FeatureError saying what to write. */
export function parseFeatures(text: string | undefined): SubscriptionFilter {
  return parse(text, true);
}

/**
 * Parses features already stored. Branch globs stored before their limits existed are kept: the
 * matcher is linear for any glob, so they cost no more than a long branch name.
 */
export function parseStoredFeatures(text: string | undefined): SubscriptionFilter {
  return parse(text, false);
}

function parse(text: string | undefined, limitGlobs: boolean): SubscriptionFilter {
  const features = new Set<Feature>();
  const labels: string[] = [];
  const branches: string[] = [];
  let pipelinesFailedOnly = false;
  let labelsAll = false;
  let lang: Locale | undefined;
  let buttonsOff = false;

  for (const token of tokenize(text ?? "")) {
    const lower = token.toLowerCase();
    if (KNOWN.has(lower)) {
      features.add(lower as Feature);
    } else if (lower === "pipelines:failed") {
      features.add("pipelines");
      pipelinesFailedOnly = true;
    } else if (lower.startsWith("label:")) {
      const label = unquote(token.slice("label:".length)).trim();
      if (!label) throw new FeatureError('label: needs a name, e.g. label:"bug"');
      if (!labels.includes(label.toLowerCase())) labels.push(label.toLowerCase());
    } else if (lower === "labels:all") {
      labelsAll = true;
    } else if (lower === "buttons:off") {
      buttonsOff = true;
    } else if (lower.startsWith("branch:")) {
      const glob = unquote(token.slice("branch:".length)).trim();
      if (!glob) throw new FeatureError("branch: needs a branch name or glob, e.g. branch:main or branch:release/*");
      const problem = limitGlobs ? globProblem(glob) : undefined;
      if (problem) throw new FeatureError(globRefusal(glob, problem));
      branches.push(glob);
    } else if (lower.startsWith("lang:")) {
      const value = token.slice("lang:".length);
      const locale = LOCALES.find((l) => l.toLowerCase() === value.toLowerCase());
      if (!locale) throw new FeatureError(`unknown language "${value}": use ${LOCALES.map((l) => `lang:${l}`).join(" or ")}`);
      lang = locale;
    } else {
      throw new FeatureError(`unknown feature "${token}". Known features: ${FEATURES.join(", ")}, pipelines:failed, label:"name", labels:all, branch:<glob>, branch:default, branch:protected, lang:en, lang:zh-CN, buttons:off`);
    }
  }
  if (labelsAll && labels.length === 0) throw new FeatureError('labels:all needs at least one label:"name"');
  if (features.size === 0) for (const f of DEFAULT_FEATURES) features.add(f);
  return { features, pipelinesFailedOnly, labels, labelsAll, branches, lang, buttonsOff };
}

/** The canonical text of a filter; parseFeatures(formatFeatures(f)) gives f back. */
export function formatFeatures(filter: SubscriptionFilter): string {
  const parts: string[] = FEATURES.filter((f) => filter.features.has(f)).map((f) =>
    f === "pipelines" && filter.pipelinesFailedOnly ? "pipelines:failed" : f,
  );
  for (const label of filter.labels) parts.push(`label:"${label}"`);
  if (filter.labelsAll) parts.push("labels:all");
  for (const branch of filter.branches) parts.push(`branch:${branch}`);
  if (filter.lang) parts.push(`lang:${filter.lang}`);
  if (filter.buttonsOff) parts.push("buttons:off");
  return parts.join(",");
}

const matcherCache = new Map<string, (branch: string) => boolean>();

/** Whether a branch passes the `branch:` filters; no filter lets every branch through. */
export function branchMatches(
  filter: SubscriptionFilter,
  branch: string | undefined,
  info: { defaultBranch?: string; protectedBranch?: boolean },
): boolean {
  if (filter.branches.length === 0 || branch === undefined) return true;
  return filter.branches.some((glob) => {
    if (glob === "default") return info.defaultBranch !== undefined && branch === info.defaultBranch;
    // Payloads rarely say whether a branch is protected; GitLab protects the default branch unless told not to.
    if (glob === "protected") return info.protectedBranch ?? (info.defaultBranch !== undefined && branch === info.defaultBranch);
    let match = matcherCache.get(glob);
    if (!match) {
      match = compileGlob(glob);
      if (matcherCache.size > 10_000) matcherCache.clear();
      matcherCache.set(glob, match);
    }
    return match(branch);
  });
}

/** Whether an event's labels pass the `label:` filters; no filter lets everything through. */
export function labelsMatch(filter: SubscriptionFilter, labels: string[]): boolean {
  if (filter.labels.length === 0) return true;
  const present = new Set(labels.map((l) => l.toLowerCase()));
  return filter.labelsAll ? filter.labels.every((l) => present.has(l)) : filter.labels.some((l) => present.has(l));
}
