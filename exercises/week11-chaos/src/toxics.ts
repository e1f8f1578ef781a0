/**
 * The fault proxy's vocabulary, after Toxiproxy's toxic catalogue. Shared by the fault-proxy
 * kata (which implements it) and the resilient-service kata (whose chaos experiment uses it).
 *
 * `upstream` is the client-to-server direction (what the client sends), `downstream` the
 * server-to-client direction (what comes back).
 */
export type Direction = "upstream" | "downstream";

export interface ToxicCommon {
  /** Unique within a proxy; defaults to `${type}_${stream}`. */
  readonly name?: string;
  /** Which direction of each connection the toxic acts on. */
  readonly stream: Direction;
  /**
   * Probability, in [0, 1], that the toxic applies to a given connection (default 1). Drawn
   * once per connection and toxic, from the proxy's `random`, so a seed makes it repeatable.
   */
  readonly toxicity?: number;
}

/** Delays every chunk by latencyMs ± jitterMs (uniform), counted from when the proxy read it. */
export interface LatencyToxic extends ToxicCommon {
  readonly type: "latency";
  readonly latencyMs: number;
  /** At most latencyMs. Default 0. */
  readonly jitterMs?: number;
}

/** Lets at most `bytesPerSecond` through, trickling large chunks instead of bursting them. */
export interface BandwidthToxic extends ToxicCommon {
  readonly type: "bandwidth";
  readonly bytesPerSecond: number;
}

/** Cuts every chunk into slices of averageSize ± sizeVariation bytes, `delayMs` apart. */
export interface SlicerToxic extends ToxicCommon {
  readonly type: "slicer";
  readonly averageSize: number;
  /** Less than averageSize. Default 0. */
  readonly sizeVariation?: number;
  /** Pause between two slices. Default 0. */
  readonly delayMs?: number;
}

/**
 * A black hole: data in this direction is dropped (never delivered, never buffered). After
 * `timeoutMs` the connection is closed; with 0 it stays open, silent, until the toxic goes.
 */
export interface TimeoutToxic extends ToxicCommon {
  readonly type: "timeout";
  readonly timeoutMs: number;
}

/**
 * "Connection reset by peer": `timeoutMs` (default 0) after the toxic meets a connection
 * (when either of them appeared), both of its sockets are reset (TCP RST), so the client
 * sees ECONNRESET rather than a clean end. New connections are reset the same way. With 0
 * the reset is immediate: not even a reply already on its way gets through.
 */
export interface ResetPeerToxic extends ToxicCommon {
  readonly type: "reset_peer";
  readonly timeoutMs?: number;
}

export type ToxicSpec = LatencyToxic | BandwidthToxic | SlicerToxic | TimeoutToxic | ResetPeerToxic;

/** A toxic as the proxy holds it: its spec with the name filled in. */
export type Toxic = ToxicSpec & { readonly name: string };

/** One chunk the proxy read, as the `onData` tap sees it (before any toxic). */
export interface DataEvent {
  /** 1, 2, 3... in the order the proxy accepted the connections. */
  readonly connectionId: number;
  readonly direction: Direction;
  readonly chunk: Buffer;
}

export interface FaultProxyOptions {
  /** The real service behind the proxy. */
  readonly upstream: { readonly host: string; readonly port: number };
  /** Where the proxy listens; default 127.0.0.1 on an ephemeral port. */
  readonly listen?: { readonly host?: string; readonly port?: number };
  /** Randomness for jitter, slice sizes and toxicity, in [0, 1). Default Math.random. */
  readonly random?: () => number;
  /**
   * Most bytes the proxy holds for one direction of one connection before it stops reading
   * from that side (default 64 KiB). This is what keeps a slow reader from growing the heap.
   */
  readonly highWaterMark?: number;
  /** Called with every chunk the proxy reads, in order; the tests count requests with it. */
  readonly onData?: (event: DataEvent) => void;
}

export interface ProxyStats {
  /** Connections accepted since the start. */
  readonly connectionsAccepted: number;
  /** Connections whose sockets are not both closed yet. */
  readonly activeConnections: number;
  /**
   * Bytes the proxy holds right now: read from one side and not yet handed to the other
   * side's socket, plus what those sockets have not yet passed to the kernel (writableLength).
   */
  readonly bufferedBytes: number;
  /** The largest `bufferedBytes` seen since the start. */
  readonly peakBufferedBytes: number;
}

export interface FaultProxy {
  readonly host: string;
  readonly port: number;
  /** `${scheme}://host:port`, for a client's connection string. */
  url(scheme: string): string;
  /**
   * Adds a toxic at run time, to connections already open and to new ones. Returns its name.
   * Throws RangeError for a value out of range and Error when the name is taken.
   */
  addToxic(spec: ToxicSpec): string;
  /** Removes a toxic at run time; data flows normally again. False when there was none of that name. */
  removeToxic(name: string): boolean;
  /** Removes every toxic. */
  removeAllToxics(): void;
  /** The toxics in force, in the order they were added. */
  toxics(): Toxic[];
  stats(): ProxyStats;
  /** Stops listening and destroys every connection and timer; resolves when all sockets are closed. */
  close(): Promise<void>;
}
