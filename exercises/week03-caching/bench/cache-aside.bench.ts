import { useRedis } from "#fixtures/redis";
import { beforeAll, bench, describe } from "vitest";
import { CacheAside } from "../src/cache-aside";

// The hit path of cache-aside against the floor it cannot beat: one bare GET. A hit that
// costs one round trip runs at about the speed of the bare GET; two round trips halve it.
const redis = useRedis();
const client = redis.client();
const cache = new CacheAside({ redis: client, namespace: "bench", version: 1, ttl: 600_000, negativeTtl: 60_000 });
const profile = {
  id: "42",
  name: "Ada Lovelace",
  roles: ["admin", "author"],
  settings: { theme: "dark", locale: "en-GB" },
};

beforeAll(async () => {
  await cache.getOrLoad("42", async () => profile);
  // Count the commands of one hit: the bench is only meaningful if a hit is one GET.
  let commands = 0;
  const send = client.sendCommand.bind(client);
  client.sendCommand = ((command: never, stream?: never) => {
    commands++;
    return send(command, stream);
  }) as typeof client.sendCommand;
  const hit = await cache.getOrLoad("42", async () => profile);
  client.sendCommand = send;
  if (hit.source !== "cache" || commands !== 1) {
    throw new Error(
      `a cache-aside hit should be one Redis command (one round trip); this one was ${commands} (source ${hit.source})`,
    );
  }
});

describe("cache-aside hit path: Redis round trips per hit", () => {
  bench("getOrLoad hit (1 round trip)", async () => {
    await cache.getOrLoad("42", async () => profile);
  });
  bench("bare GET (the floor)", async () => {
    await client.get(cache.keyFor("42"));
  });
});
