import net from "node:net";
import type { DataEvent, Direction, FaultProxy, FaultProxyOptions, ProxyStats, Toxic, ToxicSpec } from "./toxics";

export type { FaultProxy, FaultProxyOptions, ProxyStats, Toxic, ToxicSpec } from "./toxics";

const DEFAULT_HIGH_WATER_MARK = 64 * 1024;
/** A throttled chunk is cut into pieces worth this long, so data trickles instead of bursting. */
const BANDWIDTH_PIECE_MS = 50;

/** Checks `owner[field]`, when it is set, against [min, max]. */
function requireInRange<T extends object>(owner: T, field: keyof T & string, min: number, max = Infinity): void {
  const value = owner[field];
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw new RangeError(`${field} must be a number in [${min}, ${max}] (got ${String(value)})`);
  }
}

function validate(spec: ToxicSpec): void {
  if (spec.stream !== "upstream" && spec.stream !== "downstream") {
    throw new RangeError(`stream must be upstream or downstream`);
  }
  requireInRange(spec, "toxicity", 0, 1);
  switch (spec.type) {
    case "latency":
      requireInRange(spec, "latencyMs", 0);
      requireInRange(spec, "jitterMs", 0, spec.latencyMs);
      return;
    case "bandwidth":
      requireInRange(spec, "bytesPerSecond", 1);
      return;
    case "slicer":
      requireInRange(spec, "averageSize", 1);
      requireInRange(spec, "sizeVariation", 0, spec.averageSize - 1);
      requireInRange(spec, "delayMs", 0);
      return;
    case "timeout":
    case "reset_peer":
      requireInRange(spec, "timeoutMs", 0);
      return;
    default:
      throw new RangeError(`unknown toxic type ${(spec as { type: string }).type}`);
  }
}

/** Everything one accepted connection owns: two sockets, its timers, and its dice rolls. */
class Connection {
  closed = false;
  /** Toxic name -> whether the toxic applies to this connection (rolled once). */
  readonly affected = new Map<string, boolean>();
  /** Toxic name -> its timer on this connection (timeout and reset_peer close it when due). */
  readonly toxicTimers = new Map<string, NodeJS.Timeout>();
  /** Wake-ups of pending sleeps and drain waits, so closing never leaves a timer or a hung pump. */
  readonly waiters = new Set<() => void>();
  readonly links: Link[] = [];

  constructor(
    readonly id: number,
    readonly client: net.Socket,
    readonly server: net.Socket,
    private readonly onClosed: () => void,
  ) {}

  sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.waiters.add(wake);
    });
  }

  drained(socket: net.Socket): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        socket.off("drain", wake);
        this.waiters.delete(wake);
        resolve();
      };
      socket.on("drain", wake);
      this.waiters.add(wake);
    });
  }

  /** Tears both sockets down; `reset` sends RST instead of a FIN, as a crashed peer would. */
  destroy(reset = false): void {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.toxicTimers.values()) clearTimeout(timer);
    this.toxicTimers.clear();
    for (const wake of [...this.waiters]) wake();
    for (const socket of [this.client, this.server]) {
      if (reset && !socket.destroyed && !socket.connecting) socket.resetAndDestroy();
      else socket.destroy();
    }
    this.onClosed();
  }
}

/** One direction of a connection: a bounded queue between a source socket and a destination socket. */
class Link {
  readonly #queue: { chunk: Buffer; at: number }[] = [];
  #queued = 0;
  #pumping = false;
  #ended = false;
  #bandwidthFreeAt = 0;

  constructor(
    readonly direction: Direction,
    private readonly source: net.Socket,
    private readonly dest: net.Socket,
    private readonly conn: Connection,
    private readonly proxy: ProxyCore,
  ) {}

  /** What this link holds: its queue plus what the destination socket has not flushed yet. */
  get buffered(): number {
    return this.#queued + this.dest.writableLength;
  }

