import { describe, expect, it } from "vitest";
import { notificationsFor } from "../../handlers/index.js";
import { wikiPage } from "../../handlers/wiki-page.js";
import { fieldsOf, fixture, only, renderBoth } from "./fixtures.js";

const Z = "\u200B";
const base = fixture("wiki_page.json", "wiki_page");
const withAction = (action: string, extra: Partial<typeof base.object_attributes> = {}) => ({
  ...base,
  object_attributes: { ...base.object_attributes, action, ...extra },
});
const project = "**[root/awesome-project](http://example.com/root/awesome-project)**";
const page = "[Awesome](http://example.com/root/awesome-project/-/wikis/awesome)";

describe("wiki page", () => {
  it("announces a created page with its commit message", () => {
    const n = only(wikiPage(base));
    expect(fieldsOf(n)).toEqual({
      feature: "wiki",
      projectPath: "root/awesome-project",
      eventKey: "wiki_page/1/awesome/create/3ad67c972065298d226dd80b2b03e0fc2421e731",
      labels: [],
      defaultBranch: "master",
      confidential: false,
      actorUsername: "root",
    });
    const common = {
      color: "#108548",
      author_name: "Administrator",
      author_icon: "http://www.gravatar.com/avatar/e64c7d89f26bd1972efa854d13d7dd61?s=80&d=identicon",
      text: "adding an awesome page to the wiki",
    };
    expect(renderBoth(n)).toEqual({
      en: {
        message: `${project}: @${Z}root created wiki page ${page}`,
        attachments: [{ ...common, fallback: `root/awesome-project: @${Z}root created wiki page Awesome` }],
      },
      "zh-CN": {
        message: `${project}: @${Z}root 创建了 Wiki 页面 ${page}`,
        attachments: [{ ...common, fallback: `root/awesome-project: @${Z}root 创建了 Wiki 页面 Awesome` }],
      },
    });
  });

  it("announces an update with a link to its changes", () => {
    const n = only(wikiPage(withAction("update", { version_id: "4be67c972065298d226dd80b2b03e0fc2421e999" })));
    expect(n.eventKey).toBe("wiki_page/1/awesome/update/4be67c972065298d226dd80b2b03e0fc2421e999");
    expect(n.render("en").message).toBe(`${project}: @${Z}root updated wiki page ${page}`);
    expect(n.render("zh-CN").message).toBe(`${project}: @${Z}root 更新了 Wiki 页面 ${page}`);
    expect(n.render("en").attachments?.[0]?.text).toBe(
      "adding an awesome page to the wiki\n[View changes](http://example.com/root/awesome-project/-/wikis/home/diff?version_id=78ee4a6705abfbff4f4132c6646dbaae9c8fb6ec)",
    );
    expect(n.render("zh-CN").attachments?.[0]?.text).toContain("[查看变更](");
  });

  it("announces a deletion without a link to the page", () => {
    const n = only(wikiPage(withAction("delete", { version_id: null })));
    expect(n.eventKey).toMatch(/^wiki_page\/1\/awesome\/delete\/[0-9a-f]{8}$/);
    expect(n.render("en").message).toBe(`${project}: @${Z}root deleted wiki page Awesome`);
    expect(n.render("zh-CN").message).toBe(`${project}: @${Z}root 删除了 Wiki 页面 Awesome`);
  });

  it("comes out of notificationsFor the same", () => {
    expect(notificationsFor(base, "Wiki Page Hook").notifications.map(fieldsOf)).toEqual(wikiPage(base).map(fieldsOf));
  });
});
