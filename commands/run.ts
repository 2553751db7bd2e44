// `/gitlab run <project> <job> [args]`: ChatOps, as near to GitLab's own as a bot acting for a person
// can be. GitLab's ChatOps pipelines (source `chat`) are made only by its own Slack and Mattermost
// integrations; the API cannot make one. So the bot creates, as the person, a pipeline on the default
// branch with the variables GitLab's ChatOps sets (CHAT_INPUT, CHAT_CHANNEL, CHAT_USER_ID) and
// GITLAB_CHATOPS_JOB=<job>; the project's `.gitlab-ci.yml` gives the job
// `rules: - if: $GITLAB_CHATOPS_JOB == "<job>"` (and its other jobs `when: never` under that variable).
// The bot answers at once, then follows the job as the person from this process and posts the end of
// its log through the command's response_url.
import type { Locale } from "../src/config.js";
import { t } from "../src/i18n/index.js";
import { escapeInline, linkMarkdown, neutralizeMentions, truncate } from "../src/text/markdown.js";
import { formatDuration } from "../handlers/common.js";
import { announce, onGitlab, projectVisibility } from "./act.js";
import { localeOf } from "./locale.js";
import { createPipeline, defaultBranchOf, MAX_VARIABLE_VALUE_CHARS, pipelineLink, projectArgument, statusText, type PipelineView } from "./pipeline.js";
import { CommandError, mentionUser, usageError, type Command, type CommandContext, type CommandReply } from "./types.js";
import { splitWords } from "./words.js";

export interface JobPolling {
  /** Between two looks at the job. */
  intervalMs: number;
  /** After this the person is told the job still runs, with its link. */
  maxWaitMs: number;
}

const DEFAULT_POLLING: JobPolling = { intervalMs: 3000, maxWaitMs: 10 * 60_000 };
/** GitLab's job names are at most 255 characters. */
const MAX_JOB_NAME_CHARS = 255;
export const TRACE_TAIL_LINES = 50;
/** Fifty lines of this fit well within one Mattermost post (16,383 characters). */
const TRACE_LINE_CHARS = 250;
/** Only the end of a log is shown: what comes before it is never read. */
const TRACE_READ_CHARS = 64 * 1024;
const FINISHED = new Set(["success", "failed", "canceled", "skipped", "manual"]);
/** GitLab failures worth another look at the job: it may answer next time. */
const PASSING_FAILURES = new Set(["unavailable", "timeout", "unreachable", "rate_limited"]);

interface JobView {
  id: number;
  name: string;
  status: string;
  web_url: string;
  duration?: number | null;
}

function isJobName(name: string): boolean {
  if (name.length === 0 || name.length > MAX_JOB_NAME_CHARS) return false;
  for (const ch of name) {
    const code = ch.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) return false;
  }
  return true;
}

