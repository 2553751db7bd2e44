// repeatEvery (src/queue/repeat.ts): runs at once, then again an interval after each run ends; a slow
// run delays the next instead of overlapping it, and stop waits for the run under way.
import { describe, expect, it } from "vitest";
import { repeatEvery } from "../../src/queue/repeat.js";
import { waitFor } from "../support/wait.js";

describe("repeatEvery", () => {
  it("never runs a slow task twice at once, and stop waits for the run under way", async () => {
    let running = 0;
    let most = 0;
    let runs = 0;
    let finished = 0;
    const repeating = repeatEvery(async () => {
      runs++;
      most = Math.max(most, ++running);
      // Five intervals long.
      await new Promise((r) => setTimeout(r, 50));
      running--;
      finished++;
    }, 10);
    await waitFor(() => runs >= 3, 5000, "three runs");
    await repeating.stop();
    expect(most).toBe(1);
    expect(finished).toBe(runs);
    const after = runs;
    await new Promise((r) => setTimeout(r, 100));
    expect(runs).toBe(after);
  });
});
