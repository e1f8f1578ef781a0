import type { Channel, ChannelModel } from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useRabbitMQ } from "#fixtures/rabbitmq";
import { type TcpRelay, tcpRelay } from "#fixtures/tcp-relay";
import { type DeliveredMessage, startConsumer } from "../src/consumer";
import { ConfirmingPublisher } from "../src/publisher";
import { declareTopology, type TopologyNames } from "../src/topology";
import { eventually, gate, within } from "./support/waiting";

const rabbit = useRabbitMQ();

let connection: ChannelModel;
let inspector: Channel;
let relay: TcpRelay;
beforeAll(async () => {
  connection = await rabbit.connect();
  inspector = await connection.createChannel();
  inspector.on("error", () => {});
  relay = await tcpRelay(rabbit.url);
});
afterAll(async () => {
  await relay?.close();
});

const depth = async (queue: string) => (await inspector.checkQueue(queue)).messageCount;

describe("survives a lost connection to the broker", () => {
  it("reconnects with backoff, gets its unacknowledged message back, and never handles an acknowledged one again", async () => {
    const names: TopologyNames = {
      exchange: rabbit.name("events"),
      workQueue: rabbit.name("work"),
      retryQueue: rabbit.name("retry"),
      parkingLot: rabbit.name("parking"),
      bindingKeys: ["order.#"],
    };
    await declareTopology(inspector, names);
    const publisher = await ConfirmingPublisher.open(connection, names.exchange);

    const handled: { id: string; redelivered: boolean }[] = [];
    const firstDelivery = { entered: gate(), release: gate() };
    const redelivery = { entered: gate(), release: gate() };
    const handler = async (message: DeliveredMessage) => {
      const id = (message.body as { id: string }).id;
      if (id === "m2") {
        // m2's work is under way on the first connection when the network goes, and it
        // finishes only after the consumer reconnected and got m2 again.
        const delivery = message.redelivered ? redelivery : firstDelivery;
        delivery.entered.open();
        await delivery.release.opened;
      }
      handled.push({ id, redelivered: message.redelivered });
    };
    const errors: Error[] = [];
    const consumer = await startConsumer({
      url: relay.url(rabbit.url),
      names,
      handler,
      prefetch: 1,
      maxRetries: 3,
      retryDelayMs: 50,
      reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
      onError: (error) => errors.push(error),
    });
    try {
      await publisher.publish("order.created", { id: "m1" });
      await eventually(() => handled.some((h) => h.id === "m1"), "m1 is handled");
      await publisher.publish("order.created", { id: "m2" });
      // With prefetch 1, m2 arriving proves the broker had m1's ack.
      await firstDelivery.entered.opened;

      relay.cut({ refuseMs: Infinity });
      await relay.waitForRefused(2, 10_000).catch(() => {
        throw new Error("after losing its connection the consumer never tried again: reconnect with backoff");
      });
      relay.restore();
      const why = "m2 was never acknowledged: the broker must deliver it again after the consumer reconnected";
      await within(redelivery.entered.opened, 10_000, why);

      // The first delivery finishes now: its ack belongs to the dead channel. On the new channel
      // the same delivery tag is m2's redelivery, which is still being handled.
      firstDelivery.release.open();
      await eventually(() => handled.length === 2, "the first delivery of m2 finished");
      redelivery.release.open();
      await eventually(() => handled.length === 3, "the redelivery of m2 finished");

      await publisher.publish("order.created", { id: "m3" });
      await eventually(() => handled.some((h) => h.id === "m3"), "the reconnected consumer keeps consuming");
    } finally {
      relay.restore();
      firstDelivery.release.open();
      redelivery.release.open();
      await consumer.stop();
      await publisher.close();
    }

    expect(relay.refused, "the consumer kept trying while the broker was unreachable").toBeGreaterThanOrEqual(2);
    const misacked = errors.filter((e) => /PRECONDITION_FAILED|unknown delivery tag/i.test(e.message));
    expect(
      misacked.map((e) => e.message),
      "an ack with a tag from the dead channel hit the new one: tags belong to their channel",
    ).toEqual([]);
    expect(
      handled.filter((h) => h.id === "m1"),
      "m1 was acknowledged before the cut: it must never come back",
    ).toHaveLength(1);
    expect(
      handled.filter((h) => h.id === "m2" && h.redelivered),
      "m2 handled again, once, as a redelivery",
    ).toHaveLength(1);
    expect(handled.filter((h) => h.id === "m3")).toHaveLength(1);
    expect(errors.length, "the lost connection is reported through onError").toBeGreaterThan(0);
    expect(await depth(names.workQueue), "nothing left unacknowledged or waiting").toBe(0);
    expect(await depth(names.retryQueue)).toBe(0);
    expect(relay.open, "stop() closes the connection it opened").toBe(0);
  });

  it("lets running handlers finish and ack on stop(), then never reconnects", async () => {
    const names: TopologyNames = {
      exchange: rabbit.name("events-stop"),
      workQueue: rabbit.name("work-stop"),
      retryQueue: rabbit.name("retry-stop"),
      parkingLot: rabbit.name("parking-stop"),
      bindingKeys: ["order.#"],
    };
    await declareTopology(inspector, names);
    const publisher = await ConfirmingPublisher.open(connection, names.exchange);
    const entered = gate();
    const release = gate();
    let finished = 0;
    const acceptedBefore = relay.accepted;
    const consumer = await startConsumer({
      url: relay.url(rabbit.url),
      names,
      prefetch: 1,
      maxRetries: 0,
      retryDelayMs: 10,
      reconnect: { initialDelayMs: 10, maxDelayMs: 50 },
      handler: async () => {
        entered.open();
        await release.opened;
        finished += 1;
      },
    });
    await publisher.publish("order.created", { id: "slow" });
    await entered.opened;
    const stopping = consumer.stop();
    // The consumer is cancelled while the handler still runs; stop() must wait for it.
    const cancelled = async () => (await inspector.checkQueue(names.workQueue)).consumerCount === 0;
    await eventually(cancelled, "stop() cancels the consumer first");
    release.open();
    await stopping;
    await publisher.close();
    // A reconnect wrongly scheduled after stop() would come within its 10 ms backoff; give it 200.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(finished, "stop() waits for the handler that is running").toBe(1);
    expect(await depth(names.workQueue), "and its ack went out before the channel closed").toBe(0);
    expect(relay.open).toBe(0);
    expect(relay.accepted - acceptedBefore, "a stopped consumer does not reconnect").toBe(1);
  });
});
