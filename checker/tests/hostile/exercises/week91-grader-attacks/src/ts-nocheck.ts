// @ts-nocheck
// The right answer with the wrong type, and the type checker switched off to hide it.
// @ts-ignore
export function answer(): string {
  return 42;
}
