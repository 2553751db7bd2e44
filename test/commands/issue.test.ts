// `/gitlab issue ...` against the GitLab and Mattermost simulators: each command as a person with their
// own GitLab account and role (GitLab decides), the answer in the channel or only to them, confidential
// issues never in the channel, and `--from` copying only posts the person can read.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseTitleLine } from "../../commands/issue.js";
import { runCommand } from "../../commands/index.js";
import type { CommandReply } from "../../commands/types.js";
import type { GitlabAccounts } from "../../src/gitlab/accounts.js";
import { createMattermostClient } from "../../src/mattermost/client.js";
import { type Metrics } from "../../src/metrics.js";
import { updateUserSettings } from "../../src/store/user-settings.js";
import { BUDGET_MS, elapsed } from "../text/time-budget.js";
import { type TestDatabase } from "../support/db.js";
import { linkUser } from "../support/gitlab-accounts.js";
import { type GitlabSim, type GitlabSimUser } from "../support/gitlab-sim.js";
import { type MattermostSim, type SimChannel, type SimUser } from "../support/mattermost-sim.js";
import { type CapturedLogger } from "./helpers.js";
import { startCommandTestbed, type CommandTestbed } from "./testbed.js";

const Z = "\u200B";

describe("/gitlab issue", () => {
  let bed: CommandTestbed;
  let mm: MattermostSim;
  let gitlab: GitlabSim;
  let t: TestDatabase;
  let accounts: GitlabAccounts;
  let log: CapturedLogger;
  let metrics: Metrics;
  /** Developer in acme/app, Reporter in acme/other. */
  let tess: SimUser & { token: string };
  /** Guest in acme/app. */
  let gus: SimUser & { token: string };
  let alice: SimUser & { token: string };
  let tessGl: GitlabSimUser;
  let gusGl: GitlabSimUser;
  let dana: GitlabSimUser;
  let town: SimChannel;
  let lounge: SimChannel;
  let secret: SimChannel;
  let botless: SimChannel;

  beforeAll(async () => {
    bed = await startCommandTestbed();
    ({ mm, gitlab, t, log, accounts } = bed);
    tess = mm.addUser({ username: "tess" });
    gus = mm.addUser({ username: "gus" });
    alice = mm.addUser({ username: "alice" });
    tessGl = gitlab.addUser({ username: "tess-gl" });
    gusGl = gitlab.addUser({ username: "gus-gl" });
    dana = gitlab.addUser({ username: "dana" });
    gitlab.addProject("acme/app", "private");
    gitlab.addProject("acme/other", "private");
    gitlab.addProject("acme/hidden", "private");
    gitlab.addProject("oss/lib", "public");
    gitlab.setIssuesAccess("oss/lib", "private");
    gitlab.addMember("acme/app", tessGl, 30);
    gitlab.addMember("acme/app", gusGl, 10);
    gitlab.addMember("acme/app", dana, 30);
    gitlab.addMember("acme/other", tessGl, 20);
    gitlab.addMember("acme/other", gusGl, 10);
    await linkUser(accounts, gitlab, tess.id, tessGl);
    await linkUser(accounts, gitlab, gus.id, gusGl);

    // The team's private channel: results about the private projects below are posted in it.
    town = mm.addChannel({ name: "town", type: "P" });
    lounge = mm.addChannel({ name: "lounge", type: "O" });
    secret = mm.addChannel({ name: "secret", type: "P" });
    botless = mm.addChannel({ name: "botless", type: "P", botIsMember: false });
    for (const channel of [town, lounge, secret, botless]) mm.addMember(channel.id, alice.id);
    for (const channel of [town, lounge, botless]) mm.addMember(channel.id, tess.id);
    mm.addMember(town.id, gus.id);
  });
  afterAll(async () => {
    await bed.close();
  });
  beforeEach(() => {
    metrics = bed.freshMetrics();
  });
  afterEach(() => {
    // The bot asked GitLab and Mattermost only for what they have, and only as they document it.
    expect(gitlab.unhandled).toEqual([]);
    expect(mm.violations).toEqual([]);
  });

  function run(who: SimUser, text: string, channel: SimChannel = town): Promise<CommandReply> {
    return runCommand(text, bed.base(who, channel));
  }

  async function counted(action: string, outcome: string): Promise<number> {
    const metric = (await metrics.gitlabActions.get()).values.find((v) => v.labels.action === action && v.labels.outcome === outcome);
    return metric?.value ?? 0;
  }

  /** The iid GitLab gives the project's next issue (they count up from 1). */
  function nextIid(project: string): number {
    let iid = 1;
    while (gitlab.issue(project, iid)) iid++;
    return iid;
  }

  /** An issue made by `author` in GitLab, as if typed there; its iid. */
  function seedIssue(project: string, title: string, author: GitlabSimUser, opts: { confidential?: boolean; state?: string } = {}): number {
    const iid = nextIid(project);
    gitlab.addIssue({ project, iid, title, author, state: opts.state });
    if (opts.confidential) gitlab.setIssueConfidential(project, iid);
    return iid;
  }

  function newestIssue(project: string) {
    return gitlab.issue(project, nextIid(project) - 1);
  }

  const issueUrl = (project: string, iid: number) => `${gitlab.url}/${project}/-/issues/${iid}`;

  describe("parsing the title line", () => {
    it("takes labels, quoted labels, people and /confidential out of the title", () => {
      expect(parseTitleLine(`Login ~bug fails  ~"needs triage" for @dana and @x.y-z /confidential`)).toEqual({
        title: "Login fails for and",
        labels: ["bug", "needs triage"],
        usernames: ["dana", "x.y-z"],
        confidential: true,
      });
      // A lone sigil, an unclosed quote and a word that only looks like a quick action stay in the title.
      expect(parseTitleLine(`~ @ ~"open /confidentially @no!pe`)).toEqual({ title: `~ @ ~"open /confidentially @no!pe`, labels: [], usernames: [], confidential: false });
    });

    it("scans hostile title lines within the time budget", () => {
      const n = 4000;
      for (const line of ['~"'.repeat(n), `${"~".repeat(n)}"`, "@".repeat(n), `${"@a".repeat(n)}!`, `~"${" ".repeat(n)}`, `${'~"a'.repeat(n)}`, " \t".repeat(n)]) {
        expect(elapsed(() => parseTitleLine(line))).toBeLessThan(BUDGET_MS);
      }
    });
  });

  describe("issue new", () => {
    it("creates the issue as the person, with labels, assignees and a description, and says so in the channel", async () => {
      const reply = await run(tess, `issue new acme/app Login fails ~bug ~"needs triage" @dana\nSteps:\n1. open the page\n2. @all see`);
      const created = newestIssue("acme/app")!;
      expect(reply).toEqual({ response_type: "in_channel", text: `@tess created [acme/app#${created.iid} Login fails](${issueUrl("acme/app", created.iid)})` });
      expect(created).toMatchObject({
        title: "Login fails",
        labels: ["bug", "needs triage"],
        assigneeIds: [dana.id],
        authorId: tessGl.id,
        confidential: false,
        description: "Steps:\n1. open the page\n2. @all see",
      });
      expect(await counted("issue.create", "ok")).toBe(1);
      expect(log.lines().filter((l) => l.audit === true).at(-1)).toMatchObject({ gitlab_username: "tess-gl", action: "issue.create", object: "acme/app" });
    });

    it("answers only the person, in their language, when /confidential made the issue confidential", async () => {
      await updateUserSettings(t.db, tess.id, { language: "zh-CN" });
      try {
        const reply = await run(tess, "issue new acme/app Leaked key /confidential");
        const created = newestIssue("acme/app")!;
        expect(created).toMatchObject({ title: "Leaked key", confidential: true });
        expect(reply).toEqual({ response_type: "ephemeral", text: `您创建了私密议题 [acme/app#${created.iid} Leaked key](${issueUrl("acme/app", created.iid)})（此回复仅您可见）。` });
      } finally {
        await updateUserSettings(t.db, tess.id, { language: "en" });
      }
    });

    it("creates nothing when a person named with @ is not a GitLab user", async () => {
      const before = newestIssue("acme/app")?.iid;
      const reply = await run(tess, "issue new acme/app Broken @nobody-here");
      expect(reply).toEqual({ response_type: "ephemeral", text: `GitLab has no user @${Z}nobody-here: nothing was created.` });
      expect(newestIssue("acme/app")?.iid).toBe(before);
    });

    it("passes on GitLab's refusal when the person may not create issues there (403)", async () => {
      const reply = await run(tess, "issue new oss/lib Crash");
      expect(reply).toEqual({ response_type: "ephemeral", text: "GitLab does not let you do that on oss/lib: 403 Forbidden" });
      expect(await counted("issue.create", "forbidden")).toBe(1);
    });

    it("says a project it cannot see was not found", async () => {
      expect(await run(tess, "issue new acme/hidden Crash")).toEqual({
        response_type: "ephemeral",
        text: "acme/hidden was not found: it does not exist, or your GitLab account cannot see it.",
      });
    });

    it("shows the usage line for a missing title or a word that is not a project", async () => {
      const usage = "Usage: `/gitlab issue new <project> (<title> [newline then description] | --from <Mattermost permalink>)`";
      expect(await run(tess, "issue new acme/app ~bug @dana")).toEqual({ response_type: "ephemeral", text: `Give the issue a title after the project.\n${usage}` });
      expect(await run(tess, "issue new")).toEqual({ response_type: "ephemeral", text: usage });
      expect((await run(tess, "issue new acme//app Title")).text).toBe(`"acme//app" is not a GitLab project path: use its path as in its URL, e.g. \`my-group/my-project\`.\n${usage}`);
    });

    it("passes on GitLab's own words for a title that is too long", async () => {
      const reply = await run(tess, `issue new acme/app ${"x".repeat(256)}`);
      expect(reply).toEqual({ response_type: "ephemeral", text: "GitLab refused it for acme/app: title is too long (maximum is 255 characters)" });
    });
  });

  describe("issue new --from a Mattermost post", () => {
    async function postAs(user: SimUser & { token: string }, channel: SimChannel, message: string): Promise<string> {
      const { id } = await createMattermostClient(mm.url, user.token).createPost({ channel_id: channel.id, message });
      return `${mm.url}/team/pl/${id}`;
    }

    it("copies the post, its author and a link back, with its first line as the title", async () => {
      const permalink = await postAs(alice, town, "Search is slow\n\n@tess it takes 9 s\n/close");
      const reply = await run(tess, `issue new acme/app --from ${permalink}`);
      const created = newestIssue("acme/app")!;
      expect(reply).toEqual({ response_type: "in_channel", text: `@tess created [acme/app#${created.iid} Search is slow](${issueUrl("acme/app", created.iid)})` });
      expect(created.title).toBe("Search is slow");
      // Quoted, so GitLab runs no quick action from it; mentions defused, as they name Mattermost people.
      expect(created.description).toBe(`> Search is slow\n> \n> @${Z}tess it takes 9 s\n> /close\n\nPosted by \`@alice\` in Mattermost: ${permalink}`);
      expect(created.state).toBe("opened");
    });

    it("caps the title at GitLab's 255 characters and answers only the person for a post of another channel", async () => {
      const permalink = await postAs(alice, lounge, `${"word ".repeat(80)}\nmore`);
      const reply = await run(tess, `issue new acme/app --from ${permalink}`);
      const created = newestIssue("acme/app")!;
      expect(created.title.length).toBe(255);
      expect(created.title.endsWith("…")).toBe(true);
      expect(reply.response_type).toBe("ephemeral");
    });

    it("refuses a post of a channel the person is not in, though the bot can read it", async () => {
      const permalink = await postAs(alice, secret, "Private plans");
      const before = newestIssue("acme/app")?.iid;
      expect(await run(tess, `issue new acme/app --from ${permalink}`)).toEqual({
        response_type: "ephemeral",
        text: "You can only make an issue of a post in a channel you are a member of.",
      });
      expect(newestIssue("acme/app")?.iid).toBe(before);
    });

    it("refuses a post the bot cannot read", async () => {
      const permalink = await postAs(alice, botless, "Bot-free zone");
      expect(await run(tess, `issue new acme/app --from ${permalink}`)).toEqual({
        response_type: "ephemeral",
        text: "The bot cannot read that post: it was deleted, or the bot is not in its channel.",
      });
    });

    it("takes only permalinks of this Mattermost server", async () => {
      const permalink = await postAs(alice, town, "Elsewhere");
      const foreign = permalink.replace(mm.url, "https://mm.evil.example");
      const reply = await run(tess, `issue new acme/app --from ${foreign}`);
      expect(reply.response_type).toBe("ephemeral");
      expect(reply.text).toBe(`"${foreign}" is not a post permalink of this Mattermost server: use the post's Copy Link.\nUsage: \`/gitlab issue new <project> (<title> [newline then description] | --from <Mattermost permalink>)\``);
      expect((await run(tess, `issue new acme/app --from ${mm.url}/team/channels/town`)).text).toMatch(/is not a post permalink/);
    });

    it("passes on GitLab's refusal when the person may not create issues in the project", async () => {
      const permalink = await postAs(alice, town, "Crash");
      expect((await run(tess, `issue new oss/lib --from ${permalink}`)).text).toBe("GitLab does not let you do that on oss/lib: 403 Forbidden");
      expect((await run(tess, `issue new acme/hidden --from ${permalink}`)).text).toBe("acme/hidden was not found: it does not exist, or your GitLab account cannot see it.");
    });
  });

  describe("results about a project that is not public", () => {
    it("are shown only to the person in a public channel, and posted there for a public project", async () => {
      const square = mm.addChannel({ name: "square", type: "O" });
      mm.addMember(square.id, tess.id);
      const hidden = await run(tess, "issue new acme/app Internal roadmap", square);
      const iid = newestIssue("acme/app")!.iid;
      expect(hidden).toEqual({
        response_type: "ephemeral",
        text: `@tess created [acme/app#${iid} Internal roadmap](${issueUrl("acme/app", iid)}) (the project is not public and this channel is: this answer is shown only to you)`,
      });
      gitlab.addProject("oss/site", "public");
      gitlab.addMember("oss/site", tessGl, 30);
      const open = await run(tess, "issue new oss/site Public bug", square);
      expect(open.response_type).toBe("in_channel");
    });
  });

  describe("issue show", () => {
    it("shows state, assignees, labels and the description only to the person", async () => {
      await run(tess, "issue new acme/app Slow build ~ci @dana\nIt takes *ages* @all");
      const iid = newestIssue("acme/app")!.iid;
      const reply = await run(gus, `issue show acme/app#${iid}`);
      expect(reply).toEqual({
        response_type: "ephemeral",
        text: [`**[acme/app#${iid} Slow build](${issueUrl("acme/app", iid)})**`, "State: Open", `Assignees: @${Z}dana`, "Labels: ci", `> It takes \\*ages\\* @${Z}all`].join("\n"),
      });
    });

    it("takes the issue's GitLab link too", async () => {
      const iid = seedIssue("acme/app", "Linked", tessGl);
      expect((await run(tess, `issue show ${issueUrl("acme/app", iid)}`)).text.split("\n")[0]).toBe(`**[acme/app#${iid} Linked](${issueUrl("acme/app", iid)})**`);
    });

    it("shows a confidential issue to a Reporter and is not found for a Guest", async () => {
      const iid = seedIssue("acme/app", "Secret", dana, { confidential: true });
      expect((await run(tess, `issue show acme/app#${iid}`)).text.split("\n")[1]).toBe("State: Open · Confidential");
      expect(await run(gus, `issue show acme/app#${iid}`)).toEqual({
        response_type: "ephemeral",
        text: `acme/app#${iid} was not found: it does not exist, or your GitLab account cannot see it.`,
      });
    });

    it("passes on GitLab's 403", async () => {
      const iid = seedIssue("acme/app", "Any", dana);
      gitlab.failNext({ method: "GET", path: new RegExp(`/issues/${iid}$`), status: 403, body: { message: "403 Forbidden" } });
      expect((await run(tess, `issue show acme/app#${iid}`)).text).toBe(`GitLab does not let you do that on acme/app#${iid}: 403 Forbidden`);
    });

    it("shows the usage line for anything but one issue reference", async () => {
      expect((await run(tess, "issue show acme/app")).text).toBe(
        "\"acme/app\" is not an issue: write it as `my-group/my-project#12`, or paste the issue's GitLab link.\nUsage: `/gitlab issue show <project>#<iid>`",
      );
      expect((await run(tess, "issue show acme/app#1 acme/app#2")).text).toBe("Usage: `/gitlab issue show <project>#<iid>`");
    });
  });

  describe("issue close and reopen", () => {
    it("closes and reopens as a Developer, in the channel, and says when there is nothing to do", async () => {
      const iid = seedIssue("acme/app", "Flaky test", dana);
      const link = `[acme/app#${iid} Flaky test](${issueUrl("acme/app", iid)})`;
      expect(await run(tess, `issue close acme/app#${iid}`)).toEqual({ response_type: "in_channel", text: `@tess closed ${link}` });
      expect(gitlab.issue("acme/app", iid)?.state).toBe("closed");
      expect(await run(tess, `issue close acme/app#${iid}`)).toEqual({ response_type: "ephemeral", text: `${link} is already closed.` });
      expect(await run(tess, `issue reopen acme/app#${iid}`)).toEqual({ response_type: "in_channel", text: `@tess reopened ${link}` });
      expect(gitlab.issue("acme/app", iid)?.state).toBe("opened");
      expect(await run(tess, `issue reopen acme/app#${iid}`)).toEqual({ response_type: "ephemeral", text: `${link} is already open.` });
      expect(await counted("issue.close", "ok")).toBe(1);
      expect(await counted("issue.reopen", "ok")).toBe(1);
    });

    it("lets a Guest close their own issue but not someone else's (403)", async () => {
      const others = seedIssue("acme/app", "Not yours", dana);
      expect(await run(gus, `issue close acme/app#${others}`)).toEqual({ response_type: "ephemeral", text: `GitLab does not let you do that on acme/app#${others}: 403 Forbidden` });
      expect(gitlab.issue("acme/app", others)?.state).toBe("opened");
      expect(await counted("issue.close", "forbidden")).toBe(1);
      const own = seedIssue("acme/app", "Mine", gusGl);
      expect((await run(gus, `issue close acme/app#${own}`)).response_type).toBe("in_channel");
    });

    it("answers only the person about a confidential issue", async () => {
      const iid = seedIssue("acme/app", "Hush", dana, { confidential: true });
      const reply = await run(tess, `issue close acme/app#${iid}`);
      expect(reply).toEqual({ response_type: "ephemeral", text: `@tess closed [acme/app#${iid} Hush](${issueUrl("acme/app", iid)}) (confidential: this answer is shown only to you)` });
    });

    it("says an issue that does not exist was not found, and shows the usage line without one", async () => {
      expect((await run(tess, "issue reopen acme/app#99999")).text).toBe("acme/app#99999 was not found: it does not exist, or your GitLab account cannot see it.");
      expect((await run(tess, "issue close")).text).toBe("Usage: `/gitlab issue close <project>#<iid>`");
    });
  });

  describe("issue comment", () => {
    it("posts the text, lines and all, as the person and shows it in the channel", async () => {
      const iid = seedIssue("acme/app", "Crash", dana);
      const reply = await run(gus, `issue comment acme/app#${iid} Seen it too.\n\nOn **Firefox** @all`);
      const note = gitlab.issue("acme/app", iid)!.notes.at(-1)!;
      expect(note).toEqual({ body: "Seen it too.\n\nOn **Firefox** @all", authorId: gusGl.id });
      expect(reply.response_type).toBe("in_channel");
      expect(reply.text).toMatch(new RegExp(`^@gus commented on \\[acme/app#${iid} Crash\\]\\(${issueUrl("acme/app", iid).replace(/[.]/g, "\\.")}#note_\\d+\\)\n`));
      expect(reply.text.split("\n").slice(1)).toEqual(["> Seen it too.", "> ", `> On \\*\\*Firefox\\*\\* @${Z}all`]);
      expect(await counted("issue.comment", "ok")).toBe(1);
    });

    it("answers only the person about a confidential issue", async () => {
      const iid = seedIssue("acme/app", "Hush", dana, { confidential: true });
      expect((await run(tess, `issue comment acme/app#${iid} noted`)).response_type).toBe("ephemeral");
      expect(gitlab.issue("acme/app", iid)!.notes).toHaveLength(1);
    });

    it("passes on GitLab's refusals: not found, and 403", async () => {
      const secretIssue = seedIssue("acme/app", "Hush", dana, { confidential: true });
      expect((await run(gus, `issue comment acme/app#${secretIssue} hi`)).text).toBe(`acme/app#${secretIssue} was not found: it does not exist, or your GitLab account cannot see it.`);
      expect(gitlab.issue("acme/app", secretIssue)!.notes).toEqual([]);
      const iid = seedIssue("acme/app", "Locked", dana);
      gitlab.failNext({ method: "POST", path: new RegExp(`/issues/${iid}/notes$`), status: 403, body: { message: "403 Forbidden" } });
      expect((await run(gus, `issue comment acme/app#${iid} hi`)).text).toBe(`GitLab does not let you do that on acme/app#${iid}: 403 Forbidden`);
    });

    it("shows the usage line without a text", async () => {
      expect((await run(tess, "issue comment acme/app#1")).text).toBe("Write the comment after the issue.\nUsage: `/gitlab issue comment <project>#<iid> <text>`");
    });
  });

  describe("issue search", () => {
    it("lists the first five matches with state and link, only to the person", async () => {
      for (let n = 1; n <= 7; n++) seedIssue("acme/other", `Timeout in step ${n}`, dana, { state: n === 7 ? "closed" : "opened" });
      seedIssue("acme/other", "Unrelated", dana);
      const reply = await run(tess, "issue search acme/other timeout");
      expect(reply.response_type).toBe("ephemeral");
      const lines = reply.text.split("\n");
      expect(lines[0]).toBe('Issues of acme/other matching "timeout": 7 found');
      expect(lines).toHaveLength(6);
      expect(lines[1]).toMatch(/^- \[acme\/other#\d+ Timeout in step 7\]\(.+\) · Closed$/);
      expect(lines[2]).toMatch(/^- \[acme\/other#\d+ Timeout in step 6\]\(.+\) · Open$/);
    });

    it("does not find confidential issues for a Guest", async () => {
      seedIssue("acme/other", "Quasar leak", dana, { confidential: true });
      expect((await run(tess, "issue search acme/other quasar")).text).toMatch(/: 1 found\n.+ · Open · Confidential$/);
      expect(await run(gus, "issue search acme/other quasar")).toEqual({ response_type: "ephemeral", text: 'No issue of acme/other matches "quasar".' });
    });

    it("passes on GitLab's refusals and shows the usage line without a query", async () => {
      expect((await run(tess, "issue search acme/hidden x")).text).toBe("acme/hidden was not found: it does not exist, or your GitLab account cannot see it.");
      gitlab.failNext({ method: "GET", path: /\/projects\/acme%2Fother\/issues$/, status: 403, body: { message: "403 Forbidden" } });
      expect((await run(tess, "issue search acme/other x")).text).toBe("GitLab does not let you do that on acme/other: 403 Forbidden");
      expect((await run(tess, "issue search acme/other")).text).toBe("Say what to search for after the project.\nUsage: `/gitlab issue search <project> <query>`");
    });
  });

  describe("issue move", () => {
    it("moves the issue as a Reporter of both projects and says where, in the channel", async () => {
      const iid = seedIssue("acme/app", "Wrong place", dana);
      const reply = await run(tess, `issue move acme/app#${iid} to acme/other`);
      const moved = gitlab.issue("acme/app", iid)!.movedTo!;
      expect(moved.project).toBe("acme/other");
      expect(gitlab.issue("acme/app", iid)?.state).toBe("closed");
      expect(gitlab.issue("acme/other", moved.iid)).toMatchObject({ title: "Wrong place", state: "opened" });
      expect(reply).toEqual({ response_type: "in_channel", text: `@tess moved acme/app#${iid} to [acme/other#${moved.iid} Wrong place](${issueUrl("acme/other", moved.iid)})` });
      expect(await counted("issue.move", "ok")).toBe(1);
    });

    it("answers only the person about a confidential issue", async () => {
      const iid = seedIssue("acme/app", "Hush", dana, { confidential: true });
      expect((await run(tess, `issue move acme/app#${iid} to acme/other`)).response_type).toBe("ephemeral");
    });

    it("passes on GitLab's refusal for a Guest, and a target it cannot see", async () => {
      const iid = seedIssue("acme/app", "Stay", gusGl);
      expect((await run(gus, `issue move acme/app#${iid} to acme/other`)).text).toBe(`GitLab refused it for acme/app#${iid}: Cannot move issue due to insufficient permissions!`);
      expect(gitlab.issue("acme/app", iid)?.movedTo).toBeUndefined();
      expect(await counted("issue.move", "invalid")).toBe(1);
      expect((await run(tess, `issue move acme/app#${iid} to acme/hidden`)).text).toBe("acme/hidden was not found: it does not exist, or your GitLab account cannot see it.");
      expect((await run(tess, `issue move acme/app#${iid} to acme/app`)).text).toBe(`GitLab refused it for acme/app#${iid}: Cannot move issue to project it originates from!`);
    });

    it("shows the usage line without `to <project>`", async () => {
      expect((await run(tess, "issue move acme/app#1 acme/other")).text).toBe("Usage: `/gitlab issue move <project>#<iid> to <project>`");
    });
  });

  it("lists the issue commands in help", async () => {
    const help = (await run(tess, "help issue")).text.split("\n");
    expect(help.map((line) => line.slice(0, line.indexOf("`:") + 1))).toEqual([
      "- `/gitlab issue new <project> (<title> [newline then description] | --from <Mattermost permalink>)`",
      "- `/gitlab issue show <project>#<iid>`",
      "- `/gitlab issue close <project>#<iid>`",
      "- `/gitlab issue reopen <project>#<iid>`",
      "- `/gitlab issue comment <project>#<iid> <text>`",
      "- `/gitlab issue search <project> <query>`",
      "- `/gitlab issue move <project>#<iid> to <project>`",
    ]);
  });
});
