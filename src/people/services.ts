// What slash commands need of the personal side: the users' Mattermost profiles (language, time
// zone) and rescheduling a user's daily reminder after their settings changed.
import { syncReminder, type PersonalQueue } from "../queue/personal.js";
import type { Db } from "../store/db.js";
import { findUserLink } from "../store/user-links.js";
import { getUserSettings } from "../store/user-settings.js";
import type { Profiles } from "./profiles.js";

export interface PeopleServices {
  profiles: Profiles;
  /**
   * Makes the user's reminder scheduler match their settings, link and time zone: when it runs next
   * (undefined: no reminder) and in which zone.
   */
  syncReminder(userId: string): Promise<{ next?: number; timeZone: string }>;
}

export function createPeopleServices(deps: { db: Db; queue: PersonalQueue; profiles: Profiles }): PeopleServices {
  return {
    profiles: deps.profiles,
    async syncReminder(userId) {
      const [link, settings, timeZone] = await Promise.all([findUserLink(deps.db, userId), getUserSettings(deps.db, userId), deps.profiles.timeZone(userId)]);
      const next = await syncReminder(deps.queue, userId, settings, timeZone, link !== undefined);
      return { next, timeZone };
    },
  };
}
