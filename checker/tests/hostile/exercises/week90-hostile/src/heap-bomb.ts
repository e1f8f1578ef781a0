export function hoard(): number {
  const kept: string[][] = [];
  for (;;) kept.push(new Array(1_000_000).fill("x".repeat(16)));
}
