import path from "node:path";
import type { CommandContext } from "../commands/context";

/**
 * A progress callback for long runs (grade, verify): on a terminal one line that updates in
 * place (files done of total, elapsed); elsewhere (CI) a plain line per file.
 */
export function fileProgress(
  ctx: CommandContext,
  label: string,
  total: number,
  tty: boolean = process.stderr.isTTY === true,
): (file: string) => void {
  const started = performance.now();
  let done = 0;
  return (file) => {
    done++;
    const elapsed = `${Math.round((performance.now() - started) / 1000)} s`;
    if (tty) {
      process.stderr.write(
        `\r\u001b[2K${ctx.style.dim(`${label} · ${done}/${total} files · ${elapsed}`)}${done === total ? "\n" : ""}`,
      );
    } else {
      ctx.err(`${label}: ${done}/${total} files, ${elapsed} (${path.basename(file)})`);
    }
  };
}
