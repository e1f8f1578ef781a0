export function answer(): number {
  for (;;) {
    // never yields
  }
}
