// One admin-CLI-like process for test/store/sqlite-writers.test.ts: many subscription writes on one
// SQLite file, printing how many failed.
import { openDatabase } from "../../../src/store/db.js";
import { upsertSubscription } from "../../../src/store/subscriptions.js";

const [url, writer, count] = process.argv.slice(2);
const { db } = openDatabase(url!);
const failures: string[] = [];
for (let i = 0; i < Number(count); i++) {
  try {
    // A read, then a write, in one transaction: what `subscriptions add` does.
    await upsertSubscription(db, { channelId: `${writer}-${i}`, path: "group/project", features: "issues", createdBy: "cli" });
  } catch (error) {
    failures.push((error as Error).message);
  }
}
await db.destroy();
process.stdout.write(JSON.stringify({ failures }));
