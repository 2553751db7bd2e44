// The personal half of the router against real databases: linked accounts, settings, languages,
// what the bot remembers of merge requests, deterministic job ids, digests. Mattermost profiles are
// a stub here (the end-to-end test asks the simulator).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Locale } from "../../src/config.js";
import type { Profiles } from "../../src/people/profiles.js";
import { planDeliveries, type PlanDeps } from "../../src/queue/events-worker.js";
import { personalJobId, type EventJobData } from "../../src/queue/jobs.js";
import type { PersonalQueue } from "../../src/queue/personal.js";
import { upsertSubscription } from "../../src/store/subscriptions.js";
import { saveUserLink } from "../../src/store/user-links.js";
import { updateUserSettings } from "../../src/store/user-settings.js";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../support/db.js";
import { fixture } from "../support/fixtures.js";

type Json = Record<string, unknown>;
const mr = fixture<Json & { object_attributes: Json; project: Json }>("merge_request.json");
const noteOnMr = fixture<Json & { object_attributes: Json; merge_request: Json }>("note_merge_request.json");
const pipeline = fixture<Json & { object_attributes: Json }>("pipeline.json");
const issue = fixture<Json & { object_attributes: Json }>("issue.json");

const event = (body: unknown, kind: string): EventJobData => ({ kind, receivedAt: 1_000, body: JSON.stringify(body) });

