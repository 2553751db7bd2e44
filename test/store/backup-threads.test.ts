// A bot restored from a backup carries on the threads the old one started: the thread_roots rows
// survive, so the restored bot replies to the same root posts and keeps their state current.
// The backup is restored into PostgreSQL when one answers (else into another SQLite file).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../support/cli.js";
import { createLogger } from "../../src/logger.js";
import { startBot, type RunningBot } from "../../src/main.js";
import { startHarness, WEBHOOK_SECRET, type BotHarness } from "../support/bot-harness.js";
import { createTestDatabase, databaseKinds, sqliteFileUrl, type TestDatabase } from "../support/db.js";
import { fixture } from "../support/fixtures.js";
import type { SimChannel, SimPost } from "../support/mattermost-sim.js";
import { dropPrefix, uniquePrefix } from "../support/redis.js";
import { waitFor } from "../support/wait.js";

type Json = Record<string, unknown>;
const mr = fixture<Json & { project: Json; object_attributes: Json }>("merge_request.json");
const opened = JSON.stringify(mr);
const approved = JSON.stringify({ ...mr, object_attributes: { ...mr.object_attributes, action: "approved", updated_at: "2013-12-04T10:00:00Z" } });
const commented = (() => {
  const note = fixture<Json & { merge_request: Json }>("note_merge_request.json");
  return JSON.stringify({ ...note, project: mr.project, project_id: mr.project.id, merge_request: { ...note.merge_request, iid: mr.object_attributes.iid } });
})();

const field = (post: SimPost | undefined, title: string) =>
  ((post?.props.attachments as { fields?: { title: string; value: string }[] }[] | undefined)?.[0]?.fields ?? []).find((f) => f.title === title)?.value;

/** The admin CLI on the database at `databaseUrl`. */
const cliOn = (argv: string[], databaseUrl: string) => cli(argv, { DATABASE_URL: databaseUrl });

describe("a bot restored from a backup", () => {
  const dir = mkdtempSync(join(tmpdir(), "gmm-restore-threads-"));
  const targetKind = databaseKinds.at(-1)!;
  let h: BotHarness;
  let channel: SimChannel;
  let pgTarget: TestDatabase | undefined;
  let restored: RunningBot | undefined;
  const restoredPrefix = uniquePrefix("restored");

  beforeAll(async () => {
    h = await startHarness({}, "restore-threads");
    channel = h.sim.addChannel({ name: "project", team_id: h.team.id });
    await h.command(channel, h.admin, "subscriptions add gitlabhq/gitlab-test merges,merge_request_comments");
  });
  afterAll(async () => {
    await restored?.stop();
    await dropPrefix(restoredPrefix);
    await pgTarget?.drop();
    await h?.stop();
  });

  it(`replies in the threads the old bot started, restored into ${targetKind}`, async () => {
    expect((await h.hook(opened, { "X-Gitlab-Event": "Merge Request Hook" })).status).toBe(202);
    await waitFor(() => h.sim.posts(channel.id).length === 1, 10_000, "the merge request's root post");
    await waitFor(() => h.drained(), 10_000, "queues to drain");
    const root = h.sim.posts(channel.id)[0]!;
    expect(field(root, "State")).toBe("Open");

    const file = join(dir, "bot.json");
    expect(await cliOn(["backup", file], h.config.databaseUrl)).toMatchObject({ code: 0 });
    if (targetKind === "postgres") pgTarget = await createTestDatabase("postgres");
    const targetUrl = pgTarget?.url ?? sqliteFileUrl(dir);
    expect(await cliOn(["restore", file], targetUrl)).toMatchObject({ code: 0 });

    // The new bot: the restored database, its own queues, the same Mattermost.
    const config = { ...h.config, databaseUrl: targetUrl, queuePrefix: restoredPrefix };
    restored = await startBot(config, createLogger(config.logLevel));
    const hook = (body: string, event: string) =>
      fetch(`http://127.0.0.1:${restored!.port}/webhooks/gitlab`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Gitlab-Token": WEBHOOK_SECRET, "X-Gitlab-Event": event },
        body,
      });
    expect((await hook(approved, "Merge Request Hook")).status).toBe(202);
    await waitFor(() => h.sim.posts(channel.id).length === 2, 10_000, "the approval's reply");
    expect((await hook(commented, "Note Hook")).status).toBe(202);
    await waitFor(() => h.sim.posts(channel.id).length === 3, 10_000, "the comment's reply");

    const [first, ...replies] = h.sim.posts(channel.id);
    expect(first!.id).toBe(root.id);
    expect(replies.map((r) => r.root_id)).toEqual([root.id, root.id]);
    // The root's stored state came across too: the restored bot patched the same root post.
    await waitFor(() => field(h.sim.posts(channel.id)[0], "Approved by") !== undefined, 10_000, "the root post to show the approval");
    expect(field(h.sim.posts(channel.id)[0], "State")).toBe("Open");
    expect(h.sim.violations).toEqual([]);
  });
});
