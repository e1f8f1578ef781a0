import type { Channel, ChannelModel, GetMessage } from "amqplib";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { useRabbitMQ } from "#fixtures/rabbitmq";
import { type DeliveredMessage, type RunningConsumer, startConsumer, type ConsumerOptions } from "../src/consumer";
import { ConfirmingPublisher, PublishRejectedError, UnroutableError } from "../src/publisher";
import { declareTopology, type TopologyNames } from "../src/topology";
import { eventually, gate } from "./support/waiting";

const rabbit = useRabbitMQ();

let connection: ChannelModel;
let inspector: Channel;
beforeAll(async () => {
  connection = await rabbit.connect();
  inspector = await connection.createChannel();
  inspector.on("error", () => {});
});

let topologies = 0;
/** A fresh topology per test, in this file's namespace (deleted after the file). */
async function topology(bindingKeys: string[] = ["order.*.created", "payment.#"]): Promise<TopologyNames> {
  const n = ++topologies;
  const names = {
    exchange: rabbit.name(`events-${n}`),
    workQueue: rabbit.name(`work-${n}`),
    retryQueue: rabbit.name(`retry-${n}`),
    parkingLot: rabbit.name(`parking-${n}`),
    bindingKeys,
  };
  await declareTopology(inspector, names);
  return names;
}

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const resource of opened.splice(0).reverse()) await resource.close();
});
async function publisherFor(names: TopologyNames): Promise<ConfirmingPublisher> {
  const publisher = await ConfirmingPublisher.open(connection, names.exchange);
  opened.push(publisher);
  return publisher;
}
async function consumerFor(names: TopologyNames, options: Partial<ConsumerOptions>): Promise<RunningConsumer> {
  const consumer = await startConsumer({
    url: rabbit.url,
    names,
    handler: () => {},
    prefetch: 10,
    maxRetries: 3,
    retryDelayMs: 50,
    ...options,
  });
  opened.push({ close: () => consumer.stop() });
  return consumer;
}

const depth = async (queue: string) => (await inspector.checkQueue(queue)).messageCount;
/** What `promise` settled with: its rejection, or "resolved" (so a failure message can say why it should not have). */
const settled = (promise: Promise<unknown>) =>
  promise.then(
    () => "resolved",
    (error: unknown) => error,
  );
async function drain(queue: string): Promise<GetMessage[]> {
  const messages: GetMessage[] = [];
  for (;;) {
    const message = await inspector.get(queue, { noAck: true });
    if (!message) return messages;
    messages.push(message);
  }
}

describe("declares a topic exchange, its bindings and the queues", () => {
  it("routes by topic pattern to the work queue, and declaring twice changes nothing", async () => {
    const names = await topology();
    await declareTopology(inspector, names);
    const publisher = await publisherFor(names);
    await publisher.publish("order.eu.created", { n: 1 });
    await publisher.publish("payment.card.captured.eu", { n: 2 });
    await publisher.publish("payment", { n: 3 });
    const routed = await drain(names.workQueue);
    expect(
      routed.map((m) => m.fields.routingKey),
      "`*` matches one word, `#` zero or more",
    ).toEqual(["order.eu.created", "payment.card.captured.eu", "payment"]);
    for (const queue of [names.retryQueue, names.parkingLot]) {
      expect(await depth(queue), "only the work queue is bound to the exchange").toBe(0);
    }
  });

  it("declares the exchange and the queues durable, so they outlive a broker restart", async () => {
    const names = await topology();
    // Declaring again with durable: true fails with 406 "inequivalent arg 'durable'" unless it
    // already is. Other inequivalent arguments (a queue type, a TTL of your own) say nothing
    // about durability; each declaration gets a fresh channel, since a 406 closes it.
    const durable = async (declare: (channel: Channel) => Promise<unknown>) => {
      const check = await connection.createChannel();
      check.on("error", () => {});
      try {
        return await declare(check).then(
          () => true,
          (error: Error) => !/inequivalent arg 'durable'/.test(error.message),
        );
      } finally {
        await check.close().catch(() => {});
      }
    };
    const exchangeDurable = await durable((ch) => ch.assertExchange(names.exchange, "topic", { durable: true }));
    expect(exchangeDurable, "the exchange must be durable, or a broker restart deletes it and its bindings").toBe(true);
    for (const queue of [names.workQueue, names.retryQueue, names.parkingLot]) {
      await inspector.checkQueue(queue);
      const why = `${queue} must be durable: a broker restart deletes a transient queue and its messages`;
      expect(await durable((ch) => ch.assertQueue(queue, { durable: true })), why).toBe(true);
    }
  });
});

