// Slashes trimmed by index, not by a regular expression: /\/+$/ retries its whole run of slashes from
// every slash when the text does not end there, quadratic time over a URL a stranger wrote.

/** The text without leading and trailing "/". */
export function trimSlashes(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && s[start] === "/") start++;
  while (end > start && s[end - 1] === "/") end--;
  return s.slice(start, end);
}

/** The text without trailing "/" (a URL's scheme slashes stay). */
export function trimTrailingSlashes(s: string): string {
  let end = s.length;
  while (end > 0 && s[end - 1] === "/") end--;
  return s.slice(0, end);
}
