// `/gitlab settings`: shows and changes every setting, replies in the user's language, and keeps the
// reminder's BullMQ scheduler in step (real Redis, databases and the Mattermost simulator).
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCommand } from "../../commands/index.js";
import { parseHour } from "../../commands/settings.js";
import type { CommandReply } from "../../commands/types.js";
import { createLogger } from "../../src/logger.js";
import { createMattermostClient, type MattermostApi } from "../../src/mattermost/client.js";
import { createProfiles } from "../../src/people/profiles.js";
import { reminderSchedulerId } from "../../src/people/reminders.js";
import { createPeopleServices, type PeopleServices } from "../../src/people/services.js";
import { producerConnection, waitReady } from "../../src/queue/connection.js";
import { openPersonalQueue, type PersonalQueue } from "../../src/queue/personal.js";
import { saveUserLink } from "../../src/store/user-links.js";
import { DEFAULT_SETTINGS, getUserSettings } from "../../src/store/user-settings.js";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../support/db.js";
import { startMattermostSim, type MattermostSim, type SimUser } from "../support/mattermost-sim.js";
import { dropPrefix, redisUrl, uniquePrefix } from "../support/redis.js";

describe("parseHour", () => {
  it.each([
    ["9", 9],
    ["09", 9],
    ["9:00", 9],
    ["21:00", 21],
    ["0", 0],
    ["9am", 9],
    ["12am", 0],
    ["12pm", 12],
    ["9pm", 21],
    ["24", undefined],
    ["9:30", undefined],
    ["13pm", undefined],
    ["nine", undefined],
  ])("%s -> %s", (text, hour) => expect(parseHour(text)).toBe(hour));
});