describe("publishes with confirms", () => {
  it("publishes persistent JSON with a message id", async () => {
    const names = await topology();
    const publisher = await publisherFor(names);
    await publisher.publish("order.us.created", { orderId: "o-1" }, { messageId: "m-1", headers: { tenant: "t-9" } });
    await publisher.publish("order.us.created", { orderId: "o-2" });
    const [first, second] = await drain(names.workQueue);
    expect(JSON.parse(first!.content.toString())).toEqual({ orderId: "o-1" });
    expect(first!.properties).toMatchObject({ contentType: "application/json", deliveryMode: 2, messageId: "m-1" });
    expect(first!.properties.headers, "the headers given are sent").toMatchObject({ tenant: "t-9" });
    expect(second!.properties.messageId, "every message gets an id, for deduplication downstream").toEqual(
      expect.any(String),
    );
    expect(second!.properties.messageId).not.toBe("m-1");
  });

  it("rejects with UnroutableError a message no queue is bound for", async () => {
    const names = await topology();
    const publisher = await publisherFor(names);
    const lost = await settled(publisher.publish("order.eu.shipped", { orderId: "o-3" }));
    const why = "without mandatory and a 'return' listener an unroutable message vanishes silently";
    expect(lost, why).toBeInstanceOf(UnroutableError);
    const unroutable = { code: "ERR_UNROUTABLE", routingKey: "order.eu.shipped", name: "UnroutableError" };
    expect(lost).toMatchObject(unroutable);
    expect((lost as Error).message, "the message names the routing key").toContain("order.eu.shipped");
    await publisher.publish("order.eu.created", { after: true });
    expect(await depth(names.workQueue), "the publisher keeps working after a return").toBe(1);
  });

  it("rejects with PublishRejectedError a message the broker refuses", async () => {
    const names = await topology();
    const full = rabbit.name(`full-${topologies}`);
    await inspector.assertQueue(full, { arguments: { "x-max-length": 1, "x-overflow": "reject-publish" } });
    await inspector.bindQueue(full, names.exchange, "audit.#");
    const publisher = await publisherFor(names);
    await publisher.publish("audit.login", { n: 1 });
    const refused = await settled(publisher.publish("audit.login", { n: 2 }));
    const why = "resolving before the broker's confirm (a nack here) reports a message the broker dropped as sent";
    expect(refused, why).toBeInstanceOf(PublishRejectedError);
    expect(refused).toMatchObject({ code: "ERR_PUBLISH_REJECTED", name: "PublishRejectedError" });
    expect((refused as Error).message, "the message names the routing key").toContain("audit.login");
    expect(await depth(full)).toBe(1);
  });

  it("rejects a publish to an exchange that does not exist, without crashing the process", async () => {
    const publisher = await ConfirmingPublisher.open(connection, rabbit.name("no-such-exchange"));
    opened.push(publisher);
    const why = "the broker closes the channel (404); an unhandled 'error' event would kill the process";
    expect(await settled(publisher.publish("order.x.created", {})), why).toBeInstanceOf(Error);
  });

  it("refuses to publish after close()", async () => {
    const names = await topology();
    const publisher = await ConfirmingPublisher.open(connection, names.exchange);
    await publisher.publish("order.c.created", { n: 1 });
    await publisher.close();
    const late = await settled(publisher.publish("order.c.created", { n: 2 }));
    expect(late, "a closed publisher must not pretend to publish").toBeInstanceOf(Error);
    expect(await depth(names.workQueue)).toBe(1);
  });
});

describe("consumes with manual acks and a prefetch limit", () => {
  it("hands each message to the handler with its routing key and body, and acks it after the handler", async () => {
    const names = await topology();
    const publisher = await publisherFor(names);
    const seen: DeliveredMessage[] = [];
    let handled!: () => void;
    const allHandled = new Promise<void>((resolve) => (handled = resolve));
    const consumer = await consumerFor(names, {
      handler: (message) => {
        seen.push(message);
        if (seen.length === 3) handled();
      },
    });
    for (let i = 1; i <= 3; i++) await publisher.publish(`order.r${i}.created`, { i }, { messageId: `m-${i}` });
    await allHandled;
    await consumer.stop();
    expect(seen.map((m) => [m.routingKey, m.body, m.messageId, m.attempt, m.redelivered])).toEqual([
      ["order.r1.created", { i: 1 }, "m-1", 1, false],
      ["order.r2.created", { i: 2 }, "m-2", 1, false],
      ["order.r3.created", { i: 3 }, "m-3", 1, false],
    ]);
    expect(
      await depth(names.workQueue),
      "acked messages are gone; an unacked one would be back in the queue after stop()",
    ).toBe(0);
  });

  it("takes at most `prefetch` messages at once and runs their handlers side by side", async () => {
    const names = await topology();
    const publisher = await publisherFor(names);
    for (let i = 0; i < 5; i++) await publisher.publish("order.p.created", { i });
    const release = gate();
    let running = 0;
    let entered = 0;
    await consumerFor(names, {
      prefetch: 2,
      handler: async () => {
        entered += 1;
        running += 1;
        await release.opened;
        running -= 1;
      },
    });
    try {
      await eventually(() => running >= 2, "with prefetch 2, two handlers run side by side (not one after the other)");
      expect(
        await depth(names.workQueue),
        "acking before the handler finishes (or no prefetch) pulls the whole queue in",
      ).toBe(3);
      expect(entered, "no more handlers than prefetch at once").toBe(2);
    } finally {
      release.open();
    }
    const allHandled = async () => entered === 5 && (await depth(names.workQueue)) === 0;
    await eventually(allHandled, "all five handled once released");
  });
});

