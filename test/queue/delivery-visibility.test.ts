// Events of projects that are not public reach only private channels, direct and group messages: the
// delivery decides just before posting, from what Mattermost says the channel is now.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.js";
import { createMattermostClient } from "../../src/mattermost/client.js";
import { createMetrics, type Metrics } from "../../src/metrics.js";
import { createDeliverer } from "../../src/queue/delivery-worker.js";
import { deliveryJobId, type DeliveryJobData } from "../../src/queue/jobs.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { startMattermostSim, type MattermostSim } from "../support/mattermost-sim.js";

const logger = createLogger("silent");

function job(channelId: string, eventKey: string, extra: Partial<DeliveryJobData>): { id: string; data: DeliveryJobData } {
  return {
    id: deliveryJobId(eventKey, channelId),
    data: { channelId, eventKey, confidential: false, post: { message: `event ${eventKey}` }, locale: "en", receivedAt: Date.now(), ...extra },
  };
}

describe("project visibility at delivery", () => {
  let sim: MattermostSim;
  let t: TestDatabase;
  let metrics: Metrics;
  let clock = Date.now();
  let deliver: ReturnType<typeof createDeliverer>;

  beforeAll(async () => {
    sim = await startMattermostSim();
    t = await createTestDatabase("sqlite");
    metrics = createMetrics();
    deliver = createDeliverer({ db: t.db, mattermost: createMattermostClient(sim.url, sim.botToken), botUserId: sim.bot.id, logger, metrics, now: () => clock });
  });
  afterAll(async () => {
    await sim.close();
    await t.drop();
  });

  const withheld = async () => (await metrics.deliveriesWithheld.get()).values.find((v) => v.labels.reason === "not_public")?.value ?? 0;

  it("withholds private, internal and unstated projects from a public channel, and counts it", async () => {
    const town = sim.addChannel({ name: "town" });
    for (const visibility of ["private", "internal", "unknown"] as const) {
      const j = job(town.id, `e-${visibility}`, { visibility });
      expect(await deliver(j.id, j.data)).toBeUndefined();
    }
    expect(sim.posts(town.id)).toEqual([]);
    expect(await withheld()).toBe(3);

    const pub = job(town.id, "e-public", { visibility: "public" });
    expect(await deliver(pub.id, pub.data)).toBeDefined();
    // A notice about a subscription shows nothing of a project.
    const notice = job(town.id, "e-notice", {});
    expect(await deliver(notice.id, notice.data)).toBeDefined();
    expect(sim.posts(town.id)).toHaveLength(2);
  });

  it("posts them in a private channel and in a direct message", async () => {
    const backroom = sim.addChannel({ name: "backroom", type: "P" });
    const j = job(backroom.id, "e-private", { visibility: "private" });
    expect(sim.post((await deliver(j.id, j.data))!)?.channel_id).toBe(backroom.id);

    const person = sim.addUser({ username: "person" });
    const dm: DeliveryJobData = { ...job("", "e-dm", { visibility: "private" }).data, channelId: undefined, userId: person.id };
    expect(await deliver(deliveryJobId("e-dm", person.id), dm)).toBeDefined();
  });

  it("stops posting them in a private channel made public, once the bot learns of it", async () => {
    const room = sim.addChannel({ name: "room", type: "P" });
    const first = job(room.id, "e-before", { visibility: "internal" });
    expect(await deliver(first.id, first.data)).toBeDefined();
    sim.setChannelType(room.id, "O");
    // Channel types are cached a minute at most.
    clock += 61_000;
    const second = job(room.id, "e-after", { visibility: "internal" });
    expect(await deliver(second.id, second.data)).toBeUndefined();
    expect(sim.posts(room.id)).toHaveLength(1);
  });

  it("posts them anywhere when ALLOW_PRIVATE_PROJECTS_IN_PUBLIC_CHANNELS is on", async () => {
    const open = sim.addChannel({ name: "open-house" });
    const allowing = createDeliverer({ db: t.db, mattermost: createMattermostClient(sim.url, sim.botToken), botUserId: sim.bot.id, logger, metrics, allowPrivateProjectsInPublicChannels: true });
    const j = job(open.id, "e-allowed", { visibility: "private" });
    expect(await allowing(j.id, j.data)).toBeDefined();
    expect(sim.posts(open.id)).toHaveLength(1);
  });
});
