import { describe, expect, it } from "vitest";
import { notificationsFor } from "../../handlers/index.js";
import { push } from "../../handlers/push.js";
import { fieldsOf, fixture, only, renderBoth } from "./fixtures.js";

const Z = "\u200B";
const base = fixture("push.json", "push");
const ZERO = "0000000000000000000000000000000000000000";

describe("push", () => {
  it("lists the pushed commits, then how many more, then the compare link", () => {
    const n = only(push(base));
    expect(fieldsOf(n)).toEqual({
      feature: "pushes",
      projectPath: "mike/diaspora",
      eventKey: "push/15/refs/heads/master/95790bf891e76fee5e1747ab589903a6a1f80f22..da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
      labels: [],
      branch: "master",
      defaultBranch: "master",
      protectedBranch: true,
      confidential: false,
      actorUsername: "jsmith",
    });
    const commits =
      "[`b6568db1`](http://example.com/mike/diaspora/commit/b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327) Update Catalan translation to e38cb41. - Jordi Mallach\n" +
      "[`da156088`](http://example.com/mike/diaspora/commit/da1560886d4f094c3e6c9ef40349f7d38b5d27d7) fixed readme - GitLab dev user\n";
    const compare = "(http://example.com/mike/diaspora/-/compare/95790bf891e76fee5e1747ab589903a6a1f80f22...da1560886d4f094c3e6c9ef40349f7d38b5d27d7)";
    const attachment = {
      color: "#1f78d1",
      author_name: "John Smith",
      author_icon: "https://s.gravatar.com/avatar/d4c74594d841139328695756648b6bd6?s=8://s.gravatar.com/avatar/d4c74594d841139328695756648b6bd6?s=80",
    };
    expect(renderBoth(n)).toEqual({
      en: {
        message: `**[mike/diaspora](http://example.com/mike/diaspora)**: @${Z}jsmith pushed 4 commits to [master](http://example.com/mike/diaspora/-/tree/master)`,
        attachments: [
          {
            ...attachment,
            fallback: `mike/diaspora: @${Z}jsmith pushed 4 commits to master`,
            text: `${commits}…and 2 more commits\n[Compare changes]${compare}`,
          },
        ],
      },
      "zh-CN": {
        message: `**[mike/diaspora](http://example.com/mike/diaspora)**: @${Z}jsmith 向 [master](http://example.com/mike/diaspora/-/tree/master) 推送了 4 个提交`,
        attachments: [
          {
            ...attachment,
            fallback: `mike/diaspora: @${Z}jsmith 向 master 推送了 4 个提交`,
            text: `${commits}……还有 2 个提交\n[比较变更]${compare}`,
          },
        ],
      },
    });
  });

  it("is what notificationsFor gives for the raw payload and its header", () => {
    const result = notificationsFor(base, "Push Hook");
    expect(result.kind).toBe("push");
    expect(result.known).toBe(true);
    expect(result.notifications.map(fieldsOf)).toEqual(push(base).map(fieldsOf));
  });

  it("says a single commit in the singular", () => {
    const n = only(push({ ...base, commits: base.commits?.slice(1), total_commits_count: 1 }));
    expect(n.render("en").message).toBe(
      `**[mike/diaspora](http://example.com/mike/diaspora)**: @${Z}jsmith pushed 1 commit to [master](http://example.com/mike/diaspora/-/tree/master)`,
    );
    expect(n.render("en").attachments?.[0]?.text).not.toContain("more");
  });

  it("lists at most five commits", () => {
    const commit = base.commits?.[0];
    if (!commit) throw new Error("fixture has commits");
    const commits = Array.from({ length: 7 }, (_, i) => ({ ...commit, id: `${i}`.repeat(40), title: `commit ${i}`, url: `http://example.com/mike/diaspora/commit/${i}` }));
    const text = only(push({ ...base, commits, total_commits_count: 7 })).render("en").attachments?.[0]?.text ?? "";
    expect(text.split("\n")).toHaveLength(5 + 2);
    expect(text).toContain("commit 4");
    expect(text).not.toContain("commit 5");
    expect(text).toContain("…and 2 more commits");
  });

  it("announces a new branch, comparing it with the default branch", () => {
    const n = only(push({ ...base, before: ZERO, ref: "refs/heads/feature/login" }));
    expect(fieldsOf(n)).toMatchObject({
      eventKey: `push/15/refs/heads/feature/login/${ZERO}..da1560886d4f094c3e6c9ef40349f7d38b5d27d7`,
      branch: "feature/login",
    });
    const post = n.render("en");
    expect(post.message).toBe(
      `**[mike/diaspora](http://example.com/mike/diaspora)**: @${Z}jsmith pushed new branch [feature/login](http://example.com/mike/diaspora/-/tree/feature/login)`,
    );
    expect(post.attachments?.[0]?.text).toContain("[Compare changes](http://example.com/mike/diaspora/-/compare/master...feature/login)");
    expect(n.render("zh-CN").message).toBe(
      `**[mike/diaspora](http://example.com/mike/diaspora)**: @${Z}jsmith 推送了新分支 [feature/login](http://example.com/mike/diaspora/-/tree/feature/login)`,
    );
  });

  it("announces a deleted branch without commits or links to it", () => {
    const n = only(push({ ...base, after: ZERO, checkout_sha: null, commits: [], total_commits_count: 0 }));
    expect(n.eventKey).toBe(`push/15/refs/heads/master/95790bf891e76fee5e1747ab589903a6a1f80f22..${ZERO}`);
    expect(renderBoth(n)).toEqual({
      en: {
        message: `**[mike/diaspora](http://example.com/mike/diaspora)**: @${Z}jsmith deleted branch master`,
        attachments: [expect.objectContaining({ color: "#737278", fallback: `mike/diaspora: @${Z}jsmith deleted branch master` })],
      },
      "zh-CN": {
        message: `**[mike/diaspora](http://example.com/mike/diaspora)**: @${Z}jsmith 删除了分支 master`,
        attachments: [expect.objectContaining({ fallback: `mike/diaspora: @${Z}jsmith 删除了分支 master` })],
      },
    });
    expect(n.render("en").attachments?.[0]?.text).toBeUndefined();
  });

  it("posts nothing for a push that adds no commit to an existing branch", () => {
    expect(push({ ...base, commits: [], total_commits_count: 0 })).toEqual([]);
  });

  it("leaves protectedBranch unset when the payload does not say", () => {
    const { ref_protected: _omit, ...rest } = base;
    expect(only(push(rest)).protectedBranch).toBeUndefined();
  });
});
