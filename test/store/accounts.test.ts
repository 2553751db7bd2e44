import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteUserLink, findUserLink, findUserLinksByGitlabIds, findUserLinksByUsernames, listUserLinks, saveUserLink, updateUserTokens } from "../../src/store/user-links.js";
import { DEFAULT_SETTINGS, getUserSettings, getUserSettingsMany, updateUserSettings } from "../../src/store/user-settings.js";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../support/db.js";

describe.each(databaseKinds)("accounts store on %s", (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(kind);
  });
  afterAll(() => t.drop());

  const link = (mm: string, id: number, name: string) => ({
    mattermostUserId: mm,
    gitlabUserId: id,
    gitlabUsername: name,
    accessTokenEnc: `enc-a-${mm}`,
    refreshTokenEnc: `enc-r-${mm}`,
    expiresAt: 1_700_000_000_000,
  });

  it("links, finds by username (any case) and id, relinks and unlinks", async () => {
    await saveUserLink(t.db, link("mm1", 11, "J.Smith"));
    await saveUserLink(t.db, link("mm2", 22, "ada_l"));
    expect((await findUserLink(t.db, "mm1"))?.gitlabUsername).toBe("J.Smith");
    expect((await findUserLinksByUsernames(t.db, ["j.smith", "ADA_L", "nobody"])).map((l) => l.mattermostUserId).sort()).toEqual(["mm1", "mm2"]);
    expect((await findUserLinksByGitlabIds(t.db, [22])).map((l) => l.mattermostUserId)).toEqual(["mm2"]);

    // The same GitLab account connected from another Mattermost user moves there.
    await saveUserLink(t.db, link("mm3", 11, "J.Smith"));
    expect(await findUserLink(t.db, "mm1")).toBeUndefined();
    expect((await listUserLinks(t.db)).map((l) => l.mattermostUserId).sort()).toEqual(["mm2", "mm3"]);

    await updateUserTokens(t.db, "mm3", { accessTokenEnc: "a2", refreshTokenEnc: "r2", expiresAt: 5 });
    expect(await findUserLink(t.db, "mm3")).toMatchObject({ accessTokenEnc: "a2", refreshTokenEnc: "r2", expiresAt: 5, gitlabUserId: 11 });
    expect(await deleteUserLink(t.db, "mm3")).toBe(true);
    expect(await deleteUserLink(t.db, "mm3")).toBe(false);
  });

  it("has defaults and keeps changes", async () => {
    expect(await getUserSettings(t.db, "u1")).toEqual(DEFAULT_SETTINGS);
    await updateUserSettings(t.db, "u1", { digest: "1h", language: "zh-CN" });
    await updateUserSettings(t.db, "u1", { notifications: false });
    expect(await getUserSettings(t.db, "u1")).toEqual({ ...DEFAULT_SETTINGS, digest: "1h", language: "zh-CN", notifications: false });
    await updateUserSettings(t.db, "u1", { language: undefined });
    expect((await getUserSettings(t.db, "u1")).language).toBeUndefined();
    const many = await getUserSettingsMany(t.db, ["u1", "u2"]);
    expect(many.get("u2")).toEqual(DEFAULT_SETTINGS);
    expect(many.get("u1")?.notifications).toBe(false);
  });
});
