import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { Channel, ChannelClosedError } from "../src/async-channel";

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Tracks whether a promise has settled yet, without awaiting it. */
function watch<T>(promise: Promise<T>) {
  const state = { settled: false, value: undefined as T | undefined, error: undefined as unknown };
  promise.then(
    (value) => {
      state.settled = true;
      state.value = value;
    },
    (error: unknown) => {
      state.settled = true;
      state.error = error;
    },
  );
  return state;
}

async function collect<T>(channel: AsyncIterable<T>): Promise<T[]> {
  const values: T[] = [];
  for await (const value of channel) values.push(value);
  return values;
}

describe("async-channel: send waits while the buffer is full (backpressure)", () => {
  it("accepts `capacity` values at once, then makes the next send wait until a receive frees a slot", async () => {
    const channel = new Channel<number>(2);
    await channel.send(1);
    await channel.send(2);

    const third = watch(channel.send(3));
    await flush();
    expect(third.settled, "a full buffer pushes back on the producer instead of growing").toBe(false);
    expect(channel.size).toBe(2);

    expect(await channel.receive()).toBe(1);
    await flush();
    expect(third.settled, "the receive freed a slot, so the waiting send completes").toBe(true);
    expect(await channel.receive()).toBe(2);
    expect(await channel.receive()).toBe(3);
  });

  it("never buffers more than `capacity` values while a fast producer feeds a slow consumer", async () => {
    const channel = new Channel<number>(3);
    let largest = 0;
    const producer = (async () => {
      for (let i = 0; i < 50; i++) {
        await channel.send(i);
        largest = Math.max(largest, channel.size);
      }
      channel.close();
    })();

    const received: number[] = [];
    for await (const value of channel) {
      received.push(value);
      largest = Math.max(largest, channel.size);
      await flush(); // a slow consumer
    }
    await producer;

    expect(largest, "the buffer is the memory bound of the pipeline").toBeLessThanOrEqual(3);
    expect(received).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it("with capacity 0 is a rendezvous: every send waits for a receiver to take its value", async () => {
    const channel = new Channel<string>(0);

    const sent = watch(channel.send("hand-off"));
    await flush();
    expect(sent.settled, "nothing can be buffered, so the sender waits").toBe(false);

    expect(await channel.receive()).toBe("hand-off");
    await flush();
    expect(sent.settled, "the receiver took the value").toBe(true);
    expect(sent.error).toBeUndefined();
  });

  it("rejects a negative, fractional or infinite capacity with RangeError", () => {
    expect(() => new Channel(-1)).toThrow(RangeError);
    expect(() => new Channel(1.5)).toThrow(RangeError);
    expect(
      () => new Channel(Number.POSITIVE_INFINITY),
      "an unbounded buffer has no backpressure: that is a queue, not a channel",
    ).toThrow(RangeError);
  });
});

describe("async-channel: receive waits while the channel is empty", () => {
  it("makes a receive wait until a value is sent, then hands that value over", async () => {
    const channel = new Channel<string>(4);

    const received = watch(channel.receive());
    await flush();
    expect(received.settled, "nothing to take yet").toBe(false);

    await channel.send("late value");
    await flush();
    expect(received.value).toBe("late value");
    expect(channel.size, "a value handed to a waiting receiver never sits in the buffer").toBe(0);
  });
});

describe("async-channel: close ends consumers after draining", () => {
  it("delivers the values buffered before close, then ends every consumer's for-await loop", async () => {
    const channel = new Channel<number>(5);
    await channel.send(1);
    await channel.send(2);
    await channel.send(3);

    channel.close();

    expect(await collect(channel), "close means no more values, not drop the ones already accepted").toEqual([1, 2, 3]);
  });

  it("releases consumers already waiting on an empty channel when it closes", async () => {
    const channel = new Channel<number>(1);
    const consumers = [collect(channel), collect(channel)];
    await flush();

    channel.close();

    expect(await Promise.all(consumers), "a worker loop blocked in receive must end, or shutdown hangs").toEqual([
      [],
      [],
    ]);
  });

  it("rejects a send after close with ChannelClosedError, and a receive once the channel is closed and empty", async () => {
    const channel = new Channel<number>(1);
    channel.close();
    channel.close(); // closing twice is harmless

    const sendError = await channel.send(1).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(sendError, "a value sent after close would be lost silently").toBeInstanceOf(ChannelClosedError);
    expect((sendError as ChannelClosedError).code).toBe("ERR_CHANNEL_CLOSED");
    expect((sendError as ChannelClosedError).name, "the name is what a log line shows").toBe("ChannelClosedError");
    await expect(channel.receive()).rejects.toBeInstanceOf(ChannelClosedError);
    expect(channel.closed).toBe(true);
  });

  it("refuses the senders still waiting on a full channel when it closes, and keeps the buffered values", async () => {
    const channel = new Channel<string>(1);
    await channel.send("buffered");
    const waiting = channel.send("never accepted");

    channel.close();

    await expect(waiting, "the waiting sender learns its value was not accepted").rejects.toBeInstanceOf(
      ChannelClosedError,
    );
    expect(await collect(channel)).toEqual(["buffered"]);
  });
});

describe("async-channel: waiting senders and receivers are served in arrival order", () => {
  it("serves waiting receivers first come, first served", async () => {
    const channel = new Channel<string>(2);
    const order: string[] = [];
    const receivers = ["r1", "r2", "r3"].map((name) =>
      channel.receive().then((value) => order.push(`${name}=${value}`)),
    );
    await flush();

    for (const value of ["a", "b", "c"]) await channel.send(value);
    await Promise.all(receivers);

    expect(order, "a receiver that waited longest gets the next value; starving one consumer is a bug").toEqual([
      "r1=a",
      "r2=b",
      "r3=c",
    ]);
  });

  it("accepts waiting senders in the order they arrived, so values come out in send order", async () => {
    const channel = new Channel<string>(1);
    const completed: string[] = [];
    const senders = ["s0", "s1", "s2", "s3"].map((value) => channel.send(value).then(() => completed.push(value)));
    await flush();

    const received: string[] = [];
    for (let i = 0; i < 4; i++) received.push(await channel.receive());
    await Promise.all(senders);

    expect(received, "values leave in the order they were sent").toEqual(["s0", "s1", "s2", "s3"]);
    expect(completed, "and the senders are released in that order").toEqual(["s0", "s1", "s2", "s3"]);
  });

  it("gives every value to exactly one of several concurrent consumers", async () => {
    const channel = new Channel<number>(2);
    const consumers = [collect(channel), collect(channel), collect(channel)];
    for (let i = 0; i < 30; i++) await channel.send(i);
    channel.close();

    const all = (await Promise.all(consumers)).flat().sort((a, b) => a - b);

    expect(all, "no value lost, none delivered twice").toEqual(Array.from({ length: 30 }, (_, i) => i));
  });
});

describe("async-channel: a waiting send or receive can be cancelled", () => {
  it("rejects an aborted receive with the reason, and the next value goes to the next receiver", async () => {
    const channel = new Channel<string>(1);
    const controller = new AbortController();
    const cancelled = channel.receive({ signal: controller.signal });
    const patient = channel.receive();
    const reason = new Error("consumer timed out");

    controller.abort(reason);
    await expect(cancelled).rejects.toBe(reason);
    await channel.send("value");
    const served = watch(patient);
    await flush();

    expect(
      served.settled,
      "the value went to the cancelled receiver, which still held its place in line: remove it on abort",
    ).toBe(true);
    expect(served.value, "the cancelled receiver's place in line is gone; the value is not lost with it").toBe("value");
  });

  it("rejects an aborted send with the reason, and its value is never delivered", async () => {
    const channel = new Channel<string>(1);
    await channel.send("first");
    const controller = new AbortController();
    const cancelled = channel.send("withdrawn", { signal: controller.signal });
    const kept = channel.send("kept");

    controller.abort(new Error("producer gave up"));
    await expect(cancelled).rejects.toThrow("producer gave up");

    expect(await channel.receive()).toBe("first");
    expect(
      await channel.receive(),
      "a withdrawn value must not reach a consumer; the next sender in line moves up",
    ).toBe("kept");
    await kept;
    expect(channel.size).toBe(0);
  });

  it("rejects a send with an already-aborted signal at once, even with room in the buffer, and buffers nothing", async () => {
    const channel = new Channel<string>(2);
    const reason = new Error("already cancelled");

    await expect(channel.send("cancelled", { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);

    expect(channel.size, "a cancelled send must not deliver its value").toBe(0);
    await channel.send("next");
    expect(await channel.receive()).toBe("next");
  });

  it("rejects at once with an already-aborted signal, even when a value is ready, and leaves no listener behind after serving", async () => {
    const channel = new Channel<number>(2);
    await channel.send(1);
    const reason = new Error("already cancelled");

    await expect(channel.receive({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(channel.size, "the aborted receive took nothing").toBe(1);

    const controller = new AbortController();
    expect(await channel.receive({ signal: controller.signal })).toBe(1);
    const waiting = channel.receive({ signal: controller.signal });
    await channel.send(2);
    await waiting;
    expect(getEventListeners(controller.signal, "abort"), "a served waiter detaches from its signal").toHaveLength(0);
  });
});
