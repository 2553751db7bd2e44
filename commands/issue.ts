// `/gitlab issue new|show|close|reopen|comment|search|move`: GitLab issues, acted on as the person who
// typed the command, with their own connected account (GitLab decides what they may do). What others
// should see (an issue created, closed, reopened, moved, commented on) is answered in the channel, in
// DEFAULT_LOCALE; reads, failures and anything about a confidential issue only to the person, in theirs.
import type { Locale } from "../src/config.js";
import { t } from "../src/i18n/index.js";
import type { PostInfo } from "../src/mattermost/client.js";
import { escapeBlock, link, neutralizeMentions, truncate } from "../src/text/markdown.js";
import { announce, onGitlab, projectVisibility } from "./act.js";
import { localeOf } from "./locale.js";
import { formatIssueReference, parseIssueReference, parseProjectPath, type ObjectReference } from "./references.js";
import { CommandError, ephemeral, escapeMarkdown, mentionUser, usageError, type Command, type CommandContext, type CommandReply } from "./types.js";

/** GitLab refuses longer issue titles. */
const TITLE_MAX_CHARS = 255;
/** A title line longer than this is not a title with a few labels and people: refused before it is scanned. */
const TITLE_LINE_MAX_CHARS = 4096;
/** Each assignee is one look-up at GitLab; more than this from one command is a mistake. */
const MAX_ASSIGNEES = 20;
/** GitLab usernames are at most this long (letters, digits, `_`, `.` and `-`). */
const USERNAME_MAX_CHARS = 255;
const SEARCH_RESULTS = 5;
const SEARCH_QUERY_MAX_CHARS = 255;
const COMMENT_EXCERPT_CHARS = 300;

/** The fields of GitLab's issue answer these commands read. */
interface GitlabIssue {
  iid: number;
  project_id: number;
  title: string;
  state: string;
  web_url: string;
  confidential?: boolean;
  description?: string | null;
  labels?: string[];
  assignees?: { username?: string }[];
  references?: { full?: string };
}

function gitlabUrlOf(ctx: CommandContext): string | undefined {
  return ctx.gitlab?.ready ? ctx.gitlab.accounts.gitlabUrl : undefined;
}

async function projectArg(ctx: CommandContext, word: string | undefined): Promise<string> {
  const project = parseProjectPath(word);
  if (project) return project;
  throw usageError(word ? t(await localeOf(ctx), "cmd.issue.bad_project", { word: escapeMarkdown(word) }) : "");
}

async function issueArg(ctx: CommandContext, word: string | undefined): Promise<ObjectReference> {
  const ref = parseIssueReference(word, gitlabUrlOf(ctx));
  if (ref) return ref;
  throw usageError(word ? t(await localeOf(ctx), "cmd.issue.bad_reference", { word: escapeMarkdown(word) }) : "");
}

function isSpace(ch: string | undefined): boolean {
  return ch === " " || ch === "\t" || ch === "\n" || ch === "\r" || ch === "\f" || ch === "\v" || ch === "\u00a0";
}

/** The raw text after the first word of `text` (a command's `rest`), trimmed. */
function afterFirstWord(text: string): string {
  let i = 0;
  while (i < text.length && !isSpace(text[i])) i++;
  return text.slice(i).trim();
}

/** `[group/project#12 Title](web_url)`, the reference as GitLab gives it (a moved issue is in another project). */
function issueLink(issue: GitlabIssue, fallback: ObjectReference): string {
  return link(`${issue.references?.full ?? formatIssueReference(fallback)} ${issue.title}`, issue.web_url);
}

/**
 * An action's answer: in the channel in DEFAULT_LOCALE, or only to the person (in their language) when
 * the issue is confidential, `privately` says the channel should not see it, or the project is not
 * public and the channel is.
 */
