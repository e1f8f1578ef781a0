// The reference closed-model generator against autocannon, on the same local server, with the
// same connections and the same number of requests: the generator must not be the bottleneck
// (target: at least 0.8 of autocannon's requests per second). The server runs in its own
// process, so the bench measures the generators' cost per request, not the server's.
// Run with `npm run bench week4`.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createRequire } from "node:module";
import { benchMetric } from "#fixtures/bench";
import { afterAll } from "vitest";
import { runLoad } from "../src/load-generator";

interface AutocannonResult {
  errors: number;
  non2xx: number;
}
type Autocannon = (options: {
  url: string;
  connections: number;
  amount: number;
  sampleInt: number;
}) => Promise<AutocannonResult>;
// autocannon ships no type declarations: describe the one call we make.
const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;

const SERVER = `
const http = require("node:http");
const server = http.createServer((req, res) => { res.setHeader("content-type", "text/plain"); res.end("hello world"); });
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
process.on("disconnect", () => process.exit(0));
`;

const server = spawn(process.execPath, ["-e", SERVER], { stdio: ["ignore", "pipe", "inherit", "ipc"] });
const [portLine] = (await once(server.stdout!, "data")) as [Buffer];
const url = `http://127.0.0.1:${Number(String(portLine).trim())}/`;
afterAll(async () => {
  const exited = once(server, "exit");
  server.disconnect();
  await exited;
  server.stdout!.destroy();
});

const CONNECTIONS = 10;
const REQUESTS = 5_000;

/** Requests per second of one run of `load`, timed from the outside the same way for both. */
async function requestsPerSecond(load: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await load();
  return REQUESTS / ((performance.now() - started) / 1000);
}

benchMetric(`load generator, ${REQUESTS} GETs over ${CONNECTIONS} keep-alive connections`, {
  unit: "req/s",
  better: "higher",
  rounds: 7,
  ours: () =>
    requestsPerSecond(async () => {
      const result = await runLoad({ url, connections: CONNECTIONS, requests: REQUESTS });
      if (result.completed !== REQUESTS) throw new Error(`only ${result.completed} of ${REQUESTS} completed`);
    }),
  yardstick: {
    library: "autocannon 8",
    run: () =>
      requestsPerSecond(async () => {
        // autocannon notices the end of a run on its sampling tick (1 s by default): tick every 10 ms.
        const result = await autocannon({ url, connections: CONNECTIONS, amount: REQUESTS, sampleInt: 10 });
        if (result.errors > 0 || result.non2xx > 0) throw new Error("autocannon saw errors");
      }),
  },
});
