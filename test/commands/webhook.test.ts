// `/gitlab webhook add|list` and the hint `subscriptions add` gives when no webhook reaches the bot,
// against the GitLab and Mattermost simulators: hooks are made and read as the person (Maintainers
// manage a project's, Owners a group's), with a token derived for that project or group alone.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCommand } from "../../commands/index.js";
import type { CommandReply } from "../../commands/types.js";
import type { GitlabAccounts } from "../../src/gitlab/accounts.js";
import { tokensAcceptedFor, webhookTokenFor } from "../../src/http/webhook-tokens.js";
import { updateUserSettings } from "../../src/store/user-settings.js";
import { type TestDatabase } from "../support/db.js";
import { linkUser } from "../support/gitlab-accounts.js";
import { type GitlabSim } from "../support/gitlab-sim.js";
import { type MattermostSim, type SimUser } from "../support/mattermost-sim.js";
import { type CapturedLogger } from "./helpers.js";
import { startCommandTestbed, type CommandTestbed } from "./testbed.js";

const SECRET = "master-secret-for-tests";
const BOT_HOOK = "http://bot.test/webhooks/gitlab";
const ALL_PROJECT_EVENTS = [
  "confidential_issues_events",
  "confidential_note_events",
  "deployment_events",
  "feature_flag_events",
  "issues_events",
  "job_events",
  "merge_requests_events",
  "milestone_events",
  "note_events",
  "pipeline_events",
  "push_events",
  "releases_events",
  "resource_access_token_events",
  "tag_push_events",
  "vulnerability_events",
  "wiki_page_events",
];