async function announceIssue(ctx: CommandContext, issue: GitlabIssue, line: (locale: Locale) => string, privately = false): Promise<CommandReply> {
  if (issue.confidential) {
    const locale = await localeOf(ctx);
    return ephemeral(`${line(locale)} ${t(locale, "cmd.issue.confidential_only_you")}`);
  }
  if (privately) return ephemeral(line(await localeOf(ctx)));
  return announce(ctx, projectVisibility(ctx, issue.project_id), line);
}

function stateName(locale: Locale, state: string): string {
  return state === "closed" ? t(locale, "thread.state.closed") : state === "opened" ? t(locale, "thread.state.opened") : escapeMarkdown(state);
}

/** Lines of a text as a Markdown quote. */
function quoted(markdown: string): string {
  return markdown
    .split("\n")
    .map((line) => `> ${line}`)
    .join("\n");
}

export interface TitleLine {
  title: string;
  labels: string[];
  usernames: string[];
  confidential: boolean;
}

function isUsername(name: string): boolean {
  if (name === "" || name.length > USERNAME_MAX_CHARS) return false;
  for (const ch of name) {
    const ok = (ch >= "a" && ch <= "z") || (ch >= "A" && ch <= "Z") || (ch >= "0" && ch <= "9") || ch === "_" || ch === "." || ch === "-";
    if (!ok) return false;
  }
  return true;
}

/**
 * The title line of `issue new`, scanned once from left to right: `~label` and `~"two words"` become
 * labels, `@user` assignees, `/confidential` makes the issue confidential (as GitLab's quick action),
 * and the other words, joined by one space, the title.
 */
export function parseTitleLine(line: string): TitleLine {
  const words: string[] = [];
  const labels: string[] = [];
  const usernames: string[] = [];
  let confidential = false;
  let i = 0;
  while (i < line.length) {
    if (isSpace(line[i])) {
      i++;
      continue;
    }
    if (line.startsWith('~"', i)) {
      // Ends at the next quote: each quote is looked for once, so the scan stays linear.
      const close = line.indexOf('"', i + 2);
      if (close !== -1) {
        const name = line.slice(i + 2, close).trim();
        if (name !== "") labels.push(name);
        i = close + 1;
        continue;
      }
    }
    const start = i;
    while (i < line.length && !isSpace(line[i])) i++;
    const word = line.slice(start, i);
    // `~"` without its closing quote is no label: the words stay in the title as typed.
    if (word.length > 1 && word.startsWith("~") && !word.startsWith('~"')) labels.push(word.slice(1));
    else if (word.length > 1 && word.startsWith("@") && isUsername(word.slice(1))) usernames.push(word.slice(1));
    else if (word === "/confidential") confidential = true;
    else words.push(word);
  }
  return { title: words.join(" "), labels: [...new Set(labels)], usernames: [...new Set(usernames)], confidential };
}

/** GitLab user ids of the usernames, asked as the person; the first name GitLab does not know, if any. */
async function lookUpUsers(ctx: CommandContext, project: string, usernames: string[]): Promise<{ ids: number[]; unknown?: string }> {
  if (usernames.length === 0) return { ids: [] };
  return onGitlab(ctx, { object: project }, async (api) => {
    const ids: number[] = [];
    for (const username of usernames) {
      const found = (await api.Users.all({ username, perPage: 1, page: 1 })) as unknown as { id?: unknown }[];
      const id = found[0]?.id;
      if (typeof id !== "number") return { ids, unknown: username };
      ids.push(id);
    }
    return { ids };
  });
}

async function createIssue(
  ctx: CommandContext,
  project: string,
  fields: { title: string; description: string; labels: string[]; assigneeIds: number[]; confidential: boolean },
): Promise<GitlabIssue> {
  return onGitlab(ctx, { action: "issue.create", object: project }, async (api) => {
    const created = await api.Issues.create(project, fields.title, {
      ...(fields.description !== "" ? { description: fields.description } : {}),
      ...(fields.labels.length > 0 ? { labels: fields.labels.join(",") } : {}),
      ...(fields.assigneeIds.length > 0 ? { assigneeIds: fields.assigneeIds } : {}),
      ...(fields.confidential ? { confidential: true } : {}),
    });
    return created as unknown as GitlabIssue;
  });
}

