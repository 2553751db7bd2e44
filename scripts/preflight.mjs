#!/usr/bin/env node
// Runs before `npm start` and `npm test` with nothing but Node's own modules, so that a fresh
// clone needs no other step: it installs dependencies when they are missing or stale and says,
// in one line, what is missing on the machine (Redis) and how to get it.
import { execSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import net from "node:net";

const major = Number(process.versions.node.split(".")[0]);
if (major < 20) {
  console.error(`Node.js ${process.versions.node} is too old: install Node.js 20 or newer.`);
  process.exit(1);
}

const lock = "package-lock.json";
const installed = "node_modules/.package-lock.json";
if (!existsSync(installed) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(installed).mtimeMs + 1000)) {
  console.error("Installing dependencies (npm ci)...");
  execSync("npm ci --no-audit --no-fund", { stdio: "inherit" });
}

function redisUrl() {
  if (process.env.REDIS_URL) return process.env.REDIS_URL;
  if (existsSync(".env")) {
    const line = readFileSync(".env", "utf8").split("\n").find((l) => /^\s*REDIS_URL\s*=/.test(l));
    if (line) return line.split("=").slice(1).join("=").trim().replace(/^["']|["']$/g, "");
  }
  return "redis://127.0.0.1:6379";
}

const url = new URL(redisUrl());
const host = url.hostname || "127.0.0.1";
const port = Number(url.port || 6379);
const reachable = await new Promise((resolve) => {
  const socket = net.connect({ host, port, timeout: 1500 });
  socket.once("connect", () => { socket.destroy(); resolve(true); });
  socket.once("error", () => resolve(false));
  socket.once("timeout", () => { socket.destroy(); resolve(false); });
});
if (!reachable) {
  console.error(
    `Redis is not reachable at ${host}:${port} (REDIS_URL): start one with "sudo apt-get install -y redis-server" (Debian/Ubuntu), "brew services start redis" (macOS) or "docker run -d -p 6379:6379 redis:7", or set REDIS_URL.`,
  );
  process.exit(1);
}
