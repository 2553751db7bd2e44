import type { Kysely, Migration } from "kysely";

/**
 * Who may subscribe: a subscription made through `/gitlab subscriptions add` records
 * what GitLab said when its subscriber (created_by, a Mattermost user id) added it: whether the path is
 * a project or a group and its visibility. Null for subscriptions made before, or by the admin CLI.
 */
export const subscriptionAccess: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("subscriptions").addColumn("kind", "text").execute();
    await db.schema.alterTable("subscriptions").addColumn("visibility", "text").execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable("subscriptions").dropColumn("visibility").execute();
    await db.schema.alterTable("subscriptions").dropColumn("kind").execute();
  },
};
