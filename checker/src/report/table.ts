/** A plain text table with aligned columns (numbers right-aligned). */
export function renderTable(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (row: readonly (string | number)[]) =>
    row
      .map((cell, i) =>
        typeof cell === "number" ? String(cell).padStart(widths[i]!) : String(cell).padEnd(widths[i]!),
      )
      .join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}
