export function answer(): number {
  const text: string = 42;
  return Number(text);
}
