import { describe, expect, it } from "vitest";
import { notificationsFor } from "../../handlers/index.js";
import { pipeline } from "../../handlers/pipeline.js";
import { fieldsOf, fixture, only, renderBoth } from "./fixtures.js";

const base = fixture("pipeline.json", "pipeline");
const builds = base.builds ?? [];
const withStatus = (status: string, extra: Partial<typeof base> = {}) => ({ ...base, object_attributes: { ...base.object_attributes, status }, ...extra });
const project = "**[gitlab-org/gitlab-test](http://192.168.64.1:3005/gitlab-org/gitlab-test)**";
const pipelineLink = "[#31](http://example.com/gitlab-org/gitlab-test/-/pipelines/31)";
const master = "[master](http://192.168.64.1:3005/gitlab-org/gitlab-test/-/tree/master)";
const mrField = "[!1 Test](http://192.168.64.1:3005/gitlab-org/gitlab-test/merge_requests/1)";

describe("pipeline", () => {
  it("announces a passed pipeline with its duration and merge request", () => {
    const n = only(pipeline(base));
    expect(fieldsOf(n)).toEqual({
      feature: "pipelines",
      projectPath: "gitlab-org/gitlab-test",
      eventKey: "pipeline/31/success",
      labels: [],
      branch: "master",
      defaultBranch: "master",
      confidential: false,
      actorUsername: "root",
      status: "success",
      threadKey: "gitlab-org/gitlab-test!1",
      threadUpdate: { pipeline: { status: "success", url: "http://example.com/gitlab-org/gitlab-test/-/pipelines/31" } },
    });
    const common = {
      color: "#108548",
      author_name: "Administrator",
      author_icon: "http://www.gravatar.com/avatar/e32bd13e2add097461cb96824b7a829c?s=80&d=identicon",
      title: "Pipeline for branch: master",
      title_link: "http://example.com/gitlab-org/gitlab-test/-/pipelines/31",
    };
    expect(renderBoth(n)).toEqual({
      en: {
        message: `${project}: Pipeline ${pipelineLink} passed on ${master}`,
        attachments: [
          {
            ...common,
            fallback: "gitlab-org/gitlab-test: Pipeline #31 passed on master",
            fields: [
              { title: "Duration", value: "1m 3s", short: true },
              { title: "Merge request", value: mrField, short: true },
            ],
          },
        ],
      },
      "zh-CN": {
        message: `${project}: 流水线 ${pipelineLink} 在 ${master} 上运行成功`,
        attachments: [
          {
            ...common,
            fallback: "gitlab-org/gitlab-test: 流水线 #31 在 master 上运行成功",
            fields: [
              { title: "耗时", value: "1 分 3 秒", short: true },
              { title: "合并请求", value: mrField, short: true },
            ],
          },
        ],
      },
    });
  });

  it("announces a failed pipeline with its failed stages and jobs", () => {
    const n = only(pipeline(withStatus("failed")));
    expect(fieldsOf(n)).toMatchObject({ eventKey: "pipeline/31/failed", status: "failed", branch: "master" });
    // A failed pipeline can be retried from its post; a passed one (below) offers nothing.
    expect(n.actions).toEqual([{ kind: "pipeline.retry", project: "gitlab-org/gitlab-test", id: 31 }]);
    expect(only(pipeline(withStatus("success"))).actions).toBeUndefined();
    const job = "[test-build](http://192.168.64.1:3005/gitlab-org/gitlab-test/-/jobs/378)";
    expect(n.render("en")).toEqual({
      message: `${project}: Pipeline ${pipelineLink} failed on ${master}`,
      attachments: [
        expect.objectContaining({
          color: "#dd2b0e",
          fallback: "gitlab-org/gitlab-test: Pipeline #31 failed on master",
          fields: [
            { title: "Duration", value: "1m 3s", short: true },
            { title: "Merge request", value: mrField, short: true },
            { title: "Failed stages", value: "test", short: true },
            { title: "Failed jobs", value: job, short: false },
          ],
        }),
      ],
    });
    expect(n.render("zh-CN")).toEqual({
      message: `${project}: 流水线 ${pipelineLink} 在 ${master} 上运行失败`,
      attachments: [
        expect.objectContaining({
          fields: [
            { title: "耗时", value: "1 分 3 秒", short: true },
            { title: "合并请求", value: mrField, short: true },
            { title: "失败的阶段", value: "test", short: true },
            { title: "失败的作业", value: job, short: false },
          ],
        }),
      ],
    });
  });

  it("says passed with warnings when jobs allowed to fail failed", () => {
    const allowed = builds.map((b) => (b.status === "failed" ? { ...b, allow_failure: true } : b));
    const n = only(pipeline(withStatus("success", { builds: allowed })));
    expect(n.status).toBe("success");
    const post = n.render("en");
    expect(post.message).toBe(`${project}: Pipeline ${pipelineLink} passed with warnings on ${master}`);
    expect(post.attachments?.[0]?.color).toBe("#c17d10");
    expect(post.attachments?.[0]?.fields).toContainEqual({
      title: "Failed jobs (allowed to fail)",
      value: "[test-build](http://192.168.64.1:3005/gitlab-org/gitlab-test/-/jobs/378)",
      short: false,
    });
    expect(n.render("zh-CN").message).toBe(`${project}: 流水线 ${pipelineLink} 在 ${master} 上运行成功，但有警告`);
  });

  it("announces a canceled pipeline", () => {
    const n = only(pipeline(withStatus("canceled")));
    expect(n.eventKey).toBe("pipeline/31/canceled");
    expect(n.render("en").message).toBe(`${project}: Pipeline ${pipelineLink} was canceled on ${master}`);
    expect(n.render("zh-CN").message).toBe(`${project}: 流水线 ${pipelineLink} 在 ${master} 上已取消`);
  });

  it("posts nothing until the pipeline has finished", () => {
    for (const status of ["created", "pending", "running", "manual", "skipped"]) expect(pipeline(withStatus(status))).toEqual([]);
  });

  it("names at most ten failed jobs", () => {
    const template = builds[2];
    if (!template) throw new Error("fixture has builds");
    const many = Array.from({ length: 12 }, (_, i) => ({ ...template, id: 1000 + i, name: `job-${i}`, status: "failed" }));
    const fields = only(pipeline(withStatus("failed", { builds: many }))).render("en").attachments?.[0]?.fields ?? [];
    const value = fields.find((f) => f.title === "Failed jobs")?.value ?? "";
    expect(value).toContain("job-9");
    expect(value).not.toContain("job-10");
    expect(value.endsWith("…and 2 more")).toBe(true);
  });

  it("has no branch for a tag pipeline, and no thread without a merge request", () => {
    const n = only(pipeline({ ...base, object_attributes: { ...base.object_attributes, ref: "v1.0", tag: true }, merge_request: null }));
    expect(n.branch).toBeUndefined();
    expect(n.threadKey).toBeUndefined();
    expect(n.render("en").message).toBe(`${project}: Pipeline ${pipelineLink} passed on [v1.0](http://192.168.64.1:3005/gitlab-org/gitlab-test/-/tags/v1.0)`);
  });

  it("comes out of notificationsFor the same", () => {
    expect(notificationsFor(base, "Pipeline Hook").notifications.map(fieldsOf)).toEqual(pipeline(base).map(fieldsOf));
  });
});