// Terminal escapes (colours, "\e[0K" line erases) as GitLab's runner writes them; the two classes do
// not overlap, so the scan is linear.
// eslint-disable-next-line no-control-regex -- matching the escape character is the point
const TERMINAL_ESCAPE = /\u001b\[[0-9;]*[A-Za-z]/g;
// eslint-disable-next-line no-control-regex -- control characters are dropped from the log
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;

/**
 * The last `lines` lines of a job log as a Markdown code block: terminal escapes and GitLab's section
 * markers removed, a line overwritten by a carriage return shown as its last version, each line cut,
 * mentions defused, and a fence longer than any run of backticks inside.
 */
export function traceTail(trace: string, lines = TRACE_TAIL_LINES): string {
  const end = trace.length > TRACE_READ_CHARS ? trace.slice(-TRACE_READ_CHARS) : trace;
  const kept = end
    .replace(TERMINAL_ESCAPE, "")
    .split("\n")
    .map((line) => {
      const shown = line.endsWith("\r") ? line.slice(0, -1) : line;
      return shown.slice(shown.lastIndexOf("\r") + 1).replace(CONTROL, "");
    })
    .filter((line) => !line.startsWith("section_start:") && !line.startsWith("section_end:"));
  while (kept.length > 0 && kept[kept.length - 1]!.trim() === "") kept.pop();
  const tail = kept.slice(-lines).map((line) => neutralizeMentions(truncate(line, TRACE_LINE_CHARS)));
  let longest = 0;
  for (const line of tail) {
    let run = 0;
    for (const ch of line) {
      run = ch === "`" ? run + 1 : 0;
      if (run > longest) longest = run;
    }
  }
  const fence = "`".repeat(Math.max(3, longest + 1));
  return [fence, ...tail, fence].join("\n");
}

function jobLink(job: Pick<JobView, "name" | "web_url">): string {
  return linkMarkdown(escapeInline(job.name, 100), job.web_url);
}

/** The words after `<project> <job>`, as typed (spaces and lines kept): GitLab's CHAT_INPUT. */
function chatInput(rest: string): string {
  const { ends } = splitWords(rest);
  return ends.length < 2 ? "" : rest.slice(ends[1]).trim();
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

interface FollowedJob {
  project: string;
  job: JobView;
  pipeline: PipelineView;
  /** Whether the answer went to the channel; the log goes where the answer went. */
  responseType: CommandReply["response_type"];
}

/** The message when the job is over: its status and duration, then the end of its log. */
function jobFinished(locale: Locale, followed: FollowedJob, job: JobView, trace: string): string {
  const head = t(locale, "cmd.run.finished", {
    job: jobLink(job),
    pipeline: pipelineLink(followed.pipeline),
    project: escapeInline(followed.project, 200),
    status: statusText(locale, job.status),
    duration: formatDuration(locale, job.duration) ?? "—",
  });
  return trace.trim() === "" ? `${head}\n${t(locale, "cmd.run.no_output")}` : `${head}\n${traceTail(trace)}`;
}

/**
 * Looks at the job every `intervalMs`, as the person, until it is over or `maxWaitMs` passed, then
 * answers once more through response_url. A refusal (connection revoked, access lost) ends it, said
 * only to the person.
 */
async function followJob(ctx: CommandContext, followUp: NonNullable<CommandContext["followUp"]>, followed: FollowedJob, polling: JobPolling): Promise<void> {
  const { project, job } = followed;
  const object = `${project} ${job.name}`;
  const locale = followed.responseType === "in_channel" ? ctx.config.defaultLocale : await localeOf(ctx);
  const deadline = Date.now() + polling.maxWaitMs;
  try {
    for (;;) {
      await delay(polling.intervalMs);
      const now = await onGitlab(ctx, { object }, async (api) => (await api.Jobs.show(project, job.id)) as unknown as JobView).catch((error: unknown) => {
        if (error instanceof CommandError && PASSING_FAILURES.has(error.code) && Date.now() < deadline) return undefined;
        throw error;
      });
      if (now && FINISHED.has(now.status)) {
        const trace = await onGitlab(ctx, { object }, async (api) => String(await api.Jobs.showLog(project, job.id)));
        await followUp({ response_type: followed.responseType, text: jobFinished(locale, followed, now, trace) });
        return;
      }
      if (Date.now() >= deadline) {
        await followUp({ response_type: followed.responseType, text: t(locale, "cmd.run.still_running", { job: jobLink(job), duration: formatDuration(locale, polling.maxWaitMs / 1000) ?? "" }) });
        return;
      }
    }
  } catch (error) {
    ctx.logger.warn({ err: error instanceof Error ? error.message : String(error), object }, "a ChatOps job could not be followed to its end");
    const text = error instanceof CommandError ? error.message : t(await localeOf(ctx), "cmd.run.lost", { job: jobLink(job) });
    await followUp({ response_type: "ephemeral", text }).catch((sent: Error) => ctx.logger.warn({ err: sent.message }, "a ChatOps follow-up could not be sent"));
  }
}

/** The `run` command; tests pass a shorter polling. */
export function createRunCommand(polling: JobPolling = DEFAULT_POLLING): Command {
  return {
    name: "run",
    usage: "run <project> <job> [args]",
    summary: "command.summary.run",
    needs: ["connected"],
    async run(ctx) {
      const locale = await localeOf(ctx);
      if (ctx.args.length < 2) throw usageError();
      const project = await projectArgument(ctx, ctx.args[0]);
      const jobName = ctx.args[1]!;
      if (!isJobName(jobName)) throw usageError(t(locale, "cmd.run.bad_job", { text: escapeInline(jobName, 100) }));
      const input = chatInput(ctx.rest);
      if (input.length > MAX_VARIABLE_VALUE_CHARS) throw usageError(t(locale, "cmd.run.input_too_long", { max: MAX_VARIABLE_VALUE_CHARS }));
      const started = await onGitlab(ctx, { object: project, action: "run.job" }, async (api) => {
        const ref = await defaultBranchOf(api, project, locale);
        const pipeline = await createPipeline(api, project, ref, [
          { key: "CHAT_INPUT", value: input },
          { key: "CHAT_CHANNEL", value: ctx.channelName },
          { key: "CHAT_USER_ID", value: ctx.userId },
          { key: "GITLAB_CHATOPS_JOB", value: jobName },
        ]);
        const jobs = (await api.Jobs.all(project, { pipelineId: pipeline.id, perPage: 100, page: 1 })) as unknown as JobView[];
        return { pipeline, ref, job: jobs.find((j) => j.name === jobName) };
      });
      const { pipeline, job } = started;
      if (!job) {
        throw new CommandError("no_such_job", t(locale, "cmd.run.no_job", { pipeline: pipelineLink(pipeline), job: escapeInline(jobName, 100) }));
      }
      const follows = ctx.followUp !== undefined;
      const reply = await announce(ctx, projectVisibility(ctx, project), (lang) => {
        const line = t(lang, "cmd.run.started", { who: mentionUser(ctx.userName), job: jobLink(job), pipeline: pipelineLink(pipeline), project: escapeInline(project, 200) });
        return follows ? `${line} ${t(lang, "cmd.run.follows")}` : line;
      });
      if (ctx.followUp) void followJob(ctx, ctx.followUp, { project, job, pipeline, responseType: reply.response_type }, polling);
      return reply;
    },
  };
}

export const runJob = createRunCommand();