function createdReply(ctx: CommandContext, issue: GitlabIssue, project: string, privately = false): Promise<CommandReply> {
  const who = mentionUser(ctx.userName);
  const text = issueLink(issue, { project, iid: issue.iid });
  if (issue.confidential) return localeOf(ctx).then((locale) => ephemeral(t(locale, "cmd.issue.created_confidential", { issue: text })));
  return announceIssue(ctx, issue, (locale) => t(locale, "cmd.issue.created", { who, issue: text }), privately);
}

/** The first line of a post that has text, on one line, as an issue title. */
function titleOfPost(message: string): string {
  for (const line of message.split("\n")) {
    const flat = line.replace(/\s+/g, " ").trim();
    if (flat !== "") return truncate(flat, TITLE_MAX_CHARS);
  }
  return "";
}

/**
 * The post as an issue description: quoted (GitLab runs no quick action from a quoted line), mentions
 * defused (a Mattermost name may be somebody else in GitLab), then who wrote it and a link back.
 */
function describePost(post: PostInfo, authorName: string, permalink: URL, locale: Locale): string {
  const back = t(locale, "cmd.issue.from_post", { author: `\`@${authorName}\``, link: `${permalink.origin}${permalink.pathname}` });
  return `${quoted(neutralizeMentions(post.message))}\n\n${back}`;
}

async function issueFromPost(ctx: CommandContext, project: string, permalink: string | undefined): Promise<CommandReply> {
  const locale = await localeOf(ctx);
  const postId = permalink === undefined ? undefined : ctx.mattermost.permalinkPostId(permalink);
  if (permalink === undefined || postId === undefined) throw usageError(permalink ? t(locale, "cmd.issue.bad_permalink", { word: escapeMarkdown(permalink) }) : "");
  const post = await ctx.mattermost.getPost(postId);
  if (!post) throw new CommandError("post_unreadable", t(locale, "cmd.issue.post_unreadable"));
  // The bot may be in channels the person is not: never copy a post they could not read themselves.
  if (!(await ctx.mattermost.getChannelMember(post.channel_id, ctx.userId))) throw new CommandError("forbidden", t(locale, "cmd.issue.post_not_member"));
  const title = titleOfPost(post.message);
  if (title === "") throw new CommandError("post_empty", t(locale, "cmd.issue.post_empty"));
  const author = await ctx.mattermost.getUser(post.user_id);
  const description = describePost(post, author.username, new URL(permalink), ctx.config.defaultLocale);
  const issue = await createIssue(ctx, project, { title, description, labels: [], assigneeIds: [], confidential: false });
  // The title is the post's first line: a post of another channel is not repeated in this one.
  return createdReply(ctx, issue, project, post.channel_id !== ctx.channelId);
}

export const issueNew: Command = {
  name: "issue new",
  usage: "issue new <project> (<title> [newline then description] | --from <Mattermost permalink>)",
  summary: "command.summary.issue_new",
  needs: ["connected"],
  async run(ctx) {
    const project = await projectArg(ctx, ctx.args[0]);
    if (ctx.args[1] === "--from") {
      if (ctx.args.length > 3) throw usageError();
      return issueFromPost(ctx, project, ctx.args[2]);
    }
    const text = afterFirstWord(ctx.rest);
    const newline = text.indexOf("\n");
    const titleLine = newline === -1 ? text : text.slice(0, newline);
    if (titleLine.length > TITLE_LINE_MAX_CHARS) throw usageError();
    const description = newline === -1 ? "" : text.slice(newline + 1).trim();
    const parsed = parseTitleLine(titleLine);
    const locale = await localeOf(ctx);
    if (parsed.title === "") throw usageError(t(locale, "cmd.issue.no_title"));
    if (parsed.usernames.length > MAX_ASSIGNEES) throw usageError(t(locale, "cmd.issue.too_many_assignees", { max: MAX_ASSIGNEES }));
    const users = await lookUpUsers(ctx, project, parsed.usernames);
    if (users.unknown !== undefined) throw new CommandError("unknown_user", t(locale, "cmd.issue.unknown_user", { user: escapeMarkdown(`@${users.unknown}`) }));
    const issue = await createIssue(ctx, project, { title: parsed.title, description, labels: parsed.labels, assigneeIds: users.ids, confidential: parsed.confidential });
    return createdReply(ctx, issue, project);
  },
};

