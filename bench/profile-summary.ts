// Summarises V8 CPU profiles (from `npm run bench -- --profile`): self time by package or source
// file, and the hottest functions. Usage: tsx bench/profile-summary.ts <file.cpuprofile>... [--top=N]
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const args = process.argv.slice(2);
const top = Number(args.find((a) => a.startsWith("--top="))?.slice(6) ?? 25);
const callersOf = args.find((a) => a.startsWith("--callers="))?.slice(10);
const depth = Number(args.find((a) => a.startsWith("--depth="))?.slice(8) ?? 4);
const files = args.filter((a) => !a.startsWith("--"));

function owner(url: string, name: string): string {
  if (!url) return name.startsWith("(") ? name : "(native)";
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith("node:")) return url;
  const local = /\/main\/(.+)$/.exec(url);
  return local ? local[1]! : url;
}

for (const file of files) {
  const p = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  const total = (p.endTime - p.startTime) / 1000;
  const byOwner = new Map<string, number>();
  const byFn = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const o = owner(n.callFrame.url, n.callFrame.functionName);
    byOwner.set(o, (byOwner.get(o) ?? 0) + us / 1000);
    const fn = `${n.callFrame.functionName || "(anonymous)"} ${o}:${n.callFrame.lineNumber + 1}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + us / 1000);
  }
  const idle = byOwner.get("(idle)") ?? 0;
  console.log(`\n${file}: ${Math.round(total)} ms wall, ${Math.round(total - idle)} ms busy`);
  const show = (m: Map<string, number>) =>
    [...m]
      .filter(([k]) => k !== "(idle)")
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .forEach(([k, ms]) => console.log(`  ${ms.toFixed(0).padStart(7)} ms ${((ms / (total - idle)) * 100).toFixed(1).padStart(5)}%  ${k}`));
  console.log(" self time by package / file:");
  show(byOwner);
  console.log(" hottest functions:");
  show(byFn);
  if (callersOf) {
    // Who is on the stack when `callersOf` runs: self time of matching frames, by their callers.
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const label = (n: ProfileNode) => `${n.callFrame.functionName || "(anonymous)"} ${owner(n.callFrame.url, n.callFrame.functionName)}:${n.callFrame.lineNumber + 1}`;
    const chains = new Map<string, number>();
    for (const [id, us] of self) {
      const n = byId.get(id)!;
      if (!label(n).includes(callersOf)) continue;
      const chain: string[] = [];
      let at = parent.get(id);
      while (at !== undefined && chain.length < depth) {
        chain.push(label(byId.get(at)!));
        at = parent.get(at);
      }
      const k = chain.join(" < ");
      chains.set(k, (chains.get(k) ?? 0) + us / 1000);
    }
    console.log(` callers of ${callersOf}:`);
    show(chains);
  }
}
