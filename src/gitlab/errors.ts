// A failed GitLab call, as one coded value: what a command tells the person, what the audit log counts.
// GitLab's own message is kept only as one short line (422s explain themselves: "Branch cannot be
// merged"); never a stack trace, a token or a raw JSON body.
import { GitbeakerRequestError, GitbeakerTimeoutError } from "@gitbeaker/rest";
import type { Locale } from "../config.js";
import { t } from "../i18n/index.js";
import { escapeInline } from "../text/markdown.js";
import { retryAfterSeconds } from "./requester.js";

export type GitlabFailureCode =
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "invalid"
  | "rate_limited"
  | "unavailable"
  | "timeout"
  | "unreachable";

export interface GitlabFailure {
  code: GitlabFailureCode;
  /** GitLab's HTTP status, when it answered. */
  status?: number;
  /** GitLab's own explanation, one line, at most DETAIL_MAX characters. */
  detail?: string;
  retryAfterSeconds?: number;
}

const DETAIL_MAX = 300;

/** GitLab's error bodies are a string, or field -> messages ({"base": ["..."], "title": ["is too long"]}). */
function detailOf(description: unknown): string | undefined {
  if (typeof description !== "string" || description.trim() === "") return undefined;
  let text = description.slice(0, 4000);
  if (text.startsWith("{") || text.startsWith("[")) {
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
        text = Object.entries(parsed)
          .map(([field, said]) => `${field === "base" ? "" : `${field} `}${Array.isArray(said) ? said.map(String).join(", ") : String(said)}`)
          .join("; ");
      } else if (Array.isArray(parsed)) {
        text = parsed.map(String).join("; ");
      }
    } catch {
      // Not JSON after all: GitLab's text as it is.
    }
  }
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > DETAIL_MAX ? `${line.slice(0, DETAIL_MAX - 1)}…` : line;
}

export function classifyGitlabError(error: unknown): GitlabFailure {
  if (error instanceof GitbeakerTimeoutError) return { code: "timeout" };
  if (!(error instanceof GitbeakerRequestError)) return { code: "unreachable" };
  const response = error.cause?.response;
  const status = response?.status;
  if (status === undefined) return { code: "unreachable" };
  const detail = detailOf(error.cause?.description);
  if (status === 401) return { code: "unauthorized", status };
  if (status === 403) return { code: "forbidden", status, detail };
  if (status === 404) return { code: "not_found", status };
  if (status === 409) return { code: "conflict", status, detail };
  if (status === 429) return { code: "rate_limited", status, retryAfterSeconds: retryAfterSeconds(response?.headers.get("retry-after")) ?? 60 };
  if (status >= 500) return { code: "unavailable", status };
  return { code: "invalid", status, detail };
}

/**
 * One sentence for the person, in their language. `what` names the object as they typed it
 * (`group/project#12`); `command` is how to reconnect (`/gitlab connect`).
 */
export function describeGitlabFailure(locale: Locale, failure: GitlabFailure, what: string, command: string): string {
  const object = escapeInline(what, 200);
  const detail = failure.detail ? escapeInline(failure.detail, DETAIL_MAX) : "";
  switch (failure.code) {
    case "unauthorized":
      return t(locale, "gitlab.error.unauthorized", { command });
    case "forbidden":
      return detail ? t(locale, "gitlab.error.forbidden_detail", { what: object, detail }) : t(locale, "gitlab.error.forbidden", { what: object });
    case "not_found":
      return t(locale, "gitlab.error.not_found", { what: object });
    case "conflict":
      return t(locale, "gitlab.error.conflict", { what: object, detail: detail || "409" });
    case "invalid":
      return t(locale, "gitlab.error.invalid", { what: object, detail: detail || String(failure.status ?? "") });
    case "rate_limited":
      return t(locale, "gitlab.error.rate_limited", { seconds: String(failure.retryAfterSeconds ?? 60) });
    case "unavailable":
      return t(locale, "gitlab.error.unavailable", { status: String(failure.status ?? "") });
    case "timeout":
      return t(locale, "gitlab.error.timeout", { what: object });
    case "unreachable":
      return t(locale, "gitlab.error.unreachable");
  }
}
