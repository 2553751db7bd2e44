// Outbound calls to GitLab (gitbeaker, OAuth) and Mattermost (Client4) go through HTTP_PROXY /
// HTTPS_PROXY (or their lower-case forms), except to the hosts NO_PROXY names. The servers are the
// simulators; the proxy records what it tunnels and is the only one that knows the invented names
// gitlab.test and mattermost.test, so a call to them succeeds only through it.
import { getGlobalDispatcher, setGlobalDispatcher } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";
import { currentGitlabUser } from "../src/gitlab/client.js";
import { createGitlabOAuth } from "../src/gitlab/oauth.js";
import { createMattermostClient } from "../src/mattermost/client.js";
import { useOutboundProxy } from "../src/outbound-proxy.js";
import { startGitlabSim, type GitlabSim, type GitlabSimUser } from "./support/gitlab-sim.js";
import { startMattermostSim, type MattermostSim } from "./support/mattermost-sim.js";
import { startTestProxy, type TestProxy } from "./support/proxy.js";

const REQUIRED = { MATTERMOST_URL: "http://mattermost.test", MATTERMOST_BOT_TOKEN: "token", GITLAB_WEBHOOK_SECRET: "proxy-test-secret" };

let mattermost: MattermostSim;
let gitlab: GitlabSim;
let user: GitlabSimUser;
let proxy: TestProxy;
let mmPort: string;
let glPort: string;
const original = getGlobalDispatcher();

beforeAll(async () => {
  mattermost = await startMattermostSim();
  gitlab = await startGitlabSim();
  user = gitlab.addUser({ username: "dana" });
  proxy = await startTestProxy({ "mattermost.test": "127.0.0.1", "gitlab.test": "127.0.0.1" });
  mmPort = new URL(mattermost.url).port;
  glPort = new URL(gitlab.url).port;
});
afterEach(() => {
  setGlobalDispatcher(original);
  proxy.requests.length = 0;
});
afterAll(async () => {
  await proxy.close();
  await mattermost.close();
  await gitlab.close();
});

/** One call of each client the bot has: Mattermost's Client4, gitbeaker, and the OAuth token endpoint. */
async function callEach(hosts: { mattermost: string; gitlab: string }) {
  const me = await createMattermostClient(`http://${hosts.mattermost}:${mmPort}`, mattermost.botToken).getMe();
  const tokens = gitlab.issueTokens(user);
  const gitlabUrl = `http://${hosts.gitlab}:${glPort}`;
  const gitlabUser = await currentGitlabUser(gitlabUrl, tokens.accessToken);
  const oauth = createGitlabOAuth({ gitlabUrl, clientId: gitlab.app.clientId, clientSecret: gitlab.app.clientSecret, redirectUri: gitlab.app.redirectUri });
  const refreshed = await oauth.refresh(tokens.refreshToken);
  return { me: me.id, gitlabUser: gitlabUser.username, refreshed: typeof refreshed.accessToken };
}

const answered = () => ({ me: mattermost.bot.id, gitlabUser: "dana", refreshed: "string" });

