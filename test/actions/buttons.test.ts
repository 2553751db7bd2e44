// Where buttons are put: the events worker turns a notification's actions into signed buttons on the
// channel posts it plans, in the channel's language, except for subscriptions with `buttons:off`.
import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createActionButtons, type ActionButtons } from "../../src/actions/buttons.js";
import { planDeliveries, type PlanDeps } from "../../src/queue/events-worker.js";
import { upsertSubscription } from "../../src/store/subscriptions.js";
import type { MessageAction } from "../../src/notification.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { fixtureText } from "../support/fixtures.js";

const mergeRequest = JSON.parse(fixtureText("merge_request.json")) as { object_attributes: Record<string, unknown> };
const event = (payload: unknown) => ({ kind: "merge_request", eventHeader: "Merge Request Hook", receivedAt: Date.now(), body: JSON.stringify(payload) });

describe("buttons on planned channel posts", () => {
  let tdb: TestDatabase;
  let buttons: ActionButtons;
  let deps: PlanDeps;

  beforeEach(async () => {
    tdb = await createTestDatabase("sqlite");
    buttons = createActionButtons({ key: randomBytes(32), publicUrl: "https://bot.example.com" });
    deps = { db: tdb.db, defaultLocale: "en", ignoredUsernames: [], actionButtons: buttons };
    const subscriptions: [string, string][] = [
      ["chan-plain", "merges"],
      ["chan-quiet", "merges,buttons:off"],
      ["chan-zh", "merges,lang:zh-CN"],
    ];
    for (const [channelId, features] of subscriptions) {
      await upsertSubscription(tdb.db, { channelId, path: "gitlabhq/gitlab-test", features, createdBy: "admin" });
    }
  });
  afterEach(async () => {
    await tdb.drop();
  });

  async function buttonsByChannel(payload: unknown, planDeps = deps): Promise<Record<string, MessageAction[]>> {
    const { deliveries } = await planDeliveries(event(payload), planDeps);
    return Object.fromEntries(deliveries.map((d) => [d.data.channelId, (d.data.post.attachments ?? []).flatMap((a) => a.actions ?? [])]));
  }

  it("puts signed Approve and Merge buttons on an opened merge request's posts, but not where buttons are off", async () => {
    const byChannel = await buttonsByChannel(mergeRequest);
    expect(byChannel["chan-plain"]?.map((b) => [b.id, b.name, b.style])).toEqual([
      ["mrapprove", "Approve", "success"],
      ["mrmerge", "Merge", "primary"],
    ]);
    expect(byChannel["chan-zh"]?.map((b) => b.name)).toEqual(["批准", "合并"]);
    expect(byChannel["chan-quiet"]).toEqual([]);
    for (const button of byChannel["chan-plain"] ?? []) {
      expect(button.integration.url).toBe("https://bot.example.com/mattermost/actions");
      expect(buttons.verify(button.integration.context)).toMatchObject({ ok: true, action: { project: "gitlabhq/gitlab-test", iid: 1 } });
    }
  });

  it("puts none on a merged merge request's posts, nor anywhere when the bot has no signing key", async () => {
    const merged = { ...mergeRequest, object_attributes: { ...mergeRequest.object_attributes, action: "merge", state: "merged" } };
    expect(Object.values(await buttonsByChannel(merged)).flat()).toEqual([]);
    const { actionButtons: _none, ...keyless } = deps;
    expect(Object.values(await buttonsByChannel(mergeRequest, keyless)).flat()).toEqual([]);
  });
});