describe.each(databaseKinds)("/gitlab settings on %s", (dbKind) => {
  const prefix = uniquePrefix("settings");
  let sim: MattermostSim;
  let mattermost: MattermostApi;
  let t: TestDatabase;
  let redis: Redis;
  let queue: PersonalQueue;
  let people: PeopleServices;
  let user: SimUser;
  let chinese: SimUser;

  beforeAll(async () => {
    sim = await startMattermostSim();
    mattermost = createMattermostClient(sim.url, sim.botToken);
    t = await createTestDatabase(dbKind);
    redis = producerConnection(redisUrl);
    await waitReady(redis);
    queue = openPersonalQueue(redis, prefix);
    people = createPeopleServices({ db: t.db, queue, profiles: createProfiles({ mattermost, defaultLocale: "en" }) });
    user = sim.addUser({ username: "sam", timezone: { useAutomaticTimezone: "true", automaticTimezone: "Asia/Shanghai", manualTimezone: "" } });
    chinese = sim.addUser({ username: "li", locale: "zh-CN" });
    await saveUserLink(t.db, { mattermostUserId: user.id, gitlabUserId: 5, gitlabUsername: "sam", accessTokenEnc: "x", refreshTokenEnc: "y", expiresAt: 0 });
  });
  afterAll(async () => {
    await queue.close();
    redis.disconnect();
    await dropPrefix(prefix);
    await sim.close();
    await t.drop();
  });

  function run(who: SimUser, text: string): Promise<CommandReply> {
    return runCommand(text, {
      userId: who.id,
      userName: who.username,
      channelId: "c".repeat(26),
      channelName: "town",
      teamId: "t".repeat(26),
      db: t.db,
      mattermost,
      config: { defaultLocale: "en", publicUrl: "http://bot.test" },
      logger: createLogger("silent"),
      people,
    });
  }

  it("shows the settings, privately, with the reminder time in the user's time zone", async () => {
    const reply = await run(user, "settings");
    expect(reply.response_type).toBe("ephemeral");
    expect(reply.text.split("\n").slice(0, 7)).toEqual([
      "**Your GitLab notification settings**",
      "- Personal notifications: on",
      "- Daily reminder: on",
      "- Reminder time: 09:00 (Asia/Shanghai)",
      "- Reminders on weekends: off",
      "- Digest: off, each notification at once",
      "- Language: English, as in your Mattermost settings",
    ]);
    expect(reply.text).toContain("`/gitlab settings [notifications on|off]");
    expect(reply.text).not.toContain("not connected");
    // Showing them also scheduled the linked user's reminder.
    expect(await queue.getJobScheduler(reminderSchedulerId(user.id))).toMatchObject({ pattern: "0 9 * * 1-5", tz: "Asia/Shanghai" });
  });

  it("changes every setting, several at once, and reschedules the reminder", async () => {
    const reply = await run(user, "settings notifications off reminders at 7 weekends on digest 1h");
    expect(reply.text).toMatch(/^Settings saved\.\n\*\*Your GitLab notification settings\*\*\n- Personal notifications: off\n- Daily reminder: on\n- Reminder time: 07:00 \(Asia\/Shanghai\)\n- Reminders on weekends: on\n- Digest: every hour\n/);
    expect(await getUserSettings(t.db, user.id)).toEqual({ ...DEFAULT_SETTINGS, notifications: false, reminderHour: 7, reminderWeekends: true, digest: "1h" });
    expect(await queue.getJobScheduler(reminderSchedulerId(user.id))).toMatchObject({ pattern: "0 7 * * *", tz: "Asia/Shanghai" });

    await run(user, "settings reminder-hour 18");
    expect((await getUserSettings(t.db, user.id)).reminderHour).toBe(18);
    await run(user, "settings digest 15m");
    expect((await getUserSettings(t.db, user.id)).digest).toBe("15m");
    await run(user, "settings digest 1d notifications on");
    expect(await getUserSettings(t.db, user.id)).toMatchObject({ digest: "1d", notifications: true });

    await run(user, "settings reminders off");
    expect((await getUserSettings(t.db, user.id)).reminders).toBe(false);
    expect(await queue.getJobScheduler(reminderSchedulerId(user.id))).toBeUndefined();
    await run(user, "settings reminders on at 8am weekends off digest off");
    expect(await getUserSettings(t.db, user.id)).toEqual({ ...DEFAULT_SETTINGS, reminderHour: 8, digest: "off" });
    expect(await queue.getJobScheduler(reminderSchedulerId(user.id))).toMatchObject({ pattern: "0 8 * * 1-5" });
  });

  it("switches language, answering in the new one, and back to the Mattermost language", async () => {
    const zh = await run(user, "settings language zh-CN");
    expect(zh.text.split("\n").slice(0, 3)).toEqual(["设置已保存。", "**您的 GitLab 通知设置**", "- 个人通知：开启"]);
    expect(zh.text).toContain("- 语言：简体中文");
    expect((await getUserSettings(t.db, user.id)).language).toBe("zh-CN");
    const en = await run(user, "settings language en");
    expect(en.text).toContain("- Language: English\n");
    const auto = await run(user, "settings language auto");
    expect(auto.text).toContain("- Language: English, as in your Mattermost settings");
    expect((await getUserSettings(t.db, user.id)).language).toBeUndefined();
  });

  it("answers a Chinese Mattermost user in Chinese, and says they are not connected yet", async () => {
    const reply = await run(chinese, "settings");
    expect(reply.text).toContain("- 语言：简体中文，跟随您的 Mattermost 设置");
    expect(reply.text).toContain("- 提醒时间：09:00（UTC）");
    expect(reply.text).toContain("您尚未连接 GitLab");
    expect(await queue.getJobScheduler(reminderSchedulerId(chinese.id))).toBeUndefined();
  });

  it("gives help, usage, unknown-command and subscription answers in the person's language", async () => {
    const help = (await run(chinese, "help")).text;
    expect(help.split("\n")[0]).toBe("**GitLab 命令**（输入 `/gitlab help <命令>` 查看某个命令）");
    expect(help).toContain("- `/gitlab subscriptions list`: 显示此频道的订阅");
    expect((await run(chinese, "subscriptions")).text.split("\n")[0]).toBe("子命令未知或缺失。用法：");
    expect((await run(chinese, "bogus")).text.split("\n")[0]).toBe("未知命令“bogus”。");
    expect((await run(chinese, "me extra")).text).toBe("用法：`/gitlab me`");
    expect((await run(user, "help")).text).toContain("- `/gitlab subscriptions list`: show this channel's subscriptions");
    expect((await run(chinese, "subscriptions list")).text).toBe("此频道没有 GitLab 订阅。使用 `/gitlab subscriptions add <group/project>` 添加订阅。");
    expect((await run(chinese, "subscriptions delete /bad/")).text.split("\n")).toEqual([
      "“/bad/”不是 GitLab 项目或群组路径：请使用其 URL 中的路径，例如 `my-group/sub-group/my-project`（字母、数字、`_`、`.`、`-`；开头和结尾不能是 `/`）。",
      "用法：`/gitlab subscriptions delete <group[/subgroup]/project | group>`",
    ]);
  });

  it.each([
    ["settings notifications maybe", "`notifications` takes `on|off`."],
    ["settings digest 2h", "`digest` takes `off|15m|1h|1d`."],
    ["settings language fr", "`language` takes `en|zh-CN|auto`."],
    ["settings reminders at 25", "The reminder hour is a whole number from 0 to 23 (for example `reminders at 9`)."],
    ["settings colour blue", "There is no setting `colour`."],
  ])("%s is refused with the usage and changes nothing", async (text, message) => {
    const before = await getUserSettings(t.db, user.id);
    // Valid changes before the mistake are not made either.
    const reply = await run(user, text.replace("settings", "settings weekends on"));
    expect(reply.text.split("\n")[0]).toBe(message);
    expect(reply.text).toContain("Usage: `/gitlab settings [notifications on|off]");
    expect(await getUserSettings(t.db, user.id)).toEqual(before);
  });

  it("writes its refusals in the user's language", async () => {
    expect((await run(chinese, "settings digest weekly")).text.split("\n")[0]).toBe("`digest` 的取值为 `off|15m|1h|1d`。");
  });

  it("help lists the command", async () => {
    expect((await run(user, "help settings")).text).toContain("`/gitlab settings [notifications on|off] [reminders on|off] [reminders at <hour>]");
  });
});
