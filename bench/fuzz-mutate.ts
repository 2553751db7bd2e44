// Mutations of GitLab's webhook payloads, as a list of edits (so a finding can be shrunk to the edits
// that matter): drop or replace fields, wrong types, huge strings, unicode, group mentions, Markdown
// links and images, `javascript:` destinations, objects where strings are expected. Seeded, so
// `npm run fuzz -- --seed N` replays a run.

export type JsonPath = (string | number)[];
export type Edit = { path: JsonPath; op: "delete" } | { path: JsonPath; op: "set"; value: unknown };

/** mulberry32: a small seeded generator, enough to pick mutations reproducibly. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A host no payload names: a link to it in a post was not built by the bot from GitLab's URLs. */
export const FOREIGN_HOST = "evil.invalid";

const HOSTILE_SNIPPETS = [
  "@all",
  "@channel",
  "@here",
  "hey @all!",
  "@ALL please",
  "cc @channel.",
  "(@here)",
  "**@all**",
  "_@channel_",
  "[@all](https://example.com)",
  `[click](http://${FOREIGN_HOST}/x)`,
  `![pixel](http://${FOREIGN_HOST}/p.png)`,
  "[x](javascript:alert(1))",
  "](javascript:alert(1))",
  "<javascript:alert(1)>",
  `<http://${FOREIGN_HOST}/auto>`,
  `[ref]\n\n[ref]: http://${FOREIGN_HOST}/ref`,
  "[a](<javascript:alert(1)>)",
  "[a](data:text/html;base64,PHNjcmlwdD4=)",
  "`@all`",
  "```\n@all\n```",
  "\n# heading\n|a|b|\n|-|-|\n|@here|x|",
  "<!-- @all -->",
  "\\",
  "~town-square",
  ":smile:",
  "@x" + "`".repeat(200),
  "[".repeat(300),
  "*".repeat(300),
];

const UNICODE = ["\u202eevil\u202c", "a\u200bb", "👩‍👩‍👧‍👦", "e\u0301\u0301\u0301", "中文标题", "\u0000nul", "\ud800", "\ufeffbom", "＠all", "@\u200ball", "ｈｔｔｐ"];

const URL_VALUES = ["javascript:alert(1)", "JAVASCRIPT:alert(1)", " javascript:alert(1)", "data:text/html,x", "//other-gitlab.invalid/x", "http://other-gitlab.invalid/x", "", "not a url"];

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)]!;
}

function hugeString(rand: () => number): string {
  const unit = pick(rand, ["a", "`", "@all ", "[", "\n", "中", "😀", "x".repeat(7) + " "]);
  return unit.repeat(Math.ceil((1000 + rand() * 60_000) / unit.length));
}

/** Every path in a JSON value (objects and arrays included), leaves more often than not. */
function paths(value: unknown, prefix: JsonPath = [], out: JsonPath[] = []): JsonPath[] {
  if (value !== null && typeof value === "object") {
    if (prefix.length) out.push(prefix);
    const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
    for (const [k, v] of entries) paths(v, [...prefix, k], out);
  } else {
    out.push(prefix, prefix);
  }
  return out;
}

export function getAt(value: unknown, path: JsonPath): unknown {
  let node = value;
  for (const key of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

/** A copy of `base` with the edits applied in order (an edit whose parent is gone does nothing). */
export function applyEdits(base: unknown, edits: readonly Edit[]): unknown {
  const root: { v: unknown } = { v: structuredClone(base) };
  for (const edit of edits) {
    const full: JsonPath = ["v", ...edit.path];
    const parent = getAt(root, full.slice(0, -1));
    if (parent === null || typeof parent !== "object") continue;
    const key = full[full.length - 1]!;
    if (edit.op === "delete") {
      if (Array.isArray(parent) && typeof key === "number") parent.splice(key, 1);
      else delete (parent as Record<string | number, unknown>)[key];
    } else {
      (parent as Record<string | number, unknown>)[key] = structuredClone(edit.value);
    }
  }
  return root.v;
}

function replacement(rand: () => number, current: unknown, key: string | number | undefined): unknown {
  const isUrlField = typeof key === "string" && /url$|homepage|_link$/i.test(key);
  const r = rand();
  if (typeof current === "string") {
    if (isUrlField && r < 0.5) return pick(rand, URL_VALUES);
    if (r < 0.45) return `${current} ${pick(rand, HOSTILE_SNIPPETS)}`;
    if (r < 0.6) return pick(rand, HOSTILE_SNIPPETS);
    if (r < 0.68) return hugeString(rand);
    if (r < 0.78) return `${pick(rand, UNICODE)}${current}${pick(rand, UNICODE)}`;
  }
  const q = rand();
  if (q < 0.2) return null;
  if (q < 0.35) return pick(rand, [0, -1, 1e308, 2 ** 53 + 1, 3.5, true, false]);
  if (q < 0.5) return { nested: { title: pick(rand, HOSTILE_SNIPPETS) }, url: `http://${FOREIGN_HOST}/` };
  if (q < 0.6) return [pick(rand, HOSTILE_SNIPPETS), { x: 1 }];
  if (q < 0.7) return {};
  if (q < 0.8) return [];
  if (q < 0.9) return String(JSON.stringify(current) ?? "").slice(0, 100);
  return pick(rand, HOSTILE_SNIPPETS);
}

/** One to four edits of `base`, chosen by `rand`. */
export function mutate(base: unknown, rand: () => number): Edit[] {
  const edits: Edit[] = [];
  const n = 1 + Math.floor(rand() * 4);
  for (let e = 0; e < n; e++) {
    const current = applyEdits(base, edits);
    const candidates = paths(current);
    if (candidates.length === 0) break;
    const path = pick(rand, candidates);
    const key = path[path.length - 1];
    if (rand() < 0.12) edits.push({ path, op: "delete" });
    else edits.push({ path, op: "set", value: replacement(rand, getAt(current, path), key) });
  }
  return edits;
}
