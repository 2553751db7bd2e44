import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commands, findCommand, runCommand, type CommandBase } from "../../commands/index.js";
import { splitWords } from "../../commands/words.js";
import { CommandError, ephemeral, type Command } from "../../commands/types.js";
import { createMattermostClient } from "../../src/mattermost/client.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { captureLogger, type CapturedLogger } from "./helpers.js";

describe("splitWords", () => {
  it("splits on any white space", () => {
    expect(splitWords("  subscriptions   add\tgroup/project\n issues ").words).toEqual(["subscriptions", "add", "group/project", "issues"]);
    expect(splitWords("").words).toEqual([]);
    expect(splitWords("   ").words).toEqual([]);
  });

  it("keeps a quoted feature value as one word, quotes and all", () => {
    expect(splitWords('subscriptions add g/p label:"two words" issues').words).toEqual(["subscriptions", "add", "g/p", 'label:"two words"', "issues"]);
    expect(splitWords('label:"a b",label:"c d"').words).toEqual(['label:"a b",label:"c d"']);
  });

  it("drops the quotes of a wholly quoted word", () => {
    expect(splitWords('issue new g/p "a title with spaces"').words).toEqual(["issue", "new", "g/p", "a title with spaces"]);
    expect(splitWords('""').words).toEqual([""]);
  });

  it("takes an unclosed quote literally", () => {
    expect(splitWords('comment he said "hi there').words).toEqual(["comment", "he", "said", '"hi', "there"]);
  });

  it("records where each word ends", () => {
    const text = 'a  "b c" d';
    const { words, ends } = splitWords(text);
    expect(words).toEqual(["a", "b c", "d"]);
    expect(ends.map((e) => text.slice(0, e))).toEqual(["a", 'a  "b c"', text]);
  });
});

const noop: Command["run"] = async () => ephemeral("ok");
const table: Command[] = [
  { name: "subscriptions", usage: "subscriptions", summary: "command.summary.subscriptions_list", run: noop },
  { name: "subscriptions add", usage: "subscriptions add <path>", summary: "command.summary.subscriptions_add", run: noop },
  { name: "issue", usage: "issue", summary: "command.summary.help", run: noop },
];

describe("findCommand", () => {
  it("prefers the longest matching name, whatever the table order", () => {
    expect(findCommand(["subscriptions", "add", "g/p"], table)?.name).toBe("subscriptions add");
    expect(findCommand(["subscriptions", "add"], [...table].reverse())?.name).toBe("subscriptions add");
    expect(findCommand(["subscriptions", "list"], table)?.name).toBe("subscriptions");
    expect(findCommand(["SUBSCRIPTIONS", "Add"], table)?.name).toBe("subscriptions add");
    expect(findCommand(["nothing"], table)).toBeUndefined();
  });

  it("has every real command reachable by its own name", () => {
    for (const c of commands) expect(findCommand(c.name.split(" "))).toBe(c);
  });
});

describe("runCommand", () => {
  let tdb: TestDatabase;
  let log: CapturedLogger;
  let base: CommandBase;

  beforeAll(async () => {
    tdb = await createTestDatabase("sqlite");
    log = captureLogger();
    base = {
      userId: "u1",
      userName: "alice",
      channelId: "c1",
      channelName: "town-square",
      teamId: "t1",
      db: tdb.db,
      // Never called by these tests: nothing here reaches Mattermost.
      mattermost: createMattermostClient("http://127.0.0.1:9", "unused"),
      config: { defaultLocale: "en", publicUrl: "http://localhost:8080" },
      logger: log.logger,
    };
  });
  afterAll(async () => {
    await tdb.drop();
  });

  it("answers an unknown subcommand with the usage of that family", async () => {
    const reply = await runCommand("subscriptions frobnicate", base);
    expect(reply.response_type).toBe("ephemeral");
    expect(reply.text).toContain('"frobnicate"');
    for (const c of commands.filter((c) => c.name.startsWith("subscriptions "))) expect(reply.text).toContain(`/gitlab ${c.usage}`);
  });

  it("answers a bare family name with its usage lines", async () => {
    const reply = await runCommand("subscriptions", base);
    expect(reply.text).toContain("/gitlab subscriptions add");
    expect(reply.text).toContain("/gitlab subscriptions list");
  });

  it("answers an unknown command with the help, its name escaped", async () => {
    const reply = await runCommand("@channel", base);
    expect(reply.response_type).toBe("ephemeral");
    expect(reply.text).toContain("@\u200Bchannel");
    expect(reply.text).not.toMatch(/@channel/);
    expect(reply.text).toContain("/gitlab help");
  });

  it("answers missing arguments with the command's usage, in the trigger Mattermost sent", async () => {
    const reply = await runCommand("subscriptions add", { ...base, trigger: "/gl" });
    expect(reply.response_type).toBe("ephemeral");
    expect(reply.text).toContain("Usage: `/gl subscriptions add <group[/subgroup]/project | group> [features]`");
  });

  it("hands the command its words and the raw rest of the text", async () => {
    let seen: { args: string[]; rest: string } | undefined;
    const echo: Command = {
      name: "issue new",
      usage: "issue new <project> <title>",
      summary: "command.summary.help",
      async run(ctx) {
        seen = { args: ctx.args, rest: ctx.rest };
        return ephemeral("");
      },
    };
    await runCommand('  Issue  NEW g/p "A title"  and more\nSecond line  ', base, [echo]);
    expect(seen).toEqual({ args: ["g/p", "A title", "and", "more", "Second", "line"], rest: 'g/p "A title"  and more\nSecond line' });
  });

  it("shows a CommandError's message, and the usage for code usage", async () => {
    const failing = (error: Error): Command => ({ name: "x", usage: "x <y>", summary: "command.summary.help", run: async () => Promise.reject(error) });
    expect(await runCommand("x", base, [failing(new CommandError("not_linked", "Connect your GitLab account first."))])).toEqual({
      response_type: "ephemeral",
      text: "Connect your GitLab account first.",
    });
    expect((await runCommand("x", base, [failing(new CommandError("usage", "Name a y."))])).text).toBe("Name a y.\nUsage: `/gitlab x <y>`");
  });

  it("logs an unexpected error and answers with an apology, never the error itself", async () => {
    const secret = "postgres://bot:hunter2@db/bot";
    const boom: Command = {
      name: "boom",
      usage: "boom",
      summary: "command.summary.help",
      run: async () => {
        throw new Error(`connection to ${secret} failed`);
      },
    };
    const reply = await runCommand("boom", base, [boom]);
    expect(reply.response_type).toBe("ephemeral");
    expect(reply.text).toMatch(/^Sorry/);
    expect(reply.text).not.toContain("hunter2");
    expect(reply.text).not.toMatch(/\n\s+at /);
    const logged = log.lines().find((l) => l.msg === "slash command failed");
    expect(logged).toMatchObject({ command: "boom", channel_id: "c1", user_id: "u1" });
  });
});
