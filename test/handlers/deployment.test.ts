import { describe, expect, it } from "vitest";
import { deployment } from "../../handlers/deployment.js";
import { notificationsFor } from "../../handlers/index.js";
import { fieldsOf, fixture, only, renderBoth } from "./fixtures.js";

const base = fixture("deployment.json", "deployment");
const project = "**[root/test-deployment-webhooks](http://10.126.0.2:3000/root/test-deployment-webhooks)**";
const env = "[staging](https://staging.example.com)";

describe("deployment", () => {
  it("announces a successful deployment with its commit and job", () => {
    const n = only(deployment(base));
    expect(fieldsOf(n)).toEqual({
      feature: "deployments",
      projectPath: "root/test-deployment-webhooks",
      eventKey: "deployment/15/success",
      labels: [],
      defaultBranch: "master",
      confidential: false,
      actorUsername: "root",
      status: "success",
    });
    const common = {
      color: "#108548",
      author_name: "Administrator",
      author_icon: "https://www.gravatar.com/avatar/e64c7d89f26bd1972efa854d13d7dd61?s=80&d=identicon",
    };
    const commit = "[`279484c0`](http://10.126.0.2:3000/root/test-deployment-webhooks/-/commit/279484c09fbe69ededfced8c1bb6e6d24616b468) Add new file";
    const jobLink = "[#796](http://10.126.0.2:3000/root/test-deployment-webhooks/-/jobs/796)";
    expect(renderBoth(n)).toEqual({
      en: {
        message: `${project}: Deployment to ${env} succeeded`,
        attachments: [
          {
            ...common,
            fallback: "root/test-deployment-webhooks: Deployment to staging succeeded",
            fields: [
              { title: "Commit", value: commit, short: false },
              { title: "Job", value: jobLink, short: true },
            ],
          },
        ],
      },
      "zh-CN": {
        message: `${project}: 部署到 ${env} 成功`,
        attachments: [
          {
            ...common,
            fallback: "root/test-deployment-webhooks: 部署到 staging 成功",
            fields: [
              { title: "提交", value: commit, short: false },
              { title: "作业", value: jobLink, short: true },
            ],
          },
        ],
      },
    });
  });

  it.each([
    ["running", "Deployment to staging started", "开始部署到 staging", "#1f78d1"],
    ["failed", "Deployment to staging failed", "部署到 staging 失败", "#dd2b0e"],
    ["canceled", "Deployment to staging was canceled", "部署到 staging 已取消", "#737278"],
  ])("announces a deployment %s", (status, en, zh, color) => {
    const n = only(deployment({ ...base, status }));
    expect(n.eventKey).toBe(`deployment/15/${status}`);
    expect(n.status).toBe(status);
    expect(n.render("en").attachments?.[0]).toMatchObject({ fallback: `root/test-deployment-webhooks: ${en}`, color });
    expect(n.render("zh-CN").attachments?.[0]?.fallback).toBe(`root/test-deployment-webhooks: ${zh}`);
  });

  it("posts nothing for other states", () => {
    expect(deployment({ ...base, status: "created" })).toEqual([]);
    expect(deployment({ ...base, status: "blocked" })).toEqual([]);
  });

  it("takes the branch from ref when the payload has one", () => {
    const n = only(deployment({ ...base, ref: "main" }));
    expect(n.branch).toBe("main");
    expect(n.render("en").attachments?.[0]?.fields).toContainEqual({ title: "Branch", value: "main", short: true });
  });

  it("comes out of notificationsFor the same", () => {
    expect(notificationsFor(base, "Deployment Hook").notifications.map(fieldsOf)).toEqual(deployment(base).map(fieldsOf));
  });
});
