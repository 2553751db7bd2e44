// GitLab's published webhook payloads (test/fixtures/gitlab-webhooks; its README says where they come from).
import { readFileSync } from "node:fs";
import type { EventKind, PayloadOf } from "../../handlers/index.js";
import type { Locale } from "../../src/config.js";
import type { Notification, PostContent } from "../../src/notification.js";

export const FIXTURES_DIR = new URL("../fixtures/gitlab-webhooks/", import.meta.url);

export interface FixtureEntry {
  file: string;
  x_gitlab_event: string;
  object_kind: string | null;
}

export const fixtureIndex: FixtureEntry[] = JSON.parse(readFileSync(new URL("index.json", FIXTURES_DIR), "utf8"));

/** The raw JSON of a fixture file. */
export function rawFixture(file: string): unknown {
  return JSON.parse(readFileSync(new URL(file, FIXTURES_DIR), "utf8"));
}

/** A fixture typed as the payload of `kind` (all its fields kept, so variations can spread it). */
export function fixture<K extends EventKind>(file: string, _kind: K): PayloadOf<K> {
  return rawFixture(file) as PayloadOf<K>;
}

/**
 * A notification without its render function, for exact comparison; without its visibility too, which
 * the registry (notificationsFor) sets from the payload and handler calls do not (tested in index.test.ts).
 */
export function fieldsOf(n: Notification): Omit<Notification, "render" | "visibility"> {
  const { render: _render, visibility: _visibility, ...rest } = n;
  return rest;
}

export function renderBoth(n: Notification): Record<Locale, PostContent> {
  return { en: n.render("en"), "zh-CN": n.render("zh-CN") };
}

/** The one notification a case must produce. */
export function only(ns: Notification[]): Notification {
  if (ns.length !== 1) throw new Error(`expected one notification, got ${ns.length}`);
  return ns[0] as Notification;
}
