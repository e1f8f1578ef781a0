// Line-level reading of Markdown: headings outside code fences. Enough to find a README's
// sections; the site's renderer (markdown-it) parses everything else.

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const HEADING = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;

/** Each line with `inFence` (inside or on a fence) and, for ATX headings, `level` and `text`. */
export function scanLines(markdown) {
  const lines = markdown.split("\n");
  const out = [];
  let fence = null;
  for (const [index, line] of lines.entries()) {
    const fenceMatch = FENCE.exec(line);
    if (fence) {
      if (
        fenceMatch &&
        fenceMatch[1][0] === fence[0] &&
        fenceMatch[1].length >= fence.length &&
        line.trim() === fenceMatch[1]
      ) {
        fence = null;
      }
      out.push({ index, line, inFence: true });
      continue;
    }
    if (fenceMatch) {
      fence = fenceMatch[1];
      out.push({ index, line, inFence: true });
      continue;
    }
    const heading = HEADING.exec(line);
    out.push(
      heading
        ? { index, line, inFence: false, level: heading[1].length, text: heading[2] }
        : { index, line, inFence: false },
    );
  }
  return out;
}
