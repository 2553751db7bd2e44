// A tiny message catalog: t(locale, key, vars) with {name} placeholders. Keys come from the English
// catalog, and each key's placeholders are checked at compile time.
import type { Locale } from "../config.js";
import { en } from "./en.js";
import { zhCN } from "./zh-CN.js";

export type MessageKey = keyof typeof en;

/** "{a} and {b}" -> "a" | "b". */
type Placeholders<S extends string> = S extends `${string}{${infer Name}}${infer Rest}` ? Name | Placeholders<Rest> : never;

/** The variables a message needs: none, or exactly its placeholders. */
export type MessageVars<K extends MessageKey> = [Placeholders<(typeof en)[K]>] extends [never]
  ? []
  : [vars: Record<Placeholders<(typeof en)[K]>, string | number>];

const catalogs: Record<Locale, Record<MessageKey, string>> = { en, "zh-CN": zhCN };

/** The placeholder names of a message, in order of appearance (duplicates kept). */
export function placeholdersOf(message: string): string[] {
  return [...message.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
}

/**
 * The message `key` in `locale` (English when the locale has no such catalog), with each `{name}`
 * replaced by `vars[name]`. Values are inserted as they are: pass text already made safe.
 */
export function t<K extends MessageKey>(locale: Locale, key: K, ...args: MessageVars<K>): string {
  const message: string = (catalogs[locale] ?? en)[key] ?? en[key] ?? key;
  const vars: Record<string, string | number> = args[0] ?? {};
  return message.replace(/\{(\w+)\}/g, (whole, name: string) => (Object.hasOwn(vars, name) ? String(vars[name]) : whole));
}

export { en, zhCN };