  push(chunk: Buffer): void {
    this.proxy.options.onData?.({ connectionId: this.conn.id, direction: this.direction, chunk } satisfies DataEvent);
    this.#queue.push({ chunk, at: performance.now() });
    this.#queued += chunk.length;
    // Stop reading before the queue passes its bound; TCP flow control then holds the sender.
    if (this.#queued >= this.proxy.highWaterMark) this.source.pause();
    this.proxy.notePeak();
    void this.#pump();
  }

  end(): void {
    this.#ended = true;
    void this.#pump();
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#queue.length > 0 && !this.conn.closed) {
        const item = this.#queue[0]!;
        await this.#deliver(item.chunk, item.at);
        this.#queue.shift();
        this.#queued -= item.chunk.length;
        // Resuming a socket that reads already does nothing.
        if (this.#queued < this.proxy.highWaterMark && !this.conn.closed) this.source.resume();
      }
      // The queue is empty here unless the connection closed.
      if (this.#ended && !this.conn.closed) this.dest.end();
    } finally {
      this.#pumping = false;
    }
  }

  async #deliver(chunk: Buffer, readAt: number): Promise<void> {
    const toxics = this.proxy.toxicsFor(this.conn, this.direction);
    // A black hole swallows the data: it is neither delivered nor kept.
    if (toxics.some((t) => t.type === "timeout")) return;
    const random = this.proxy.random;
    let latency = 0;
    for (const t of toxics) if (t.type === "latency") latency += t.latencyMs + (t.jitterMs ?? 0) * (2 * random() - 1);
    // Counted from when the chunk was read, so back-to-back chunks are delayed, not queued up.
    await this.conn.sleep(readAt + latency - performance.now());

    let pieces = [chunk];
    let sliceDelay = 0;
    for (const t of toxics) {
      if (t.type !== "slicer") continue;
      pieces = pieces.flatMap((piece) => slice(piece, t.averageSize, t.sizeVariation ?? 0, random));
      sliceDelay = Math.max(sliceDelay, t.delayMs ?? 0);
    }
    const rates = toxics.flatMap((t) => (t.type === "bandwidth" ? [t.bytesPerSecond] : []));
    const rate = rates.length > 0 ? Math.min(...rates) : 0;
    if (rate > 0) {
      const size = Math.max(1, Math.floor((rate * BANDWIDTH_PIECE_MS) / 1000));
      pieces = pieces.flatMap((piece) => slice(piece, size, 0, random));
    }

    for (let i = 0; i < pieces.length && !this.conn.closed; i++) {
      const piece = pieces[i]!;
      if (i > 0) await this.conn.sleep(sliceDelay);
      if (rate > 0) {
        const now = performance.now();
        this.#bandwidthFreeAt = Math.max(now, this.#bandwidthFreeAt) + (piece.length * 1000) / rate;
        await this.conn.sleep(this.#bandwidthFreeAt - now);
      }
      if (this.conn.closed) return;
      const flushed = this.dest.write(piece);
      this.proxy.notePeak();
      if (!flushed) await this.conn.drained(this.dest);
    }
  }
}

function slice(chunk: Buffer, average: number, variation: number, random: () => number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < chunk.length;) {
    const size = Math.max(1, Math.round(average + variation * (2 * random() - 1)));
    pieces.push(chunk.subarray(offset, offset + size));
    offset += size;
  }
  return pieces;
}

/** The proxy's state shared by its connections: the toxics and the counters. */
class ProxyCore {
  readonly toxics: Toxic[] = [];
  readonly connections = new Set<Connection>();
  readonly random: () => number;
  readonly highWaterMark: number;
  accepted = 0;
  peak = 0;

  constructor(readonly options: FaultProxyOptions) {
    this.random = options.random ?? Math.random;
    this.highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    requireInRange(options, "highWaterMark", 1);
  }

  buffered(): number {
    let total = 0;
    for (const conn of this.connections) for (const link of conn.links) total += link.buffered;
    return total;
  }

  notePeak(): void {
    this.peak = Math.max(this.peak, this.buffered());
  }

  toxicsFor(conn: Connection, direction: Direction): Toxic[] {
    return this.toxics.filter((t) => t.stream === direction && conn.affected.get(t.name) === true);
  }