describe("/gitlab webhook", () => {
  let bed: CommandTestbed;
  let mm: MattermostSim;
  let gitlab: GitlabSim;
  let t: TestDatabase;
  let accounts: GitlabAccounts;
  let log: CapturedLogger;
  let maintainer: SimUser;
  let developer: SimUser;
  let channel: { id: string; name: string };
  let team: { id: string };

  beforeAll(async () => {
    bed = await startCommandTestbed();
    ({ mm, gitlab, t, log, accounts } = bed);
    team = mm.addTeam("engineering");
    channel = mm.addChannel({ name: "deploys", team_id: team.id, botIsMember: true, type: "P" });
    maintainer = mm.addUser({ username: "mia" });
    developer = mm.addUser({ username: "dev" });
    for (const u of [maintainer, developer]) mm.addMember(channel.id, u.id, { admin: true });
    const gMaintainer = gitlab.addUser({ username: "mia-gl" });
    const gDeveloper = gitlab.addUser({ username: "dev-gl" });
    for (const project of ["acme/app", "acme/lib", "acme/tools/cli", "other/site", "loose/app", "quiet/tools/cli", "heard/tools/cli", "bare/app"]) gitlab.addProject(project, "private");
    for (const group of ["acme", "quiet", "heard"]) gitlab.addMember(group, gMaintainer, 50);
    gitlab.addMember("bare/app", gMaintainer, 40);
    gitlab.addMember("other", gMaintainer, 40);
    gitlab.addMember("loose/app", gMaintainer, 40);
    gitlab.addMember("acme", gDeveloper, 30);
    gitlab.addMember("other/site", gDeveloper, 30);
    gitlab.addProject("acme-secret/app", "private");
    await linkUser(accounts, gitlab, maintainer.id, gMaintainer);
    await linkUser(accounts, gitlab, developer.id, gDeveloper);
  });
  afterAll(async () => {
    await bed.close();
  });
  beforeEach(() => {
    gitlab.reset();
    gitlab.setGroupHooksAvailable(true);
  });

  function run(who: SimUser, text: string, secrets: string[] = [SECRET, "older-secret"]): Promise<CommandReply> {
    return runCommand(text, bed.base(who, { ...channel, team_id: team.id }, { config: { defaultLocale: "en", publicUrl: "http://bot.test/", webhookSecrets: secrets } }));
  }

  it("adds a project hook that reaches the bot, with every event subscriptions use and a token for that project alone", async () => {
    const reply = await run(maintainer, "webhook add acme/app");
    expect(reply).toEqual({ response_type: "in_channel", text: "@mia added a webhook to acme/app: GitLab now sends its events to this bot." });
    const [hook, ...more] = gitlab.hooks("acme/app");
    expect(more).toEqual([]);
    expect(hook).toMatchObject({ url: BOT_HOOK, enableSslVerification: true, events: ALL_PROJECT_EVENTS });
    expect(hook!.token).toBe(webhookTokenFor(SECRET, { kind: "project", path: "acme/app" }));
    // Ingress takes it for this project's events, and for no other project's.
    expect(tokensAcceptedFor([SECRET], "acme/app")).toContain(hook!.token);
    expect(tokensAcceptedFor([SECRET], "acme/lib")).not.toContain(hook!.token);
    expect(log.lines().filter((l) => l.audit === true).at(-1)).toMatchObject({ action: "webhook.add", object: "acme/app", outcome: "ok", gitlab_username: "mia-gl" });
    expect(log.text()).not.toContain(hook!.token!);
    expect(gitlab.unhandled).toEqual([]);
  });

  it("brings an existing hook at the bot's address up to date instead of adding a second one", async () => {
    const id = gitlab.addHook("acme/lib", { url: BOT_HOOK, token: "typed-by-hand", events: ["push_events"] });
    gitlab.addHook("acme/lib", { url: "https://ci.example.com/hook", events: ["pipeline_events"] });
    const reply = await run(maintainer, "webhook add acme/lib");
    expect(reply).toEqual({ response_type: "in_channel", text: "@mia brought the webhook of acme/lib that reaches this bot up to date (its events and token)." });
    const hooks = gitlab.hooks("acme/lib");
    expect(hooks).toHaveLength(2);
    expect(hooks.find((h) => h.id === id)).toMatchObject({ url: BOT_HOOK, token: webhookTokenFor(SECRET, { kind: "project", path: "acme/lib" }), events: ALL_PROJECT_EVENTS });
    expect(hooks.find((h) => h.id !== id)).toMatchObject({ url: "https://ci.example.com/hook", events: ["pipeline_events"] });
    expect(gitlab.unhandled).toEqual([]);
  });

  it("adds a group hook for an Owner, with the group's own token and its group-only events", async () => {
    expect((await run(maintainer, "webhook add acme")).text).toBe("@mia added a webhook to acme: GitLab now sends its events to this bot.");
    const [hook] = gitlab.hooks("acme");
    expect(hook!.token).toBe(webhookTokenFor(SECRET, { kind: "group", path: "acme" }));
    expect(hook!.events).toEqual(expect.arrayContaining(["subgroup_events", "member_events", "project_events", "merge_requests_events"]));
    expect(tokensAcceptedFor([SECRET], "acme/tools/cli")).toContain(hook!.token);
    expect(gitlab.unhandled).toEqual([]);
  });

  it("says when GitLab has no group hooks, and offers a hook per project", async () => {
    gitlab.setGroupHooksAvailable(false);
    const reply = await run(maintainer, "webhook add acme");
    expect(reply).toEqual({
      response_type: "ephemeral",
      text: "This GitLab has no group webhooks (its tier does not offer them), so acme cannot have one. Add a webhook to each of its projects instead: `/gitlab webhook add acme/<project>`.",
    });
    expect((await run(maintainer, "webhook list acme")).text).toBe(reply.text);
    expect(gitlab.unhandled).toEqual([]);
  });

  it("says plainly who may manage hooks when GitLab refuses (403)", async () => {
    expect(await run(developer, "webhook add other/site")).toEqual({
      response_type: "ephemeral",
      text: "Only Maintainers and Owners of other/site can manage its webhooks, and GitLab says your account is not one.",
    });
    // A Maintainer of a group is not its Owner.
    expect((await run(maintainer, "webhook add other")).text).toBe("Only Owners of the group other can manage its webhooks, and GitLab says your account is not one.");
    expect((await run(developer, "webhook list acme/app")).text).toBe("Only Maintainers and Owners of acme/app can manage its webhooks, and GitLab says your account is not one.");
    await updateUserSettings(t.db, developer.id, { language: "zh-CN" });
    expect((await run(developer, "webhook add other/site")).text).toBe("只有 other/site 的维护者和所有者可以管理其 Webhook，而 GitLab 表示您的账号不是。");
    await updateUserSettings(t.db, developer.id, { language: "en" });
    expect(gitlab.hooks("other/site")).toEqual([]);
    expect(gitlab.hooks("other")).toEqual([]);
    expect(gitlab.unhandled).toEqual([]);
  });

  it("says a project or group it cannot see was not found", async () => {
    expect(await run(maintainer, "webhook add acme-secret/app")).toEqual({
      response_type: "ephemeral",
      text: "acme-secret/app was not found: it does not exist, or your GitLab account cannot see it.",
    });
    expect((await run(maintainer, "webhook list nowhere")).text).toBe("nowhere was not found: it does not exist, or your GitLab account cannot see it.");
    expect(gitlab.unhandled).toEqual([]);
  });

  it("shows the usage line for arguments it cannot read, and makes no hook without a webhook secret", async () => {
    expect(await run(maintainer, "webhook add")).toEqual({ response_type: "ephemeral", text: "Usage: `/gitlab webhook add <project | group>`" });
    expect((await run(maintainer, "webhook add acme/app acme/lib")).text).toBe("Usage: `/gitlab webhook add <project | group>`");
    expect((await run(maintainer, "webhook list acme//app")).text).toMatch(/^"acme\/\/app" is not a GitLab project or group path.*\nUsage: `\/gitlab webhook list <project \| group>`$/s);
    expect((await run(maintainer, "webhook add loose/app", [])).text).toBe(
      "The bot has no webhook secret (`GITLAB_WEBHOOK_SECRET`), so it cannot make webhooks. Ask your administrator.",
    );
    expect(gitlab.hooks("loose/app")).toEqual([]);
    expect(gitlab.requests).toEqual([]);
  });

  it("lists hooks and whether each reaches the bot, with the events it does not send", async () => {
    expect(await run(maintainer, "webhook list loose/app")).toEqual({
      response_type: "ephemeral",
      text: "loose/app has no webhooks. Add one that reaches this bot with `/gitlab webhook add loose/app`.",
    });
    gitlab.addHook("loose/app", { url: "https://ci.example.com/hook?token=hunter2", events: ["push_events"] });
    expect((await run(maintainer, "webhook list loose/app")).text).toBe(
      ["Webhooks of loose/app:", "- `https://ci.example.com/hook`: goes elsewhere", "None of them reaches this bot: add one with `/gitlab webhook add loose/app`."].join("\n"),
    );
    gitlab.addHook("loose/app", { url: BOT_HOOK, events: ALL_PROJECT_EVENTS.filter((e) => e !== "deployment_events" && e !== "releases_events") });
    const listed = await run(maintainer, "webhook list loose/app");
    expect(listed).toEqual({
      response_type: "ephemeral",
      text: ["Webhooks of loose/app:", "- `https://ci.example.com/hook`: goes elsewhere", "- `http://bot.test/webhooks/gitlab`: reaches this bot; not sending deployment, releases"].join("\n"),
    });
    expect(listed.text).not.toContain("hunter2");
    expect(gitlab.unhandled).toEqual([]);
  });

  describe("subscriptions add", () => {
    it("tells the channel when no hook of the project or a group above it reaches the bot", async () => {
      gitlab.addHook("quiet/tools", { url: "https://elsewhere.example.com/webhooks/gitlab" });
      const reply = await run(maintainer, "subscriptions add quiet/tools/cli issues");
      expect(reply).toEqual({
        response_type: "in_channel",
        text: [
          "@mia subscribed this channel to quiet/tools/cli: issues",
          "No webhook of quiet/tools/cli or of a group above it sends events to this bot yet, so nothing will be posted. A Maintainer can add one with `/gitlab webhook add quiet/tools/cli`.",
        ].join("\n"),
      });
      const asked = gitlab.requests.map((r) => `${r.method} ${r.path}`).filter((r) => r.includes("/hooks"));
      expect(asked).toEqual(["GET /api/v4/projects/quiet%2Ftools%2Fcli/hooks", "GET /api/v4/groups/quiet%2Ftools/hooks", "GET /api/v4/groups/quiet/hooks"]);
      expect(gitlab.unhandled).toEqual([]);
    });

    it("says nothing about hooks when a group above reaches the bot, or when the person may not read hooks", async () => {
      gitlab.addHook("heard/tools", { url: BOT_HOOK });
      const reached = await run(maintainer, "subscriptions add heard/tools/cli issues");
      expect(reached.response_type).toBe("in_channel");
      expect(reached.text).not.toContain("webhook");

      const mark = log.lines().length;
      const developerOnly = await run(developer, "subscriptions add other/site");
      expect(developerOnly.response_type).toBe("in_channel");
      expect(developerOnly.text).not.toContain("webhook");
      // GitLab's 403 on a hook list is an expected answer, not a failure worth a warning.
      expect(log.lines().slice(mark).filter((l) => l.msg === "GitLab call for a user failed")).toEqual([]);
      expect(gitlab.unhandled).toEqual([]);
    });

    it("counts a group without group hooks as having none, and a hook elsewhere as not reaching the bot", async () => {
      gitlab.setGroupHooksAvailable(false);
      gitlab.addHook("bare/app", { url: "https://bot.test.example.org/webhooks/gitlab" });
      const reply = await run(maintainer, "subscriptions add bare/app");
      expect(reply.text).toContain("No webhook of bare/app or of a group above it sends events to this bot yet");
      expect(gitlab.unhandled).toEqual([]);
    });
  });
});
