// Buttons end to end, through the whole bot: an issue webhook becomes a channel post with a signed
// Close button pointing at PUBLIC_URL/mattermost/actions (none where the subscription says
// buttons:off); the click, as Mattermost sends it, closes the issue on GitLab as the clicker, and the
// answer edits the post.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMattermostClient } from "../../src/mattermost/client.js";
import type { MessageAction } from "../../src/notification.js";
import { startHarness, type BotHarness } from "../support/bot-harness.js";
import { fixtureText } from "../support/fixtures.js";
import type { SimChannel } from "../support/mattermost-sim.js";
import { waitFor } from "../support/wait.js";

const PUBLIC_URL = "https://gitlab-bot.example.com";

describe("buttons on posts, end to end", () => {
  let h: BotHarness;
  let room: SimChannel;
  let quiet: SimChannel;

  beforeAll(async () => {
    h = await startHarness({ PUBLIC_URL }, "buttons");
    room = h.sim.addChannel({ name: "room", team_id: h.team.id, type: "P" });
    quiet = h.sim.addChannel({ name: "quiet", team_id: h.team.id, type: "P" });
    for (const [channel, features] of [
      [room, "issues"],
      [quiet, "issues buttons:off"],
    ] as const) {
      h.sim.addMember(channel.id, h.admin.id);
      expect((await h.command(channel, h.admin, `subscriptions add gitlabhq/gitlab-test ${features}`)).response_type).toBe("in_channel");
    }
    h.gitlab.addIssue({ project: "gitlabhq/gitlab-test", iid: 23, title: "New API: create/update/delete file", author: h.gitlab.addUser({ username: "author" }) });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const buttonsOf = (post: { props: Record<string, unknown> }) => ((post.props.attachments ?? []) as { actions?: MessageAction[] }[]).flatMap((a) => a.actions ?? []);

  it("posts a Close button where buttons are on, and a click closes the issue as the clicker", async () => {
    expect((await h.hook(fixtureText("issue.json"), { "X-Gitlab-Event": "Issue Hook" })).status).toBe(202);
    await waitFor(() => h.sim.posts(room.id).length === 1 && h.sim.posts(quiet.id).length === 1, 15_000, "the issue posts");
    const [post] = h.sim.posts(room.id);
    expect(buttonsOf(h.sim.posts(quiet.id)[0]!)).toEqual([]);
    const [close] = buttonsOf(post!);
    expect(close).toMatchObject({ id: "issueclose", name: "Close", type: "button", integration: { url: `${PUBLIC_URL}/mattermost/actions` } });

    // Mattermost calls the integration URL (here the bot's own port) with who clicked.
    const response = await fetch(`${h.base}/mattermost/actions`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user_id: h.admin.id, user_name: h.admin.username, channel_id: room.id, team_id: h.team.id, post_id: post!.id, trigger_id: "t", type: "", context: close!.integration.context }),
    });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { update: { message: string; props: Record<string, unknown> } };
    expect(h.gitlab.issue("gitlabhq/gitlab-test", 23)?.state).toBe("closed");
    await createMattermostClient(h.sim.url, h.sim.botToken).patchPost(post!.id, answer.update);
    expect(h.sim.post(post!.id)?.message.endsWith("\n✅ Closed by @admin")).toBe(true);
    expect(buttonsOf(h.sim.post(post!.id)!).map((b) => b.id)).toEqual(["issuereopen"]);
    expect(h.sim.violations).toEqual([]);
    expect(h.gitlab.unhandled).toEqual([]);
  });
});
