// Vitest error messages carry ANSI colours and long stacks; a learner needs the first
// meaningful lines, with the noise gone.
const ANSI = /\u001b\[[0-9;]*m/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

/** Keeps a message readable: no colours, at most `maxLines` lines and `maxChars` characters. */
export function trimMessage(text: string, maxChars = 2000, maxLines = 40): string {
  const lines = stripAnsi(text).replace(/\r/g, "").split("\n");
  let kept = lines.slice(0, maxLines).join("\n").trimEnd();
  if (lines.length > maxLines) kept += "\n…";
  if (kept.length > maxChars) kept = kept.slice(0, maxChars - 1) + "…";
  return kept;
}
