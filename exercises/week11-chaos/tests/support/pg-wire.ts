/**
 * Counts what a Postgres client sends through the fault proxy (its onData tap): the queries
 * (simple 'Q' and extended-protocol 'E' messages) and the connections. That is how the tests
 * see, from outside the service, how hard it leans on a failing database.
 */
import type { DataEvent } from "../../src/toxics";

const SSL_REQUEST = 80877103;
const GSS_REQUEST = 80877104;
const QUERY = 0x51; // 'Q'
const EXECUTE = 0x45; // 'E'

interface Stream {
  pending: Buffer;
  started: boolean;
  queries: number;
}

export interface PostgresTraffic {
  readonly onData: (event: DataEvent) => void;
  /** Queries sent so far. */
  queries(): number;
  /**
   * Attempts that reached the proxy, given its connectionsAccepted: every query, plus every
   * connection that sent none (one reset before it could ask anything was still an attempt).
   */
  attempts(connectionsAccepted: number): number;
}

export function postgresTraffic(): PostgresTraffic {
  const streams = new Map<number, Stream>();
  const parse = (stream: Stream) => {
    for (;;) {
      const buffer = stream.pending;
      if (!stream.started) {
        if (buffer.length < 8) return;
        const length = buffer.readInt32BE(0);
        const code = buffer.readInt32BE(4);
        if (buffer.length < length) return;
        stream.pending = buffer.subarray(length);
        if (code !== SSL_REQUEST && code !== GSS_REQUEST) stream.started = true;
        continue;
      }
      if (buffer.length < 5) return;
      const total = 1 + buffer.readInt32BE(1);
      if (buffer.length < total) return;
      if (buffer[0] === QUERY || buffer[0] === EXECUTE) stream.queries++;
      stream.pending = buffer.subarray(total);
    }
  };
  return {
    onData: (event) => {
      if (event.direction !== "upstream") return;
      let stream = streams.get(event.connectionId);
      if (!stream) streams.set(event.connectionId, (stream = { pending: Buffer.alloc(0), started: false, queries: 0 }));
      stream.pending = Buffer.concat([stream.pending, event.chunk]);
      parse(stream);
    },
    queries: () => [...streams.values()].reduce((sum, s) => sum + s.queries, 0),
    attempts: (accepted) => {
      const asking = [...streams.values()].filter((s) => s.queries > 0);
      return asking.reduce((sum, s) => sum + s.queries, 0) + accepted - asking.length;
    },
  };
}
