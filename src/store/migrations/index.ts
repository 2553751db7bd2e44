// Versioned migrations, applied in name order. Add a file and one line here; never edit a released one.
import type { Migration, MigrationProvider } from "kysely";
import { initial } from "./001-initial.js";
import { accountsAndThreads } from "./002-accounts-and-threads.js";
import { subscriptionAccess } from "./003-subscription-access.js";
import { personalNotifications } from "./004-personal-notifications.js";
import { webhookSpool } from "./005-webhook-spool.js";

const migrations: Record<string, Migration> = {
  "001-initial": initial,
  "002-accounts-and-threads": accountsAndThreads,
  "003-subscription-access": subscriptionAccess,
  "004-personal-notifications": personalNotifications,
  "005-webhook-spool": webhookSpool,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
