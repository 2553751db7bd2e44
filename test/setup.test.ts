import { EventEmitter } from "node:events";
import { createServer, request, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseDotenv } from "dotenv";
import { getGlobalDispatcher, setGlobalDispatcher } from "undici";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { commands as commandTable } from "../commands/index.js";
import { runCli, type CliIo } from "../src/cli.js";
import { loadConfig } from "../src/config.js";
import { autocompleteRegistration } from "../src/http/autocomplete.js";
import { withSettings } from "../src/setup/env-file.js";
import { askSecret, type SecretInput } from "../src/setup/secret-prompt.js";
import { startGitlabSim, type GitlabSim, type GitlabSimUser } from "./support/gitlab-sim.js";
import { startMattermostSim, type MattermostSim } from "./support/mattermost-sim.js";
import { validateResponse } from "./support/openapi.js";

const PUBLIC_URL = "https://bot.example.com";
const CALLBACK = `${PUBLIC_URL}/oauth/gitlab/callback`;
const COMMAND_URL = `${PUBLIC_URL}/mattermost/command`;
const EXISTING_ENV = ["# Our deployment's settings", "PORT=9090 # behind nginx", "", "# who we are", "LOG_LEVEL=debug", ""].join("\n");

let gitlab: GitlabSim;
let mattermost: MattermostSim;
let gitlabAdmin: GitlabSimUser;
let gitlabToken: string;
let mattermostToken: string;
let eng: { id: string; name: string };
let ops: { id: string; name: string };
let dir: string;
let envPath: string;

beforeEach(async () => {
  gitlab = await startGitlabSim();
  mattermost = await startMattermostSim();
  gitlabAdmin = gitlab.addUser({ username: "root", isAdmin: true });
  gitlabToken = gitlab.addPersonalAccessToken(gitlabAdmin);
  mattermostToken = mattermost.addUser({ username: "sysadmin", roles: "system_admin system_user" }).token;
  eng = mattermost.addTeam("eng");
  ops = mattermost.addTeam("ops");
  dir = mkdtempSync(join(tmpdir(), "gmm-setup-"));
  envPath = join(dir, ".env");
  writeFileSync(envPath, EXISTING_ENV, { mode: 0o644 });
  chmodSync(envPath, 0o644);
});
afterEach(async () => {
  await gitlab.close();
  await mattermost.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Outcome {
  code: number;
  out: string[];
  err: string[];
}

async function setup(extra: string[] = [], opts: { env?: Record<string, string | undefined>; stdin?: SecretInput } = {}): Promise<Outcome> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: (s) => out.push(s),
    stderr: (s) => err.push(s),
    env: opts.env ?? { GITLAB_ADMIN_TOKEN: gitlabToken, MATTERMOST_ADMIN_TOKEN: mattermostToken },
    stdin: opts.stdin,
  };
  const argv = ["setup", "--gitlab-url", gitlab.url, "--mattermost-url", `${mattermost.url}/`, "--public-url", PUBLIC_URL, "--team", "eng", "--team", "ops", "--write-env", envPath, ...extra];
  const code = await runCli(argv, io);
  return { code, out, err };
}

const envValues = () => parseDotenv(readFileSync(envPath, "utf8"));
const modeOf = (path: string) => statSync(path).mode & 0o777;
const changes = () => [
  ...gitlab.requests.filter((r) => r.method !== "GET").map((r) => `GitLab ${r.method} ${r.path}`),
  ...mattermost.requests.filter((r) => r.method !== "GET").map((r) => `Mattermost ${r.method} ${r.path}`),
];
const statusOf = (out: string[], subject: string) => out.find((l) => l.includes(subject))?.split(/\s{2,}/)[0];

