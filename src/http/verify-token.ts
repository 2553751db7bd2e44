import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Constant-time comparison of a presented secret with the accepted ones. Both sides are hashed first
 * so lengths never differ and the comparison never stops early; every candidate is compared.
 */
export function secretMatches(presented: string | undefined | null, accepted: readonly string[]): boolean {
  if (presented === undefined || presented === null) return false;
  const given = createHash("sha256").update(presented).digest();
  let ok = false;
  for (const secret of accepted) {
    const expected = createHash("sha256").update(secret).digest();
    if (timingSafeEqual(given, expected)) ok = true;
  }
  return ok;
}
