// 简体中文目录：术语与极狐 GitLab 中文界面一致（议题、合并请求、流水线、作业、标记、标签……）。
// Same keys and placeholders as en.ts (checked by test/i18n/catalog.test.ts).
import type { MessageKey } from "./index.js";

export const zhCN: Record<MessageKey, string> = {
  "common.and_more": "……还有 {count} 个",
  "common.read_more": "阅读全文",
  "common.compare": "比较变更",
  "common.view_changes": "查看变更",
  "common.confidential": "私密",
  "common.internal_note": "内部备注",

  "thread.state": "状态",
  "thread.state.opened": "开放",
  "thread.state.draft": "草稿",
  "thread.state.merged": "已合并",
  "thread.state.closed": "已关闭",
  "thread.approved_by": "批准人",
  "thread.last_pipeline": "最近的流水线",
  "thread.pipeline.success": "已通过",
  "thread.pipeline.success_with_warnings": "已通过（有警告）",
  "thread.pipeline.failed": "已失败",
  "thread.pipeline.canceled": "已取消",
  "thread.pipeline.running": "运行中",

  "duration.seconds": "{s} 秒",
  "duration.minutes": "{m} 分 {s} 秒",
  "duration.hours": "{h} 小时 {m} 分",

  "field.branch": "分支",
  "field.branches": "分支",
  "field.tag": "标签",
  "field.commit": "提交",
  "field.labels": "标记",
  "field.assignees": "指派人",
  "field.reviewers": "审核者",
  "field.duration": "耗时",
  "field.failed_stages": "失败的阶段",
  "field.failed_jobs": "失败的作业",
  "field.failed_jobs_allowed": "失败的作业（允许失败）",
  "field.stage": "阶段",
  "field.pipeline": "流水线",
  "field.failure_reason": "失败原因",
  "field.environment": "环境",
  "field.job": "作业",
  "field.merge_request": "合并请求",
  "field.assets": "资产",

  "noun.issue": "议题",
  "noun.incident": "事件",
  "noun.task": "任务",
  "noun.epic": "史诗",
  "noun.work_item": "工作项",

  "push.pushed_one": "{actor} 向 {branch} 推送了 {count} 个提交",
  "push.pushed_other": "{actor} 向 {branch} 推送了 {count} 个提交",
  "push.new_branch": "{actor} 推送了新分支 {branch}",
  "push.deleted_branch": "{actor} 删除了分支 {branch}",
  "push.more_commits_one": "……还有 {count} 个提交",
  "push.more_commits_other": "……还有 {count} 个提交",

  "tag.pushed": "{actor} 推送了标签 {tag}",
  "tag.deleted": "{actor} 删除了标签 {tag}",

  "issue.opened": "{actor} 创建了{noun} {issue}",
  "issue.closed": "{actor} 关闭了{noun} {issue}",
  "issue.reopened": "{actor} 重新打开了{noun} {issue}",

  "note.issue": "{actor} 评论了{noun} {target}",
  "note.merge_request": "{actor} 评论了合并请求 {target}",
  "note.commit": "{actor} 评论了提交 {target}",
  "note.snippet": "{actor} 评论了代码片段 {target}",

  "mr.opened": "{actor} 创建了合并请求 {mr}",
  "mr.reopened": "{actor} 重新打开了合并请求 {mr}",
  "mr.closed": "{actor} 关闭了合并请求 {mr}",
  "mr.merged": "{actor} 合并了合并请求 {mr}",
  "mr.approved": "{actor} 批准了合并请求 {mr}",
  "mr.unapproved": "{actor} 撤销了对合并请求 {mr} 的批准",
  "mr.ready": "{actor} 将合并请求 {mr} 标记为就绪",
  "mr.review_requested": "{actor} 请 {reviewers} 审核合并请求 {mr}",

  "pipeline.success": "流水线 {pipeline} 在 {ref} 上运行成功",
  "pipeline.warning": "流水线 {pipeline} 在 {ref} 上运行成功，但有警告",
  "pipeline.failed": "流水线 {pipeline} 在 {ref} 上运行失败",
  "pipeline.canceled": "流水线 {pipeline} 在 {ref} 上已取消",

  "job.failed": "作业 {job} 在 {ref} 上运行失败",
  "job.failed_allowed": "作业 {job} 在 {ref} 上运行失败（允许失败）",

  "deployment.running": "开始部署到 {environment}",
  "deployment.success": "部署到 {environment} 成功",
  "deployment.failed": "部署到 {environment} 失败",
  "deployment.canceled": "部署到 {environment} 已取消",

  "release.create": "发布了新版本 {release}（标签 {tag}）",
  "release.update": "发布 {release} 已更新",
  "release.delete": "发布 {release} 已删除",

  "wiki.create": "{actor} 创建了 Wiki 页面 {page}",
  "wiki.update": "{actor} 更新了 Wiki 页面 {page}",
  "wiki.delete": "{actor} 删除了 Wiki 页面 {page}",
};
