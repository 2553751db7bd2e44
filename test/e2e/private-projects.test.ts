// Private projects never leak into public channels, end to end: a public group subscribed in a public
// channel gets its public projects' events there, and its private projects' events only in private
// channels, whatever the channel was when it subscribed. ALLOW_PRIVATE_PROJECTS_IN_PUBLIC_CHANNELS lifts it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, type BotHarness } from "../support/bot-harness.js";
import { fixture } from "../support/fixtures.js";
import type { SimChannel } from "../support/mattermost-sim.js";
import { waitFor } from "../support/wait.js";

type Json = Record<string, unknown>;
const push = fixture<Json & { project: Json }>("push.json");

/** A push to a project of group "acme" with this GitLab visibility_level (0 private, 10 internal, 20 public). */
function pushTo(name: string, id: number, visibilityLevel: number): string {
  const path = `acme/${name}`;
  return JSON.stringify({
    ...push,
    project_id: id,
    project: { ...push.project, id, name, path_with_namespace: path, web_url: `http://example.com/${path}`, homepage: `http://example.com/${path}`, visibility_level: visibilityLevel },
  });
}

describe("events of private projects in a subscribed group", () => {
  let h: BotHarness;
  let town: SimChannel;
  let backroom: SimChannel;
  let madePublic: SimChannel;

  beforeAll(async () => {
    h = await startHarness({}, "private-projects");
    town = h.sim.addChannel({ name: "town", team_id: h.team.id });
    backroom = h.sim.addChannel({ name: "backroom", team_id: h.team.id, type: "P" });
    madePublic = h.sim.addChannel({ name: "made-public", team_id: h.team.id, type: "P" });
    for (const channel of [town, backroom, madePublic]) {
      expect((await h.command(channel, h.admin, "subscriptions add acme pushes")).response_type).toBe("in_channel");
    }
    // An admin converts the private channel to a public one after it subscribed.
    h.sim.setChannelType(madePublic.id, "O");
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("posts a private child project's push only in the private channel, and a public one's everywhere", async () => {
    for (const [body, key] of [
      [pushTo("secret", 501, 0), "secret"],
      [pushTo("internal-tools", 502, 10), "internal"],
      [pushTo("open", 503, 20), "open"],
    ] as const) {
      expect((await h.hook(body, { "X-Gitlab-Event": "Push Hook", "Idempotency-Key": key })).status).toBe(202);
    }
    await waitFor(() => h.sim.posts(backroom.id).length === 3, 15_000, "three posts in the private channel");
    await waitFor(() => h.drained(), 15_000, "queues to drain");

    expect(h.sim.posts(town.id)).toHaveLength(1);
    expect(h.sim.posts(madePublic.id)).toHaveLength(1);
    for (const channel of [town, madePublic]) expect(JSON.stringify(h.sim.posts(channel.id)[0])).toContain("acme/open");
    expect(JSON.stringify(h.sim.posts(town.id))).not.toContain("acme/secret");
    expect(h.sim.violations).toEqual([]);
  });
});

describe("with ALLOW_PRIVATE_PROJECTS_IN_PUBLIC_CHANNELS=true", () => {
  let h: BotHarness;

  beforeAll(async () => {
    h = await startHarness({ ALLOW_PRIVATE_PROJECTS_IN_PUBLIC_CHANNELS: "true" }, "private-allowed");
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("posts a private project's push in a public channel", async () => {
    const town = h.sim.addChannel({ name: "town", team_id: h.team.id });
    await h.command(town, h.admin, "subscriptions add acme pushes");
    expect((await h.hook(pushTo("secret", 501, 0), { "X-Gitlab-Event": "Push Hook" })).status).toBe(202);
    await waitFor(() => h.sim.posts(town.id).length === 1, 15_000, "the post in the public channel");
    expect(JSON.stringify(h.sim.posts(town.id)[0])).toContain("acme/secret");
  });
});
