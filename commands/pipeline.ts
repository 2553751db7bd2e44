// `/gitlab pipeline run|retry|cancel|show`: CI pipelines started, retried, cancelled and read as the
// person who typed the command, with their own GitLab account (GitLab's roles decide: Developer to
// run, retry or cancel). Variables come from a stranger's text: keys are checked character by
// character and values capped before anything is sent.
import type { Locale } from "../src/config.js";
import { gitlabStatusOf, type GitlabApi } from "../src/gitlab/client.js";
import { t } from "../src/i18n/index.js";
import { escapeInline, linkMarkdown, shortSha } from "../src/text/markdown.js";
import { formatDuration } from "../handlers/common.js";
import { announce, onGitlab, projectVisibility } from "./act.js";
import { localeOf } from "./locale.js";
import { parseProjectPath } from "./references.js";
import { CommandError, ephemeral, mentionUser, usageError, type Command, type CommandContext } from "./types.js";

/** GitLab's limit on a CI variable key. */
export const MAX_VARIABLE_KEY_CHARS = 255;
/** Far above any sensible chat-typed value; a longer one is a paste gone wrong. */
export const MAX_VARIABLE_VALUE_CHARS = 4096;
export const MAX_VARIABLES = 50;
/** Git allows longer ref names, GitLab's branch names stay far below. */
const MAX_REF_CHARS = 255;
const MAX_PIPELINE_ID_DIGITS = 12;

export interface PipelineVariable {
  key: string;
  value: string;
}

export interface PipelineView {
  id: number;
  status: string;
  ref: string;
  sha: string;
  web_url: string;
  duration?: number | null;
}

interface JobView {
  id: number;
  name: string;
  status: string;
  web_url: string;
}

/** A CI variable key as GitLab accepts it: letters, digits and `_`, at most 255 characters. */
export function isVariableKey(key: string): boolean {
  if (key.length === 0 || key.length > MAX_VARIABLE_KEY_CHARS) return false;
  for (const ch of key) {
    const ok = (ch >= "a" && ch <= "z") || (ch >= "A" && ch <= "Z") || (ch >= "0" && ch <= "9") || ch === "_";
    if (!ok) return false;
  }
  return true;
}

/**
 * A branch or tag name as people type it: printable, no space, and none of what git refuses in a ref
 * (`..`, `~^:?*[\`, a leading `-`). GitLab says whether it exists.
 */
export function isRefName(ref: string): boolean {
  if (ref.length === 0 || ref.length > MAX_REF_CHARS || ref.startsWith("-") || ref.includes("..")) return false;
  for (const ch of ref) {
    const code = ch.charCodeAt(0);
    if (code <= 0x20 || code === 0x7f || "~^:?*[\\".includes(ch)) return false;
  }
  return true;
}

function parsePipelineId(text: string | undefined): number | undefined {
  if (!text || text.length > MAX_PIPELINE_ID_DIGITS) return undefined;
  for (const ch of text) if (ch < "0" || ch > "9") return undefined;
  const id = Number(text);
  return id >= 1 ? id : undefined;
}

/** `KEY=value` words (a value may be quoted: `KEY="two words"`), or a usage error naming the first bad one. */
export function parseVariables(words: readonly string[], locale: Locale): PipelineVariable[] {
  if (words.length > MAX_VARIABLES) throw usageError(t(locale, "cmd.pipeline.too_many_variables", { max: MAX_VARIABLES }));
  const seen = new Set<string>();
  return words.map((word) => {
    const eq = word.indexOf("=");
    const key = eq > 0 ? word.slice(0, eq) : "";
    if (!isVariableKey(key)) throw usageError(t(locale, "cmd.pipeline.bad_variable", { text: escapeInline(word, 80), max: MAX_VARIABLE_KEY_CHARS }));
    if (seen.has(key)) throw usageError(t(locale, "cmd.pipeline.duplicate_variable", { key }));
    seen.add(key);
    let value = word.slice(eq + 1);
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (value.length > MAX_VARIABLE_VALUE_CHARS) throw usageError(t(locale, "cmd.pipeline.value_too_long", { key, max: MAX_VARIABLE_VALUE_CHARS }));
    return { key, value };
  });
}

