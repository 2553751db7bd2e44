// The HTTP requester gitbeaker calls for every GitLab request. Gitbeaker's own one retries 429 and 502
// ten times with delays of a fraction of a millisecond, ignoring Retry-After: against a GitLab that
// throttles it only makes the throttling worse. This one makes each request once; a 429 or 503 that asks
// for a short wait (Retry-After within RETRY_WAIT_LIMIT_MS) is retried once after that wait, and any
// other failure reaches the caller with its response, so the caller can say what GitLab answered.
import { createRequesterFn, GitbeakerRequestError, GitbeakerTimeoutError, getMatchingRateLimiter } from "@gitbeaker/requester-utils";
import type { FormattedResponse, RateLimiters, RequestOptions, ResponseBodyTypes } from "@gitbeaker/requester-utils";

/** The longest Retry-After a command waits for before telling the person to try later. */
export const RETRY_WAIT_LIMIT_MS = 3000;

/** Seconds a Retry-After header asks for (delta-seconds or an HTTP date), if it says. */
export function retryAfterSeconds(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim().slice(0, 64);
  if (/^\d{1,9}$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

async function bodyOf(response: Response, asStream: boolean): Promise<unknown> {
  if (asStream) return response.body;
  if (response.status === 204) return null;
  const type = (response.headers.get("content-type") ?? "").split(";")[0]!.trim();
  if (type === "application/json") return (await response.json()) || {};
  if (type.startsWith("text/")) return (await response.text()) || "";
  return response.blob();
}

/** GitLab's own words for a failure: `message` or `error` of a JSON body, else the text (both capped). */
async function failureOf(request: Request, response: Response): Promise<GitbeakerRequestError> {
  const text = (await response.text().catch(() => "")).slice(0, 4000);
  let description = text;
  if ((response.headers.get("content-type") ?? "").includes("application/json")) {
    try {
      const parsed = JSON.parse(text) as { message?: unknown; error?: unknown };
      const said = parsed?.message ?? parsed?.error ?? "";
      description = typeof said === "string" ? said : JSON.stringify(said);
    } catch {
      description = text;
    }
  }
  return new GitbeakerRequestError(description, { cause: { description, request, response } });
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function requestOnce(endpoint: string, options: Record<string, unknown> = {}): Promise<FormattedResponse<ResponseBodyTypes>> {
  const { rateLimiters, agent, asStream = false, prefixUrl, searchParams, method = "GET", ...init } = options as RequestOptions & { rateLimiters?: RateLimiters };
  const rateLimit = getMatchingRateLimiter(endpoint, rateLimiters, method);
  const base = prefixUrl ? (prefixUrl.endsWith("/") ? prefixUrl : `${prefixUrl}/`) : undefined;
  const url = new URL(endpoint, base);
  url.search = searchParams ?? "";
  for (let attempt = 0; ; attempt++) {
    const request = new Request(url, { ...(init as RequestInit), method });
    await rateLimit();
    // Node's fetch takes an undici dispatcher (a proxy agent, say) as an option the web types do not name.
    const response = await fetch(request, agent ? ({ dispatcher: agent } as unknown as RequestInit) : undefined).catch((error: Error) => {
      if (error.name === "TimeoutError" || error.name === "AbortError") throw new GitbeakerTimeoutError("Query timeout was reached");
      throw error;
    });
    if (response.ok) {
      const body = (await bodyOf(response, asStream)) as ResponseBodyTypes;
      return { body, headers: Object.fromEntries(response.headers.entries()), status: response.status };
    }
    const wait = retryAfterSeconds(response.headers.get("retry-after"));
    if (attempt === 0 && (response.status === 429 || response.status === 503) && wait !== undefined && wait * 1000 <= RETRY_WAIT_LIMIT_MS) {
      await response.body?.cancel().catch(() => {});
      await delay(wait * 1000);
      continue;
    }
    throw await failureOf(request, response);
  }
}

export const requesterFn = createRequesterFn((_, requestOptions) => Promise.resolve(requestOptions), requestOnce);
