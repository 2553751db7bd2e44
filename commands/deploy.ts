// `/gitlab deploy <project> <from-environment> to <to-environment>`, as GitLab's own chat command
// does it: take the last successful deployment of <from>, and play the manual job of that deployment's
// pipeline that deploys to <to>. GitLab's job API does not say which environment a job deploys to, so
// the candidates are the pipeline's manual jobs: one is played; of several, the one named <to>.
// Runs as the person (GitLab decides whether they may); the deployment's outcome is posted by the
// deployment notification of subscribed channels, not here.
import type { DeploymentSchema, JobSchema } from "@gitbeaker/rest";
import { t } from "../src/i18n/index.js";
import { link } from "../src/text/markdown.js";
import { announce, onGitlab, projectVisibility } from "./act.js";
import { localeOf } from "./locale.js";
import { parseProjectPath } from "./references.js";
import { CommandError, escapeMarkdown, mentionUser, usageError, type Command, type CommandContext } from "./types.js";

/** GitLab refuses longer environment names. */
const ENVIRONMENT_MAX_CHARS = 255;
/** Jobs read from one pipeline; a pipeline with more manual jobs than this is not a deploy pipeline. */
const JOB_PAGES = 10;
/** At most this many job names are listed when the choice is ambiguous. */
const LISTED_JOBS = 10;

async function environmentArg(ctx: CommandContext, word: string | undefined): Promise<string> {
  if (word === undefined || word.trim() === "") throw usageError();
  if (word.length > ENVIRONMENT_MAX_CHARS) throw usageError(t(await localeOf(ctx), "cmd.deploy.bad_environment", { max: ENVIRONMENT_MAX_CHARS }));
  return word;
}

/** The manual job to play: the only one, or of several the one named like the target environment. */
function chooseAction(manual: readonly JobSchema[], to: string): JobSchema | "none" | "ambiguous" {
  if (manual.length === 0) return "none";
  if (manual.length === 1) return manual[0]!;
  return manual.find((job) => job.name === to) ?? "ambiguous";
}

export const deploy: Command = {
  name: "deploy",
  usage: "deploy <project> <from-environment> to <to-environment>",
  summary: "command.summary.deploy",
  needs: ["connected"],
  async run(ctx) {
    const [projectWord, fromWord, toKeyword, toWord, ...extra] = ctx.args;
    if (toKeyword?.toLowerCase() !== "to" || extra.length > 0) throw usageError();
    const project = parseProjectPath(projectWord);
    if (!project) throw usageError(projectWord ? t(await localeOf(ctx), "command.subs.bad_path", { path: escapeMarkdown(projectWord) }) : "");
    const from = await environmentArg(ctx, fromWord);
    const to = await environmentArg(ctx, toWord);
    const shown = { project: escapeMarkdown(project), from: escapeMarkdown(from), to: escapeMarkdown(to) };

    const plan = await onGitlab(ctx, { object: project }, async (api) => {
      const environments = await api.Environments.all(project, { name: from, perPage: 1, maxPages: 1 });
      if (environments.length === 0) return { problem: "cmd.deploy.no_environment" as const };
      // Newest first by when it finished, as GitLab itself picks "the last deployment" (gitbeaker's
      // types lack this ordering; GitLab requires status=success with it).
      const newestFirst = { orderBy: "finished_at", sort: "desc" } as unknown as { orderBy: "id"; sort: "desc" };
      const [last] = (await api.Deployments.all(project, { environment: from, status: "success", ...newestFirst, perPage: 1, maxPages: 1 })) as DeploymentSchema[];
      const pipelineId = last?.deployable.pipeline?.id;
      if (!last || pipelineId === undefined) return { problem: "cmd.deploy.no_deployment" as const };
      const jobs = await api.Jobs.all(project, { pipelineId, perPage: 100, maxPages: JOB_PAGES });
      const manual = jobs.filter((job) => job.status === "manual" && job.id !== last.deployable.id);
      return { pipelineId, pipelineUrl: last.deployable.pipeline?.web_url, manual, choice: chooseAction(manual, to) };
    });
    if (plan.problem !== undefined) throw new CommandError("not_found", t(await localeOf(ctx), plan.problem, shown));
    const pipeline = link(`#${plan.pipelineId}`, plan.pipelineUrl);
    if (plan.choice === "none") throw new CommandError("no_action", t(await localeOf(ctx), "cmd.deploy.no_action", { ...shown, pipeline }));
    if (plan.choice === "ambiguous") {
      const names = plan.manual.slice(0, LISTED_JOBS).map((job) => escapeMarkdown(job.name));
      throw new CommandError("ambiguous", t(await localeOf(ctx), "cmd.deploy.ambiguous", { ...shown, pipeline, jobs: names.join(", ") }));
    }

    const action = plan.choice;
    const played = await onGitlab(ctx, { action: "deploy.play", object: project }, (api) => api.Jobs.play(project, action.id));
    ctx.logger.info({ user_id: ctx.userId, project, from, to, job_id: played.id }, "deployment started");
    // The channel sees it, in its language, when it may see the project: a deployment concerns everyone there.
    return announce(ctx, projectVisibility(ctx, project), (locale) =>
      t(locale, "cmd.deploy.started", {
        who: mentionUser(ctx.userName),
        ...shown,
        job: link(`${played.name} #${played.id}`, played.web_url),
      }),
    );
  },
};
