// Buttons on channel posts: a handler names what may be done (`{ kind: "mr.approve", project, iid }`),
// and this turns it into a Mattermost interactive button whose context is signed, pointing at
// PUBLIC_URL/mattermost/actions. Handlers never see the key or the URL.
import type { Config, Locale } from "../config.js";
import { t } from "../i18n/index.js";
import type { MessageAction, PostAction, PostActionKind, PostContent } from "../notification.js";
import { ACTION_TTL_SECONDS, actionsKeyOf, signAction, verifyAction, type ActionVerdict } from "./signing.js";

export const ACTIONS_PATH = "/mattermost/actions";

const STYLES: Record<PostActionKind, MessageAction["style"]> = {
  "mr.approve": "success",
  "mr.merge": "primary",
  "pipeline.retry": "primary",
  "issue.close": "default",
  "issue.reopen": "default",
  "job.play": "primary",
};

/** The button's id: Mattermost routes a click by it, and takes letters and digits only. */
export function buttonIdOf(kind: PostActionKind): string {
  return kind.replace(".", "");
}

export interface ActionButtons {
  /** The post with a button per action on its first attachment (one made when it has none). */
  attach(post: PostContent, actions: readonly PostAction[], locale: Locale): PostContent;
  /** The buttons alone, for replacing those of a post that was clicked. */
  buttons(actions: readonly PostAction[], locale: Locale): MessageAction[];
  /** Checks the context of a click (see verifyAction). */
  verify(context: unknown): ActionVerdict;
}

export function createActionButtons(deps: { key: Buffer; publicUrl: string; now?: () => number }): ActionButtons {
  const now = deps.now ?? Date.now;
  const url = `${deps.publicUrl}${ACTIONS_PATH}`;
  const seconds = () => Math.floor(now() / 1000);

  function buttons(actions: readonly PostAction[], locale: Locale): MessageAction[] {
    const exp = seconds() + ACTION_TTL_SECONDS;
    return actions.map((action) => ({
      id: buttonIdOf(action.kind),
      name: t(locale, `action.button.${action.kind}`),
      type: "button",
      style: STYLES[action.kind],
      integration: { url, context: { ...signAction(deps.key, action, exp) } },
    }));
  }

  return {
    buttons,
    attach(post, actions, locale) {
      if (actions.length === 0) return post;
      const [first, ...rest] = post.attachments ?? [];
      const withButtons = { ...(first ?? { fallback: "" }), actions: buttons(actions, locale) };
      return { ...post, attachments: [withButtons, ...rest] };
    },
    verify(context) {
      return verifyAction(deps.key, context, seconds());
    },
  };
}

/** The bot's buttons as its settings make them; undefined when no signing key can be had (no buttons then). */
export function actionButtonsOf(config: Pick<Config, "publicUrl" | "actionsSigningKey" | "encryptionKey">): ActionButtons | undefined {
  const key = actionsKeyOf(config);
  return key ? createActionButtons({ key, publicUrl: config.publicUrl }) : undefined;
}
