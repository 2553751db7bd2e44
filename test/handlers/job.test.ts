import { describe, expect, it } from "vitest";
import { notificationsFor, PayloadError } from "../../handlers/index.js";
import { job } from "../../handlers/job.js";
import { fieldsOf, fixture, only, renderBoth } from "./fixtures.js";

const base = fixture("job.json", "build");
const failed = { ...base, build_status: "failed", build_duration: 125.4 };
const project = "**[gitlab-org/gitlab-test](http://192.168.64.1:3005/gitlab-org/gitlab-test)**";
const jobLink = "[test](http://192.168.64.1:3005/gitlab-org/gitlab-test/-/jobs/1977)";
const ref = "[gitlab-script-trigger](http://192.168.64.1:3005/gitlab-org/gitlab-test/-/tree/gitlab-script-trigger)";
const pipelineLink = "[#2366](http://192.168.64.1:3005/gitlab-org/gitlab-test/-/pipelines/2366)";

describe("job", () => {
  it("posts nothing for a job that has not failed (the fixture's job was just created)", () => {
    expect(job(base)).toEqual([]);
    expect(job({ ...base, build_status: "success" })).toEqual([]);
  });

  it("announces a manual job that deploys, with a Play button; not one that deploys nothing or stops", () => {
    const manual = { ...base, build_status: "manual", build_name: "deploy", environment: { name: "production", action: "start" } };
    const n = only(job(manual));
    expect(fieldsOf(n)).toMatchObject({ feature: "jobs", eventKey: "build/1977/manual", branch: "gitlab-script-trigger", status: "manual" });
    expect(n.actions).toEqual([{ kind: "job.play", project: "gitlab-org/gitlab-test", id: 1977 }]);
    const deployLink = "[deploy](http://192.168.64.1:3005/gitlab-org/gitlab-test/-/jobs/1977)";
    expect(renderBoth(n).en.message).toBe(`${project}: Manual job ${deployLink} waits to deploy ${ref} to production`);
    expect(renderBoth(n)["zh-CN"].message).toBe(`${project}: 手动作业 ${deployLink} 等待将 ${ref} 部署到 production`);
    expect(only(job({ ...manual, environment: { name: "production" } })).actions).toHaveLength(1);
    expect(job({ ...manual, environment: null })).toEqual([]);
    expect(job({ ...manual, environment: { name: "production", action: "stop" } })).toEqual([]);
    expect(job({ ...manual, environment: { name: "**@all**" } }).map((x) => x.render("en").message)[0]).toContain("\\*\\*");
  });

  it("announces a failed job with stage, reason, duration and pipeline", () => {
    const n = only(job(failed));
    expect(fieldsOf(n)).toEqual({
      feature: "jobs",
      projectPath: "gitlab-org/gitlab-test",
      eventKey: "build/1977/failed",
      labels: [],
      branch: "gitlab-script-trigger",
      defaultBranch: "master",
      confidential: false,
      status: "failed",
    });
    const common = {
      color: "#dd2b0e",
      author_name: "User",
      author_icon: "http://www.gravatar.com/avatar/e32bd13e2add097461cb96824b7a829c?s=80&d=identicon",
    };
    expect(renderBoth(n)).toEqual({
      en: {
        message: `${project}: Job ${jobLink} failed on ${ref}`,
        attachments: [
          {
            ...common,
            fallback: "gitlab-org/gitlab-test: Job test failed on gitlab-script-trigger",
            fields: [
              { title: "Stage", value: "test", short: true },
              { title: "Failure reason", value: "script failure", short: true },
              { title: "Duration", value: "2m 5s", short: true },
              { title: "Pipeline", value: pipelineLink, short: true },
            ],
          },
        ],
      },
      "zh-CN": {
        message: `${project}: 作业 ${jobLink} 在 ${ref} 上运行失败`,
        attachments: [
          {
            ...common,
            fallback: "gitlab-org/gitlab-test: 作业 test 在 gitlab-script-trigger 上运行失败",
            fields: [
              { title: "阶段", value: "test", short: true },
              { title: "失败原因", value: "script failure", short: true },
              { title: "耗时", value: "2 分 5 秒", short: true },
              { title: "流水线", value: pipelineLink, short: true },
            ],
          },
        ],
      },
    });
  });

  it("shows a failure that was allowed as a warning", () => {
    const n = only(job({ ...failed, build_allow_failure: true }));
    expect(n.render("en").message).toBe(`${project}: Job ${jobLink} failed on ${ref} (allowed to fail)`);
    expect(n.render("zh-CN").message).toBe(`${project}: 作业 ${jobLink} 在 ${ref} 上运行失败（允许失败）`);
    expect(n.render("en").attachments?.[0]?.color).toBe("#c17d10");
  });

  it("takes the project path from repository.homepage when there is no project object", () => {
    const { project: _omit, ...withoutProject } = failed;
    const n = only(job(withoutProject));
    expect(n.projectPath).toBe("gitlab-org/gitlab-test");
    expect(n.defaultBranch).toBeUndefined();
    expect(n.render("en").message).toBe(`${project}: Job ${jobLink} failed on ${ref}`);
  });

  it("threads a job that carries a merge request under it", () => {
    const n = only(job({ ...failed, merge_request: { iid: 4, title: "Fix", url: "http://192.168.64.1:3005/gitlab-org/gitlab-test/-/merge_requests/4" } }));
    expect(n.threadKey).toBe("gitlab-org/gitlab-test!4");
  });

  it("is the build kind, and rejects a payload with no way to name its project", () => {
    expect(notificationsFor(failed, "Job Hook")).toMatchObject({ kind: "build", known: true });
    const { project: _p, repository: _r, ...nameless } = failed;
    expect(() => notificationsFor(nameless)).toThrow(PayloadError);
    // A homepage with a broken escape cannot name the project either: the payload is refused, not retried.
    const { project: _q, ...broken } = { ...failed, repository: { ...failed.repository, homepage: "http://gitlab.example.com/acme/%zz" } };
    expect(() => notificationsFor(broken)).toThrow(PayloadError);
  });
});
