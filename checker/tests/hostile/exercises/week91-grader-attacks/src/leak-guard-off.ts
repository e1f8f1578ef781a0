process.env.KATA_LEAK_GUARD = "0";

/** Right, but leaves a timer running. */
export function answer(): number {
  setInterval(() => {}, 1_000);
  return 42;
}
