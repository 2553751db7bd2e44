// Outbound calls to GitLab and Mattermost through the proxies of HTTP_PROXY, HTTPS_PROXY and NO_PROXY.
// One global dispatcher rather than one per client: Client4 (Mattermost) calls the global fetch and
// takes no dispatcher, the OAuth token calls use fetch too, and the bot makes no other HTTP call, so
// the global one reaches exactly GitLab and Mattermost (Redis and PostgreSQL are not HTTP).
import { EnvHttpProxyAgent, setGlobalDispatcher, type Dispatcher } from "undici";
import type { ProxySettings } from "./config.js";

/**
 * A dispatcher that sends each request through the proxy of its scheme, or straight to hosts that
 * NO_PROXY names; undefined when no proxy is set.
 */
export function proxyDispatcher(proxy: ProxySettings): Dispatcher | undefined {
  const { http, https, noProxy } = proxy;
  if (!http && !https) return undefined;
  // Empty strings, not undefined: undici would otherwise read the environment itself, and only
  // src/config.ts decides what the settings are. Without HTTPS_PROXY, https:// goes through HTTP_PROXY.
  return new EnvHttpProxyAgent({ httpProxy: http ?? "", httpsProxy: https ?? "", noProxy: noProxy ?? "" });
}

/** Routes every outbound fetch of this process through the proxies, when any is set. */
export function useOutboundProxy(proxy: ProxySettings): void {
  const dispatcher = proxyDispatcher(proxy);
  if (dispatcher) setGlobalDispatcher(dispatcher);
}
