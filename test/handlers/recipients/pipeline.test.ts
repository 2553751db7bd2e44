import { describe, expect, it } from "vitest";
import { fixture } from "../fixtures.js";
import { noticesOf, rowsOf } from "./helpers.js";

const base = fixture("pipeline.json", "pipeline");
const failed = { ...base, object_attributes: { ...base.object_attributes, status: "failed" } };

describe("pipeline recipients", () => {
  it("a failed pipeline tells whoever started it, and asks the router for its merge request's author", () => {
    expect(rowsOf(failed)).toEqual([{ reason: "pipeline_failed_started", id: 1, username: "root" }]);
    const [notice] = noticesOf(failed);
    expect(notice?.actor).toBeUndefined();
    expect(notice?.known).toEqual({ roles: { author: "pipeline_failed_mr" } });
    expect(notice?.notification.threadKey).toBe("gitlab-org/gitlab-test!1");
  });

  it.each(["success", "canceled", "running"])("a %s pipeline tells nobody", (status) => {
    expect(noticesOf({ ...base, object_attributes: { ...base.object_attributes, status } })).toEqual([]);
  });
});
