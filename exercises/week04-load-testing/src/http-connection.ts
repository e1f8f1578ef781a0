/**
 * Given, not a kata: one keep-alive HTTP/1.1 client connection on a raw TCP socket, the way
 * autocannon and wrk talk to a server. Node's `http` client works too, but it builds a stream,
 * a message object and an event per response; a load generator that spends its CPU on that
 * measures itself instead of the server. Read it, use it from your generators, don't change it.
 *
 * One request at a time (no pipelining). It connects on the first request and again after the
 * server closes the connection. It parses only what framing needs: the status line and the
 * Content-Length, Transfer-Encoding and Connection headers (RFC 9112 section 6).
 */
import net from "node:net";

/** Where a connection goes. */
export interface HttpTarget {
  host: string;
  port: number;
}

/** The request, serialized once and written as is for every request. */
export interface RequestSpec {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

/** A response that broke HTTP/1.1 framing, or a request the connection cannot carry. */
export class HttpProtocolError extends Error {
  readonly code = "ERR_HTTP_PROTOCOL";
  constructor(message: string) {
    super(message);
    this.name = "HttpProtocolError";
  }
}

/** No complete response within the request's timeout; the connection was closed. */
export class RequestTimeoutError extends Error {
  readonly code = "ETIMEDOUT";
  constructor(readonly timeoutMs: number) {
    super(`no response within ${timeoutMs} ms`);
    this.name = "RequestTimeoutError";
  }
}

/** The connection closed (or was destroyed) before the response was complete. */
export class ConnectionClosedError extends Error {
  readonly code = "ERR_CONNECTION_CLOSED";
  constructor(message = "the connection closed before the response was complete") {
    super(message);
    this.name = "ConnectionClosedError";
  }
}

/** Reads host and port from an http:// URL; throws TypeError for anything else. */
export function targetOf(url: string | URL): HttpTarget {
  const parsed = new URL(url);
  if (parsed.protocol !== "http:") throw new TypeError(`only http:// targets are supported, got ${parsed.protocol}`);
  // URL keeps the brackets of an IPv6 literal; net.connect wants the bare address.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  return { host, port: parsed.port === "" ? 80 : Number(parsed.port) };
}

/** Serializes one HTTP/1.1 request for `url`, ready to be written again and again. */
export function serializeRequest(url: string | URL, spec: RequestSpec = {}): Buffer {
  const parsed = new URL(url);
  const method = (spec.method ?? "GET").toUpperCase();
  if (!/^[!#$%&'*+.^_`|~0-9A-Z-]+$/.test(method)) throw new TypeError(`invalid method ${method}`);
  const body =
    spec.body === undefined
      ? undefined
      : typeof spec.body === "string"
        ? Buffer.from(spec.body)
        : Buffer.from(spec.body);
  const lines = [`${method} ${parsed.pathname}${parsed.search} HTTP/1.1`, `host: ${parsed.host}`];
  for (const [name, value] of Object.entries(spec.headers ?? {})) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value))
      throw new TypeError(`header ${JSON.stringify(name)} contains a line break`);
    const lower = name.toLowerCase();
    // Framing is ours to decide: a caller's own Content-Length could desynchronize the stream.
    if (lower === "host" || lower === "content-length" || lower === "transfer-encoding" || lower === "connection")
      continue;
    lines.push(`${name}: ${value}`);
  }
  if (body !== undefined || method === "POST" || method === "PUT" || method === "PATCH") {
    lines.push(`content-length: ${body?.length ?? 0}`);
  }
  const head = Buffer.from(lines.join("\r\n") + "\r\n\r\n", "latin1");
  return body === undefined ? head : Buffer.concat([head, body]);
}

const CR = 13;
const LF = 10;
const MAX_HEAD_BYTES = 64 * 1024;
const MAX_CHUNK_LINE_BYTES = 4 * 1024;

type BodyMode = "none" | "length" | "chunked" | "until-close";
type Phase = "head" | "body" | "chunk-size" | "chunk-data" | "chunk-data-end" | "trailers" | "done";

/** Per-request settings. */
export interface RequestOptions {
  /** A HEAD request: the response has no body, whatever its headers say. */
  head?: boolean;
  /** Reject with RequestTimeoutError (and close the socket) when no response completes in time. */
  timeoutMs?: number;
}

interface Pending {
  resolve(status: number): void;
  reject(error: Error): void;
  head: boolean;
}

/** One keep-alive HTTP/1.1 connection that carries one request at a time. */
export class HttpConnection {
  /** How many TCP connections this object has opened so far (1 unless the server closed one). */
  connects = 0;

  readonly #target: HttpTarget;
  #socket: net.Socket | undefined;
  #pending: Pending | undefined;
  // One timer per connection, refreshed per request: creating and clearing a timer for every
  // request costs more than the request itself at tens of thousands of requests per second.
  #timer: NodeJS.Timeout | undefined;
  #timerMs = 0;
  #timedRequest: Pending | undefined;

