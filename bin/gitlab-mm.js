#!/usr/bin/env node
// The `gitlab-mm` admin CLI (package.json "bin"): runs src/cli.ts through tsx, so no build step is needed.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli.ts");
await main();
