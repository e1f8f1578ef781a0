/**
 * A writer that never stops and a reader that does not read: the setup that shows whether
 * something in between buffers without bound. Every byte at position p is p % 251, so the
 * reader can check that nothing was lost, duplicated or reordered on the way.
 */
import { once } from "node:events";
import net from "node:net";

const MODULUS = 251;
/** 256 periods of the pattern: every chunk starts where the previous one ended. */
const CHUNK = Buffer.from(Array.from({ length: MODULUS * 256 }, (_, i) => i % MODULUS));

export interface Flood {
  readonly port: number;
  /** Bytes the writer has handed to the kernel so far (written minus what Node still holds). */
  sent(): number;
  /** True once the writer has written all `total` bytes. */
  finished(): boolean;
  close(): Promise<void>;
}

/** A server that writes `total` bytes to each connection as fast as its own backpressure allows. */
export async function startFlood(total: number): Promise<Flood> {
  const sockets = new Set<net.Socket>();
  let written = 0;
  let current: net.Socket | undefined;
  let done = false;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    current = socket;
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    const pump = () => {
      while (written < total && !socket.destroyed) {
        const piece = total - written >= CHUNK.length ? CHUNK : CHUNK.subarray(0, total - written);
        written += piece.length;
        if (!socket.write(piece)) {
          socket.once("drain", pump);
          return;
        }
      }
      if (written >= total) {
        done = true;
        socket.end();
      }
    };
    pump();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as net.AddressInfo).port,
    sent: () => written - (current?.writableLength ?? 0),
    finished: () => done,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A client that connects and reads nothing until `drain()` is called, then checks every byte. */
export async function slowReader(port: number): Promise<{ socket: net.Socket; drain(total: number): Promise<number> }> {
  const socket = net.connect({ host: "127.0.0.1", port });
  socket.pause();
  socket.on("error", () => {});
  await once(socket, "connect");
  return {
    socket,
    drain: (total) =>
      new Promise<number>((resolve, reject) => {
        let position = 0;
        let wrongAt = -1;
        socket.on("data", (chunk: Buffer) => {
          for (let i = 0; i < chunk.length && wrongAt < 0; i++) {
            if (chunk[i] !== (position + i) % MODULUS) wrongAt = position + i;
          }
          position += chunk.length;
          if (position >= total) socket.destroy();
        });
        socket.on("close", () => {
          if (wrongAt < 0) resolve(position);
          else reject(new Error(`byte ${wrongAt} arrived wrong: data was lost, duplicated or reordered`));
        });
        socket.resume();
      }),
  };
}

/**
 * Waits until `value()` has not changed for `quietMs` (the writer is stuck on backpressure), or
 * until `stop()` is true, or `timeoutMs` passed. Returns the last value.
 */
export async function whenSettled(
  value: () => number,
  stop: () => boolean,
  quietMs = 300,
  timeoutMs = 10_000,
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  let last = value();
  let since = performance.now();
  while (!stop() && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const now = value();
    if (now !== last) {
      last = now;
      since = performance.now();
    } else if (performance.now() - since >= quietMs) {
      break;
    }
  }
  return value();
}
