/** Right, and chatty: a megabyte to stdout, to stderr and through console.log. */
export function answer(): number {
  const line = "x".repeat(1023) + "\n";
  for (let i = 0; i < 1024; i++) {
    process.stdout.write(line);
    process.stderr.write(line);
    console.log(line);
  }
  return 42;
}
