// Mattermost refuses a post longer than MATTERMOST_MAX_POST_CHARS: shrink what is long, never fail.
import { MATTERMOST_MAX_POST_CHARS, type MessageAttachment, type PostContent } from "../notification.js";
import { truncate } from "./markdown.js";

/** Characters of a post: its message plus every string of its attachments (what we hold to the limit). */
export function postSize(post: PostContent): number {
  let size = post.message.length;
  for (const a of post.attachments ?? []) size += attachmentSize(a);
  return size;
}

function attachmentSize(a: MessageAttachment): number {
  let size = 0;
  for (const value of Object.values(a)) {
    if (typeof value === "string") size += value.length;
  }
  for (const f of a.fields ?? []) size += f.title.length + f.value.length;
  return size;
}

/**
 * Returns the post unchanged when it fits in `max` characters; otherwise cuts, in this order, the
 * attachments' text, their field values, their pretext and fallback, then the message.
 */
export function fitPost(post: PostContent, max = MATTERMOST_MAX_POST_CHARS): PostContent {
  if (postSize(post) <= max) return post;
  const out: PostContent = { message: post.message, attachments: post.attachments?.map((a) => ({ ...a, fields: a.fields?.map((f) => ({ ...f })) })) };
  const excess = () => postSize(out) - max;
  const shrink = (s: string): string => truncate(s, Math.max(0, s.length - excess()));
  for (const a of out.attachments ?? []) {
    if (excess() > 0 && a.text) a.text = shrink(a.text);
  }
  for (const a of out.attachments ?? []) {
    for (const f of a.fields ?? []) if (excess() > 0) f.value = shrink(f.value);
    if (excess() > 0 && a.fields && a.fields.length > 0) a.fields = [];
  }
  for (const a of out.attachments ?? []) {
    if (excess() > 0 && a.pretext) a.pretext = shrink(a.pretext);
    if (excess() > 0 && a.title) a.title = shrink(a.title);
    if (excess() > 0) a.fallback = shrink(a.fallback);
  }
  if (excess() > 0) out.message = shrink(out.message);
  if (excess() > 0) out.attachments = [];
  return out;
}
