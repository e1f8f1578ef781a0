// A stand-in for a checker run that is killed: starts a private redis-server, says where,
// and waits to be killed.
import { startPrivateRedis } from "../../../src/services/redis";

const server = await startPrivateRedis(process.argv[2] ?? "redis-server");
process.stdout.write(`${JSON.stringify({ pid: server.pid, dir: server.dir })}\n`);
setInterval(() => {}, 1_000);
