export function answer(): number {
  for (let i = 0; i < 1_000_000; i++) process.stdout.write(`line ${i} of noise\n`);
  return 41;
}