function showIssue(ctx: CommandContext, ref: ObjectReference): Promise<GitlabIssue> {
  return onGitlab(ctx, { object: formatIssueReference(ref) }, async (api) => (await api.Issues.show(ref.iid, { projectId: ref.project })) as unknown as GitlabIssue);
}

export const issueShow: Command = {
  name: "issue show",
  usage: "issue show <project>#<iid>",
  summary: "command.summary.issue_show",
  needs: ["connected"],
  async run(ctx) {
    if (ctx.args.length !== 1) throw usageError();
    const ref = await issueArg(ctx, ctx.args[0]);
    const issue = await showIssue(ctx, ref);
    const locale = await localeOf(ctx);
    const state = `${t(locale, "thread.state")}: ${stateName(locale, issue.state)}${issue.confidential ? ` · ${t(locale, "common.confidential")}` : ""}`;
    const lines = [`**${issueLink(issue, ref)}**`, state];
    const assignees = (issue.assignees ?? []).map((a) => a.username).filter((name): name is string => typeof name === "string");
    if (assignees.length > 0) lines.push(`${t(locale, "field.assignees")}: ${assignees.map((name) => escapeMarkdown(`@${name}`)).join(", ")}`);
    if ((issue.labels ?? []).length > 0) lines.push(`${t(locale, "field.labels")}: ${(issue.labels ?? []).map((label) => escapeMarkdown(label)).join(", ")}`);
    const description = escapeBlock(issue.description ?? "");
    if (description !== "") lines.push(quoted(description));
    // A read: only the person asked; they share the link if they want to.
    return ephemeral(lines.join("\n"));
  },
};

function stateCommand(verb: "close" | "reopen"): Command {
  const after = verb === "close" ? "closed" : "opened";
  return {
    name: `issue ${verb}`,
    usage: `issue ${verb} <project>#<iid>`,
    summary: verb === "close" ? "command.summary.issue_close" : "command.summary.issue_reopen",
    needs: ["connected"],
    async run(ctx) {
      if (ctx.args.length !== 1) throw usageError();
      const ref = await issueArg(ctx, ctx.args[0]);
      const object = formatIssueReference(ref);
      const before = await showIssue(ctx, ref);
      if (before.state === after) {
        const locale = await localeOf(ctx);
        return ephemeral(t(locale, verb === "close" ? "cmd.issue.already_closed" : "cmd.issue.already_open", { issue: issueLink(before, ref) }));
      }
      const issue = await onGitlab(ctx, { action: `issue.${verb}`, object }, async (api) => (await api.Issues.edit(ref.project, ref.iid, { stateEvent: verb })) as unknown as GitlabIssue);
      const who = mentionUser(ctx.userName);
      return announceIssue(ctx, issue, (locale) => t(locale, verb === "close" ? "cmd.issue.closed" : "cmd.issue.reopened", { who, issue: issueLink(issue, ref) }));
    },
  };
}

export const issueClose = stateCommand("close");
export const issueReopen = stateCommand("reopen");

