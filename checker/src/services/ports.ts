import { once } from "node:events";
import net from "node:net";

export const LOOPBACK = "127.0.0.1";

/**
 * A loopback port that was free a moment ago (bound to 0, then released). Another process
 * may take it before the caller binds, so callers that start servers retry on "in use".
 */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, LOOPBACK);
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
