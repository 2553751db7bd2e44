import { describe, expect, it } from "vitest";
import { LOCALES } from "../../src/config.js";
import { en, placeholdersOf, t, zhCN } from "../../src/i18n/index.js";

const catalogs: Record<string, Record<string, string>> = { en, "zh-CN": zhCN };
const sorted = (xs: string[]) => [...new Set(xs)].sort();

describe("message catalogs", () => {
  it("has a catalog for every locale the config accepts", () => {
    expect(Object.keys(catalogs).sort()).toEqual([...LOCALES].sort());
  });

  it.each(Object.keys(catalogs))("%s has exactly the English keys", (locale) => {
    const catalog = catalogs[locale] ?? {};
    expect(Object.keys(catalog).sort()).toEqual(Object.keys(en).sort());
  });

  it.each(Object.keys(catalogs))("%s uses the same placeholders as English in every message", (locale) => {
    const catalog = catalogs[locale] ?? {};
    for (const [key, message] of Object.entries(en)) {
      expect(sorted(placeholdersOf(catalog[key] ?? "")), `${locale} ${key}`).toEqual(sorted(placeholdersOf(message)));
    }
  });

  it.each(Object.keys(catalogs))("%s has no empty message and no stray brace", (locale) => {
    for (const [key, message] of Object.entries(catalogs[locale] ?? {})) {
      expect(message.trim(), `${locale} ${key}`).not.toBe("");
      expect(message.replace(/\{\w+\}/g, ""), `${locale} ${key}`).not.toMatch(/[{}]/);
    }
  });

  it("writes Chinese messages in Chinese, with full-width punctuation", () => {
    for (const [key, message] of Object.entries(zhCN)) {
      const text = message.replace(/\{\w+\}/g, "");
      if (key.startsWith("duration.")) continue;
      expect(text, key).toMatch(/[\u4e00-\u9fff]/);
      expect(text, key).not.toMatch(/[(),;]/);
    }
  });
});

describe("t", () => {
  it("fills placeholders, in the asked language", () => {
    expect(t("en", "push.deleted_branch", { actor: "@x", branch: "main" })).toBe("@x deleted branch main");
    expect(t("zh-CN", "push.deleted_branch", { actor: "@x", branch: "main" })).toBe("@x 删除了分支 main");
    expect(t("en", "push.pushed_other", { actor: "a", count: 3, branch: "b" })).toBe("a pushed 3 commits to b");
    expect(t("zh-CN", "common.read_more")).toBe("阅读全文");
  });

  it("inserts values as they are, once (no re-expansion of braces inside values)", () => {
    expect(t("en", "tag.pushed", { actor: "{tag}", tag: "v1" })).toBe("{tag} pushed tag v1");
  });

  it("falls back to English for an unknown locale at run time", () => {
    expect(t("fr" as "en", "common.compare")).toBe("Compare changes");
  });
});
