// POST /mattermost/actions: Mattermost calls this when someone clicks a button on one of the bot's posts
// (interactive messages). The button's context was signed by the bot (src/actions/signing.ts): one it did
// not sign, changed or expired gets 401 and nothing is done. The action runs as the person who clicked,
// with their connected GitLab account (GitLab decides); success edits the post to say who did what,
// a refusal is told to that person alone (ephemeral_text), in their language.
import { Hono, type Context } from "hono";
import { gitlabAuthProblem, mentionUser } from "../../commands/types.js";
import { ACTIONS_PATH, buttonIdOf, type ActionButtons } from "../actions/buttons.js";
import { actionObject, buttonsAfter, performAction } from "../actions/perform.js";
import { LOCALES, type Config, type Locale } from "../config.js";
import { actAsUser, GitlabActionError } from "../gitlab/act.js";
import type { GitlabAccountsSetup } from "../gitlab/accounts.js";
import { describeGitlabFailure } from "../gitlab/errors.js";
import { t } from "../i18n/index.js";
import type { Logger } from "../logger.js";
import type { MattermostApi } from "../mattermost/client.js";
import type { Metrics } from "../metrics.js";
import type { MessageAttachment, PostAction } from "../notification.js";
import { fitMessage } from "../queue/delivery-worker.js";
import { bodyLimit, type BodyVariables } from "./middleware/body-limit.js";
import { timeout } from "./middleware/timeout.js";

export interface ActionsRouteDeps {
  mattermost: MattermostApi;
  /** Linked GitLab accounts: every action runs as the person who clicked. */
  gitlab?: GitlabAccountsSetup;
  /** Signs and checks buttons; absent when no key is set (then no post has buttons, and every click is refused). */
  buttons?: ActionButtons;
  config: Pick<Config, "defaultLocale">;
  logger: Logger;
  metrics?: Metrics;
  /** For tests: how long a click may take before the person is told it is still going (default 25 s). */
  requestTimeoutMs?: number;
}

/** A click is a small JSON object; anything larger is not from Mattermost. */
export const ACTION_MAX_BYTES = 64 * 1024;
/** Mattermost waits 30 s for an integration by default; answer before it gives up. */
const REQUEST_TIMEOUT_MS = 25_000;
const CONNECT_COMMAND = "`/gitlab connect`";

/** The fields of Mattermost's integration request that the bot reads. */
interface ClickRequest {
  userId: string;
  userName?: string;
  postId: string;
  context: unknown;
}

interface ActionAnswer {
  update?: { message: string; props: Record<string, unknown> };
  ephemeral_text?: string;
}

const decoder = new TextDecoder();

function clickOf(bytes: Uint8Array): ClickRequest | undefined {
  let body: unknown;
  try {
    body = JSON.parse(decoder.decode(bytes));
  } catch {
    return undefined;
  }
  if (!body || typeof body !== "object" || Array.isArray(body)) return undefined;
  const { user_id: userId, user_name: userName, post_id: postId, context } = body as Record<string, unknown>;
  if (typeof userId !== "string" || userId === "" || userId.length > 64 || typeof postId !== "string" || postId.length > 64) return undefined;
  return { userId, userName: typeof userName === "string" && userName !== "" ? userName : undefined, postId, context };
}

/** The post's attachments without their buttons (Mattermost hands them back without their integrations anyway). */
function attachmentsWithout(props: Record<string, unknown>): MessageAttachment[] {
  const attachments = props.attachments;
  if (!Array.isArray(attachments)) return [];
  return attachments
    .filter((a): a is MessageAttachment => !!a && typeof a === "object" && !Array.isArray(a))
    .map((a) => {
      const { actions: _buttons, ...rest } = a;
      return rest;
    });
}

/**
 * The language the post was written in (a subscription may have its own `lang:`), told by the name of
 * the clicked button; the default language when no button says.
 */
