/** Off-heap memory: Buffers do not count against V8's heap limit. Up to 4 GB, without blocking the loop. */
export async function answer(): Promise<number> {
  const kept: Buffer[] = [];
  for (let i = 0; i < 64; i++) {
    kept.push(Buffer.alloc(64 * 2 ** 20, 1));
    await new Promise((resolve) => setImmediate(resolve));
  }
  return kept.length === 64 ? 41 : 0;
}
