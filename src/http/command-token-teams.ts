// Which team a bare slash-command token (MATTERMOST_COMMAND_TOKENS without `<team_id>:`) belongs to:
// the first team that uses it. Kept in Redis rather than the database: a SET NX is one atomic
// first-wins step across every web process, and Redis already holds the queues durably (AOF,
// noeviction), so the binding survives restarts without a table of its own.
import type { Redis } from "ioredis";
import { sha256Hex } from "../oauth/states.js";

export interface CommandTokenTeams {
  /** The team `token` belongs to; `teamId` (and `bound: true`) when this is the first team to use it. */
  claim(token: string, teamId: string): Promise<{ teamId: string; bound: boolean }>;
}

/** Bindings in Redis, keyed by the token's hash (the token itself is never stored). */
export function redisCommandTokenTeams(redis: Redis, keyPrefix: string): CommandTokenTeams {
  return {
    async claim(token, teamId) {
      const key = `${keyPrefix}:command-token-team:${sha256Hex(token)}`;
      // Another process may bind it between the two steps, or an administrator unbind it: ask again.
      for (let attempt = 0; attempt < 3; attempt++) {
        if ((await redis.set(key, teamId, "NX")) === "OK") return { teamId, bound: true };
        const known = await redis.get(key);
        if (known !== null) return { teamId: known, bound: false };
      }
      throw new Error("the command token's team binding keeps changing");
    },
  };
}

/** Bindings for the life of the process, where no Redis is at hand (a single process in tests). */
export function memoryCommandTokenTeams(): CommandTokenTeams {
  const teams = new Map<string, string>();
  return {
    async claim(token, teamId) {
      const key = sha256Hex(token);
      const known = teams.get(key);
      if (known !== undefined) return { teamId: known, bound: false };
      teams.set(key, teamId);
      return { teamId, bound: true };
    },
  };
}
