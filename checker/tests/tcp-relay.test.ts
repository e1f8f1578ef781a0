import { once } from "node:events";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { tcpRelay, type TcpRelay } from "../fixtures/tcp-relay.ts";

// The relay week 9 puts between a client and RabbitMQ, tested against a local echo server.

const opened: { close(): unknown }[] = [];
afterEach(async () => {
  for (const thing of opened.splice(0).reverse()) await thing.close();
});

async function echoServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    socket.pipe(socket);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function relayed(): Promise<TcpRelay> {
  const echo = await echoServer();
  opened.push(echo);
  const relay = await tcpRelay({ host: "127.0.0.1", port: echo.port });
  opened.push(relay);
  return relay;
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => resolve(socket));
    socket.once("error", reject);
    opened.push({ close: () => socket.destroy() });
  });
}

async function roundTrip(socket: net.Socket, text: string): Promise<string> {
  let got = "";
  socket.write(text);
  while (got.length < text.length) got += String((await once(socket, "data"))[0]);
  return got;
}

describe("tcpRelay", () => {
  it("relays bytes both ways and counts the connections", async () => {
    const relay = await relayed();
    const socket = await connect(relay.port);
    expect(await roundTrip(socket, "hello")).toBe("hello");
    await relay.waitForAccepted(1);
    expect(relay.open).toBe(1);
  });

  it("rewrites a URL to point at the relay, keeping credentials and path", async () => {
    const relay = await relayed();
    expect(relay.url("amqp://guest:guest@10.0.0.1:5672/vhost?x=1")).toBe(
      `amqp://guest:guest@127.0.0.1:${relay.port}/vhost?x=1`,
    );
    await expect(tcpRelay("http://example.org")).rejects.toThrow(/without a port/);
  });

  it("cut() resets the open connections, refuses new ones while told to, and restore() lets them in", async () => {
    const relay = await relayed();
    const socket = await connect(relay.port);
    await roundTrip(socket, "x");
    // events.once would reject on the reset's 'error': wait for 'close' alone.
    const closed = new Promise((resolve) => socket.once("close", resolve));
    socket.on("error", () => {});
    relay.cut({ refuseMs: Infinity });
    await closed;
    const refusedSocket = net.connect(relay.port, "127.0.0.1");
    refusedSocket.on("error", () => {});
    opened.push({ close: () => refusedSocket.destroy() });
    await relay.waitForRefused(1);
    relay.restore();
    const again = await connect(relay.port);
    expect(await roundTrip(again, "back")).toBe("back");
  });

  it("delay() holds chunks without reordering them", async () => {
    const relay = await relayed();
    const fast = await connect(relay.port);
    const started = performance.now();
    await roundTrip(fast, "a");
    const direct = performance.now() - started;
    relay.delay(150);
    const slow = performance.now();
    expect(await roundTrip(fast, "1234567890")).toBe("1234567890");
    // Two delayed hops (there and back) against one undelayed round trip of the same run.
    expect(performance.now() - slow).toBeGreaterThan(direct + 150);
  });
});
