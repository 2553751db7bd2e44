// A very small browser for tests: a cookie jar per origin and redirects followed one by one, so a test
// can walk an OAuth flow across the bot and the GitLab simulator and look at every hop. An origin can
// be served by a fetch function (e.g. a Hono app's `request`), so the bot needs no port.
export type FetchLike = (request: Request) => Response | Promise<Response>;

export interface Hop {
  url: string;
  status: number;
  location?: string;
}

export interface BrowserResult {
  response: Response;
  url: string;
  hops: Hop[];
  text: string;
}

export interface Browser {
  /** GET `url`, following up to `maxRedirects` redirects (0: none). */
  get(url: string, opts?: { maxRedirects?: number; stopAt?: (url: URL) => boolean }): Promise<BrowserResult>;
  /** POSTs a form (application/x-www-form-urlencoded), as a submit button does; no redirect is followed. */
  post(url: string, form: Record<string, string>): Promise<BrowserResult>;
  /** A header sent with every request from now on (e.g. Accept-Language). */
  setHeader(name: string, value: string): void;
  /** Sets a cookie for an origin, as `name=value`. */
  setCookie(origin: string, cookie: string): void;
  cookies(origin: string): Map<string, string>;
}

export function createBrowser(servers: Record<string, FetchLike> = {}): Browser {
  const jar = new Map<string, Map<string, string>>();
  const always: Record<string, string> = {};
  const jarOf = (origin: string) => {
    let j = jar.get(origin);
    if (!j) jar.set(origin, (j = new Map()));
    return j;
  };

  function store(origin: string, setCookie: string): void {
    const [pair, ...attributes] = setCookie.split(";");
    const eq = pair!.indexOf("=");
    if (eq <= 0) return;
    const name = pair!.slice(0, eq).trim();
    const value = pair!.slice(eq + 1).trim();
    const expired = attributes.some((a) => {
      const [k, v] = a.split("=").map((x) => x.trim());
      if (k?.toLowerCase() === "max-age") return Number(v) <= 0;
      if (k?.toLowerCase() === "expires") return Date.parse(v ?? "") < Date.now();
      return false;
    });
    if (expired || value === "") jarOf(origin).delete(name);
    else jarOf(origin).set(name, value);
  }

  async function fetchOnce(url: URL, form?: Record<string, string>): Promise<Response> {
    const cookies = [...jarOf(url.origin)].map(([k, v]) => `${k}=${v}`).join("; ");
    const headers: Record<string, string> = cookies ? { ...always, Cookie: cookies } : { ...always };
    const request = form
      ? new Request(url, { method: "POST", headers: { ...headers, "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form).toString(), redirect: "manual" })
      : new Request(url, { headers, redirect: "manual" });
    const server = servers[url.origin];
    const response = server ? await server(request) : await fetch(request);
    for (const c of response.headers.getSetCookie()) store(url.origin, c);
    return response;
  }

  return {
    async get(start, opts = {}) {
      const max = opts.maxRedirects ?? 10;
      const hops: Hop[] = [];
      let url = new URL(start);
      for (let i = 0; ; i++) {
        const response = await fetchOnce(url);
        const location = response.headers.get("location") ?? undefined;
        hops.push({ url: url.toString(), status: response.status, location });
        if (response.status >= 300 && response.status < 400 && location && i < max) {
          const next = new URL(location, url);
          if (opts.stopAt?.(next)) {
            await response.arrayBuffer();
            return { response, url: url.toString(), hops, text: "" };
          }
          await response.arrayBuffer();
          url = next;
          continue;
        }
        const text = await response.text();
        return { response, url: url.toString(), hops, text };
      }
    },
    async post(url, form) {
      const response = await fetchOnce(new URL(url), form);
      const location = response.headers.get("location") ?? undefined;
      return { response, url, hops: [{ url, status: response.status, location }], text: await response.text() };
    },
    setHeader(name, value) {
      always[name] = value;
    },
    setCookie(origin, cookie) {
      store(new URL(origin).origin, cookie);
    },
    cookies(origin) {
      return new Map(jarOf(new URL(origin).origin));
    },
  };
}
