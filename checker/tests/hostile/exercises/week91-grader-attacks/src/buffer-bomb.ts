/** Off-heap memory: Buffers do not count against V8's heap limit. */
export function answer(): number {
  const kept: Buffer[] = [];
  for (let i = 0; i < 64; i++) {
    kept.push(Buffer.alloc(64 * 2 ** 20, 1));
  }
  return kept.length === 64 ? 41 : 0;
}