describe("gitlab-mm setup", () => {
  it("makes everything once on a first run and writes .env 0600, keeping its lines and comments", async () => {
    const first = await setup();
    expect(first.err).toEqual([]);
    expect(first.code).toBe(0);

    const apps = gitlab.applications().filter((a) => a.redirectUri === CALLBACK);
    expect(apps).toEqual([expect.objectContaining({ name: "Mattermost bot", scopes: ["api"], confidential: true })]);
    const bots = mattermost.bots().filter((b) => b.username === "gitlab");
    expect(bots).toEqual([expect.objectContaining({ display_name: "GitLab", delete_at: 0 })]);
    const botId = bots[0]!.user_id;
    expect(mattermost.teamMembers(eng.id)).toEqual([botId]);
    expect(mattermost.teamMembers(ops.id)).toEqual([botId]);
    for (const team of [eng, ops]) {
      expect(mattermost.commands(team.id)).toEqual([
        expect.objectContaining({ trigger: "gitlab", url: COMMAND_URL, method: "P", display_name: "GitLab", ...autocompleteRegistration(commandTable, "en") }),
      ]);
    }
    expect(mattermost.violations).toEqual([]);
    expect(gitlab.unhandled).toEqual([]);

    const text = readFileSync(envPath, "utf8");
    expect(text.startsWith(EXISTING_ENV)).toBe(true);
    expect(text).toContain("PORT=9090 # behind nginx");
    expect(modeOf(envPath)).toBe(0o600);
    const env = envValues();
    expect(env).toMatchObject({
      PORT: "9090",
      LOG_LEVEL: "debug",
      MATTERMOST_URL: mattermost.url,
      GITLAB_URL: gitlab.url,
      PUBLIC_URL,
      GITLAB_OAUTH_CLIENT_ID: apps[0]!.clientId,
      GITLAB_OAUTH_CLIENT_SECRET: apps[0]!.clientSecret,
      MATTERMOST_COMMAND_TOKENS: `${eng.id}:${mattermost.commands(eng.id)[0]!.token},${ops.id}:${mattermost.commands(ops.id)[0]!.token}`,
    });
    expect(mattermost.tokenUser(env.MATTERMOST_BOT_TOKEN!)).toBe(botId);
    expect(Buffer.from(env.ENCRYPTION_KEY!, "base64")).toHaveLength(32);
    // What the bot itself makes of the file.
    const config = loadConfig(env);
    expect(config.mattermost.commandTokens).toHaveLength(2);
    expect(config.gitlab.webhookSecret.length).toBeGreaterThanOrEqual(8);

    expect(first.out.map((l) => l.split(/\s{2,}/)[0])).toEqual(["created", "created", "created", "created", "created", "created", "created", "updated"]);
  });

  it("changes nothing when run again", async () => {
    expect((await setup()).code).toBe(0);
    const before = readFileSync(envPath, "utf8");
    gitlab.reset();
    mattermost.reset();

    const again = await setup();
    expect(again.code).toBe(0);
    expect(changes()).toEqual([]);
    expect(again.out.every((l) => l.startsWith("exists"))).toBe(true);
    expect(again.out).toHaveLength(8);
    expect(readFileSync(envPath, "utf8")).toBe(before);
    expect(gitlab.applications().filter((a) => a.redirectUri === CALLBACK)).toHaveLength(1);
    expect(mattermost.bots().filter((b) => b.username === "gitlab")).toHaveLength(1);
    expect(mattermost.commands(eng.id)).toHaveLength(1);
  });

  it("--dry-run says what it would do and changes nothing", async () => {
    const dry = await setup(["--dry-run"]);
    expect(dry.code).toBe(0);
    expect(changes()).toEqual([]);
    expect(readFileSync(envPath, "utf8")).toBe(EXISTING_ENV);
    expect(modeOf(envPath)).toBe(0o644);
    expect(gitlab.applications().filter((a) => a.redirectUri === CALLBACK)).toEqual([]);
    expect(mattermost.bots().filter((b) => b.username === "gitlab")).toEqual([]);
    expect(dry.out.map((l) => l.split(/\s{2,}/)[0])).toEqual(["would create", "would create", "would create", "would create", "would create", "would create", "would create", "would update"]);

    rmSync(envPath);
    const noFile = await setup(["--dry-run"]);
    expect(statusOf(noFile.out, "settings file")).toBe("would create");
    expect(existsSync(envPath)).toBe(false);
  });

  it("repairs a /gitlab command with the wrong URL and method, keeping its token", async () => {
    const admin = mattermost.addUser({ username: "otheradmin", roles: "system_admin system_user" });
    const broken = mattermost.addCommand({ team_id: eng.id, trigger: "gitlab", url: "http://old-host.example.com/hook", method: "G", creator_id: admin.id });

    const run = await setup();
    expect(run.code).toBe(0);
    expect(run.out.find((l) => l.includes("slash command in team eng"))).toMatch(/^repaired\s+\/gitlab slash command in team eng: its URL was http:\/\/old-host\.example\.com\/hook, its method was GET/);
    expect(mattermost.commands(eng.id)).toEqual([expect.objectContaining({ id: broken.id, token: broken.token, url: COMMAND_URL, method: "P", auto_complete: true })]);
    expect(envValues().MATTERMOST_COMMAND_TOKENS).toContain(`${eng.id}:${broken.token}`);
    expect(mattermost.violations).toEqual([]);

    gitlab.reset();
    mattermost.reset();
    expect(statusOf((await setup()).out, "slash command in team eng")).toBe("exists");
    expect(changes()).toEqual([]);
  });

  it("enables a disabled bot, and its token in .env works again", async () => {
    expect((await setup()).code).toBe(0);
    const bot = mattermost.bots().find((b) => b.username === "gitlab")!;
    mattermost.disableBot(bot.user_id);
    const token = envValues().MATTERMOST_BOT_TOKEN!;
    expect(mattermost.tokenUser(token)).toBeUndefined();

    const run = await setup();
    expect(run.code).toBe(0);
    expect(run.out[1]).toMatch(/^repaired\s+Mattermost bot account @gitlab: it was disabled: enabled$/);
    expect(statusOf(run.out, "access token of @gitlab")).toBe("exists");
    expect(mattermost.tokenUser(token)).toBe(bot.user_id);
    expect(mattermost.bots().filter((b) => b.username === "gitlab")).toHaveLength(1);
  });

  it("makes a new bot token when the one in .env no longer logs in as the bot", async () => {
    writeFileSync(envPath, `${EXISTING_ENV}MATTERMOST_BOT_TOKEN=revokedtoken123\n`);
    const run = await setup();
    expect(statusOf(run.out, "access token of @gitlab")).toBe("repaired");
    const env = envValues();
    expect(env.MATTERMOST_BOT_TOKEN).not.toBe("revokedtoken123");
    expect(mattermost.tokenUser(env.MATTERMOST_BOT_TOKEN!)).toBe(mattermost.bots().find((b) => b.username === "gitlab")!.user_id);
    expect(readFileSync(envPath, "utf8").match(/MATTERMOST_BOT_TOKEN=/g)).toHaveLength(1);
  });

  it("names the missing administrator rights of a GitLab token, and still sets up Mattermost", async () => {
    const owner = gitlab.addUser({ username: "group-owner" });
    const run = await setup([], { env: { GITLAB_ADMIN_TOKEN: gitlab.addPersonalAccessToken(owner), MATTERMOST_ADMIN_TOKEN: mattermostToken } });
    expect(run.code).toBe(1);
    expect(run.out[0]).toMatch(
      /^needs you\s+GitLab OAuth application "Mattermost bot": the GitLab token is not an administrator's: create the OAuth application by hand under Admin Area > Applications .*redirect URI https:\/\/bot\.example\.com\/oauth\/gitlab\/callback.* set GITLAB_OAUTH_CLIENT_ID and GITLAB_OAUTH_CLIENT_SECRET/,
    );
    expect(run.err).toEqual([expect.stringMatching(/^gitlab-mm setup: 1 step\(s\) need you/)]);
    expect(gitlab.applications().filter((a) => a.redirectUri === CALLBACK)).toEqual([]);
    expect(mattermost.commands(eng.id)).toHaveLength(1);
    expect(envValues().GITLAB_OAUTH_CLIENT_ID).toBeUndefined();
    expect(envValues().MATTERMOST_BOT_TOKEN).toBeDefined();
  });

  it("names the Mattermost permission a token lacks", async () => {
    const member = mattermost.addUser({ username: "member" });
    const run = await setup([], { env: { GITLAB_ADMIN_TOKEN: gitlabToken, MATTERMOST_ADMIN_TOKEN: member.token } });
    expect(run.code).toBe(1);
    expect(run.err).toEqual([expect.stringMatching(/^gitlab-mm setup: Mattermost answered 403 when asked to list the bot accounts: the admin token lacks the read_others_bots permission$/)]);
    // The OAuth secret GitLab showed once is in .env all the same.
    expect(envValues().GITLAB_OAUTH_CLIENT_SECRET).toBe(gitlab.applications().find((a) => a.redirectUri === CALLBACK)!.clientSecret);
  });

  it("keeps an existing OAuth application, renewing its secret only when asked", async () => {
    const existing = gitlab.addApp(CALLBACK);
    const oldSecret = existing.clientSecret;
    const run = await setup();
    expect(run.code).toBe(1);
    expect(run.out[0]).toMatch(/^needs you\s+GitLab OAuth application .*GitLab never shows an existing application's secret: run again with --renew-oauth-secret/);
    expect(run.out[0]).toContain(`GITLAB_OAUTH_CLIENT_ID=${existing.clientId}`);
    expect(gitlab.applications().filter((a) => a.redirectUri === CALLBACK)).toHaveLength(1);

    const renewed = await setup(["--renew-oauth-secret"]);
    expect(renewed.code).toBe(0);
    expect(renewed.out[0]).toMatch(/^repaired\s+GitLab OAuth application .*secret renewed/);
    const app = gitlab.applications().find((a) => a.clientId === existing.clientId)!;
    expect(envValues()).toMatchObject({ GITLAB_OAUTH_CLIENT_ID: existing.clientId, GITLAB_OAUTH_CLIENT_SECRET: app.clientSecret });
    expect(app.clientSecret).not.toBe(oldSecret);

    gitlab.reset();
    mattermost.reset();
    expect(statusOf((await setup()).out, "GitLab OAuth application")).toBe("exists");
    expect(changes()).toEqual([]);
  });

  it("never prints a token, and writes only the ones the bot needs", async () => {
    const run = await setup();
    expect(run.code).toBe(0);
    const env = envValues();
    const secrets = [gitlabToken, mattermostToken, env.MATTERMOST_BOT_TOKEN!, env.GITLAB_OAUTH_CLIENT_SECRET!, env.ENCRYPTION_KEY!, env.GITLAB_WEBHOOK_SECRET!, ...mattermost.commands(eng.id).map((c) => c.token)];
    const printed = [...run.out, ...run.err].join("\n");
    for (const secret of secrets) expect(printed).not.toContain(secret);
    const written = readFileSync(envPath, "utf8");
    expect(written).not.toContain(gitlabToken);
    expect(written).not.toContain(mattermostToken);
  });

  it("goes through HTTP_PROXY", async () => {
    const proxy = await startProxy();
    const direct = getGlobalDispatcher();
    try {
      const run = await setup([], { env: { GITLAB_ADMIN_TOKEN: gitlabToken, MATTERMOST_ADMIN_TOKEN: mattermostToken, HTTP_PROXY: proxy.url } });
      expect(run.code).toBe(0);
      expect(proxy.targets).toContain(new URL(gitlab.url).host);
      expect(proxy.targets).toContain(new URL(mattermost.url).host);
    } finally {
      setGlobalDispatcher(direct);
      await new Promise((resolve) => proxy.server.close(resolve));
    }
  });

  it("exits 2 naming the variable when a token is missing and there is no terminal", async () => {
    const run = await setup([], { env: { GITLAB_ADMIN_TOKEN: gitlabToken } });
    expect(run.code).toBe(2);
    expect(run.err[0]).toMatch(/^gitlab-mm setup: MATTERMOST_ADMIN_TOKEN is not set and there is no terminal to ask on/);
    expect(gitlab.requests).toEqual([]);
    expect(mattermost.requests).toEqual([]);
    expect(readFileSync(envPath, "utf8")).toBe(EXISTING_ENV);
  });

  it("asks for a missing token on the terminal without echoing it", async () => {
    const terminal = fakeTerminal();
    const running = setup([], { env: { GITLAB_ADMIN_TOKEN: gitlabToken }, stdin: terminal });
    await terminal.asked;
    terminal.type(`${mattermostToken.slice(0, 5)}x\u007f${mattermostToken.slice(5)}\r`);
    const run = await running;
    expect(run.code).toBe(0);
    expect(run.err).toEqual([expect.stringMatching(/^MATTERMOST_ADMIN_TOKEN \(.*typing is not shown\):$/)]);
    expect(terminal.rawModes).toEqual([true, false]);
    expect(run.out.join("\n")).not.toContain(mattermostToken);
  });

  it("wants a team and usable URLs", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const env = { GITLAB_ADMIN_TOKEN: gitlabToken, MATTERMOST_ADMIN_TOKEN: mattermostToken };
    const io = { stdout: (s: string) => out.push(s), stderr: (s: string) => err.push(s), env };
    expect(await runCli(["setup", "--gitlab-url", gitlab.url, "--mattermost-url", mattermost.url, "--public-url", PUBLIC_URL, "--write-env", envPath], io)).toBe(2);
    expect(err[0]).toMatch(/--team <name>/);
    expect(await runCli(["setup", "--gitlab-url", "ftp://gitlab", "--mattermost-url", mattermost.url, "--public-url", PUBLIC_URL, "--team", "eng", "--write-env", envPath], io)).toBe(2);
    expect(err.some((l) => l.includes("--gitlab-url must be an http:// or https:// URL"))).toBe(true);
    const twice = await setup(["--team", "eng"]);
    expect(twice.code).toBe(0);
    expect(twice.out.filter((l) => l.includes("slash command in team eng"))).toHaveLength(1);
    expect(loadConfig(envValues()).mattermost.commandTokens).toHaveLength(2);
    const unknownTeam = await setup(["--team", "nope"]);
    expect(unknownTeam.code).toBe(1);
    expect(unknownTeam.out).toContainEqual(expect.stringMatching(/^needs you\s+Mattermost team: no team is named nope/));
  });

  it("simulates the endpoints it uses as Mattermost's API reference documents them", async () => {
    expect((await setup()).code).toBe(0);
    const bot = mattermost.bots().find((b) => b.username === "gitlab")!;
    const command = mattermost.commands(eng.id)[0]!;
    const checks: [string, string, unknown?][] = [
      ["GET", "/api/v4/bots?include_deleted=true&page=0&per_page=200"],
      ["POST", `/api/v4/bots/${bot.user_id}/enable`],
      ["POST", `/api/v4/users/${bot.user_id}/tokens`, { description: "check" }],
      ["GET", "/api/v4/teams/name/eng"],
      ["GET", `/api/v4/teams/${eng.id}/members/${bot.user_id}`],
      ["POST", `/api/v4/teams/${eng.id}/members`, { team_id: eng.id, user_id: bot.user_id }],
      ["GET", `/api/v4/commands?team_id=${eng.id}&custom_only=true`],
      ["PUT", `/api/v4/commands/${command.id}`, { ...command }],
      ["POST", "/api/v4/bots", { username: "another-bot", display_name: "Another" }],
      ["POST", "/api/v4/commands", { team_id: ops.id, trigger: "other", method: "P", url: "https://example.com/x" }],
    ];
    for (const [method, path, body] of checks) {
      const res = await fetch(`${mattermost.url}${path}`, { method, headers: { Authorization: `Bearer ${mattermostToken}`, "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
      expect(res.status, `${method} ${path}`).toBeLessThan(300);
      expect(validateResponse(method, path.split("?")[0]!, res.status, await res.json()), `${method} ${path}`).toEqual([]);
    }
    expect(mattermost.violations).toEqual([]);
  });
});

describe("the settings file", () => {
  it("sets values in place, keeps comments, export and inline comments, and adds the rest at the end", () => {
    const text = ["# head", "export GITLAB_URL=https://old # the old one", "  MATTERMOST_URL='x'", "OTHER=1", ""].join("\r\n");
    expect(withSettings(text, { GITLAB_URL: "https://new", MATTERMOST_URL: "https://mm", ENCRYPTION_KEY: "a+b/c=" })).toBe(
      ["# head", "export GITLAB_URL=https://new # the old one", "  MATTERMOST_URL=https://mm", "OTHER=1", "", "# Written by gitlab-mm setup.", "ENCRYPTION_KEY=a+b/c=", ""].join("\r\n"),
    );
    for (const value of ['say "hi" # now', "it's #1", "`it's` ok"]) expect(parseDotenv(withSettings("", { A: value })).A).toBe(value);
    expect(() => withSettings("", { A: "`it's` \"quoted\"" })).toThrow(/cannot be written/);
  });

  it("is made 0600 again when only its mode was wrong", async () => {
    expect((await setup()).code).toBe(0);
    chmodSync(envPath, 0o644);
    const before = readFileSync(envPath, "utf8");
    const run = await setup();
    expect(run.out.at(-1)).toMatch(/^repaired\s+settings file .*: mode was 0644, now 0600$/);
    expect(modeOf(envPath)).toBe(0o600);
    expect(readFileSync(envPath, "utf8")).toBe(before);
  });
});

describe("askSecret", () => {
  it("gives up on Ctrl-C", async () => {
    const terminal = fakeTerminal();
    const asking = askSecret("token:", terminal, () => {});
    terminal.type("abc\u0003");
    await expect(asking).rejects.toThrow("no token given");
    expect(terminal.rawModes).toEqual([true, false]);
  });
});

/** A terminal in raw mode: what it is sent arrives as keystrokes; it records the raw-mode switches. */
function fakeTerminal(): SecretInput & { type(text: string): void; rawModes: boolean[]; asked: Promise<void> } {
  const events = new EventEmitter();
  const rawModes: boolean[] = [];
  let onAsked: () => void = () => {};
  const asked = new Promise<void>((resolve) => (onAsked = resolve));
  return {
    isTTY: true,
    rawModes,
    asked,
    setRawMode(raw: boolean) {
      rawModes.push(raw);
      if (raw) onAsked();
    },
    on(event, listener) {
      events.on(event, listener);
    },
    removeListener(event, listener) {
      events.removeListener(event, listener);
    },
    resume() {},
    pause() {},
    type(text: string) {
      events.emit("data", Buffer.from(text));
    },
  };
}

/** A forward proxy (CONNECT tunnels and absolute-form requests) that notes the hosts it reaches. */
async function startProxy(): Promise<{ url: string; targets: string[]; server: Server }> {
  const targets: string[] = [];
  const server = createServer((req, res) => {
    const target = new URL(req.url ?? "");
    targets.push(target.host);
    const upstream = request({ host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(upstream);
  });
  server.on("connect", (req, socket, head) => {
    const [host, port] = (req.url ?? "").split(":");
    targets.push(req.url ?? "");
    const upstream = connect(Number(port), host!, () => {
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on("error", () => socket.destroy());
    socket.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, targets, server };
}
