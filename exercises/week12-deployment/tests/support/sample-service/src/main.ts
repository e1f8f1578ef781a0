// The week's sample service, as small as a service gets: the image built by the dockerfile
// kata runs this (compiled to dist/main.js) and the optional image test probes it.
import { createServer } from "node:http";
import { z } from "zod";

const port = z.coerce
  .number()
  .int()
  .min(1)
  .max(65_535)
  .default(8_080)
  .parse(process.env.PORT || undefined);
let draining = false;

const server = createServer((req, res) => {
  const status = req.url === "/livez" ? 200 : req.url === "/readyz" ? (draining ? 503 : 200) : 404;
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify({ status: status === 200 ? "ok" : "unavailable" }));
});

process.once("SIGTERM", () => {
  draining = true;
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});

server.listen(port, () => process.stdout.write(`listening ${port}\n`));
