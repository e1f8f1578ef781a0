// A helper no kata lists, hiding a type error from the kata's own file.
export function loose(): number {
  const value: string = 42;
  return value as unknown as number;
}
