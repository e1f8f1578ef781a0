import amqp from "amqplib";
import { afterAll, describe, expect, it } from "vitest";
import { amqpUrl, useRabbitMQ } from "#fixtures/rabbitmq";

// The course's RabbitMQ fixture against the real broker (the checker's CI has one).
const declared: { queues: string[]; exchanges: string[] } = { queues: [], exchanges: [] };
const opened: amqp.ChannelModel[] = [];

/** Whether a queue or exchange of that name exists, asked on a throwaway channel (a miss closes it). */
async function exists(connection: amqp.ChannelModel, kind: "queue" | "exchange", name: string): Promise<boolean> {
  const channel = await connection.createChannel();
  channel.on("error", () => {});
  try {
    await (kind === "queue" ? channel.checkQueue(name) : channel.checkExchange(name));
    await channel.close();
    return true;
  } catch {
    return false;
  }
}

// Registered before the fixture's hooks, so it runs after them (after-hooks run in reverse).
afterAll(async () => {
  const connection = await amqp.connect(amqpUrl());
  try {
    for (const q of declared.queues)
      expect(await exists(connection, "queue", q), `queue ${q} deleted after the file`).toBe(false);
    for (const e of declared.exchanges)
      expect(await exists(connection, "exchange", e), `exchange ${e} deleted after the file`).toBe(false);
    for (const c of opened)
      await expect(c.createChannel(), "the fixture closed the file's connections").rejects.toThrow();
  } finally {
    await connection.close();
  }
});

const rabbit = useRabbitMQ();

describe("useRabbitMQ", () => {
  it("hands out names in the file's namespace and connections that work", async () => {
    expect(rabbit.prefix).toMatch(/^kata\.rabbitmq-fixture\.[0-9a-f]{8}\.$/);
    const queue = rabbit.name("work");
    const exchange = rabbit.name("events");
    expect(queue).toBe(`${rabbit.prefix}work`);

    const connection = await rabbit.connect();
    opened.push(connection);
    const channel = await connection.createConfirmChannel();
    await channel.assertExchange(exchange, "topic", { durable: false });
    await channel.assertQueue(queue, { durable: true });
    await channel.bindQueue(queue, exchange, "order.*");
    declared.queues.push(queue);
    declared.exchanges.push(exchange);
    channel.publish(exchange, "order.created", Buffer.from("hello"));
    await channel.waitForConfirms();
    const message = await channel.get(queue, { noAck: true });
    expect(message && message.content.toString()).toBe("hello");
  });

  it("leaves a connection the test closed itself alone", async () => {
    const connection = await rabbit.connect();
    await connection.close();
  });
});
