import { benchCase } from "#fixtures/bench";
import { useRedis } from "#fixtures/redis";
import { beforeAll } from "vitest";
import { CacheAside } from "../src/cache-aside";

// The hit path of cache-aside against the floor it cannot beat: one bare GET. A hit that
// costs one round trip runs at about the speed of the bare GET (a ratio near 1, within the
// noise); two round trips halve it.
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

benchCase("cache-aside hit path (1 round trip)", {
  ours: () => cache.getOrLoad("42", async () => profile),
  yardstick: { library: "bare GET (the floor)", run: () => client.get(cache.keyFor("42")) },
});