  // Parser state for the response in progress.
  #phase: Phase = "done";
  #buffered: Buffer | undefined;
  #status = 0;
  #bodyMode: BodyMode = "none";
  #remaining = 0;
  #keepAlive = true;

  constructor(target: HttpTarget) {
    this.#target = target;
  }

  /** True while a request is waiting for its response. */
  get busy(): boolean {
    return this.#pending !== undefined;
  }

  /**
   * Writes `request` (from serializeRequest) and resolves with the response status once the
   * whole response has arrived. Rejects with the socket's error (its `code`, e.g. ECONNREFUSED),
   * RequestTimeoutError, HttpProtocolError or ConnectionClosedError; the next request then
   * opens a new connection.
   */
  request(request: Uint8Array, options: RequestOptions = {}): Promise<number> {
    if (this.#pending)
      return Promise.reject(new HttpProtocolError("one request at a time: the previous response is not complete"));
    const socket = this.#socket ?? this.#connect();
    return new Promise<number>((resolve, reject) => {
      const pending: Pending = { resolve, reject, head: options.head ?? false };
      this.#pending = pending;
      this.#startResponse();
      if (options.timeoutMs !== undefined) this.#armTimer(pending, options.timeoutMs);
      else this.#timedRequest = undefined;
      socket.write(request);
    });
  }

  /** Closes the socket now; a request in flight rejects with `error` (ConnectionClosedError by default). */
  destroy(error: Error = new ConnectionClosedError("the connection was destroyed")): void {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#fail(error);
    socket?.destroy();
  }

  /** Destroys the socket, stops the timer, and resolves once the socket has closed. */
  async close(): Promise<void> {
    const socket = this.#socket;
    this.destroy();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (socket && !socket.closed) await new Promise<void>((resolve) => socket.once("close", () => resolve()));
  }

  #armTimer(pending: Pending, timeoutMs: number): void {
    this.#timedRequest = pending;
    if (this.#timer && this.#timerMs === timeoutMs) {
      this.#timer.refresh();
      return;
    }
    clearTimeout(this.#timer);
    this.#timerMs = timeoutMs;
    this.#timer = setTimeout(() => {
      // The timer outlives requests (it is refreshed, not recreated): it may only end the
      // request it was last armed for, and only while that request is still waiting.
      const timed = this.#timedRequest;
      if (timed !== undefined && timed === this.#pending) this.destroy(new RequestTimeoutError(this.#timerMs));
    }, timeoutMs);
    // The socket keeps the process alive while a request waits; the timer alone must not.
    this.#timer.unref();
  }

  #connect(): net.Socket {
    const socket = net.connect({ host: this.#target.host, port: this.#target.port, noDelay: true });
    this.connects++;
    this.#socket = socket;
    socket.on("data", (chunk: Buffer) => {
      if (this.#socket !== socket) return;
      try {
        this.#onData(chunk);
      } catch (error) {
        this.destroy(error as Error);
      }
    });
    socket.on("error", (error) => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      this.#fail(error);
    });
    socket.on("close", () => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      // A body without a length ends when the server closes: that is its successful end.
      if (this.#pending && this.#phase === "body" && this.#bodyMode === "until-close") this.#complete();
      else this.#fail(new ConnectionClosedError());
    });
    // A server that half-closes while we are idle is done with this connection: so are we.
    socket.on("end", () => {
      if (this.#socket === socket && !this.#pending) this.destroy();
    });
    return socket;
  }

  #startResponse(): void {
    this.#phase = "head";
    this.#buffered = undefined;
    this.#status = 0;
    this.#bodyMode = "none";
    this.#remaining = 0;
    this.#keepAlive = true;
  }

  #fail(error: Error): void {
    const pending = this.#pending;
    this.#pending = undefined;
    this.#phase = "done";
    this.#buffered = undefined;
    pending?.reject(error);
  }

  #complete(): void {
    const pending = this.#pending!;
    this.#pending = undefined;
    this.#phase = "done";
    this.#buffered = undefined;
    if (!this.#keepAlive) {
      const socket = this.#socket;
      this.#socket = undefined;
      socket?.destroy();
    }
    pending.resolve(this.#status);
  }