function postLocale(props: Record<string, unknown>, action: PostAction, fallback: Locale): Locale {
  const id = buttonIdOf(action.kind);
  const attachments: unknown[] = Array.isArray(props.attachments) ? props.attachments : [];
  const names = attachments
    .flatMap((a) => (a && typeof a === "object" && "actions" in a && Array.isArray(a.actions) ? (a.actions as unknown[]) : []))
    .flatMap((b) => (b && typeof b === "object" && "id" in b && b.id === id && "name" in b ? [b.name] : []));
  return LOCALES.find((l) => names.includes(t(l, `action.button.${action.kind}`))) ?? fallback;
}

export function actionsRoutes(deps: ActionsRouteDeps): Hono<{ Variables: BodyVariables }> {
  const { mattermost, logger, buttons } = deps;
  const locale = deps.config.defaultLocale;
  const app = new Hono<{ Variables: BodyVariables }>();
  const answer = (c: Context, body: ActionAnswer) => c.json(body, 200);

  /** The clicked post with a line saying who did what, and the buttons that still make sense, in the post's language. */
  async function updatedPost(postId: string, action: PostAction, who: string): Promise<ActionAnswer["update"]> {
    const post = await mattermost.getPost(postId).catch((error: Error) => {
      logger.warn({ post: postId, err: error.message }, "clicked post could not be read; it is not updated");
      return undefined;
    });
    if (!post) return undefined;
    const props = post.props ?? {};
    const written = postLocale(props, action, locale);
    const after = buttonsAfter(action);
    const [first, ...rest] = attachmentsWithout(props);
    const kept = buttons && after.length > 0 ? buttons.buttons(after, written) : [];
    const attachments = first ? [{ ...first, ...(kept.length ? { actions: kept } : {}) }, ...rest] : kept.length ? [{ fallback: "", actions: kept }] : [];
    const line = t(written, `action.done.${action.kind}`, { who });
    return { message: fitMessage(`${post.message}\n${line}`), props: { ...props, attachments } };
  }

  app.post(
    ACTIONS_PATH,
    timeout(deps.requestTimeoutMs ?? REQUEST_TIMEOUT_MS, (c) => answer(c, { ephemeral_text: t(locale, "action.timeout") })),
    bodyLimit({ maxBytes: ACTION_MAX_BYTES, onTooLarge: (c) => c.json({ error: "request too large" }, 413) }),
  );

  app.post(ACTIONS_PATH, async (c) => {
    const click = clickOf(c.get("body"));
    if (!click) return c.json({ error: "not an interactive message request" }, 400);
    const verdict = buttons ? buttons.verify(click.context) : ({ ok: false, reason: "bad_signature" } as const);
    if (!verdict.ok) {
      // Never the context itself: a forged one is a stranger's text.
      logger.warn({ user_id: click.userId, post_id: click.postId, reason: verdict.reason }, "button click refused: its context was not signed by this bot, was changed or has expired");
      return c.json({ error: "this button is not valid" }, 401);
    }
    const action = verdict.action;
    if (!deps.gitlab?.ready) {
      const settings = (deps.gitlab?.missing ?? []).map((m) => `\`${m}\``).join(", ");
      return answer(c, { ephemeral_text: t(locale, "account.not_configured", { settings }) });
    }
    const accounts = deps.gitlab.accounts;
    const personal = await accounts.localeOf(click.userId);
    const object = actionObject(action);
    const log = logger.child({ user_id: click.userId, post_id: click.postId });
    try {
      await actAsUser({ accounts, logger: log, metrics: deps.metrics }, { mattermostUserId: click.userId, action: action.kind, object, via: "button" }, (api) =>
        performAction(api, action, personal),
      );
    } catch (error) {
      const auth = gitlabAuthProblem(error, "/gitlab", personal);
      if (auth) return answer(c, { ephemeral_text: auth.message });
      if (error instanceof GitlabActionError) return answer(c, { ephemeral_text: describeGitlabFailure(personal, error.failure, object, CONNECT_COMMAND) });
      throw error;
    }
    // Mattermost names the clicker in its request; older servers only by id.
    const userName = click.userName ?? (await mattermost.getUser(click.userId).then((u) => u.username, () => click.userId));
    const who = mentionUser(userName);
    const update = await updatedPost(click.postId, action, who);
    return answer(c, update ? { update } : { ephemeral_text: t(personal, `action.done.${action.kind}`, { who }) });
  });

  return app;
}
