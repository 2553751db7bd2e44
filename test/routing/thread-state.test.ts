import { describe, expect, it } from "vitest";
import { applyThreadUpdate, initialRootState, renderRoot, sameDisplay } from "../../src/routing/thread-state.js";

const post = { message: "**g/p**: @\u200Broot opened !1", attachments: [{ fallback: "opened !1", color: "#1f78d1", title: "!1 T", fields: [{ title: "Branches", value: "a → b" }] }] };

describe("thread root state", () => {
  it("starts from the first event and shows the state with its colour", () => {
    const s = initialRootState(post, "en", { state: "draft" });
    expect(renderRoot(s).attachments![0]).toMatchObject({ color: "#737278", fields: [{ title: "Branches" }, { title: "State", value: "Draft", short: true }] });
    expect(post.attachments[0]!.fields).toHaveLength(1);
  });

  it("collects approvals, forgets revoked ones and keeps the last pipeline", () => {
    let s = initialRootState(post, "zh-CN", { state: "opened" });
    s = applyThreadUpdate(s, { approvedBy: "ada" });
    s = applyThreadUpdate(s, { approvedBy: "bob" });
    s = applyThreadUpdate(s, { approvedBy: "ada" });
    s = applyThreadUpdate(s, { unapprovedBy: "bob" });
    s = applyThreadUpdate(s, { pipeline: { status: "failed", url: "http://x/p/1" } });
    s = applyThreadUpdate(s, { state: "merged" });
    expect(renderRoot(s).attachments![0]!.fields!.slice(1)).toEqual([
      { title: "状态", value: "已合并", short: true },
      { title: "批准人", value: "@\u200Bada", short: true },
      { title: "最近的流水线", value: "[已失败](http://x/p/1)", short: true },
    ]);
    expect(renderRoot(s).attachments![0]!.color).toBe("#6e49cb");
  });

  it("keeps the first post's buttons while its subject is open, and drops them once merged or closed", () => {
    const integration = { url: "https://bot.example.com/mattermost/actions", context: { v: 1 } };
    const withButtons = { ...post, attachments: [{ ...post.attachments[0]!, actions: [{ id: "mrmerge", name: "Merge", type: "button" as const, integration }] }] };
    const open = initialRootState(withButtons, "en", { state: "opened" });
    expect(renderRoot(applyThreadUpdate(open, { approvedBy: "ada" })).attachments![0]!.actions).toHaveLength(1);
    expect(renderRoot(applyThreadUpdate(open, { state: "merged" })).attachments![0]!.actions).toBeUndefined();
    expect(renderRoot(applyThreadUpdate(open, { state: "closed" })).attachments![0]!.actions).toBeUndefined();
    expect(renderRoot(applyThreadUpdate(applyThreadUpdate(open, { state: "closed" }), { state: "opened" })).attachments![0]!.actions).toHaveLength(1);
  });

  it("is unchanged by an update applied twice", () => {
    const once = applyThreadUpdate(initialRootState(post, "en"), { approvedBy: "ada" });
    expect(sameDisplay(once, applyThreadUpdate(once, { approvedBy: "ada" }))).toBe(true);
    expect(sameDisplay(once, applyThreadUpdate(once, { state: "closed" }))).toBe(false);
  });

  it("adds a status line to a root without attachments, and never pings approvers", () => {
    const s = applyThreadUpdate(initialRootState({ message: "hello" }, "en"), { approvedBy: "all" });
    expect(renderRoot(s).message).toBe("hello\n**Approved by:** @\u200Ball");
  });
});
