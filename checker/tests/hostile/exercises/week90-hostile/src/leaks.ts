import { Redis } from "ioredis";
import pg from "pg";

/** Opens connections and a timer and never closes any of them. */
export async function leak(redisUrl: string, databaseUrl: string): Promise<number> {
  const redis = new Redis(redisUrl);
  await redis.ping();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  setInterval(() => {}, 1_000);
  return 42;
}
