import { writeSync } from "node:fs";

/** Wrong, and floods the terminal around any wrapper of process.stdout: 40 MB straight to fd 1 and 2. */
export async function answer(): Promise<number> {
  const chunk = Buffer.from("noise ".repeat(10_000) + "\n");
  for (const fd of [1, 2]) {
    let written = 0;
    for (let tries = 0; written < 20 * 2 ** 20 && tries < 100_000; tries++) {
      try {
        written += writeSync(fd, chunk);
      } catch {
        // EAGAIN: the pipe is full until the reader drains it; let the loop turn meanwhile.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }
  return 41;
}
