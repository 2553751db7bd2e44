// The `/gitlab` commands as Mattermost's slash-command autocomplete takes them, built from the table
// that dispatches them (commands/index.ts), so a hint cannot drift from its command:
// - `autocompleteData`: Mattermost's model.AutocompleteData (public/model/autocomplete_data.go:
//   Trigger, Hint, HelpText, RoleID, Arguments, SubCommands), one sub-command per word of each command
//   name, its usage after the name as the hint and its `help` summary as the help text; served as JSON
//   at GET /mattermost/autocomplete.
// - `autocompleteRegistration`: the `auto_complete*` fields of a plain custom slash command (what
//   Integrations > Slash Commands and `POST /api/v4/commands` take), for the setup command.
import { Hono } from "hono";
import { commands as commandTable } from "../../commands/index.js";
import { DEFAULT_TRIGGER } from "../../commands/help.js";
import type { Command } from "../../commands/types.js";
import type { Locale } from "../config.js";
import { t } from "../i18n/index.js";

/** Mattermost's role id for every user: the commands are offered to all, GitLab decides what each may do. */
const ALL_USERS = "system_user";

export interface AutocompleteData {
  Trigger: string;
  Hint: string;
  HelpText: string;
  RoleID: string;
  /** Always empty here: the hint shows the arguments (Mattermost allows arguments or sub-commands, not both). */
  Arguments: never[];
  SubCommands: AutocompleteData[];
}

function node(trigger: string, hint = "", helpText = ""): AutocompleteData {
  return { Trigger: trigger, Hint: hint, HelpText: helpText, RoleID: ALL_USERS, Arguments: [], SubCommands: [] };
}

/** The usage after the command's own words: "deploy <project> ..." -> "<project> ...". */
function argumentsOf(command: Command): string {
  const words = command.name.split(" ").length;
  return command.usage.split(" ").slice(words).join(" ");
}

/** The data for `trigger` (with or without its "/"), help texts in `locale`. */
export function autocompleteData(list: readonly Command[], trigger: string, locale: Locale): AutocompleteData {
  const root = node(trigger.startsWith("/") ? trigger.slice(1) : trigger, "[command]", t(locale, "autocomplete.description"));
  for (const command of list) {
    let at = root;
    for (const word of command.name.split(" ")) {
      let next = at.SubCommands.find((s) => s.Trigger === word);
      if (!next) {
        next = node(word);
        at.SubCommands.push(next);
      }
      at = next;
    }
    at.Hint = argumentsOf(command);
    at.HelpText = t(locale, command.summary);
  }
  // A word that only groups others ("subscriptions") names them as its hint.
  const nameGroups = (n: AutocompleteData) => {
    for (const sub of n.SubCommands) nameGroups(sub);
    if (n !== root && n.SubCommands.length > 0 && n.HelpText === "") n.Hint = `[${n.SubCommands.map((s) => s.Trigger).join("|")}]`;
  };
  nameGroups(root);
  return root;
}

/** What a custom slash command registration shows while typing: the first words, and what the command is for. */
export function autocompleteRegistration(list: readonly Command[], locale: Locale): { auto_complete: true; auto_complete_hint: string; auto_complete_desc: string } {
  const first = [...new Set(list.map((c) => c.name.split(" ")[0]!))];
  return { auto_complete: true, auto_complete_hint: `[${first.join("|")}]`, auto_complete_desc: t(locale, "autocomplete.description") };
}

/** GET /mattermost/autocomplete: the autocomplete data of the command table, in `locale`. */
export function autocompleteRoutes(deps: { locale: Locale; trigger?: string; list?: readonly Command[] }): Hono {
  const data = autocompleteData(deps.list ?? commandTable, deps.trigger ?? DEFAULT_TRIGGER, deps.locale);
  const app = new Hono();
  app.get("/mattermost/autocomplete", (c) => c.json(data));
  return app;
}
