/**
 * A namespace inside a test file's Redis namespace, so one test can list exactly the keys
 * the code under test wrote there (and their TTLs), whatever it named them.
 */
import type { Redis } from "ioredis";
import type { RedisFixture } from "#fixtures/redis";

let namespaces = 0;

export interface SubNamespace {
  /** The full key prefix (the file's prefix and this namespace's). */
  readonly prefix: string;
  /** A client whose keys land in this namespace. */
  readonly client: Redis;
  /** Every key in this namespace, as stored (prefix included). */
  keys(): Promise<string[]>;
  /** The PTTL of every key in this namespace (-1: no expiry). */
  ttls(): Promise<number[]>;
  /** Every key in this namespace with its PTTL. */
  ttlByKey(): Promise<Map<string, number>>;
}

export function subNamespace(redis: RedisFixture): SubNamespace {
  const sub = `ns${++namespaces}:`;
  const raw = redis.rawClient();
  const keys = async () => {
    const found: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = await raw.scan(cursor, "MATCH", `${redis.prefix}${sub}*`, "COUNT", 500);
      found.push(...batch);
      cursor = next;
    } while (cursor !== "0");
    return found;
  };
  const ttlByKey = async () => {
    const found = await keys();
    const ttls = await Promise.all(found.map((key) => raw.pttl(key)));
    return new Map(found.map((key, i) => [key, ttls[i]!]));
  };
  return {
    prefix: `${redis.prefix}${sub}`,
    client: redis.client({ keyPrefix: sub }),
    keys,
    ttls: async () => [...(await ttlByKey()).values()],
    ttlByKey,
  };
}
