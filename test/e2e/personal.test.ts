// Personal notifications end to end: GitLab's published payloads through POST /webhooks/gitlab, with
// their users linked (directly in the store) to Mattermost users of the simulator; the direct messages
// arrive in each user's DM channel with the bot, in their language, threaded per merge request.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMattermostClient } from "../../src/mattermost/client.js";
import { openDatabase, type Db } from "../../src/store/db.js";
import { saveUserLink } from "../../src/store/user-links.js";
import { updateUserSettings } from "../../src/store/user-settings.js";
import { startHarness, type BotHarness } from "../support/bot-harness.js";
import { fixture } from "../support/fixtures.js";
import type { SimChannel, SimPost, SimUser } from "../support/mattermost-sim.js";
import { waitFor } from "../support/wait.js";

type Json = Record<string, unknown>;
const mr = fixture<Json & { project: Json; object_attributes: Json }>("merge_request.json");
const note = fixture<Json & { object_attributes: Json; merge_request: Json }>("note_merge_request.json");
const issue = fixture<Json & { object_attributes: Json }>("issue.json");
const someone = { id: 300, name: "Someone", username: "someone", avatar_url: null };

/** A comment by `someone` on the fixture merge request (same project and iid), author 51, assignee 6. */
function comment(id: number, text: string, at: string): string {
  return JSON.stringify({
    ...note,
    user: someone,
    project: mr.project,
    project_id: mr.project.id,
    object_attributes: { ...note.object_attributes, id, note: text, created_at: at, updated_at: at },
    merge_request: { ...note.merge_request, iid: 1, author_id: 51, assignee_id: 6 },
  });
}