  /** A toxic and a connection meet (either is new): roll its toxicity once, start its timer. */
  meet(conn: Connection, toxic: Toxic): void {
    // random() is in [0, 1): toxicity 1 always applies, 0 never does.
    const applies = this.random() < (toxic.toxicity ?? 1);
    conn.affected.set(toxic.name, applies);
    if (!applies || (toxic.type !== "timeout" && toxic.type !== "reset_peer")) return;
    if (toxic.type === "timeout" && toxic.timeoutMs === 0) return; // silent until removed
    const reset = toxic.type === "reset_peer";
    const delay = toxic.timeoutMs ?? 0;
    // At once means at once: a timer, even of 0 ms, lets a fast upstream answer first.
    if (delay === 0) conn.destroy(reset);
    else
      conn.toxicTimers.set(
        toxic.name,
        setTimeout(() => conn.destroy(reset), delay),
      );
  }

  forget(conn: Connection, name: string): void {
    conn.affected.delete(name);
    clearTimeout(conn.toxicTimers.get(name));
    conn.toxicTimers.delete(name);
  }
}

/** Starts a TCP proxy in front of `options.upstream` whose faults can be changed at run time. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const core = new ProxyCore(options);
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  };

  // Half-open: a peer that has finished sending may still be waiting for the answer.
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const upstream = net.connect({ host: options.upstream.host, port: options.upstream.port, allowHalfOpen: true });
    track(client);
    track(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const conn = new Connection(++core.accepted, client, upstream, () => core.connections.delete(conn));
    core.connections.add(conn);
    const up = new Link("upstream", client, upstream, conn, core);
    const down = new Link("downstream", upstream, client, conn, core);
    conn.links.push(up, down);
    for (const toxic of core.toxics) core.meet(conn, toxic);

    client.on("data", (chunk: Buffer) => up.push(chunk));
    upstream.on("data", (chunk: Buffer) => down.push(chunk));
    client.on("end", () => up.end());
    upstream.on("end", () => down.end());
    // A client gone or broken leaves nothing to deliver to; an upstream that breaks is passed
    // on as a reset, which is what the client would have seen without the proxy.
    client.on("error", () => conn.destroy());
    upstream.on("error", () => conn.destroy(true));
    client.on("close", () => conn.destroy());
    upstream.on("close", () => {
      if (client.writableEnded || client.destroyed) conn.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.listen?.port ?? 0, options.listen?.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as net.AddressInfo;
  let closing: Promise<void> | undefined;

  const removeToxic = (name: string): boolean => {
    const index = core.toxics.findIndex((t) => t.name === name);
    if (index < 0) return false;
    core.toxics.splice(index, 1);
    for (const conn of core.connections) core.forget(conn, name);
    return true;
  };

  return {
    host: address.address,
    port: address.port,
    url: (scheme) => `${scheme}://${address.address}:${address.port}`,
    addToxic(spec) {
      validate(spec);
      const name = spec.name ?? `${spec.type}_${spec.stream}`;
      if (core.toxics.some((t) => t.name === name)) throw new Error(`a toxic named ${name} exists already`);
      const toxic = { ...spec, name } as Toxic;
      core.toxics.push(toxic);
      for (const conn of core.connections) core.meet(conn, toxic);
      return name;
    },
    removeToxic,
    removeAllToxics() {
      for (const toxic of [...core.toxics]) removeToxic(toxic.name);
    },
    toxics: () => core.toxics.map((t) => ({ ...t })),
    stats: (): ProxyStats => {
      core.notePeak();
      return {
        connectionsAccepted: core.accepted,
        activeConnections: core.connections.size,
        bufferedBytes: core.buffered(),
        peakBufferedBytes: core.peak,
      };
    },
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const conn of [...core.connections]) conn.destroy();
        for (const socket of sockets) socket.destroy();
        // The set holds the sockets whose 'close' has not come yet (`closed` turns true earlier,
        // while the handle is still open).
        await Promise.all([...sockets].map((s) => new Promise((r) => s.once("close", r))));
        await stopped;
      })();
      return closing;
    },
  };
}
