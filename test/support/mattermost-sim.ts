// A Mattermost server for tests: a plain node:http server on 127.0.0.1 that answers the part of API v4
// the bot uses, as the Mattermost server does, and checks every request against Mattermost's own API
// reference (test/support/openapi.ts). Anything a real server would refuse as a malformed request, and
// anything the reference does not document, is answered as Mattermost would (400/404) and also written
// to `violations`, so a test can assert the bot never sends one.
//
// Behaviour follows the Mattermost server sources (api4/post.go, app/post.go, app/authorization.go):
// - POST /api/v4/posts: a session without create_post on the channel gets 403 (also when the channel
//   does not exist, unless it is a system admin, which gets 400); a repeated pending_post_id within 30 s
//   returns the earlier post (201) and creates nothing; root_id must name a root post of the same channel;
//   a message over 16383 runes is refused with 400; bot authors get props.from_bot = "true".
// - PUT /api/v4/posts/{id}/patch: the author (with edit_post in the channel) or a system admin; props are
//   replaced, edit_at changes only when the message does.
// - Permissions: members of a channel read and post in it; public channels are readable and postable by
//   every user (every sim user counts as a member of every team); system admins may do anything.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { matchRoute, methodsForPath, validateRequest } from "./openapi.js";

export interface SimUser {
  id: string;
  username: string;
  roles: string;
  locale: string;
  is_bot: boolean;
  timezone?: { useAutomaticTimezone: string; automaticTimezone: string; manualTimezone: string };
}
export interface SimChannel {
  id: string;
  team_id: string;
  name: string;
  display_name: string;
  type: "O" | "P" | "D" | "G";
}
export interface SimPost {
  id: string;
  channel_id: string;
  user_id: string;
  message: string;
  root_id: string;
  props: Record<string, unknown>;
  create_at: number;
  update_at: number;
  edit_at: number;
  pending_post_id: string;
}
export interface MattermostSim {
  url: string;
  botToken: string;
  bot: SimUser;
  addUser(u: { username: string; roles?: string; locale?: string; timezone?: SimUser["timezone"] }): SimUser & { token: string };
  addTeam(name: string): { id: string; name: string };
  addChannel(c: { name: string; type?: "O" | "P"; team_id?: string; botIsMember?: boolean }): SimChannel;
  addMember(channelId: string, userId: string, opts?: { admin?: boolean }): void;
  posts(channelId?: string): SimPost[];
  post(id: string): SimPost | undefined;
  violations: string[];
  requests: { method: string; path: string; status: number; body?: unknown }[];
  failNext(f: { method?: string; path?: RegExp; status: number; times?: number; retryAfterSeconds?: number; contentType?: string; body?: string }): void;
  /** Forgets every failure still queued by failNext (an outage of unknown length ends). */
  clearFailures(): void;
  setDown(down: boolean): void;
  /** A wedged server: requests are taken in and never answered, until this is set back. */
  setHanging(hanging: boolean): void;
  /** A slow server: every request is answered this many milliseconds after it arrived (0: at once). */
  setLatency(ms: number): void;
  /** Converts a channel between public and private, as a channel admin can at any time. */
  setChannelType(channelId: string, type: "O" | "P"): void;
  /** Deletes a post (and its replies, as Mattermost does), as a person may in the web app. */
  deletePost(postId: string): void;
  reset(): void;
  close(): Promise<void>;
  /** A slash command's response_url (Mattermost's /hooks/commands/{id}; not part of the v4 API reference). */
  commandResponseUrl(): string;
  /** What the bot sent to response URLs, in order. */
  commandResponses: { hookId: string; body: unknown }[];
  // ---- bots, access tokens, team members and slash commands (gitlab-mm setup) ----
  /** Bot accounts (every is_bot user), with disabled ones. */
  bots(): { user_id: string; username: string; display_name: string; owner_id: string; delete_at: number }[];
  /** Disables a bot, as System Console > Bot Accounts > Disable does: its tokens stop working. */
  disableBot(userId: string): void;
  /** Whether the user authenticates with this access token. */
  tokenUser(token: string): string | undefined;
  /** Users AddTeamMember added to the team. */
  teamMembers(teamId: string): string[];
  /** A team's slash commands, as Mattermost stores them (tokens included). */
  commands(teamId: string): SimCommand[];
  /** A slash command made in the System Console, as it is stored. */
  addCommand(c: Partial<SimCommand> & { team_id: string; trigger: string; url: string; creator_id: string }): SimCommand;
  // ---- end of bots, access tokens, team members and slash commands ----
}
/** A custom slash command (model.Command). */
export interface SimCommand {
  id: string;
  token: string;
  team_id: string;
  creator_id: string;
  trigger: string;
  method: string;
  url: string;
  auto_complete: boolean;
  auto_complete_desc: string;
  auto_complete_hint: string;
  display_name: string;
  description: string;
}

/** Mattermost's limit on a post's message, in runes (model.PostMessageMaxRunesV2). */
export const POST_MESSAGE_MAX_RUNES = 16383;
/** Mattermost's limit on a post's props, in runes of their JSON (model.PostPropsMaxRunes). */
export const POST_PROPS_MAX_RUNES = 800000;
/** How long Mattermost remembers a pending_post_id (app.PendingPostIDsCacheTTL). */
export const PENDING_POST_ID_TTL_MS = 30_000;