describe("retries through the delay queue, then parks", () => {
  it("retries a failed message after retryDelayMs through the retry queue, with its routing key and attempt number", async () => {
    const names = await topology();
    const publisher = await publisherFor(names);
    const attempts: (DeliveredMessage & { at: number })[] = [];
    await consumerFor(names, {
      retryDelayMs: 300,
      handler: (message) => {
        attempts.push({ ...message, at: performance.now() });
        if (attempts.length < 3) throw new Error(`attempt ${attempts.length} failed`);
      },
    });
    await publisher.publish("order.x.created", { orderId: "o-r" });
    const waiting = async () => attempts.length === 1 && (await depth(names.retryQueue)) === 1;
    await eventually(waiting, "the failed message waits in the retry queue");
    await eventually(() => attempts.length === 3, "the message comes back twice", 10_000);
    expect(
      attempts.map((a) => a.routingKey),
      "the handler sees the key it was published with, also after the retry queue",
    ).toEqual(["order.x.created", "order.x.created", "order.x.created"]);
    expect(
      attempts.map((a) => a.attempt),
      "attempt counts the retries",
    ).toEqual([1, 2, 3]);
    expect(
      attempts.map((a) => a.redelivered),
      "a retry is a new copy from the delay queue; a nack with requeue comes back at once, as a redelivery",
    ).toEqual([false, false, false]);
    for (let i = 1; i < attempts.length; i++) {
      expect(
        attempts[i]!.at - attempts[i - 1]!.at,
        "a TTL never expires early: the retry waits at least retryDelayMs",
      ).toBeGreaterThanOrEqual(270);
    }
    const empty = async () => (await depth(names.workQueue)) === 0 && (await depth(names.retryQueue)) === 0;
    await eventually(empty, "nothing left");
    expect(await depth(names.parkingLot)).toBe(0);
  });

  it("parks a message that failed maxRetries + 1 times, and stops retrying it", async () => {
    const names = await topology();
    const publisher = await publisherFor(names);
    let calls = 0;
    await consumerFor(names, {
      maxRetries: 2,
      retryDelayMs: 30,
      handler: () => {
        calls += 1;
        throw new Error("always fails");
      },
    });
    await publisher.publish("payment.failed", { paymentId: "p-9" }, { messageId: "m-park" });
    const parkedOne = async () => (await depth(names.parkingLot)) === 1;
    await eventually(parkedOne, "after its retries the message goes to the parking lot", 10_000);
    const [parked] = await drain(names.parkingLot);
    const body: unknown = JSON.parse(parked!.content.toString());
    expect(body, "the parked copy is the message itself").toEqual({ paymentId: "p-9" });
    expect(parked!.properties.messageId).toBe("m-park");
    expect(parked!.properties.deliveryMode, "a parked message must survive a broker restart: persistent").toBe(2);
    expect(calls, "one try and two retries").toBe(3);
    expect(await depth(names.workQueue)).toBe(0);
    expect(await depth(names.retryQueue), "a retry without a cap loops forever").toBe(0);
  });
});

describe("parks what cannot be parsed", () => {
  it("sends a body that is not JSON straight to the parking lot, without calling the handler", async () => {
    const names = await topology();
    let calls = 0;
    await consumerFor(names, {
      handler: () => {
        calls += 1;
      },
    });
    inspector.sendToQueue(names.workQueue, Buffer.from("{not json"), { messageId: "m-bad" });
    await eventually(async () => (await depth(names.parkingLot)) === 1, "a body no retry can fix is parked at once");
    const [parked] = await drain(names.parkingLot);
    expect(parked!.content.toString()).toBe("{not json");
    expect(calls, "the handler never sees what is not JSON").toBe(0);
    expect(await depth(names.retryQueue)).toBe(0);
  });
});

describe("survives what the broker does to it", () => {
  it("does not crash when the broker cancels it because its queue was deleted, and stops cleanly", async () => {
    const names = await topology();
    const errors: Error[] = [];
    const consumer = await consumerFor(names, { onError: (error) => errors.push(error) });
    await inspector.deleteQueue(names.workQueue);
    await eventually(() => errors.length > 0, "a broker cancel is reported through onError");
    await consumer.stop();
  });

  it("rejects with the connection's error when the first connection fails", async () => {
    const names = { exchange: "x", workQueue: "w", retryQueue: "r", parkingLot: "p", bindingKeys: [] };
    const starting = startConsumer({
      url: "amqp://guest:guest@127.0.0.1:1",
      names,
      handler: () => {},
      prefetch: 1,
      maxRetries: 0,
      retryDelayMs: 1,
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"hangs">((resolve) => (timer = setTimeout(() => resolve("hangs"), 5_000)));
    const result = await Promise.race([
      starting.then(
        () => "started",
        (error: unknown) => error,
      ),
      late,
    ]);
    clearTimeout(timer);
    expect(result, "a consumer that retries its first connection forever hides a wrong URL").not.toBe("hangs");
    expect(result, "amqplib's own error, so the caller sees what is wrong").toMatchObject({ code: "ECONNREFUSED" });
  });
});
