// Learner code that writes a million lines straight to stdout would flood the terminal, a
// CI log and the runner's memory. Past a budget per test file, writes are dropped and one
// line says so. console.* goes through vitest's own interception and the checker drops it.
const BUDGET_BYTES = Number(process.env.KATA_OUTPUT_BUDGET ?? 16 * 1024);

function cap(stream: NodeJS.WriteStream, name: string): void {
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  let used = 0;
  let told = false;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    const size = typeof chunk === "string" ? Buffer.byteLength(chunk) : (chunk as Uint8Array)?.byteLength ?? 0;
    used += size;
    if (used <= BUDGET_BYTES) return write(chunk, ...rest);
    if (!told) {
      told = true;
      write(`\n[kata] ${name} output of this test file passed ${BUDGET_BYTES} bytes; the rest is dropped\n`);
    }
    const callback = rest.find((r) => typeof r === "function") as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof stream.write;
}

const key = Symbol.for("kata.output-cap");
const holder = globalThis as unknown as Record<symbol, boolean | undefined>;
if (!holder[key]) {
  holder[key] = true;
  cap(process.stdout, "stdout");
  cap(process.stderr, "stderr");
}
