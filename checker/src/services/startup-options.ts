import { once } from "node:events";
import net from "node:net";
import { LOOPBACK } from "./ports";

// PGlite is a backend that has already started: it accepts a client's startup packet but
// ignores the settings in it (`options=-c search_path=...`, `statement_timeout=...`), which a
// real server applies to the new session. The course fixture puts each test file's schema in
// the startup packet, so without this a file's tables would land in `public`. This proxy sits
// in front of the PGlite socket server, reads each startup packet, applies its settings to
// the (single, shared) session, then pipes the connection through untouched.

const PROTOCOL_3 = 196_608;
const SSL_REQUEST = 80_877_103;
const GSSENC_REQUEST = 80_877_104;

/** Startup parameters that are not session settings, or that the embedded server fixes itself. */
const NOT_SETTINGS = new Set(["user", "database", "options", "replication", "client_encoding"]);

/** Splits a startup `options` string the way Postgres does: on spaces, with `\ ` for a literal space. */
export function splitOptions(options: string): string[] {
  const words: string[] = [];
  let word = "";
  for (let i = 0; i < options.length; i++) {
    const ch = options[i] ?? "";
    if (ch === "\\" && i + 1 < options.length) {
      word += options[++i];
    } else if (/\s/.test(ch)) {
      if (word) words.push(word);
      word = "";
    } else {
      word += ch;
    }
  }
  if (word) words.push(word);
  return words;
}

/** The `-c name=value` / `--name=value` settings of an `options` string, in order. */
export function settingsFromOptions(options: string): [string, string][] {
  const settings: [string, string][] = [];
  const words = splitOptions(options);
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? "";
    let pair: string | undefined;
    if (word === "-c") pair = words[++i];
    else if (word.startsWith("-c")) pair = word.slice(2);
    else if (word.startsWith("--")) pair = word.slice(2);
    const eq = pair?.indexOf("=") ?? -1;
    if (pair !== undefined && eq > 0) settings.push([pair.slice(0, eq).replace(/-/g, "_"), pair.slice(eq + 1)]);
  }
  return settings;
}

/** The session settings a v3 startup packet asks for: its `options`, then any other GUC parameters. */
export function settingsFromStartup(packet: Buffer): [string, string][] {
  const params: [string, string][] = [];
  let offset = 8;
  while (offset < packet.length && packet[offset] !== 0) {
    const keyEnd = packet.indexOf(0, offset);
    const valueEnd = packet.indexOf(0, keyEnd + 1);
    if (keyEnd < 0 || valueEnd < 0) break;
    params.push([packet.toString("utf8", offset, keyEnd), packet.toString("utf8", keyEnd + 1, valueEnd)]);
    offset = valueEnd + 1;
  }
  const options = params.find(([key]) => key === "options")?.[1];
  return [...(options ? settingsFromOptions(options) : []), ...params.filter(([key]) => !NOT_SETTINGS.has(key))];
}

/** A FATAL ErrorResponse, what a real server sends for a bad startup setting before closing. */
export function fatalError(message: string, sqlstate = "22023"): Buffer {
  const fields = Buffer.concat(
    [
      ["S", "FATAL"],
      ["V", "FATAL"],
      ["C", sqlstate],
      ["M", message],
    ].map(([code, text]) => Buffer.from(`${code}${text}\0`, "utf8")),
  );
  const body = Buffer.concat([fields, Buffer.from([0])]);
  const header = Buffer.alloc(5);
  header.write("E", 0, "latin1");
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

export interface StartupOptionsProxy {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Listens on a free loopback port and forwards every connection to `upstreamPort`, after
 * `apply` has run the settings carried by the connection's startup packet.
 */
export async function startStartupOptionsProxy(
  upstreamPort: number,
  apply: (settings: [string, string][]) => Promise<void>,
): Promise<StartupOptionsProxy> {
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    // A client or the upstream going away is normal; it must not crash the checker.
    socket.on("error", () => socket.destroy());
  };

  const server = net.createServer((client) => {
    track(client);
    let buffered = Buffer.alloc(0);
    let phase: "startup" | "applying" | "piping" = "startup";

    const forward = (startup: Buffer) => {
      client.off("data", onData);
      const upstream = net.connect({ host: LOOPBACK, port: upstreamPort });
      track(upstream);
      upstream.on("close", () => client.destroy());
      client.on("close", () => upstream.destroy());
      upstream.write(Buffer.concat([startup, buffered]));
      buffered = Buffer.alloc(0);
      phase = "piping";
      client.pipe(upstream);
      upstream.pipe(client);
    };

    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      // While the settings are being applied, keep what the client sends for later.
      while (phase === "startup" && buffered.length >= 8) {
        const length = buffered.readInt32BE(0);
        const code = buffered.readInt32BE(4);
        if (length === 8 && (code === SSL_REQUEST || code === GSSENC_REQUEST)) {
          // No TLS on a loopback test server: say so, and the client continues in plain text.
          client.write("N");
          buffered = buffered.subarray(8);
          continue;
        }
        if (buffered.length < length) return;
        const packet = buffered.subarray(0, length);
        buffered = buffered.subarray(length);
        if (code !== PROTOCOL_3) {
          // A CancelRequest or an unknown request: the upstream knows what to do with it.
          forward(packet);
          return;
        }
        phase = "applying";
        const settings = settingsFromStartup(packet);
        void apply(settings).then(
          () => {
            if (!client.destroyed) forward(packet);
          },
          (error: unknown) => {
            client.end(fatalError(error instanceof Error ? error.message : String(error)));
          },
        );
        return;
      }
    };
    client.on("data", onData);
  });

  server.listen(0, LOOPBACK);
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
