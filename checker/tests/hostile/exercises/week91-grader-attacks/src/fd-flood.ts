import { writeSync } from "node:fs";

/** Wrong, and floods the terminal around any wrapper of process.stdout: 40 MB straight to fd 1 and 2. */
export function answer(): number {
  const chunk = Buffer.from("noise ".repeat(10_000) + "\n");
  for (const fd of [1, 2]) {
    let written = 0;
    let spins = 0;
    while (written < 20 * 2 ** 20 && spins < 10_000_000) {
      try {
        written += writeSync(fd, chunk);
      } catch {
        spins++; // EAGAIN: the pipe is full until the reader drains it
      }
    }
  }
  return 41;
}
