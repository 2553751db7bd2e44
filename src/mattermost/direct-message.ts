// A direct message from the bot to one user: find (or make) the DM channel of the bot and the user,
// then post. The bot's own user id is asked for once.
import type { MattermostApi } from "./client.js";

export type SendDirectMessage = (mattermostUserId: string, message: string) => Promise<void>;

export function directMessenger(mattermost: MattermostApi, botUserId?: string): SendDirectMessage {
  let botId: Promise<string> | undefined = botUserId ? Promise.resolve(botUserId) : undefined;
  return async (userId, message) => {
    botId ??= mattermost.getMe().then((me) => me.id);
    let id: string;
    try {
      id = await botId;
    } catch (error) {
      botId = undefined;
      throw error;
    }
    const channel = await mattermost.createDirectChannel(id, userId);
    await mattermost.createPost({ channel_id: channel.id, message });
  };
}