export const issueComment: Command = {
  name: "issue comment",
  usage: "issue comment <project>#<iid> <text>",
  summary: "command.summary.issue_comment",
  needs: ["connected"],
  async run(ctx) {
    const ref = await issueArg(ctx, ctx.args[0]);
    const text = afterFirstWord(ctx.rest);
    if (text === "") throw usageError(t(await localeOf(ctx), "cmd.issue.no_text"));
    const object = formatIssueReference(ref);
    // Read first: whether it is confidential decides who sees the answer.
    const issue = await showIssue(ctx, ref);
    const note = await onGitlab(ctx, { action: "issue.comment", object }, async (api) => (await api.IssueNotes.create(ref.project, ref.iid, text)) as unknown as { id: number });
    const who = mentionUser(ctx.userName);
    const target = link(`${issue.references?.full ?? object} ${issue.title}`, `${issue.web_url}#note_${note.id}`);
    return announceIssue(ctx, issue, (locale) => `${t(locale, "cmd.issue.commented", { who, issue: target })}\n${quoted(escapeBlock(text, COMMENT_EXCERPT_CHARS))}`);
  },
};

export const issueSearch: Command = {
  name: "issue search",
  usage: "issue search <project> <query>",
  summary: "command.summary.issue_search",
  needs: ["connected"],
  async run(ctx) {
    const project = await projectArg(ctx, ctx.args[0]);
    const query = afterFirstWord(ctx.rest).slice(0, SEARCH_QUERY_MAX_CHARS).trim();
    const locale = await localeOf(ctx);
    if (query === "") throw usageError(t(locale, "cmd.issue.no_query"));
    const found = await onGitlab(ctx, { object: project }, async (api) => {
      const answer = (await api.Issues.all({ projectId: project, search: query, perPage: SEARCH_RESULTS, page: 1, showExpanded: true })) as unknown as {
        data: GitlabIssue[];
        paginationInfo?: { total?: number };
      };
      return answer;
    });
    const issues = found.data.slice(0, SEARCH_RESULTS);
    const shown = { project: escapeMarkdown(project), query: escapeMarkdown(query) };
    if (issues.length === 0) return ephemeral(t(locale, "cmd.issue.search_none", shown));
    // GitLab leaves the total out past 10,000 rows; then at least what came back.
    const total = Number.isFinite(found.paginationInfo?.total) ? Math.max(Number(found.paginationInfo?.total), issues.length) : issues.length;
    const lines = issues.map((issue) => {
      const marks = [stateName(locale, issue.state), ...(issue.confidential ? [t(locale, "common.confidential")] : [])];
      return `- ${issueLink(issue, { project, iid: issue.iid })} · ${marks.join(" · ")}`;
    });
    return ephemeral([t(locale, "cmd.issue.search_title", { ...shown, count: total }), ...lines].join("\n"));
  },
};

export const issueMove: Command = {
  name: "issue move",
  usage: "issue move <project>#<iid> to <project>",
  summary: "command.summary.issue_move",
  needs: ["connected"],
  async run(ctx) {
    if (ctx.args.length !== 3 || ctx.args[1]?.toLowerCase() !== "to") throw usageError();
    const ref = await issueArg(ctx, ctx.args[0]);
    const target = await projectArg(ctx, ctx.args[2]);
    const object = formatIssueReference(ref);
    // GitLab's move API takes the target project's id, not its path.
    const targetId = await onGitlab(ctx, { object: target }, async (api) => ((await api.Projects.show(target)) as unknown as { id: number }).id);
    const moved = await onGitlab(ctx, { action: "issue.move", object }, async (api) => (await api.Issues.move(ref.project, ref.iid, targetId)) as unknown as GitlabIssue);
    const who = mentionUser(ctx.userName);
    return announceIssue(ctx, moved, (locale) => t(locale, "cmd.issue.moved", { who, from: escapeMarkdown(object), to: issueLink(moved, { project: target, iid: moved.iid }) }));
  },
};

export const issueCommands: readonly Command[] = [issueNew, issueShow, issueClose, issueReopen, issueComment, issueSearch, issueMove];
