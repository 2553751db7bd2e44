// `/gitlab todo`: what waits for the user in the GitLab simulator, asked with their own token.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCommand } from "../../commands/index.js";
import type { CommandReply } from "../../commands/types.js";
import type { GitlabAccounts } from "../../src/gitlab/accounts.js";
import { updateUserSettings } from "../../src/store/user-settings.js";
import { type TestDatabase } from "../support/db.js";
import { linkUser } from "../support/gitlab-accounts.js";
import { type GitlabSim, type GitlabSimUser } from "../support/gitlab-sim.js";
import { type MattermostSim, type SimUser } from "../support/mattermost-sim.js";
import { startCommandTestbed, type CommandTestbed } from "./testbed.js";

const Z = "\u200B";

describe("/gitlab todo", () => {
  let bed: CommandTestbed;
  let mm: MattermostSim;
  let gitlab: GitlabSim;
  let t: TestDatabase;
  let accounts: GitlabAccounts;
  let user: SimUser;
  let me: GitlabSimUser;
  let bob: GitlabSimUser;

  beforeAll(async () => {
    bed = await startCommandTestbed();
    ({ mm, gitlab, t, accounts } = bed);
    user = mm.addUser({ username: "tess" });
    me = gitlab.addUser({ username: "tess" });
    bob = gitlab.addUser({ username: "bob" });
    const stranger = gitlab.addUser({ username: "stranger" });
    gitlab.addProject("acme/app", "private");
    gitlab.addProject("acme/secret", "private");
    for (const u of [me, bob]) gitlab.addMember("acme/app", u, 30);
    gitlab.addMember("acme/secret", stranger, 30);
    // Seven merge requests await tess's review (five shown), one she wrote, one closed, one she cannot see.
    for (let iid = 1; iid <= 7; iid++) gitlab.addMergeRequest({ project: "acme/app", iid, title: `Change ${iid}`, author: bob, reviewers: [me] });
    gitlab.addMergeRequest({ project: "acme/app", iid: 8, title: "Mine [draft]", author: me, reviewers: [bob] });
    gitlab.addMergeRequest({ project: "acme/app", iid: 9, title: "Old", author: bob, reviewers: [me], state: "closed" });
    gitlab.addMergeRequest({ project: "acme/secret", iid: 1, title: "Hidden", author: stranger, reviewers: [me] });
    gitlab.addIssue({ project: "acme/app", iid: 3, title: "Crash on start @all", author: bob, assignees: [me] });
    gitlab.addIssue({ project: "acme/app", iid: 4, title: "Not mine", author: bob, assignees: [bob] });
    gitlab.addTodo(me, { project: "acme/app", target: "MergeRequest", iid: 7, action: "review_requested", author: bob });
    gitlab.addTodo(me, { project: "acme/app", target: "Issue", iid: 3, action: "assigned", author: bob });
    gitlab.addTodo(me, { project: "acme/app", target: "Issue", iid: 4, action: "mentioned", author: bob, state: "done" });
    await linkUser(accounts, gitlab, user.id, me);
  });
  afterAll(async () => {
    await bed.close();
  });

  function run(who: SimUser, text = "todo", ready = true): Promise<CommandReply> {
    return runCommand(text, bed.base(who, { id: "c".repeat(26), name: "town" }, ready ? {} : { gitlab: { ready: false, missing: ["GITLAB_URL"] } }));
  }

  it("lists counts and the top items of each list, with links, privately", async () => {
    const reply = await run(user);
    expect(reply.response_type).toBe("ephemeral");
    const g = gitlab.url;
    expect(reply.text).toBe(
      [
        "**Your GitLab to-do list**",
        "",
        "**Pending to-dos**: 2",
        `- [acme/app#3 Crash on start @${Z}all](${g}/acme/app/-/issues/3) · assigned to you · @${Z}bob`,
        `- [acme/app!7 Change 7](${g}/acme/app/-/merge_requests/7) · review requested · @${Z}bob`,
        "",
        "**Merge requests awaiting your review**: 7",
        ...[7, 6, 5, 4, 3].map((i) => `- [acme/app!${i} Change ${i}](${g}/acme/app/-/merge_requests/${i}) · @${Z}bob`),
        `- […and 2 more](${g}/dashboard/merge_requests?reviewer_username=tess)`,
        "",
        "**Your open merge requests**: 1",
        `- [acme/app!8 Mine \\[draft\\]](${g}/acme/app/-/merge_requests/8) · @${Z}tess`,
        "",
        "**Issues assigned to you**: 1",
        `- [acme/app#3 Crash on start @${Z}all](${g}/acme/app/-/issues/3)`,
      ].join("\n"),
    );
    expect(gitlab.unhandled).toEqual([]);
    expect(gitlab.requests.filter((r) => r.path.startsWith("/api/v4/") && r.userId === me.id).map((r) => r.path).sort()).toEqual([
      "/api/v4/issues",
      "/api/v4/merge_requests",
      "/api/v4/merge_requests",
      "/api/v4/todos",
    ]);
  });

  it("answers in the user's language", async () => {
    await updateUserSettings(t.db, user.id, { language: "zh-CN" });
    const reply = await run(user);
    expect(reply.text.split("\n").slice(0, 4)).toEqual([
      "**您的 GitLab 待办**",
      "",
      "**待办事项**：2",
      `- [acme/app#3 Crash on start @${Z}all](${gitlab.url}/acme/app/-/issues/3) · 指派给您 · @${Z}bob`,
    ]);
    await updateUserSettings(t.db, user.id, { language: undefined });
  });

  it("says so when nothing waits", async () => {
    const idle = mm.addUser({ username: "idle" });
    await linkUser(accounts, gitlab, idle.id, gitlab.addUser({ username: "idle" }));
    expect((await run(idle)).text).toBe("**Your GitLab to-do list**\nNothing is waiting for you in GitLab.");
  });

  it("asks to connect first, names missing settings, and reports a GitLab failure", async () => {
    const stranger = mm.addUser({ username: "nobody" });
    expect((await run(stranger)).text).toBe("Your Mattermost account is not connected to GitLab. Type `/gitlab connect` to connect it.");
    expect((await run(user, "todo", false)).text).toContain("`GITLAB_URL`");
    gitlab.failNext({ path: /^\/api\/v4\/todos$/, status: 500 });
    expect((await run(user)).text).toMatch(/^GitLab could not be asked for your to-do list just now: GitLab answered 500/);
    expect((await run(user, "todo everything")).text).toContain("Usage: `/gitlab todo`");
  });
});