describe.each(databaseKinds)("personal routing on %s", (dbKind) => {
  let t: TestDatabase;
  const locales = new Map<string, Locale>();
  const profiles: Profiles = { locale: async (id) => locales.get(id) ?? "en", timeZone: async () => "UTC" };
  let deps: PlanDeps;

  async function link(mm: string, id: number, username: string) {
    await saveUserLink(t.db, { mattermostUserId: mm, gitlabUserId: id, gitlabUsername: username, accessTokenEnc: "x", refreshTokenEnc: "y", expiresAt: 0 });
  }
  const dms = async (body: unknown, kind: string) => (await planDeliveries(event(body, kind), deps)).deliveries.filter((d) => d.data.userId !== undefined);

  beforeAll(async () => {
    t = await createTestDatabase(dbKind);
    // The queue is only used for digests, which planDeliveries does not add (the worker does).
    deps = { db: t.db, defaultLocale: "en", ignoredUsernames: ["ghost-bot"], people: { profiles, queue: {} as PersonalQueue, now: () => 42 } };
    await link("mm-user1", 6, "user1");
    await link("mm-root", 1, "root");
    await link("mm-author", 51, "author51");
    await link("mm-8", 8, "eight");
    await link("mm-28", 28, "twentyeight");
  });
  afterAll(() => t.drop());
  beforeEach(() => locales.clear());

  it("sends the reviewer of a new merge request one DM with the most telling reason, never the actor", async () => {
    const out = await dms(mr, "merge_request");
    expect(out.map((d) => d.data.userId)).toEqual(["mm-user1"]);
    const [dm] = out;
    expect(dm!.id).toBe(personalJobId("merge_request/99/open/20131203T172334Z", "mm-user1"));
    expect(dm!.data).toMatchObject({ eventKey: "merge_request/99/open/20131203T172334Z", threadKey: "gitlabhq/gitlab-test!1", confidential: false, locale: "en", receivedAt: 1000 });
    expect(dm!.data.channelId).toBeUndefined();
    expect(dm!.data.post.message.split("\n")).toEqual([
      "**Your review was requested**",
      "**[gitlabhq/gitlab-test](http://example.com/gitlabhq/gitlab-test)**: @\u200Broot opened merge request [!1 MS-Viewport](http://example.com/diaspora/merge_requests/1)",
    ]);
    expect(dm!.data.post.attachments?.[0]?.title).toBe("!1 MS-Viewport");
  });

  it("writes in the user's chosen language, else their Mattermost language", async () => {
    locales.set("mm-user1", "zh-CN");
    expect((await dms(mr, "merge_request"))[0]!.data).toMatchObject({ locale: "zh-CN", post: { message: expect.stringMatching(/^\*\*有人请您评审\*\*\n.*创建了合并请求/) } });
    await updateUserSettings(t.db, "mm-user1", { language: "en" });
    expect((await dms(mr, "merge_request"))[0]!.data.locale).toBe("en");
    await updateUserSettings(t.db, "mm-user1", { language: undefined });
  });

  it("sends nothing to someone who turned notifications off", async () => {
    await updateUserSettings(t.db, "mm-user1", { notifications: false });
    expect(await dms(mr, "merge_request")).toEqual([]);
    await updateUserSettings(t.db, "mm-user1", { notifications: true });
  });

  it("still DMs a person whose channel gets the post, with ids that differ from the channel's and repeat for the same event", async () => {
    await upsertSubscription(t.db, { channelId: "chan-1", path: "gitlabhq/gitlab-test", features: "merges", createdBy: "mm-user1" });
    const first = (await planDeliveries(event(mr, "merge_request"), deps)).deliveries;
    expect(first.map((d) => d.data.channelId ?? d.data.userId).sort()).toEqual(["chan-1", "mm-user1"]);
    const again = (await planDeliveries(event(mr, "merge_request"), deps)).deliveries;
    expect(again.map((d) => d.id)).toEqual(first.map((d) => d.id));
    expect(new Set(first.map((d) => d.id)).size).toBe(2);
  });

  it("tells the author of a merge request about comments, its reviewers too once an MR event named them", async () => {
    const comment = { ...noteOnMr, user: { id: 99, username: "someone" } };
    expect((await dms(comment, "note")).map((d) => [d.data.userId, d.data.post.message.split("\n")[0]])).toEqual([
      ["mm-8", "**New comment on your merge request**"],
      ["mm-28", "**New comment on a merge request assigned to you**"],
    ]);
    // An event of that merge request (same project and iid) names user1 as its reviewer: later comments reach them too.
    const update = { ...mr, project: noteOnMr.project, assignees: [], object_attributes: { ...mr.object_attributes, action: "update", author_id: 8, assignee_ids: [28], updated_at: "2015-05-17T18:00:00Z" } };
    await planDeliveries(event(update, "merge_request"), deps);
    expect((await dms(comment, "note")).map((d) => [d.data.userId, d.data.post.message.split("\n")[0]])).toEqual([
      ["mm-8", "**New comment on your merge request**"],
      ["mm-28", "**New comment on a merge request assigned to you**"],
      ["mm-user1", "**New comment on a merge request you review**"],
    ]);
    // An older event of the merge request does not overwrite what a newer one said.
    await planDeliveries(event({ ...update, object_attributes: { ...update.object_attributes, reviewer_ids: [], updated_at: "2015-05-17T17:00:00Z" }, reviewers: [] }, "merge_request"), deps);
    expect((await dms(comment, "note")).map((d) => d.data.userId)).toContain("mm-user1");
  });

  it("tells the author of the merge request (remembered) and the starter when its pipeline fails", async () => {
    const failed = { ...pipeline, object_attributes: { ...pipeline.object_attributes, status: "failed" } };
    const newer = { ...mr.object_attributes, updated_at: "2016-08-12T15:00:00Z" };
    await planDeliveries(event({ ...mr, project: { ...mr.project, path_with_namespace: "gitlab-org/gitlab-test" }, object_attributes: newer }, "merge_request"), deps);
    expect((await dms(failed, "pipeline")).map((d) => [d.data.userId, d.data.post.message.split("\n")[0]])).toEqual([
      ["mm-root", "**A pipeline you started failed**"],
      ["mm-author", "**A pipeline of your merge request failed**"],
    ]);
  });

  it("a confidential issue reaches its assignees, never the people it mentions", async () => {
    const body = { ...issue, object_attributes: { ...issue.object_attributes, confidential: true, description: "cc @eight" } };
    const out = await dms(body, "issue");
    expect(out.map((d) => d.data.userId)).toEqual(["mm-user1", "mm-author"]);
    expect(out.every((d) => d.data.confidential)).toBe(true);
    const open = await dms({ ...body, object_attributes: { ...body.object_attributes, confidential: false } }, "issue");
    expect(open.map((d) => d.data.userId)).toContain("mm-8");
  });

  it("ignores events of ignored accounts, as channels do", async () => {
    expect(await dms({ ...mr, user: { id: 500, username: "ghost-bot" } }, "merge_request")).toEqual([]);
  });

  it("holds the message for a user with a digest instead of sending it", async () => {
    await updateUserSettings(t.db, "mm-user1", { digest: "1h" });
    const plan = await planDeliveries(event(mr, "merge_request"), deps);
    expect(plan.deliveries.filter((d) => d.data.userId)).toEqual([]);
    expect(plan.held).toEqual([
      {
        id: personalJobId("merge_request/99/open/20131203T172334Z", "mm-user1"),
        userId: "mm-user1",
        digest: "1h",
        reason: "review_requested",
        line: "Your review was requested · **[gitlabhq/gitlab-test](http://example.com/gitlabhq/gitlab-test)**: @\u200Broot opened merge request [!1 MS-Viewport](http://example.com/diaspora/merge_requests/1)",
        createdAt: 42,
      },
    ]);
    await updateUserSettings(t.db, "mm-user1", { digest: "off" });
  });
});
