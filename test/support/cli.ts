// The admin CLI run in-process, as tests drive it: what it printed and its exit code.
import { runCli } from "../../src/cli.js";

export interface CliOutcome {
  code: number;
  out: string[];
  err: string[];
}

export async function cli(argv: string[], env: Record<string, string | undefined>): Promise<CliOutcome> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { stdout: (s) => out.push(s), stderr: (s) => err.push(s), env });
  return { code, out, err };
}
