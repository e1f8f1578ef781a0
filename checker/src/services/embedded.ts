import type { PGlite } from "@electric-sql/pglite";
import { defaultTemplateFile, discardTemplate, readTemplate, saveTemplate } from "./pglite-template";
import { LOOPBACK } from "./ports";
import { type StartupOptionsProxy, startStartupOptionsProxy } from "./startup-options";
import { withTimeout } from "./timing";
import type { StartedServer } from "./types";

/**
 * How many sockets the embedded server accepts at once. PGlite is one backend: the socket
 * server multiplexes every connection onto it, one protocol message at a time, keeping a
 * transaction's statements together. With pglite-socket's default of 1, the course
 * fixture's sequence fails (measured: an admin client ends, and the next connection is
 * dropped with "Connection terminated unexpectedly" because the server has not yet noticed
 * the close), and so does any pg.Pool running two queries at once. With room for many, 100
 * rounds of admin-then-pool with concurrent queries ran without an error.
 *
 * What it cannot give is isolation: every connection is the same session (same
 * pg_backend_pid; SET search_path, temp tables and advisory locks are shared), a query
 * waits while another connection holds a transaction open, and LISTEN/NOTIFY between
 * connections delivers nothing. Hence "single session only".
 */
export const EMBEDDED_MAX_CONNECTIONS = 100;

export interface EmbeddedPostgres extends StartedServer {
  readonly port: number;
  /** true when the data dir came from the saved template instead of a fresh initdb */
  readonly fromTemplate: boolean;
}

export interface EmbeddedOptions {
  /** Where the initialized data dir is cached between runs; null to always run initdb. */
  templateFile?: string | null;
}

/**
 * An in-memory PGlite behind a Postgres wire-protocol socket on a free loopback port, in
 * this process. Both packages are imported here, on first use: they weigh ~10 MB of WASM.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions = {}): Promise<EmbeddedPostgres> {
  const [{ PGlite }, { PGLiteSocketServer }] = await Promise.all([
    import("@electric-sql/pglite"),
    import("@electric-sql/pglite-socket"),
  ]);
  const templateFile = options.templateFile === undefined ? defaultTemplateFile() : options.templateFile;
  const template = templateFile === null ? undefined : await readTemplate(templateFile);
  let db: PGlite | undefined;
  if (template !== undefined && templateFile !== null) {
    try {
      db = await PGlite.create({ loadDataDir: template });
    } catch {
      // A truncated or foreign file: start fresh, and let this run save a good one.
      await discardTemplate(templateFile);
    }
  }
  const fromTemplate = db !== undefined;
  if (db === undefined) {
    db = await PGlite.create();
    // Dumped before any client connects, so the template is exactly a fresh cluster.
    if (templateFile !== null) {
      const dump = await db.dumpDataDir("gzip").catch(() => undefined);
      // Only the next run's speed depends on it.
      if (dump !== undefined) await saveTemplate(templateFile, dump);
    }
  }
  const started = db;
  const server = new PGLiteSocketServer({ db, host: LOOPBACK, port: 0, maxConnections: EMBEDDED_MAX_CONNECTIONS });
  let proxy: StartupOptionsProxy;
  try {
    await server.start();
    // With port 0 the server records the port the OS gave it once it listens.
    const upstreamPort = Number(server.getServerConn().split(":").pop());
    // Clients connect to the proxy, which applies their startup settings (the fixture's
    // search_path) that PGlite itself would ignore. set_config takes the value as data, so
    // nothing in it is parsed as SQL.
    proxy = await startStartupOptionsProxy(upstreamPort, async (settings) => {
      for (const [name, value] of settings) await started.query("SELECT set_config($1, $2, false)", [name, value]);
    });
  } catch (error) {
    await server.stop().catch(() => {});
    await db.close().catch(() => {});
    throw error;
  }
  const port = proxy.port;
  let stopped: Promise<void> | undefined;
  return {
    url: `postgres://postgres@${LOOPBACK}:${port}/postgres`,
    address: `${LOOPBACK}:${port}`,
    port,
    fromTemplate,
    stop: () =>
      (stopped ??= (async () => {
        // stop() resolves when the listening socket closes, which waits for open client
        // sockets; it destroys them, but bound it in case a client lingers.
        await proxy.close();
        await withTimeout(server.stop(), 3_000, "stopping the embedded Postgres").catch(() => {});
        // Detaching a connection that was inside a transaction rolls it back on the next
        // turn of the loop; close the database after that, not under it.
        await new Promise((resolve) => setImmediate(resolve));
        await started.close().catch(() => {});
      })()),
  };
}
