// Shared by the command tests: a pino logger whose lines the test can read.
import { pino } from "pino";
import type { Logger } from "../../src/logger.js";

export interface CapturedLogger {
  logger: Logger;
  /** Every line logged so far, parsed. */
  lines(): Record<string, unknown>[];
  /** Everything logged so far, as text (to check that no secret slipped in). */
  text(): string;
}

export function captureLogger(): CapturedLogger {
  const raw: string[] = [];
  const logger = pino({ level: "debug" }, { write: (s: string) => void raw.push(s) });
  return {
    logger,
    lines: () => raw.map((s) => JSON.parse(s) as Record<string, unknown>),
    text: () => raw.join(""),
  };
}
