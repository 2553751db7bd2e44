// The settings file `gitlab-mm setup` writes: the values it sets replace those lines in place (an
// inline comment after an unquoted value stays), new ones go at the end, and every other line and
// comment stays as it was. The file holds secrets, so it is written 0600 through a temporary file and
// a rename: a reader never sees half of it and an earlier, wider mode does not survive.
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { parse as parseDotenv } from "dotenv";

export interface EnvFile {
  path: string;
  exists: boolean;
  text: string;
  /** The values as the bot will read them (dotenv). */
  values: Record<string, string>;
  /** Permission bits, when the file exists. */
  mode?: number;
}

export const ENV_FILE_MODE = 0o600;

export function readEnvFile(path: string): EnvFile {
  if (!existsSync(path)) return { path, exists: false, text: "", values: {} };
  const text = readFileSync(path, "utf8");
  return { path, exists: true, text, values: parseDotenv(text), mode: statSync(path).mode & 0o777 };
}

/** The name a line assigns (`NAME=...` or `export NAME=...`), else undefined. */
function assignedName(line: string): string | undefined {
  let rest = line.trimStart();
  if (rest.startsWith("#")) return undefined;
  if (rest.startsWith("export ")) rest = rest.slice("export ".length).trimStart();
  const eq = rest.indexOf("=");
  if (eq <= 0) return undefined;
  return rest.slice(0, eq).trimEnd();
}

/** An inline comment after an unquoted value (` # ...`), to keep when the value changes. */
function inlineComment(line: string): string {
  const eq = line.indexOf("=");
  const value = line.slice(eq + 1).trimStart();
  if (value.startsWith('"') || value.startsWith("'") || value.startsWith("`")) return "";
  const hash = value.indexOf(" #");
  return hash === -1 ? "" : value.slice(hash);
}

/**
 * The value as dotenv reads it back: plain when it needs no quoting, else in the first of ' ` " it
 * does not hold (dotenv takes quoted text as it is, with no escapes to undo).
 */
function formatValue(value: string): string {
  let plain = true;
  for (const ch of value) {
    const safe = (ch >= "a" && ch <= "z") || (ch >= "A" && ch <= "Z") || (ch >= "0" && ch <= "9") || "_-.:/,+=@%~".includes(ch);
    if (!safe) plain = false;
  }
  if (plain) return value;
  const quote = ["'", "`", '"'].find((q) => !value.includes(q) && !value.includes("\n"));
  if (quote === undefined) throw new Error("a setting holds quotes of every kind or a line break: it cannot be written to a .env file");
  return `${quote}${value}${quote}`;
}

/** `text` with each setting's lines set to the value (or the setting added at the end). */
export function withSettings(text: string, settings: Record<string, string>): string {
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const lines = text === "" ? [] : text.split(eol);
  const trailingNewline = lines.length > 0 && lines[lines.length - 1] === "";
  if (trailingNewline) lines.pop();
  const placed = new Set<string>();
  const out = lines.map((line) => {
    const name = assignedName(line);
    if (name === undefined || !(name in settings)) return line;
    placed.add(name);
    const indent = line.slice(0, line.length - line.trimStart().length);
    const exported = line.trimStart().startsWith("export ") ? "export " : "";
    return `${indent}${exported}${name}=${formatValue(settings[name]!)}${inlineComment(line)}`;
  });
  const added = Object.keys(settings).filter((name) => !placed.has(name));
  if (added.length > 0) {
    if (out.length > 0 && out[out.length - 1]!.trim() !== "") out.push("");
    out.push("# Written by gitlab-mm setup.");
    for (const name of added) out.push(`${name}=${formatValue(settings[name]!)}`);
  }
  return out.length === 0 ? "" : `${out.join(eol)}${eol}`;
}

/** Writes the file 0600, replacing it whole at once. */
export function writeEnvFile(path: string, text: string): void {
  const temporary = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    writeFileSync(temporary, text, { mode: ENV_FILE_MODE, flag: "wx" });
    // The mode given to open is narrowed by the umask, never widened; set it exactly.
    chmodSync(temporary, ENV_FILE_MODE);
    renameSync(temporary, path);
  } catch (error) {
    if (existsSync(temporary)) unlinkSync(temporary);
    throw error;
  }
}
