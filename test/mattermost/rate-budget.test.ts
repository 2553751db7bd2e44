import { describe, expect, it } from "vitest";
import { pauseForBudget, readRateBudget } from "../../src/mattermost/rate-budget.js";

const headers = (values: Record<string, string>) => (name: string) => values[name];

describe("reading Mattermost's rate limit headers", () => {
  it("reads the limit, what remains and the seconds until the bucket is full", () => {
    expect(readRateBudget(headers({ "x-ratelimit-limit": "101", "x-ratelimit-remaining": "37", "x-ratelimit-reset": "7" }))).toEqual({
      limit: 101,
      remaining: 37,
      resetSeconds: 7,
    });
  });

  it("has no budget when the limiter is off or a figure is missing or not a whole number", () => {
    expect(readRateBudget(headers({}))).toBeUndefined();
    expect(readRateBudget(headers({ "x-ratelimit-limit": "101", "x-ratelimit-remaining": "3" }))).toBeUndefined();
    expect(readRateBudget(headers({ "x-ratelimit-limit": "101", "x-ratelimit-remaining": "-1", "x-ratelimit-reset": "1" }))).toBeUndefined();
    expect(readRateBudget(headers({ "x-ratelimit-limit": "1e9", "x-ratelimit-remaining": "3", "x-ratelimit-reset": "1" }))).toBeUndefined();
    expect(readRateBudget(headers({ "x-ratelimit-limit": "9".repeat(5000), "x-ratelimit-remaining": "3", "x-ratelimit-reset": "1" }))).toBeUndefined();
  });
});

describe("holding off before the bucket is empty", () => {
  // Mattermost's defaults: 10 per second, a burst of 100 (reported as a limit of 101).
  it("does not hold off while twice the concurrency is left", () => {
    expect(pauseForBudget({ limit: 101, remaining: 15, resetSeconds: 9 }, 8)).toBe(0);
    expect(pauseForBudget({ limit: 101, remaining: 100, resetSeconds: 0 }, 8)).toBe(0);
  });

  it("holds off until twice the concurrency is back, at the rate the bucket refills", () => {
    // 86 tokens missing, full in 9 s: about 9.6 per second; one more token is wanted.
    expect(pauseForBudget({ limit: 101, remaining: 14, resetSeconds: 9 }, 8)).toBe(105);
    // Empty: 15 wanted at 10 per second.
    expect(pauseForBudget({ limit: 101, remaining: 0, resetSeconds: 10 }, 8)).toBe(1500);
  });

  it("waits for a full bucket when the bucket is smaller than two waves, never longer", () => {
    expect(pauseForBudget({ limit: 11, remaining: 2, resetSeconds: 1 }, 8)).toBe(1000);
    expect(pauseForBudget({ limit: 11, remaining: 9, resetSeconds: 1 }, 8)).toBe(1000);
    expect(pauseForBudget({ limit: 11, remaining: 10, resetSeconds: 0 }, 8)).toBe(0);
  });

  it("never pauses for less than a Redis round trip is worth", () => {
    expect(pauseForBudget({ limit: 1001, remaining: 14, resetSeconds: 1 }, 8)).toBe(50);
  });
});