describe("outbound proxies", () => {
  it("without a proxy the invented names do not resolve (so a success below is the proxy's doing)", async () => {
    useOutboundProxy(loadConfig(REQUIRED).proxy);
    await expect(createMattermostClient(`http://mattermost.test:${mmPort}`, mattermost.botToken).getMe()).rejects.toThrow(/did not answer/);
    expect(proxy.requests).toEqual([]);
  });

  it("sends Mattermost, GitLab API and GitLab OAuth calls through HTTP_PROXY", async () => {
    useOutboundProxy(loadConfig({ ...REQUIRED, HTTP_PROXY: proxy.url }).proxy);
    expect(await callEach({ mattermost: "mattermost.test", gitlab: "gitlab.test" })).toEqual(answered());
    expect(new Set(proxy.requests)).toEqual(new Set([`CONNECT mattermost.test:${mmPort}`, `CONNECT gitlab.test:${glPort}`]));
  });

  it("reads the lower-case http_proxy when HTTP_PROXY is not set", async () => {
    useOutboundProxy(loadConfig({ ...REQUIRED, http_proxy: proxy.url }).proxy);
    expect(await callEach({ mattermost: "mattermost.test", gitlab: "gitlab.test" })).toEqual(answered());
    expect(new Set(proxy.requests)).toEqual(new Set([`CONNECT mattermost.test:${mmPort}`, `CONNECT gitlab.test:${glPort}`]));
  });

  it("goes straight to the hosts NO_PROXY names, and proxies 127.0.0.1 when only localhost is named", async () => {
    useOutboundProxy(loadConfig({ ...REQUIRED, HTTP_PROXY: proxy.url, NO_PROXY: "localhost" }).proxy);
    expect(await callEach({ mattermost: "localhost", gitlab: "localhost" })).toEqual(answered());
    expect(proxy.requests).toEqual([]);
    expect(await callEach({ mattermost: "127.0.0.1", gitlab: "127.0.0.1" })).toEqual(answered());
    expect(new Set(proxy.requests)).toEqual(new Set([`CONNECT 127.0.0.1:${mmPort}`, `CONNECT 127.0.0.1:${glPort}`]));
  });

  it("sends the delivery worker's posts (its own connection pool) through HTTP_PROXY, and straight to NO_PROXY hosts", async () => {
    const channel = mattermost.addChannel({ name: "proxied-posts" });
    const deliver = async (host: string) => {
      const client = createMattermostClient(`http://${host}:${mmPort}`, mattermost.botToken);
      const { id } = await client.createPost({ channel_id: channel.id, message: `through ${host}` });
      await client.patchPost(id, { message: `through ${host}, patched` });
      return mattermost.post(id)?.message;
    };
    useOutboundProxy(loadConfig({ ...REQUIRED, HTTP_PROXY: proxy.url, NO_PROXY: "localhost" }).proxy);
    expect(await deliver("mattermost.test")).toBe("through mattermost.test, patched");
    expect(new Set(proxy.requests)).toEqual(new Set([`CONNECT mattermost.test:${mmPort}`]));
    const tunnels = proxy.requests.length;
    expect(await deliver("localhost")).toBe("through localhost, patched");
    expect(proxy.requests).toHaveLength(tunnels);
    expect(mattermost.violations).toEqual([]);
  });

  it("takes a NO_PROXY entry with a port for that port only, and the lower-case no_proxy", async () => {
    useOutboundProxy(loadConfig({ ...REQUIRED, HTTP_PROXY: proxy.url, no_proxy: `127.0.0.1:${glPort}` }).proxy);
    expect(await callEach({ mattermost: "127.0.0.1", gitlab: "127.0.0.1" })).toEqual(answered());
    expect(proxy.requests).toEqual([`CONNECT 127.0.0.1:${mmPort}`]);
  });
});

describe("proxy settings", () => {
  it("prefers the upper-case form when both are set", () => {
    const { proxy: settings } = loadConfig({ ...REQUIRED, HTTPS_PROXY: "http://upper:3128", https_proxy: "http://lower:3128", no_proxy: "gitlab.example.com" });
    expect(settings).toEqual({ http: undefined, https: "http://upper:3128", noProxy: "gitlab.example.com" });
  });

  it("refuses a proxy that is not an http(s) URL, naming the setting", () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig({ ...REQUIRED, ...env });
      } catch (error) {
        if (error instanceof ConfigError) return error.problems;
        throw error;
      }
      return [];
    };
    expect(problems({ http_proxy: "proxy.example.com:3128" })).toEqual(["http_proxy: must be the proxy's http:// or https:// URL, e.g. http://proxy.example.com:3128"]);
    expect(problems({ HTTPS_PROXY: "socks5://proxy:1080" })).toEqual(["HTTPS_PROXY: must be the proxy's http:// or https:// URL, e.g. http://proxy.example.com:3128"]);
  });
});
