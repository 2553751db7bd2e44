// What a thread's root post shows about its merge request or issue, and how each event changes it.
// Pure: the delivery worker loads the state, applies an update and patches the root post.
import type { Locale } from "../config.js";
import { t, type MessageKey } from "../i18n/index.js";
import type { MessageAttachment, PostContent, ThreadUpdate } from "../notification.js";
import { escapeInline, linkMarkdown } from "../text/markdown.js";

export interface RootState {
  /** The root post as it was first made, before any status field was added. */
  post: PostContent;
  locale: Locale;
  state?: NonNullable<ThreadUpdate["state"]>;
  /** GitLab usernames, in the order they approved. */
  approvedBy: string[];
  pipeline?: { status: string; url?: string };
}

const STATE_COLORS: Record<NonNullable<RootState["state"]>, string> = {
  opened: "#1f78d1",
  draft: "#737278",
  merged: "#6e49cb",
  closed: "#dd2b0e",
};

type PipelineKey = Extract<MessageKey, `thread.pipeline.${string}`>;
const PIPELINE_KEYS = new Set(["success", "success_with_warnings", "failed", "canceled", "running"]);

export function initialRootState(post: PostContent, locale: Locale, update?: ThreadUpdate): RootState {
  const base: RootState = { post, locale, approvedBy: [] };
  return update ? applyThreadUpdate(base, update) : base;
}

/** Applying the same update twice gives the same state (a retried job changes nothing more). */
export function applyThreadUpdate(s: RootState, u: ThreadUpdate): RootState {
  let approvedBy = s.approvedBy;
  if (u.approvedBy && !approvedBy.includes(u.approvedBy)) approvedBy = [...approvedBy, u.approvedBy];
  if (u.unapprovedBy) approvedBy = approvedBy.filter((name) => name !== u.unapprovedBy);
  return {
    ...s,
    state: u.state ?? s.state,
    approvedBy,
    pipeline: u.pipeline ?? s.pipeline,
  };
}

export function sameDisplay(a: RootState, b: RootState): boolean {
  return a.state === b.state && a.approvedBy.join() === b.approvedBy.join() && a.pipeline?.status === b.pipeline?.status && a.pipeline?.url === b.pipeline?.url;
}

function statusFields(s: RootState): NonNullable<MessageAttachment["fields"]> {
  const fields: NonNullable<MessageAttachment["fields"]> = [];
  if (s.state) fields.push({ title: t(s.locale, "thread.state"), value: t(s.locale, `thread.state.${s.state}`), short: true });
  if (s.approvedBy.length) {
    // Usernames shown, never mentioned: the root is edited often and must not ping anyone.
    fields.push({ title: t(s.locale, "thread.approved_by"), value: s.approvedBy.map((u) => escapeInline(`@${u}`, 80)).join(", "), short: true });
  }
  if (s.pipeline) {
    const key = PIPELINE_KEYS.has(s.pipeline.status) ? (`thread.pipeline.${s.pipeline.status}` as PipelineKey) : undefined;
    const label = key ? t(s.locale, key) : escapeInline(s.pipeline.status, 40);
    fields.push({ title: t(s.locale, "thread.last_pipeline"), value: s.pipeline.url ? linkMarkdown(label, s.pipeline.url) : label, short: true });
  }
  return fields;
}

/** The root post as it should look now: the original, with the state's colour and status fields. */
export function renderRoot(s: RootState): PostContent {
  const fields = statusFields(s);
  const [first, ...rest] = s.post.attachments ?? [];
  if (!first) {
    const line = fields.map((f) => `**${f.title}:** ${f.value}`).join(" · ");
    return { ...s.post, message: line ? `${s.post.message}\n${line}` : s.post.message };
  }
  const color = s.state ? STATE_COLORS[s.state] : first.color;
  // The first post's buttons (Approve, Merge, Close) no longer apply once its subject is merged or closed.
  const { actions, ...kept } = first;
  const settled = s.state === "merged" || s.state === "closed";
  return { ...s.post, attachments: [{ ...kept, ...(actions && !settled ? { actions } : {}), ...(color ? { color } : {}), fields: [...(first.fields ?? []), ...fields] }, ...rest] };
}