// model.NewId: a UUID in base32 with this alphabet, 26 characters.
const ID_ALPHABET = "ybndrfg8ejkmcpqxot1uwisza345h769";
export function newId(): string {
  const bytes = randomBytes(16);
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ID_ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ID_ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** model.IsValidId */
function isValidId(value: string): boolean {
  return /^[a-zA-Z0-9]{26}$/.test(value);
}
/** model.IsValidUsername (without the reserved-name list) */
function isValidUsername(value: string): boolean {
  return value.length >= 1 && value.length <= 64 && /^[a-z][a-z0-9.\-_]*$/.test(value);
}
function runes(value: string): number {
  let n = 0;
  for (const _ of value) n++;
  return n;
}

interface UserRecord extends SimUser {
  create_at: number;
  update_at: number;
  email: string;
  timezone: NonNullable<SimUser["timezone"]>;
}
interface TeamRecord {
  id: string;
  name: string;
  display_name: string;
  create_at: number;
}
interface MemberRecord {
  admin: boolean;
  last_update_at: number;
}
interface ChannelRecord extends SimChannel {
  create_at: number;
  update_at: number;
  creator_id: string;
  last_post_at: number;
  last_root_post_at: number;
  total_msg_count: number;
  total_msg_count_root: number;
  members: Map<string, MemberRecord>;
}
interface PostRecord extends SimPost {
  delete_at: number;
}
interface Failure {
  method?: string;
  path?: RegExp;
  status: number;
  times: number;
  retryAfterSeconds?: number;
  contentType?: string;
  body?: string;
}

class AppError extends Error {
  constructor(
    readonly id: string,
    message: string,
    readonly status: number,
    readonly detailed = "",
  ) {
    super(message);
  }
}

const permissionError = (userId: string, permission: string) =>
  new AppError("api.context.permissions.app_error", "You do not have the appropriate permissions.", 403, `userId=${userId}, permission=${permission}`);
const invalidUrlParam = (name: string) =>
  new AppError("api.context.invalid_url_param.app_error", `Invalid or missing ${name} parameter in request URL.`, 400);
const invalidParam = (name: string, detailed = "") => new AppError("api.context.invalid_param.app_error", `Invalid ${name} parameter.`, 400, detailed);

interface Reply {
  status: number;
  body: unknown;
}

/** Mattermost's API rate limit (ServiceSettings RateLimitSettings: PerSec, MaxBurst), off unless given. */
export interface SimRateLimit {
  perSecond: number;
  burst: number;
}

export async function startMattermostSim(opts: { port?: number; rateLimit?: SimRateLimit } = {}): Promise<MattermostSim> {
  const users = new Map<string, UserRecord>();
  const tokens = new Map<string, string>();
  const teams = new Map<string, TeamRecord>();
  const channels = new Map<string, ChannelRecord>();
  let posts = new Map<string, PostRecord>();
  /** Replies by their root's id, so that answering about a post does not read every post made so far. */
  let repliesByRoot = new Map<string, PostRecord[]>();
  let pendingPostIds = new Map<string, { postId: string; expiresAt: number }>();
  let failures: Failure[] = [];
  let down = false;
  let hanging = false;
  let latencyMs = 0;
  const sockets = new Set<Socket>();
  const violations: string[] = [];
  const commandHooks = new Map<string, { used: number }>();
  const commandResponses: MattermostSim["commandResponses"] = [];
  const requests: MattermostSim["requests"] = [];
  let defaultTeam: TeamRecord | undefined;

  function createUser(u: { username: string; roles?: string; locale?: string; timezone?: SimUser["timezone"]; is_bot: boolean }): UserRecord {
    if (!isValidUsername(u.username)) throw new Error(`mattermost-sim: invalid username ${JSON.stringify(u.username)}`);
    if ([...users.values()].some((x) => x.username === u.username)) throw new Error(`mattermost-sim: username ${u.username} is taken`);
    const now = Date.now();
    const user: UserRecord = {
      id: newId(),
      username: u.username,
      roles: u.roles ?? "system_user",
      locale: u.locale ?? "en",
      is_bot: u.is_bot,
      timezone: { ...(u.timezone ?? { useAutomaticTimezone: "true", automaticTimezone: "", manualTimezone: "" }) },
      create_at: now,
      update_at: now,
      email: u.is_bot ? `${u.username}@localhost` : `${u.username}@example.com`,
    };
    users.set(user.id, user);
    return user;
  }
  const publicUser = (u: UserRecord): SimUser => ({ id: u.id, username: u.username, roles: u.roles, locale: u.locale, is_bot: u.is_bot, timezone: { ...u.timezone } });

  function addTeam(name: string, id = newId()): TeamRecord {
    if ([...teams.values()].some((t) => t.name === name)) throw new Error(`mattermost-sim: team name ${name} is taken`);
    const team: TeamRecord = { id, name, display_name: name, create_at: Date.now() };
    teams.set(team.id, team);
    return team;
  }

  function addMember(channelId: string, userId: string, options: { admin?: boolean } = {}): void {
    const channel = channels.get(channelId);
    if (!channel) throw new Error(`mattermost-sim: no channel ${channelId}`);
    if (!users.has(userId)) throw new Error(`mattermost-sim: no user ${userId}`);
    channel.members.set(userId, { admin: options.admin ?? false, last_update_at: Date.now() });
  }

  const botRecord = createUser({ username: "gitlab-bot", is_bot: true });
  const botToken = newId();
  tokens.set(botToken, botRecord.id);

  // ---- JSON shapes, as the server sends them ----

  function userJson(u: UserRecord, self: boolean): Record<string, unknown> {
    const json: Record<string, unknown> = {
      id: u.id,
      create_at: u.create_at,
      update_at: u.update_at,
      delete_at: 0,
      username: u.username,
      auth_data: "",
      auth_service: "",
      email: u.email,
      nickname: "",
      first_name: "",
      last_name: "",
      position: "",
      roles: u.roles,
      locale: u.locale,
      timezone: { ...u.timezone },
      disable_welcome_email: false,
    };
    if (self) {
      json.email_verified = true;
      json.notify_props = { channel: "true", comments: "never", desktop: "mention", desktop_sound: "true", email: "true", first_name: "false", mention_keys: "", push: "mention", push_status: "online" };
      json.last_password_update = u.create_at;
    }
    if (u.is_bot) {
      json.is_bot = true;
      json.bot_description = "";
    }
    return json;
  }

  function channelJson(c: ChannelRecord): Record<string, unknown> {
    return {
      id: c.id,
      create_at: c.create_at,
      update_at: c.update_at,
      delete_at: 0,
      team_id: c.team_id,
      type: c.type,
      display_name: c.display_name,
      name: c.name,
      header: "",
      purpose: "",
      last_post_at: c.last_post_at,
      total_msg_count: c.total_msg_count,
      extra_update_at: 0,
      creator_id: c.creator_id,
      total_msg_count_root: c.total_msg_count_root,
      last_root_post_at: c.last_root_post_at,
    };
  }

  function memberJson(channelId: string, userId: string, m: MemberRecord): Record<string, unknown> {
    return {
      channel_id: channelId,
      user_id: userId,
      roles: m.admin ? "channel_user channel_admin" : "channel_user",
      last_viewed_at: 0,
      msg_count: 0,
      mention_count: 0,
      mention_count_root: 0,
      urgent_mention_count: 0,
      msg_count_root: 0,
      notify_props: { desktop: "default", email: "default", ignore_channel_mentions: "default", mark_unread: "all", push: "default" },
      last_update_at: m.last_update_at,
      scheme_guest: false,
      scheme_user: true,
      scheme_admin: m.admin,
      explicit_roles: "",
    };
  }

  function teamJson(t: TeamRecord): Record<string, unknown> {
    return {
      id: t.id,
      create_at: t.create_at,
      update_at: t.create_at,
      delete_at: 0,
      display_name: t.display_name,
      name: t.name,
      description: "",
      email: "",
      type: "O",
      company_name: "",
      allowed_domains: "",
      invite_id: "",
      allow_open_invite: true,
      group_constrained: null,
    };
  }

  function threadOf(rootId: string): PostRecord[] {
    return (repliesByRoot.get(rootId) ?? []).filter((p) => p.delete_at === 0);
  }

  function postJson(p: PostRecord, pendingPostId = ""): Record<string, unknown> {
    const replies = threadOf(p.root_id || p.id);
    return {
      id: p.id,
      create_at: p.create_at,
      update_at: p.update_at,
      edit_at: p.edit_at,
      delete_at: p.delete_at,
      is_pinned: false,
      user_id: p.user_id,
      channel_id: p.channel_id,
      root_id: p.root_id,
      original_id: "",
      message: p.message,
      type: "",
      props: structuredClone(p.props),
      hashtags: "",
      pending_post_id: pendingPostId,
      reply_count: replies.length,
      last_reply_at: replies.reduce((max, r) => Math.max(max, r.create_at), 0),
      participants: null,
      metadata: {},
    };
  }

  function postListJson(list: PostRecord[], extra: PostRecord[] = [], hasNext = false): Record<string, unknown> {
    const map: Record<string, unknown> = {};
    for (const p of [...list, ...extra]) map[p.id] = postJson(p);
    return { order: list.map((p) => p.id), posts: map, next_post_id: "", prev_post_id: "", has_next: hasNext, first_inaccessible_post_time: 0 };
  }

  const simPost = (p: PostRecord): SimPost => ({
    id: p.id,
    channel_id: p.channel_id,
    user_id: p.user_id,
    message: p.message,
    root_id: p.root_id,
    props: structuredClone(p.props),
    create_at: p.create_at,
    update_at: p.update_at,
    edit_at: p.edit_at,
    pending_post_id: p.pending_post_id,
  });

  // ---- permissions ----

  const isSystemAdmin = (u: UserRecord) => u.roles.split(/\s+/).includes("system_admin");
  const isMember = (c: ChannelRecord, userId: string) => c.members.has(userId);
  const canReadChannel = (u: UserRecord, c: ChannelRecord) => isSystemAdmin(u) || isMember(c, u.id) || c.type === "O";

  // ---- handlers, by the reference's operationId ----

  type Handler = (ctx: { me: UserRecord; params: Record<string, string>; query: URLSearchParams; body: unknown }) => Reply;

  function userParam(params: Record<string, string>, me: UserRecord): string {
    const id = params.user_id === "me" ? me.id : (params.user_id ?? "");
    if (!isValidId(id)) throw invalidUrlParam("user_id");
    return id;
  }
  function idParam(params: Record<string, string>, name: string): string {
    const id = params[name] ?? "";
    if (!isValidId(id)) throw invalidUrlParam(name);
    return id;
  }
  function existingUser(id: string): UserRecord {
    const user = users.get(id);
    if (!user) throw new AppError("app.user.missing_account.const", "Unable to find the user.", 404);
    return user;
  }
  function existingChannel(id: string): ChannelRecord {
    const channel = channels.get(id);
    if (!channel) throw new AppError("app.channel.get.existing.app_error", "Unable to find the existing channel.", 404);
    return channel;
  }
  function readablePost(me: UserRecord, id: string, includeDeleted = false): PostRecord {
    const post = posts.get(id);
    if (!post || (post.delete_at !== 0 && !(includeDeleted && isSystemAdmin(me)))) throw new AppError("app.post.get.app_error", "Unable to get the post.", 404);
    const channel = channels.get(post.channel_id);
    if (!channel || !canReadChannel(me, channel)) throw permissionError(me.id, "read_channel");
    return post;
  }
  function validatePostContent(message: string, props: Record<string, unknown>, id: string): void {
    if (runes(message) > POST_MESSAGE_MAX_RUNES) {
      throw new AppError("model.post.is_valid.msg.app_error", "Invalid Message.", 400, `id=${id} message has ${runes(message)} runes, more than ${POST_MESSAGE_MAX_RUNES}`);
    }
    if (runes(JSON.stringify(props)) > POST_PROPS_MAX_RUNES) throw new AppError("model.post.is_valid.props.app_error", "Invalid props.", 400, `id=${id}`);
  }

  // ---- bots, access tokens, team members and slash commands (gitlab-mm setup) ----
  // As the server does (api4/bot.go, api4/user.go createUserAccessToken, api4/team.go, api4/command.go,
  // model/command.go IsValid): creating a bot needs create_bot, listing bots read_others_bots,
  // enabling one manage_others_bots, a token for another user edit_other_users, adding another user to
  // a team add_user_to_team, listing, creating and updating a team's commands manage_slash_commands
  // (in the sim: system admins only, as Mattermost's default roles have it). A disabled bot's tokens
  // stop working until it is enabled. A command's trigger is unique in its team; an update keeps the
  // stored token, creator, team and creation time and takes every other field from the request.
  // Team membership here is what AddTeamMember made (the posting rules above still treat every
  // user as a member of every team).
  interface BotRecord {
    owner_id: string;
    display_name: string;
    description: string;
    create_at: number;
    update_at: number;
    delete_at: number;
  }
  interface CommandRecord {
    id: string;
    token: string;
    create_at: number;
    update_at: number;
    delete_at: number;
    creator_id: string;
    team_id: string;
    trigger: string;
    method: string;
    username: string;
    icon_url: string;
    auto_complete: boolean;
    auto_complete_desc: string;
    auto_complete_hint: string;
    display_name: string;
    description: string;
    url: string;
  }
  const botRecords = new Map<string, BotRecord>();
  const disabledUsers = new Set<string>();
  const teamMembers = new Map<string, Set<string>>();
  const commandRecords = new Map<string, CommandRecord>();

  function botOf(u: UserRecord): BotRecord {
    let bot = botRecords.get(u.id);
    if (!bot) {
      bot = { owner_id: "", display_name: "", description: "", create_at: u.create_at, update_at: u.update_at, delete_at: 0 };
      botRecords.set(u.id, bot);
    }
    return bot;
  }
  const botJson = (u: UserRecord): Record<string, unknown> => ({ user_id: u.id, username: u.username, ...botOf(u) });
  function existingBot(params: Record<string, string>): UserRecord {
    const user = users.get(idParam(params, "bot_user_id"));
    if (!user?.is_bot) throw new AppError("store.sql_bot.get.missing.app_error", "Unable to find bot.", 404);
    return user;
  }
  function requireSystemAdmin(me: UserRecord, permission: string): void {
    if (!isSystemAdmin(me)) throw permissionError(me.id, permission);
  }
  function existingTeam(id: string): TeamRecord {
    const team = teams.get(id);
    if (!team) throw new AppError("app.team.get.find.app_error", "Unable to find the existing team.", 404);
    return team;
  }
  const teamMemberJson = (teamId: string, userId: string): Record<string, unknown> => ({
    team_id: teamId,
    user_id: userId,
    roles: "team_user",
    delete_at: 0,
    scheme_user: true,
    scheme_admin: false,
    explicit_roles: "",
  });
  function validCommand(c: CommandRecord): CommandRecord {
    const invalid = (field: string) => new AppError(`model.command.is_valid.${field}.app_error`, `Invalid ${field}.`, 400);
    if (c.trigger.length < 1 || c.trigger.length > 128 || c.trigger.startsWith("/") || c.trigger.includes(" ")) throw invalid("trigger");
    if (c.url.length === 0 || c.url.length > 1024) throw invalid("url");
    if (!/^https?:\/\/[^\s]+$/i.test(c.url) || !URL.canParse(c.url)) throw invalid("url_http");
    if (c.method !== "P" && c.method !== "G") throw invalid("method");
    if (c.display_name.length > 64) throw invalid("display_name");
    if (c.description.length > 128) throw invalid("description");
    return c;
  }
  function commandFields(input: Record<string, unknown>): Omit<CommandRecord, "id" | "token" | "create_at" | "update_at" | "delete_at" | "creator_id" | "team_id"> {
    const text = (key: string) => (typeof input[key] === "string" ? (input[key] as string) : "");
    return {
      trigger: text("trigger").toLowerCase(),
      method: text("method").toUpperCase(),
      username: text("username"),
      icon_url: text("icon_url"),
      auto_complete: input.auto_complete === true,
      auto_complete_desc: text("auto_complete_desc"),
      auto_complete_hint: text("auto_complete_hint"),
      display_name: text("display_name"),
      description: text("description"),
      url: text("url"),
    };
  }
  const liveCommands = (teamId: string) => [...commandRecords.values()].filter((c) => c.team_id === teamId && c.delete_at === 0);

  const setupHandlers: Record<string, Handler> = {
    CreateBot({ me, body }) {
      requireSystemAdmin(me, "create_bot");
      const input = body as { username: string; display_name?: string; description?: string };
      if (!isValidUsername(input.username)) throw new AppError("model.user.is_valid.username.app_error", "Invalid username.", 400);
      if ([...users.values()].some((u) => u.username === input.username)) throw new AppError("app.user.save.username_exists.app_error", "An account with that username already exists.", 400);
      const user = createUser({ username: input.username, is_bot: true });
      botRecords.set(user.id, { owner_id: me.id, display_name: input.display_name ?? "", description: input.description ?? "", create_at: user.create_at, update_at: user.update_at, delete_at: 0 });
      return { status: 201, body: botJson(user) };
    },
    GetBots({ me, query }) {
      requireSystemAdmin(me, "read_others_bots");
      const includeDeleted = query.get("include_deleted") === "true";
      const list = [...users.values()].filter((u) => u.is_bot && (includeDeleted || botOf(u).delete_at === 0));
      const page = Math.max(0, Number(query.get("page") ?? 0));
      const perPage = Math.min(200, Math.max(0, Number(query.get("per_page") ?? 60)));
      return { status: 200, body: list.slice(page * perPage, page * perPage + perPage).map(botJson) };
    },
    EnableBot({ me, params }) {
      requireSystemAdmin(me, "manage_others_bots");
      const user = existingBot(params);
      const bot = botOf(user);
      if (bot.delete_at !== 0) {
        bot.delete_at = 0;
        bot.update_at = Date.now();
        disabledUsers.delete(user.id);
      }
      return { status: 200, body: botJson(user) };
    },
    CreateUserAccessToken({ me, params, body }) {
      const id = userParam(params, me);
      requireSystemAdmin(me, id === me.id ? "create_user_access_token" : "edit_other_users");
      const user = existingUser(id);
      const description = (body as { description?: string }).description ?? "";
      if (description === "") throw invalidParam("description");
      const token = newId();
      tokens.set(token, user.id);
      return { status: 201, body: { id: newId(), token, user_id: user.id, description } };
    },
    GetTeamByName({ params }) {
      const team = [...teams.values()].find((t) => t.name === params.name);
      if (!team) throw new AppError("app.team.get_by_name.missing.app_error", "Unable to find the existing team.", 404);
      return { status: 200, body: teamJson(team) };
    },
    GetTeamMember({ me, params }) {
      const team = existingTeam(idParam(params, "team_id"));
      const userId = userParam(params, me);
      if (!teamMembers.get(team.id)?.has(userId)) throw new AppError("app.team.get_member.missing.app_error", "No team member found for that user ID and team ID.", 404);
      return { status: 200, body: teamMemberJson(team.id, userId) };
    },
    AddTeamMember({ me, params, body }) {
      const team = existingTeam(idParam(params, "team_id"));
      const input = body as { team_id?: string; user_id?: string };
      if (input.team_id !== team.id) throw invalidParam("team_id");
      const user = existingUser(input.user_id ?? "");
      if (user.id !== me.id) requireSystemAdmin(me, "add_user_to_team");
      let members = teamMembers.get(team.id);
      if (!members) teamMembers.set(team.id, (members = new Set()));
      members.add(user.id);
      return { status: 201, body: teamMemberJson(team.id, user.id) };
    },
    ListCommands({ me, query }) {
      const teamId = query.get("team_id") ?? "";
      if (!isValidId(teamId)) throw invalidParam("team_id");
      existingTeam(teamId);
      if (query.get("custom_only") !== "true") return { status: 200, body: isSystemAdmin(me) ? liveCommands(teamId) : [] };
      requireSystemAdmin(me, "manage_slash_commands");
      return { status: 200, body: liveCommands(teamId) };
    },
    CreateCommand({ me, body }) {
      const input = body as Record<string, unknown>;
      const teamId = typeof input.team_id === "string" ? input.team_id : "";
      if (!teams.has(teamId)) throw invalidParam("team_id");
      requireSystemAdmin(me, "manage_slash_commands");
      const now = Date.now();
      const command = validCommand({ id: newId(), token: newId(), create_at: now, update_at: now, delete_at: 0, creator_id: me.id, team_id: teamId, ...commandFields(input) });
      if (liveCommands(teamId).some((c) => c.trigger === command.trigger)) throw new AppError("api.command.duplicate_trigger.app_error", "This trigger word is already in use. Please choose another word.", 400);
      commandRecords.set(command.id, command);
      return { status: 201, body: command };
    },
    UpdateCommand({ me, params, body }) {
      const id = idParam(params, "command_id");
      const input = body as Record<string, unknown>;
      if (input.id !== id) throw invalidParam("command_id");
      const old = commandRecords.get(id);
      if (!old || old.delete_at !== 0) throw new AppError("app.command.getcommand.no_command.app_error", "A command with the ID was not found.", 404);
      requireSystemAdmin(me, "manage_slash_commands");
      if (input.team_id !== old.team_id) throw new AppError("api.command.team_mismatch.app_error", "Unable to update commands across teams.", 400);
      const updated = validCommand({ ...old, ...commandFields(input), update_at: Date.now() });
      if (liveCommands(old.team_id).some((c) => c.id !== id && c.trigger === updated.trigger)) throw new AppError("api.command.duplicate_trigger.app_error", "This trigger word is already in use. Please choose another word.", 400);
      commandRecords.set(id, updated);
      return { status: 200, body: updated };
    },
  };
  // ---- end of bots, access tokens, team members and slash commands ----

  const handlers: Record<string, Handler> = {
    ...setupHandlers,
    GetUser({ me, params }) {
      const id = userParam(params, me);
      return { status: 200, body: userJson(existingUser(id), id === me.id) };
    },
    GetUserByUsername({ me, params }) {
      const username = params.username ?? "";
      if (!isValidUsername(username)) throw invalidUrlParam("username");
      const user = [...users.values()].find((u) => u.username === username);
      if (!user) throw new AppError("app.user.get_by_username.app_error", "Unable to find an existing account matching your username for this team. This team may require an invite from the team owner to join.", 404);
      return { status: 200, body: userJson(user, user.id === me.id) };
    },
    GetUsersByIds({ me, query, body }) {
      const ids = [...new Set(body as string[])].sort();
      if (ids.length === 0 || ids.some((id) => !isValidId(id))) throw invalidParam("user_ids");
      const since = Number(query.get("since") ?? 0);
      const found = ids.map((id) => users.get(id)).filter((u): u is UserRecord => u !== undefined && u.update_at > since);
      return { status: 200, body: found.map((u) => userJson(u, u.id === me.id)) };
    },

    CreatePost({ me, body }) {
      const input = body as { channel_id: string; message: string; root_id?: string; props?: Record<string, unknown>; pending_post_id?: unknown; id?: unknown };
      const channel = channels.get(input.channel_id);
      const allowed = isSystemAdmin(me) || (channel !== undefined && (isMember(channel, me.id) || channel.type === "O"));
      if (!allowed) throw permissionError(me.id, "create_post");
      if (!channel) throw invalidParam("post.channel_id");
      if (typeof input.id === "string" && input.id !== "") throw new AppError("app.post.save.existing.app_error", "You cannot update an existing Post.", 400);

      const pendingPostId = typeof input.pending_post_id === "string" ? input.pending_post_id : "";
      if (pendingPostId !== "") {
        const seen = pendingPostIds.get(pendingPostId);
        if (seen && seen.expiresAt > Date.now()) {
          const earlier = posts.get(seen.postId);
          if (earlier) return { status: 201, body: postJson(earlier) };
        }
      }

      const rootId = input.root_id ?? "";
      if (rootId !== "") {
        const root = posts.get(rootId);
        if (!root || root.delete_at !== 0) throw new AppError("api.post.create_post.root_id.app_error", "Invalid RootId parameter.", 400, `root_id=${rootId} is not a post`);
        if (root.channel_id !== channel.id) throw new AppError("api.post.create_post.channel_root_id.app_error", "Invalid ChannelId for RootId parameter.", 400, `root post ${rootId} is in channel ${root.channel_id}`);
        if (root.root_id !== "") throw new AppError("api.post.create_post.root_id.app_error", "Invalid RootId parameter.", 400, `root_id=${rootId} is itself a reply (its root_id is ${root.root_id})`);
      }

      const props: Record<string, unknown> = structuredClone(input.props ?? {});
      if (me.is_bot) props.from_bot = "true";
      const id = newId();
      validatePostContent(input.message, props, id);

      const now = Date.now();
      const post: PostRecord = { id, channel_id: channel.id, user_id: me.id, message: input.message, root_id: rootId, props, create_at: now, update_at: now, edit_at: 0, delete_at: 0, pending_post_id: pendingPostId };
      posts.set(id, post);
      if (rootId !== "") {
        const replies = repliesByRoot.get(rootId);
        if (replies) replies.push(post);
        else repliesByRoot.set(rootId, [post]);
      }
      channel.last_post_at = now;
      channel.total_msg_count++;
      if (rootId === "") {
        channel.last_root_post_at = now;
        channel.total_msg_count_root++;
      }
      if (pendingPostId !== "") pendingPostIds.set(pendingPostId, { postId: id, expiresAt: now + PENDING_POST_ID_TTL_MS });
      return { status: 201, body: postJson(post, pendingPostId) };
    },
    GetPost({ me, params, query }) {
      const post = readablePost(me, idParam(params, "post_id"), /^(1|t|true)$/i.test(query.get("include_deleted") ?? ""));
      return { status: 200, body: postJson(post) };
    },
    DeletePost({ me, params }) {
      const post = posts.get(idParam(params, "post_id"));
      if (!post || post.delete_at !== 0) throw permissionError(me.id, "delete_post");
      const channel = channels.get(post.channel_id);
      const own = post.user_id === me.id && channel !== undefined && isMember(channel, me.id);
      if (!own && !isSystemAdmin(me)) throw permissionError(me.id, post.user_id === me.id ? "delete_post" : "delete_others_posts");
      const now = Date.now();
      for (const p of [post, ...threadOf(post.id)]) {
        p.delete_at = now;
        p.update_at = now;
      }
      return { status: 200, body: { status: "OK" } };
    },
    PatchPost({ me, params, body }) {
      const patch = body as { message?: string; props?: Record<string, unknown> };
      const post = posts.get(idParam(params, "post_id"));
      if (!post || post.delete_at !== 0) throw permissionError(me.id, "edit_post");
      const channel = channels.get(post.channel_id);
      const own = post.user_id === me.id && channel !== undefined && isMember(channel, me.id);
      if (!own && !isSystemAdmin(me)) throw permissionError(me.id, post.user_id === me.id ? "edit_post" : "edit_others_posts");
      const message = patch.message ?? post.message;
      const props = patch.props !== undefined ? structuredClone(patch.props) : post.props;
      validatePostContent(message, props, post.id);
      const now = Date.now();
      if (message !== post.message) post.edit_at = now;
      post.message = message;
      post.props = props;
      post.update_at = now;
      return { status: 200, body: postJson(post) };
    },
    GetPostThread({ me, params }) {
      const post = readablePost(me, idParam(params, "post_id"));
      const root = posts.get(post.root_id || post.id) ?? post;
      const thread = [root, ...threadOf(root.id)].sort((a, b) => b.create_at - a.create_at);
      return { status: 200, body: postListJson(thread) };
    },
    GetPostsForChannel({ me, params, query }) {
      const channel = existingChannel(idParam(params, "channel_id"));
      if (!canReadChannel(me, channel)) throw permissionError(me.id, "read_channel");
      let list = [...posts.values()].filter((p) => p.channel_id === channel.id && p.delete_at === 0).reverse();
      const since = Number(query.get("since") ?? 0);
      if (since > 0) {
        list = [...posts.values()].filter((p) => p.channel_id === channel.id && p.update_at > since).reverse();
        return { status: 200, body: postListJson(list) };
      }
      const before = query.get("before");
      const after = query.get("after");
      if (before) list = list.slice(list.findIndex((p) => p.id === before) + 1);
      if (after) list = list.slice(0, Math.max(0, list.findIndex((p) => p.id === after)));
      const page = Math.max(0, Number(query.get("page") ?? 0));
      const perPage = Math.min(200, Math.max(0, Number(query.get("per_page") ?? 60)));
      const slice = list.slice(page * perPage, page * perPage + perPage);
      const roots = slice
        .filter((p) => p.root_id !== "" && !slice.some((q) => q.id === p.root_id))
        .map((p) => posts.get(p.root_id))
        .filter((p): p is PostRecord => p !== undefined);
      return { status: 200, body: postListJson(slice, [...new Set(roots)], list.length > page * perPage + perPage) };
    },

    GetChannel({ me, params }) {
      const channel = existingChannel(idParam(params, "channel_id"));
      if (!canReadChannel(me, channel)) throw permissionError(me.id, channel.type === "O" ? "read_public_channel" : "read_channel");
      return { status: 200, body: channelJson(channel) };
    },
    GetChannelMember({ me, params }) {
      const channelId = idParam(params, "channel_id");
      const userId = userParam(params, me);
      const channel = channels.get(channelId);
      if (!channel || !(isSystemAdmin(me) || isMember(channel, me.id))) throw permissionError(me.id, "read_channel");
      const member = channel.members.get(userId);
      if (!member) throw new AppError("app.channel.get_member.missing.app_error", "No channel member found for that user ID and channel ID.", 404, `channel_id=${channelId}, user_id=${userId}`);
      return { status: 200, body: memberJson(channelId, userId, member) };
    },
    CreateDirectChannel({ me, body }) {
      const ids = body as string[];
      if (ids.some((id) => !isValidId(id))) throw invalidParam("user_id");
      if (!ids.includes(me.id) && !isSystemAdmin(me)) throw permissionError(me.id, "manage_system");
      for (const id of ids) if (!users.has(id)) throw new AppError("api.channel.create_direct_channel.invalid_user.app_error", "Invalid user ID for direct channel creation.", 400, `user_id=${id}`);
      const [a, b] = [...ids].sort() as [string, string];
      const name = `${a}__${b}`;
      let channel = [...channels.values()].find((c) => c.type === "D" && c.name === name);
      if (!channel) {
        const now = Date.now();
        channel = { id: newId(), team_id: "", name, display_name: "", type: "D", create_at: now, update_at: now, creator_id: me.id, last_post_at: now, last_root_post_at: now, total_msg_count: 0, total_msg_count_root: 0, members: new Map() };
        channels.set(channel.id, channel);
        for (const id of new Set([a, b])) channel.members.set(id, { admin: false, last_update_at: now });
      }
      return { status: 201, body: channelJson(channel) };
    },
    GetTeam({ params }) {
      const team = teams.get(idParam(params, "team_id"));
      if (!team) throw new AppError("app.team.get.find.app_error", "Unable to find the existing team.", 404);
      return { status: 200, body: teamJson(team) };
    },
  };

  // ---- HTTP ----

  function authenticate(req: IncomingMessage): UserRecord | undefined {
    const header = req.headers.authorization ?? "";
    const match = /^(?:bearer|token)\s+(\S+)\s*$/i.exec(header);
    const userId = match?.[1] ? tokens.get(match[1]) : undefined;
    return userId && !disabledUsers.has(userId) ? users.get(userId) : undefined;
  }

  function sendJson(res: ServerResponse, status: number, body: unknown, requestId: string): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), "X-Request-Id": requestId });
    res.end(text);
  }
  function errorJson(e: AppError, requestId: string): Record<string, unknown> {
    return { id: e.id, message: e.message, detailed_error: e.detailed, request_id: requestId, status_code: e.status };
  }

  function takeFailure(method: string, path: string): Failure | undefined {
    const failure = failures.find((f) => (!f.method || f.method.toUpperCase() === method) && (!f.path || f.path.test(path)));
    if (failure && --failure.times <= 0) failures = failures.filter((f) => f !== failure);
    return failure;
  }

  function sendFailure(res: ServerResponse, f: Failure, requestId: string): void {
    const headers: Record<string, string | number> = { "X-Request-Id": requestId };
    let contentType = f.contentType;
    let body = f.body;
    if (f.status === 429) {
      // Mattermost's rate limiter (throttled's HTTPRateLimiter): text/plain "limit exceeded" with these headers.
      const retryAfter = f.retryAfterSeconds ?? 1;
      // An injected 429 reports an empty bucket; the simulated limiter has set its own figures already.
      if (!res.hasHeader("X-Ratelimit-Limit")) Object.assign(headers, { "X-Ratelimit-Limit": 101, "X-Ratelimit-Remaining": 0, "X-Ratelimit-Reset": Math.ceil(retryAfter) });
      headers["Retry-After"] = Math.ceil(retryAfter);
      contentType ??= "text/plain; charset=utf-8";
      body ??= "limit exceeded\n";
    } else if (f.retryAfterSeconds !== undefined) {
      headers["Retry-After"] = Math.ceil(f.retryAfterSeconds);
    }
    contentType ??= "application/json";
    body ??= JSON.stringify(errorJson(new AppError("app.sim.injected_failure.app_error", `Simulated failure (status ${f.status}).`, f.status), requestId));
    headers["Content-Type"] = contentType;
    headers["Content-Length"] = Buffer.byteLength(body);
    res.writeHead(f.status, headers);
    res.end(body);
  }

  // ---- optional rate limit ----
  // A token bucket over every API request, as Mattermost's limiter (throttled's GCRA) with one client:
  // `burst` at once, then `perSecond`. Every answer carries X-Ratelimit-Limit (burst + 1, as throttled
  // counts it), -Remaining (whole tokens left) and -Reset (seconds until the bucket is full); a
  // refused request gets 429 and Retry-After (seconds until a token is back).
  let bucket = opts.rateLimit?.burst ?? 0;
  let bucketAt = Date.now();
  function rateLimited(res: ServerResponse): Failure | undefined {
    const limit = opts.rateLimit;
    if (!limit) return undefined;
    const now = Date.now();
    bucket = Math.min(limit.burst, bucket + ((now - bucketAt) / 1000) * limit.perSecond);
    bucketAt = now;
    const allowed = bucket >= 1;
    if (allowed) bucket -= 1;
    res.setHeader("X-Ratelimit-Limit", limit.burst + 1);
    res.setHeader("X-Ratelimit-Remaining", Math.floor(bucket));
    res.setHeader("X-Ratelimit-Reset", Math.ceil((limit.burst - bucket) / limit.perSecond));
    return allowed ? undefined : { status: 429, times: 1, retryAfterSeconds: (1 - bucket) / limit.perSecond };
  }
  // ---- end of optional rate limit ----

  function handle(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const method = (req.method ?? "GET").toUpperCase();
    const url = new URL(req.url ?? "/", "http://sim");
    const path = url.pathname;
    const requestId = newId();
    const record: MattermostSim["requests"][number] = { method, path, status: 0 };
    if (raw !== "") {
      try {
        record.body = JSON.parse(raw);
      } catch {
        record.body = raw;
      }
    }
    requests.push(record);
    const where = `${method} ${path}${url.search}`;

    // Slash-command response URLs live outside /api/v4: Mattermost takes up to five JSON responses
    // per command ({text, response_type}) and answers 200 with an empty body.
    const hook = /^\/hooks\/commands\/([a-z0-9]{26})$/.exec(path);
    if (hook && method === "POST") {
      const parsed = record.body as { text?: unknown; response_type?: unknown } | undefined;
      const known = commandHooks.get(hook[1]!);
      const valid =
        parsed !== undefined && typeof parsed === "object" && typeof parsed.text === "string" && (parsed.response_type === undefined || ["ephemeral", "in_channel"].includes(String(parsed.response_type)));
      if (!known || known.used >= 5 || !valid) {
        if (!valid) violations.push(`${where}: a command response must be JSON with a string "text" and response_type ephemeral or in_channel`);
        record.status = 400;
        res.writeHead(400, { "Content-Type": "application/json" });
        res.end(JSON.stringify(errorJson(new AppError("web.command_webhook.invalid.app_error", "Invalid webhook.", 400), requestId)));
        return;
      }
      known.used++;
      commandResponses.push({ hookId: hook[1]!, body: parsed });
      record.status = 200;
      res.writeHead(200, { "Content-Length": 0 });
      res.end();
      return;
    }

    // What the API reference says about this request: every breach is a violation, whatever the answer.
    const match = matchRoute(method, path);
    let problems: string[] = [];
    let body: unknown;
    if (match) {
      ({ problems, body } = validateRequest(match, url.searchParams, raw));
      for (const p of problems) violations.push(`${where}: ${p} (API reference: ${match.operation.operationId})`);
    } else {
      const known = methodsForPath(path);
      violations.push(known.length > 0 ? `${where}: the API reference documents only ${known.join(", ")} for this path` : `${where}: no such route in the API reference`);
    }

    const failure = takeFailure(method, path) ?? rateLimited(res);
    if (failure) {
      record.status = failure.status;
      sendFailure(res, failure, requestId);
      return;
    }

    let reply: Reply;
    try {
      if (!match) {
        throw new AppError(
          "api.context.404.app_error",
          "Sorry, we could not find the page.",
          404,
          `There doesn't appear to be an api call for the url='${path}'.  Typo? are you missing a team_id or user_id as part of the url?`,
        );
      }
      const me = authenticate(req);
      if (!me) throw new AppError("api.context.session_expired.app_error", "Invalid or expired session, please login again.", 401, "token missing or unknown");
      if (problems.length > 0) {
        const fromUrl = problems.every((p) => p.startsWith("path parameter") || p.startsWith("query parameter"));
        throw new AppError(
          fromUrl ? "api.context.invalid_url_param.app_error" : "api.context.invalid_body_param.app_error",
          fromUrl ? "Invalid or missing parameter in request URL." : "Invalid or missing body in request body.",
          400,
          problems.join("; "),
        );
      }
      const handler = handlers[match.operation.operationId];
      if (!handler) {
        violations.push(`${where}: ${match.operation.operationId} is in the API reference but not simulated by mattermost-sim`);
        throw new AppError("app.sim.not_implemented.app_error", `${match.operation.operationId} is not simulated.`, 501);
      }
      try {
        reply = handler({ me, params: match.params, query: url.searchParams, body });
      } catch (error) {
        if (error instanceof AppError && error.status === 400) {
          violations.push(`${where}: refused by Mattermost's rules: ${error.id} ${error.message}${error.detailed ? ` (${error.detailed})` : ""}`);
        }
        throw error;
      }
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      record.status = error.status;
      sendJson(res, error.status, errorJson(error, requestId), requestId);
      return;
    }
    record.status = reply.status;
    sendJson(res, reply.status, reply.body, requestId);
  }

  const server = createServer((req, res) => {
    if (down) {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (down) {
        req.socket.destroy();
        return;
      }
      if (hanging) return;
      const answer = () => {
        try {
          handle(req, res, Buffer.concat(chunks).toString("utf8"));
        } catch (error) {
          violations.push(`${req.method} ${req.url}: mattermost-sim crashed: ${(error as Error).stack ?? String(error)}`);
          if (!res.headersSent) sendJson(res, 500, { id: "app.sim.crash", message: String(error), detailed_error: "", request_id: "", status_code: 500 }, "");
        }
      };
      if (latencyMs > 0) setTimeout(answer, latencyMs);
      else answer();
    });
  });
  server.on("connection", (socket: Socket) => {
    if (down) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    botToken,
    bot: publicUser(botRecord),
    violations,
    commandResponses,
    commandResponseUrl() {
      const id = newId();
      commandHooks.set(id, { used: 0 });
      return `http://127.0.0.1:${port}/hooks/commands/${id}`;
    },
    requests,

    addUser(u) {
      const user = createUser({ ...u, is_bot: false });
      const token = newId();
      tokens.set(token, user.id);
      return { ...publicUser(user), token };
    },
    addTeam(name) {
      const team = addTeam(name);
      return { id: team.id, name: team.name };
    },
    addChannel(c) {
      let teamId = c.team_id;
      if (teamId === undefined) {
        defaultTeam ??= addTeam(`team-${newId().slice(0, 8)}`);
        teamId = defaultTeam.id;
      } else if (!teams.has(teamId)) {
        addTeam(`team-${teamId.slice(0, 8)}`, teamId);
      }
      if ([...channels.values()].some((x) => x.team_id === teamId && x.name === c.name)) {
        throw new Error(`mattermost-sim: channel ${c.name} already exists in team ${teamId}`);
      }
      const now = Date.now();
      const channel: ChannelRecord = {
        id: newId(),
        team_id: teamId,
        name: c.name,
        display_name: c.name,
        type: c.type ?? "O",
        create_at: now,
        update_at: now,
        creator_id: "",
        last_post_at: now,
        last_root_post_at: now,
        total_msg_count: 0,
        total_msg_count_root: 0,
        members: new Map(),
      };
      channels.set(channel.id, channel);
      if (c.botIsMember !== false) addMember(channel.id, botRecord.id);
      return { id: channel.id, team_id: channel.team_id, name: channel.name, display_name: channel.display_name, type: channel.type };
    },
    addMember,
    // ---- bots, access tokens, team members and slash commands (gitlab-mm setup) ----
    bots() {
      return [...users.values()].filter((u) => u.is_bot).map((u) => ({ user_id: u.id, username: u.username, display_name: botOf(u).display_name, owner_id: botOf(u).owner_id, delete_at: botOf(u).delete_at }));
    },
    disableBot(userId) {
      const user = users.get(userId);
      if (!user?.is_bot) throw new Error(`mattermost-sim: no bot ${userId}`);
      botOf(user).delete_at = Date.now();
      disabledUsers.add(userId);
    },
    tokenUser(token) {
      const userId = tokens.get(token);
      return userId && !disabledUsers.has(userId) ? userId : undefined;
    },
    teamMembers(teamId) {
      return [...(teamMembers.get(teamId) ?? [])];
    },
    commands(teamId) {
      return liveCommands(teamId).map((c) => ({ ...c }));
    },
    addCommand(c) {
      if (!teams.has(c.team_id)) throw new Error(`mattermost-sim: no team ${c.team_id}`);
      const now = Date.now();
      const command = validCommand({
        id: newId(),
        token: newId(),
        create_at: now,
        update_at: now,
        delete_at: 0,
        ...commandFields({ method: "P", ...c }),
        creator_id: c.creator_id,
        team_id: c.team_id,
      });
      commandRecords.set(command.id, command);
      return { ...command };
    },
    // ---- end of bots, access tokens, team members and slash commands ----
    posts(channelId) {
      return [...posts.values()].filter((p) => p.delete_at === 0 && (channelId === undefined || p.channel_id === channelId)).map(simPost);
    },
    post(id) {
      const p = posts.get(id);
      return p && p.delete_at === 0 ? simPost(p) : undefined;
    },
    failNext(f) {
      failures.push({ ...f, times: f.times ?? 1 });
    },
    clearFailures() {
      failures = [];
    },
    setDown(value) {
      down = value;
      if (value) for (const socket of sockets) socket.destroy();
    },
    setHanging(value) {
      hanging = value;
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    setChannelType(channelId, type) {
      const channel = channels.get(channelId);
      if (!channel || (channel.type !== "O" && channel.type !== "P")) throw new Error(`mattermost-sim: no public or private channel ${channelId}`);
      channel.type = type;
      channel.update_at = Date.now();
    },
    deletePost(postId) {
      const post = posts.get(postId);
      if (!post || post.delete_at !== 0) throw new Error(`mattermost-sim: no post ${postId}`);
      const now = Date.now();
      for (const p of [post, ...threadOf(post.id)]) {
        p.delete_at = now;
        p.update_at = now;
      }
    },
    reset() {
      posts = new Map();
      repliesByRoot = new Map();
      pendingPostIds = new Map();
      failures = [];
      down = false;
      hanging = false;
      latencyMs = 0;
      requests.length = 0;
      violations.length = 0;
      for (const channel of channels.values()) {
        channel.total_msg_count = 0;
        channel.total_msg_count_root = 0;
      }
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
