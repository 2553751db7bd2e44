// Slash-command autocomplete for Mattermost, built from the command table: every command reachable by
// its words with its usage and summary, in the shape Mattermost's model.AutocompleteData checks
// (public/model/autocomplete_data.go, IsValid), served at GET /mattermost/autocomplete.
import { describe, expect, it } from "vitest";
import { commands } from "../../commands/index.js";
import type { Command } from "../../commands/types.js";
import { autocompleteData, autocompleteRegistration, autocompleteRoutes, type AutocompleteData } from "../../src/http/autocomplete.js";
import { t } from "../../src/i18n/index.js";

/** Mattermost's AutocompleteData.IsValid, rule for rule: the problems it would refuse the data for. */
function mattermostProblems(data: AutocompleteData, at = "/"): string[] {
  const problems: string[] = [];
  if (data.Trigger === "") problems.push(`${at}: empty command name`);
  if (data.Trigger.toLowerCase() !== data.Trigger) problems.push(`${at}${data.Trigger}: command should be lowercase`);
  if (!["system_admin", "system_user", ""].includes(data.RoleID)) problems.push(`${at}${data.Trigger}: wrong role`);
  if (data.Arguments.length > 0 && data.SubCommands.length > 0) problems.push(`${at}${data.Trigger}: arguments and subcommands`);
  for (const sub of data.SubCommands) problems.push(...mattermostProblems(sub, `${at}${data.Trigger} `));
  return problems;
}

function find(data: AutocompleteData, words: string[]): AutocompleteData | undefined {
  let at: AutocompleteData | undefined = data;
  for (const word of words) at = at?.SubCommands.find((s) => s.Trigger === word);
  return at;
}

describe("slash-command autocomplete", () => {
  const data = autocompleteData(commands, "/gitlab", "en");

  it("offers every command of the table by its words, with its arguments as the hint and its summary as the help", () => {
    expect(data).toMatchObject({ Trigger: "gitlab", Hint: "[command]", HelpText: t("en", "autocomplete.description"), RoleID: "system_user" });
    for (const command of commands) {
      const entry = find(data, command.name.split(" "));
      expect(entry, command.name).toBeDefined();
      expect(`${command.name} ${entry!.Hint}`.trim()).toBe(command.usage);
      expect(entry!.HelpText).toBe(t("en", command.summary));
    }
    expect(find(data, ["deploy"])).toMatchObject({ Hint: "<project> <from-environment> to <to-environment>", SubCommands: [] });
    // A word that only groups commands names them.
    expect(find(data, ["webhook"])).toMatchObject({ Hint: "[add|list]", HelpText: "" });
    expect(find(data, ["subscriptions"])!.SubCommands.map((s) => s.Trigger)).toEqual(["add", "list", "delete"]);
  });

  it("is data Mattermost accepts", () => {
    expect(mattermostProblems(data)).toEqual([]);
    // The check itself catches what Mattermost refuses.
    expect(mattermostProblems({ ...data, Trigger: "GitLab" })).toEqual(["/GitLab: command should be lowercase"]);
  });

  it("follows the table: a command added there is offered, in the language asked for", () => {
    const extra: Command = { name: "zeta run", usage: "zeta run <job>", summary: "command.summary.deploy", run: () => Promise.reject(new Error("not run")) };
    const zh = autocompleteData([...commands, extra], "gl", "zh-CN");
    expect(zh.Trigger).toBe("gl");
    expect(find(zh, ["zeta", "run"])).toMatchObject({ Hint: "<job>", HelpText: t("zh-CN", "command.summary.deploy") });
    expect(find(zh, ["webhook", "add"])!.HelpText).toBe("让 GitLab 将项目或群组的事件发送给本机器人（项目的维护者、群组的所有者）");
  });

  it("gives the fields of a plain slash-command registration", () => {
    const registration = autocompleteRegistration(commands, "en");
    expect(registration.auto_complete).toBe(true);
    expect(registration.auto_complete_desc).toBe(t("en", "autocomplete.description"));
    const offered = registration.auto_complete_hint.slice(1, -1).split("|");
    expect(new Set(offered)).toEqual(new Set(commands.map((c) => c.name.split(" ")[0])));
    expect(offered).toContain("deploy");
    expect(offered).toContain("webhook");
  });

  it("serves the data as JSON at GET /mattermost/autocomplete", async () => {
    const res = await autocompleteRoutes({ locale: "en" }).request("/mattermost/autocomplete");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual(data);
    const zh = await autocompleteRoutes({ locale: "zh-CN" }).request("/mattermost/autocomplete");
    expect(((await zh.json()) as AutocompleteData).HelpText).toBe(t("zh-CN", "autocomplete.description"));
  });
});