  #onData(chunk: Buffer): void {
    if (!this.#pending) throw new HttpProtocolError("the server sent bytes nobody asked for");
    const data = this.#buffered ? Buffer.concat([this.#buffered, chunk]) : chunk;
    this.#buffered = undefined;
    let offset = 0;
    while (offset < data.length) {
      const next = this.#step(data, offset);
      if (next < 0) {
        // Not enough bytes for the next token: keep the tail for the next chunk.
        this.#buffered = data.subarray(offset);
        if (this.#buffered.length > MAX_HEAD_BYTES) throw new HttpProtocolError("response head too long");
        return;
      }
      offset = next;
      if (this.#phase === "done") {
        this.#complete();
        if (offset < data.length) throw new HttpProtocolError("the server sent more bytes than the response framed");
        return;
      }
    }
  }

  /** Consumes one token starting at `offset`; returns the new offset, or -1 when more bytes are needed. */
  #step(data: Buffer, offset: number): number {
    switch (this.#phase) {
      case "head": {
        const end = data.indexOf("\r\n\r\n", offset, "latin1");
        if (end < 0) return -1;
        this.#parseHead(data.toString("latin1", offset, end));
        return end + 4;
      }
      case "body": {
        if (this.#bodyMode === "until-close") return data.length;
        const take = Math.min(this.#remaining, data.length - offset);
        this.#remaining -= take;
        if (this.#remaining === 0) this.#phase = "done";
        return offset + take;
      }
      case "chunk-size": {
        const end = data.indexOf(LF, offset);
        if (end < 0) {
          if (data.length - offset > MAX_CHUNK_LINE_BYTES) throw new HttpProtocolError("chunk size line too long");
          return -1;
        }
        const line = data.toString("latin1", offset, end > offset && data[end - 1] === CR ? end - 1 : end);
        const hex = line.split(";", 1)[0]!.trim();
        if (!/^[0-9a-fA-F]{1,13}$/.test(hex)) throw new HttpProtocolError(`bad chunk size ${JSON.stringify(hex)}`);
        this.#remaining = parseInt(hex, 16);
        this.#phase = this.#remaining === 0 ? "trailers" : "chunk-data";
        return end + 1;
      }
      case "chunk-data": {
        const take = Math.min(this.#remaining, data.length - offset);
        this.#remaining -= take;
        if (this.#remaining === 0) this.#phase = "chunk-data-end";
        return offset + take;
      }
      case "chunk-data-end": {
        if (data.length - offset < 2) return -1;
        if (data[offset] !== CR || data[offset + 1] !== LF)
          throw new HttpProtocolError("chunk data not followed by CRLF");
        this.#phase = "chunk-size";
        return offset + 2;
      }
      case "trailers": {
        // Trailer fields, then an empty line. Nothing in them matters to framing.
        const end = data.indexOf(LF, offset);
        if (end < 0) return -1;
        const empty = end === offset || (end === offset + 1 && data[offset] === CR);
        if (empty) this.#phase = "done";
        return end + 1;
      }
      default:
        throw new HttpProtocolError(`unexpected parser phase ${this.#phase}`);
    }
  }

  #parseHead(head: string): void {
    const lines = head.split("\r\n");
    const statusLine = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/.exec(lines[0]!);
    if (!statusLine) throw new HttpProtocolError(`bad status line ${JSON.stringify(lines[0]!.slice(0, 80))}`);
    const minor = statusLine[1];
    const status = Number(statusLine[2]);

    let contentLength: number | undefined;
    let chunked = false;
    let transferEncoding = false;
    let connection = "";
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(":");
      if (colon <= 0) throw new HttpProtocolError(`bad header line ${JSON.stringify(line.slice(0, 80))}`);
      const name = line.slice(0, colon).toLowerCase();
      if (name === "content-length") {
        const value = line.slice(colon + 1).trim();
        if (!/^\d{1,15}$/.test(value)) throw new HttpProtocolError(`bad content-length ${JSON.stringify(value)}`);
        const length = Number(value);
        if (contentLength !== undefined && contentLength !== length)
          throw new HttpProtocolError("conflicting content-length headers");
        contentLength = length;
      } else if (name === "transfer-encoding") {
        transferEncoding = true;
        const codings = line.slice(colon + 1).split(",");
        chunked = codings[codings.length - 1]!.trim().toLowerCase() === "chunked";
      } else if (name === "connection") {
        connection += "," + line.slice(colon + 1).toLowerCase();
      }
    }

    if (status >= 100 && status < 200) {
      if (status === 101) throw new HttpProtocolError("the server switched protocols; only HTTP/1.1 is supported");
      // An interim response (100 Continue, 103 Early Hints): the real one follows.
      this.#startResponse();
      return;
    }

    const tokens = connection.split(",").map((t) => t.trim());
    this.#keepAlive = minor === "1" ? !tokens.includes("close") : tokens.includes("keep-alive");
    this.#status = status;

    if (this.#pending!.head || status === 204 || status === 304) {
      this.#bodyMode = "none";
      this.#phase = "done";
    } else if (transferEncoding) {
      // Transfer-Encoding wins over Content-Length (RFC 9112 6.3); without chunked last, the body runs to close.
      this.#bodyMode = chunked ? "chunked" : "until-close";
      this.#phase = chunked ? "chunk-size" : "body";
      if (!chunked) this.#keepAlive = false;
    } else if (contentLength !== undefined) {
      this.#bodyMode = "length";
      this.#remaining = contentLength;
      this.#phase = contentLength === 0 ? "done" : "body";
    } else {
      this.#bodyMode = "until-close";
      this.#phase = "body";
      this.#keepAlive = false;
    }
  }
}
