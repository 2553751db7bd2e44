// English catalog: the reference every other language must match key for key, placeholder for placeholder.
// Placeholders ({name}) receive Markdown that the caller already made safe.
export const en = {
  "common.and_more": "…and {count} more",
  "common.read_more": "Read more",
  "common.compare": "Compare changes",
  "common.view_changes": "View changes",
  "common.confidential": "Confidential",
  "common.internal_note": "Internal note",

  "duration.seconds": "{s}s",
  "duration.minutes": "{m}m {s}s",
  "duration.hours": "{h}h {m}m",

  "field.branch": "Branch",
  "field.branches": "Branches",
  "field.tag": "Tag",
  "field.commit": "Commit",
  "field.labels": "Labels",
  "field.assignees": "Assignees",
  "field.reviewers": "Reviewers",
  "field.duration": "Duration",
  "field.failed_stages": "Failed stages",
  "field.failed_jobs": "Failed jobs",
  "field.failed_jobs_allowed": "Failed jobs (allowed to fail)",
  "field.stage": "Stage",
  "field.pipeline": "Pipeline",
  "field.failure_reason": "Failure reason",
  "field.environment": "Environment",
  "field.job": "Job",
  "field.merge_request": "Merge request",
  "field.assets": "Assets",

  "noun.issue": "issue",
  "noun.incident": "incident",
  "noun.task": "task",
  "noun.epic": "epic",
  "noun.work_item": "work item",

  "push.pushed_one": "{actor} pushed {count} commit to {branch}",
  "push.pushed_other": "{actor} pushed {count} commits to {branch}",
  "push.new_branch": "{actor} pushed new branch {branch}",
  "push.deleted_branch": "{actor} deleted branch {branch}",
  "push.more_commits_one": "…and {count} more commit",
  "push.more_commits_other": "…and {count} more commits",

  "tag.pushed": "{actor} pushed tag {tag}",
  "tag.deleted": "{actor} deleted tag {tag}",

  "issue.opened": "{actor} opened {noun} {issue}",
  "issue.closed": "{actor} closed {noun} {issue}",
  "issue.reopened": "{actor} reopened {noun} {issue}",

  "note.issue": "{actor} commented on {noun} {target}",
  "note.merge_request": "{actor} commented on merge request {target}",
  "note.commit": "{actor} commented on commit {target}",
  "note.snippet": "{actor} commented on snippet {target}",

  "mr.opened": "{actor} opened merge request {mr}",
  "mr.reopened": "{actor} reopened merge request {mr}",
  "mr.closed": "{actor} closed merge request {mr}",
  "mr.merged": "{actor} merged merge request {mr}",
  "mr.approved": "{actor} approved merge request {mr}",
  "mr.unapproved": "{actor} revoked their approval of merge request {mr}",
  "mr.ready": "{actor} marked merge request {mr} as ready",
  "mr.review_requested": "{actor} requested a review from {reviewers} on merge request {mr}",

  "pipeline.success": "Pipeline {pipeline} passed on {ref}",
  "pipeline.warning": "Pipeline {pipeline} passed with warnings on {ref}",
  "pipeline.failed": "Pipeline {pipeline} failed on {ref}",
  "pipeline.canceled": "Pipeline {pipeline} was canceled on {ref}",

  "job.failed": "Job {job} failed on {ref}",
  "job.failed_allowed": "Job {job} failed on {ref} (allowed to fail)",

  "deployment.running": "Deployment to {environment} started",
  "deployment.success": "Deployment to {environment} succeeded",
  "deployment.failed": "Deployment to {environment} failed",
  "deployment.canceled": "Deployment to {environment} was canceled",

  "release.create": "New release {release} for tag {tag}",
  "release.update": "Release {release} was updated",
  "release.delete": "Release {release} was deleted",

  "wiki.create": "{actor} created wiki page {page}",
  "wiki.update": "{actor} updated wiki page {page}",
  "wiki.delete": "{actor} deleted wiki page {page}",
} as const;
