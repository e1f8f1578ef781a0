export function answer(): number {
  setTimeout(() => {
    try {
      process.exit(0);
    } catch {
      // swallowed
    }
  }, 10);
  return 42;
}