/** The project named by the first argument, or a usage error. */
export async function projectArgument(ctx: CommandContext, word: string | undefined): Promise<string> {
  const project = parseProjectPath(word);
  if (project) return project;
  if (word === undefined) throw usageError();
  throw usageError(t(await localeOf(ctx), "cmd.pipeline.bad_project", { text: escapeInline(word, 100) }));
}

/** The project's default branch, as GitLab says; a project without one (an empty repository) is refused. */
export async function defaultBranchOf(api: GitlabApi, project: string, locale: Locale): Promise<string> {
  const found = (await api.Projects.show(project)) as unknown as { default_branch?: string | null };
  if (found.default_branch) return found.default_branch;
  throw new CommandError("no_default_branch", t(locale, "cmd.pipeline.no_default_branch", { project: escapeInline(project, 200) }));
}

/** POST /projects/:id/pipeline as the person. */
export async function createPipeline(api: GitlabApi, project: string, ref: string, variables: readonly PipelineVariable[]): Promise<PipelineView> {
  const created = await api.Pipelines.create(project, ref, { variables: variables.map((v) => ({ key: v.key, value: v.value, variable_type: "env_var" })) });
  return created as unknown as PipelineView;
}

const PIPELINE_STATUS_KEYS = {
  success: "thread.pipeline.success",
  failed: "thread.pipeline.failed",
  canceled: "thread.pipeline.canceled",
  running: "thread.pipeline.running",
} as const;

/** A pipeline's or job's status in the reader's language where the catalog has it, else as GitLab says it. */
export function statusText(locale: Locale, status: string | undefined): string {
  const key = Object.hasOwn(PIPELINE_STATUS_KEYS, status ?? "") ? PIPELINE_STATUS_KEYS[status as keyof typeof PIPELINE_STATUS_KEYS] : undefined;
  return key ? t(locale, key) : escapeInline(status, 40);
}

/** "[#123](url)" */
export function pipelineLink(p: Pick<PipelineView, "id" | "web_url">): string {
  return linkMarkdown(`#${p.id}`, p.web_url);
}

// ---- pipeline run ----

export const pipelineRun: Command = {
  name: "pipeline run",
  usage: "pipeline run <project> [<ref>] [KEY=value ...]",
  summary: "command.summary.pipeline_run",
  needs: ["connected"],
  async run(ctx) {
    const locale = await localeOf(ctx);
    const project = await projectArgument(ctx, ctx.args[0]);
    const rest = ctx.args.slice(1);
    const named = rest[0] !== undefined && !rest[0].includes("=") ? rest[0] : undefined;
    if (named !== undefined && !isRefName(named)) throw usageError(t(locale, "cmd.pipeline.bad_ref", { text: escapeInline(named, 100) }));
    const variables = parseVariables(named === undefined ? rest : rest.slice(1), locale);
    const { pipeline, ref } = await onGitlab(ctx, { object: project, action: "pipeline.run" }, async (api) => {
      const ref = named ?? (await defaultBranchOf(api, project, locale));
      return { pipeline: await createPipeline(api, project, ref, variables), ref };
    });
    // Only the keys: the values may be meant for the pipeline's eyes only.
    const keys = variables.map((v) => `\`${v.key}\``).join(", ");
    return announce(ctx, projectVisibility(ctx, project), (lang) =>
      t(lang, "cmd.pipeline.run.done", {
        who: mentionUser(ctx.userName),
        pipeline: pipelineLink(pipeline),
        ref: escapeInline(ref, 120),
        project: escapeInline(project, 200),
        variables: keys === "" ? "" : t(lang, "cmd.pipeline.run.variables", { keys }),
      }),
    );
  },
};

// ---- pipeline retry / cancel ----

