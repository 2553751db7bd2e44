// GitLab's own published webhook payloads (test/fixtures/gitlab-webhooks), as the tests use them.
import { readFileSync } from "node:fs";

export const fixturesDir = new URL("../fixtures/gitlab-webhooks/", import.meta.url);

export interface FixtureEntry {
  file: string;
  x_gitlab_event: string;
  object_kind: string | null;
}

export const fixtureIndex: FixtureEntry[] = JSON.parse(readFileSync(new URL("index.json", fixturesDir), "utf8"));

/** The raw text of a fixture, byte for byte as GitLab documents it. */
export function fixtureText(file: string): string {
  return readFileSync(new URL(file, fixturesDir), "utf8");
}

export function fixture<T = Record<string, unknown>>(file: string): T {
  return JSON.parse(fixtureText(file)) as T;
}

export function fixtureEntry(file: string): FixtureEntry {
  const entry = fixtureIndex.find((e) => e.file === file);
  if (!entry) throw new Error(`no fixture ${file}`);
  return entry;
}
