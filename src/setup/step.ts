// One line per setup step: what it found or did, then what it is about. "needs you" marks a step the
// person has to finish by hand; the run then ends with exit code 1.
export type StepStatus = "created" | "exists" | "repaired" | "updated" | "would create" | "would repair" | "would update" | "needs you";

export interface StepOutcome {
  status: StepStatus;
  /** What the step is about, e.g. `Mattermost bot account @gitlab`. */
  subject: string;
  /** Why, or what changed; never a token. */
  detail?: string;
}

const STATUS_WIDTH = Math.max(...(["created", "exists", "repaired", "updated", "would create", "would repair", "would update", "needs you"] satisfies StepStatus[]).map((s) => s.length));

export function formatStep(step: StepOutcome): string {
  return `${step.status.padEnd(STATUS_WIDTH)}  ${step.subject}${step.detail ? `: ${step.detail}` : ""}`;
}