function pipelineAction(verb: "retry" | "cancel"): Command {
  return {
    name: `pipeline ${verb}`,
    usage: `pipeline ${verb} <project> <pipeline-id>`,
    summary: verb === "retry" ? "command.summary.pipeline_retry" : "command.summary.pipeline_cancel",
    needs: ["connected"],
    async run(ctx) {
      if (ctx.args.length !== 2) throw usageError();
      const locale = await localeOf(ctx);
      const project = await projectArgument(ctx, ctx.args[0]);
      const id = parsePipelineId(ctx.args[1]);
      if (id === undefined) throw usageError(t(locale, "cmd.pipeline.bad_id", { text: escapeInline(ctx.args[1], 40) }));
      const object = `${project} #${id}`;
      const pipeline = await onGitlab(ctx, { object, action: `pipeline.${verb}` }, async (api) => {
        const answer = verb === "retry" ? await api.Pipelines.retry(project, id) : await api.Pipelines.cancel(project, id);
        return answer as unknown as PipelineView;
      });
      const key = verb === "retry" ? "cmd.pipeline.retry.done" : "cmd.pipeline.cancel.done";
      return announce(ctx, projectVisibility(ctx, project), (lang) => t(lang, key, { who: mentionUser(ctx.userName), pipeline: pipelineLink(pipeline), project: escapeInline(project, 200), status: statusText(lang, pipeline.status) }));
    },
  };
}

export const pipelineRetry = pipelineAction("retry");
export const pipelineCancel = pipelineAction("cancel");

// ---- pipeline show ----

export const pipelineShow: Command = {
  name: "pipeline show",
  usage: "pipeline show <project> [<pipeline-id> | <ref>]",
  summary: "command.summary.pipeline_show",
  needs: ["connected"],
  async run(ctx) {
    if (ctx.args.length < 1 || ctx.args.length > 2) throw usageError();
    const locale = await localeOf(ctx);
    const project = await projectArgument(ctx, ctx.args[0]);
    const which = ctx.args[1];
    const id = parsePipelineId(which);
    if (which !== undefined && id === undefined && !isRefName(which)) throw usageError(t(locale, "cmd.pipeline.bad_ref", { text: escapeInline(which, 100) }));
    const found = await onGitlab(ctx, { object: id === undefined ? project : `${project} #${id}` }, async (api) => {
      let ref = which;
      let pipeline: PipelineView | undefined;
      if (id !== undefined) {
        pipeline = (await api.Pipelines.show(project, id)) as unknown as PipelineView;
      } else {
        // The project first: its 404 means the project, a 404 of `latest` means no pipeline on that ref.
        ref ??= await defaultBranchOf(api, project, locale);
        pipeline = await (api.Pipelines.showLatest(project, { ref }) as unknown as Promise<PipelineView>).catch((error: unknown) => {
          if (gitlabStatusOf(error) === 404) return undefined;
          throw error;
        });
      }
      if (!pipeline) return { ref };
      const jobs = (await api.Jobs.all(project, { pipelineId: pipeline.id, scope: "failed", perPage: 100, page: 1 })) as unknown as JobView[];
      return { ref, pipeline, failed: jobs.filter((j) => j.status === "failed") };
    });
    if (!found.pipeline) return ephemeral(t(locale, "cmd.pipeline.show.none", { project: escapeInline(project, 200), ref: escapeInline(found.ref, 120) }));
    const p = found.pipeline;
    const lines = [
      t(locale, "cmd.pipeline.show.title", { pipeline: pipelineLink(p), project: escapeInline(project, 200), status: statusText(locale, p.status) }),
      t(locale, "cmd.pipeline.show.details", { ref: escapeInline(p.ref, 120), sha: shortSha(p.sha), duration: formatDuration(locale, p.duration) ?? "—" }),
    ];
    if (found.failed && found.failed.length > 0) {
      lines.push(t(locale, "cmd.pipeline.show.failed_jobs", { jobs: found.failed.map((j) => linkMarkdown(escapeInline(j.name, 100), j.web_url)).join(", ") }));
    }
    return ephemeral(lines.join("\n"));
  },
};