describe("personal notifications", () => {
  let h: BotHarness;
  let db: Db;
  let channel: SimChannel;
  let user1: SimUser;
  let author: SimUser;
  let root: SimUser;
  let mentioned: SimUser;
  const dmChannels = new Map<string, string>();

  async function dmsOf(user: SimUser): Promise<SimPost[]> {
    let id = dmChannels.get(user.id);
    if (!id) {
      // The same channel the bot posts in (Mattermost makes a DM channel once per pair).
      id = (await createMattermostClient(h.sim.url, h.sim.botToken).createDirectChannel(h.sim.bot.id, user.id)).id;
      dmChannels.set(user.id, id);
    }
    return h.sim.posts(id);
  }

  async function send(body: string, event: string, key?: string) {
    const res = await h.hook(body, { "X-Gitlab-Event": event, ...(key ? { "Idempotency-Key": key } : {}) });
    expect(res.status).toBe(202);
    await waitFor(() => h.drained(), 10_000, `queues to drain after ${event}`);
  }

  async function link(user: SimUser, id: number, username: string) {
    await saveUserLink(db, { mattermostUserId: user.id, gitlabUserId: id, gitlabUsername: username, accessTokenEnc: "unused", refreshTokenEnc: "unused", expiresAt: 0 });
  }

  beforeAll(async () => {
    h = await startHarness({}, "personal");
    db = openDatabase(h.config.databaseUrl).db;
    user1 = h.sim.addUser({ username: "mm-user1" });
    author = h.sim.addUser({ username: "mm-author", locale: "zh-CN" });
    root = h.sim.addUser({ username: "mm-root" });
    mentioned = h.sim.addUser({ username: "mm-dave" });
    // GitLab users as the fixtures name them: user1 (id 6), the author (id 51), root (id 1, who acts).
    await link(user1, 6, "user1");
    await link(author, 51, "author51");
    await link(root, 1, "root");
    await link(mentioned, 400, "dave.d-x_y");
    channel = h.sim.addChannel({ name: "mrs", team_id: h.team.id });
    h.sim.addMember(channel.id, user1.id);
    await h.command(channel, h.admin, "subscriptions add gitlabhq/gitlab-test merges,merge_request_comments,issues");
  });
  afterAll(async () => {
    await db?.destroy();
    await h?.stop();
  });

  it("sends the reviewer a DM with the reason and the channel's post, never the actor", async () => {
    await send(JSON.stringify(mr), "Merge Request Hook");
    expect(h.sim.posts(channel.id)).toHaveLength(1);
    const [dm] = await dmsOf(user1);
    expect(dm?.user_id).toBe(h.sim.bot.id);
    expect(dm?.message.split("\n")[0]).toBe("**Your review was requested**");
    expect(dm?.message).toContain(h.sim.posts(channel.id)[0]!.message);
    const attachment = (post: SimPost | undefined) => (post?.props.attachments as { title?: string; title_link?: string }[] | undefined)?.[0];
    expect(attachment(dm)).toMatchObject({ title: attachment(h.sim.posts(channel.id)[0])?.title, title_link: attachment(h.sim.posts(channel.id)[0])?.title_link });
    expect(await dmsOf(root)).toEqual([]);
    expect(h.sim.violations).toEqual([]);
  });

  it("threads later DMs about the same merge request under the first, each in its reader's language", async () => {
    await send(comment(5001, "Looks good, @dave.d-x_y please check.", "2015-05-17 18:21:36 UTC"), "Note Hook");
    const [first, reply] = await dmsOf(user1);
    expect(reply?.message.split("\n")[0]).toBe("**New comment on a merge request assigned to you**");
    expect(reply?.root_id).toBe(first?.id);

    const [authorFirst] = await dmsOf(author);
    expect(authorFirst?.message.split("\n")[0]).toBe("**您的合并请求有新评论**");
    expect(authorFirst?.message).toContain("评论了合并请求");
    expect((await dmsOf(mentioned))[0]?.message.split("\n")[0]).toBe("**You were mentioned**");

    await send(JSON.stringify({ ...mr, object_attributes: { ...mr.object_attributes, action: "approved", updated_at: "2013-12-04T10:00:00Z" } }), "Merge Request Hook");
    const authorDms = await dmsOf(author);
    expect(authorDms).toHaveLength(2);
    expect(authorDms[1]?.message.split("\n")[0]).toBe("**您的合并请求已获批准**");
    expect(authorDms[1]?.root_id).toBe(authorDms[0]?.id);
  });

  it("posts an event's DM once, however often it arrives", async () => {
    const before = (await dmsOf(user1)).length;
    const body = comment(5002, "second look", "2015-05-18 10:00:00 UTC");
    await send(body, "Note Hook", "delivery-a");
    await send(body, "Note Hook", "delivery-b");
    expect(await dmsOf(user1)).toHaveLength(before + 1);
  });

  it("sends nothing to someone who turned notifications off", async () => {
    await updateUserSettings(db, user1.id, { notifications: false });
    const before = (await dmsOf(user1)).length;
    await send(comment(5003, "third look", "2015-05-19 10:00:00 UTC"), "Note Hook");
    expect(await dmsOf(user1)).toHaveLength(before);
    await updateUserSettings(db, user1.id, { notifications: true });
    expect(JSON.stringify((await dmsOf(author)).at(-1)?.props.attachments)).toContain("third look");
  });

  it("a confidential issue reaches its assignee but not the person it mentions", async () => {
    const before = (await dmsOf(mentioned)).length;
    const body = {
      ...issue,
      project: mr.project,
      assignees: [{ id: 6, name: "User1", username: "user1" }],
      object_attributes: { ...issue.object_attributes, id: 777, iid: 77, confidential: true, assignee_ids: [6], author_id: 1, description: "@dave.d-x_y FYI" },
    };
    await send(JSON.stringify(body), "Confidential Issue Hook");
    const last = (await dmsOf(user1)).at(-1);
    expect(last?.message.split("\n")[0]).toBe("**You were assigned**");
    expect(last?.root_id).toBe(""); // another thread: the issue's
    expect(await dmsOf(mentioned)).toHaveLength(before);
    // The public channel does not get it (it did not ask for confidential issues).
    expect(h.sim.posts(channel.id).some((p) => p.message.includes("#77"))).toBe(false);
  });

  it("answers /gitlab settings and /gitlab todo over HTTP, with the user's own GitLab account", async () => {
    const settings = await h.command(channel, h.admin, "settings digest 1h reminders at 10");
    expect(settings.response_type).toBe("ephemeral");
    expect(settings.text).toContain("- Digest: every hour");
    expect(settings.text).toContain("- Reminder time: 10:00 (UTC)");

    // The harness linked the admin to GitLab's "root" (the simulator's first user, id 100); a merge
    // request awaits root's review.
    const gitlabRoot = { id: 100, username: "root", name: "root", isAdmin: true };
    const writer = h.gitlab.addUser({ username: "writer" });
    h.gitlab.addProject("acme/tool", "public");
    h.gitlab.addMergeRequest({ project: "acme/tool", iid: 3, title: "Please review", author: writer, reviewers: [gitlabRoot] });
    const todo = await h.command(channel, h.admin, "todo");
    expect(todo.response_type).toBe("ephemeral");
    expect(todo.text).toContain("**Merge requests awaiting your review**: 1");
    expect(todo.text).toContain(`[acme/tool!3 Please review](${h.gitlab.url}/acme/tool/-/merge_requests/3)`);
    expect(h.gitlab.unhandled).toEqual([]);
  });
});
