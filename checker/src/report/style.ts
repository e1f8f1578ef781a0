/** Terminal colours, only when the output is a terminal that wants them. */
export interface Style {
  ok(text: string): string;
  bad(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
  warn(text: string): string;
}

const wrap = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;

export function createStyle(stream: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): Style {
  const enabled =
    (Boolean(stream.isTTY) && !env.NO_COLOR && env.TERM !== "dumb") ||
    Boolean(env.FORCE_COLOR && env.FORCE_COLOR !== "0");
  if (!enabled) {
    const same = (text: string) => text;
    return { ok: same, bad: same, dim: same, bold: same, warn: same };
  }
  return { ok: wrap(32, 39), bad: wrap(31, 39), dim: wrap(2, 22), bold: wrap(1, 22), warn: wrap(33, 39) };
}
