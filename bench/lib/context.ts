// Settings shared by the phases.
export interface BenchContext {
  quick: boolean;
  /** Also measure the intermediate ingress baselines (bare-web, bare-bullmq; bare-node always runs). */
  diagnose: boolean;
  /** Temp directory for SQLite files and child logs (removed afterwards unless --keep). */
  dir: string;
  /** Extra node flags for bot children (--profile adds --cpu-prof; --node-flags="..." adds more). */
  nodeFlags: string[];
  /** Children run as an esbuild bundle under plain node (--compiled) instead of tsx. */
  compiled: boolean;
  log(line: string): void;
}

export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** Human text of the target, e.g. "<= 20 ms"; empty when the figure is informational. */
  target?: string;
  meets?: boolean;
}
