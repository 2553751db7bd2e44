// Dates as a post shows them: the day only, the way GitLab's own pages do.
import { escapeInline } from "../src/text/markdown.js";

/**
 * "2025-06-30" from "2025-06-30", "2020-12-14T00:00:00Z" or "2025-06-16 14:10:57 UTC" (the day as
 * GitLab wrote it, no time-zone shift); anything else is shown as escaped text; nothing gives "".
 */
export function dateText(value: string | null | undefined): string {
  if (!value) return "";
  const m = /^\s*(\d{4}-\d{2}-\d{2})(?=$|[T\s])/.exec(value);
  return m ? (m[1] as string) : escapeInline(value, 40);
}
