// A command that acts on GitLab, through the whole running bot as Mattermost calls it: with GitLab slow
// (five seconds), Mattermost gets its answer before GitLab has answered ("Working on it…"), and the
// result follows through the request's response_url once GitLab has done it, as the person who typed it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMAND_TOKEN, startHarness, type BotHarness } from "../support/bot-harness.js";
import type { SimChannel } from "../support/mattermost-sim.js";
import { waitFor } from "../support/wait.js";

describe("acting on GitLab from a slash command, end to end", () => {
  let h: BotHarness;
  let room: SimChannel;

  beforeAll(async () => {
    h = await startHarness({}, "commands");
    room = h.sim.addChannel({ name: "room", team_id: h.team.id, type: "P" });
    h.sim.addMember(room.id, h.admin.id);
    h.gitlab.addProject("acme/app", "private");
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("answers Mattermost before a slow GitLab does, then posts the result through response_url", async () => {
    h.gitlab.delayNext({ method: "POST", path: /^\/api\/v4\/projects\/[^/]+\/issues$/, ms: 5000 });
    const before = h.sim.commandResponses.length;
    const res = await fetch(`${h.base}/mattermost/command`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        token: COMMAND_TOKEN,
        team_id: h.team.id,
        team_domain: h.team.name,
        channel_id: room.id,
        channel_name: room.name,
        user_id: h.admin.id,
        user_name: h.admin.username,
        command: "/gitlab",
        text: "issue new acme/app Crash on start\nSeen on every start since 2.1.",
        response_url: h.sim.commandResponseUrl(),
        trigger_id: "trigger",
      }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ response_type: "ephemeral", text: "Working on it… the answer follows in a moment." });
    // Mattermost had its answer while GitLab was still creating the issue.
    expect(h.gitlab.issue("acme/app", 1)).toBeUndefined();

    await waitFor(() => h.sim.commandResponses.length > before, 15_000, "the result through response_url");
    const issue = h.gitlab.issue("acme/app", 1);
    expect(issue).toMatchObject({ title: "Crash on start", description: "Seen on every start since 2.1." });
    expect(h.sim.commandResponses.at(-1)?.body).toEqual({
      response_type: "in_channel",
      text: `@admin created [acme/app#1 Crash on start](${h.gitlab.url}/acme/app/-/issues/1)`,
    });
    expect(h.sim.violations).toEqual([]);
    expect(h.gitlab.unhandled).toEqual([]);
  });
});
