import type { BenchRecord } from "../../fixtures/bench";

// The benchmark ratios as an SVG bar chart (the README links it): one bar per case, on a
// log scale around 1 (the yardstick), green where ours is better, red where it is worse.

const ROW = 26;
const LABEL = 360;
const CHART = 420;
const MAX_LOG = 2; // bars end at 100x either way

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** One week's case name, as the chart labels it. */
export interface ChartRow {
  week: string;
  record: BenchRecord;
}

export function renderBenchChart(rows: readonly ChartRow[]): string {
  const height = 40 + rows.length * ROW + 30;
  const centre = LABEL + CHART / 2;
  const bars = rows.map(({ week, record }, i) => {
    const y = 30 + i * ROW;
    const log = Math.max(-MAX_LOG, Math.min(MAX_LOG, Math.log10(record.ratio)));
    const width = (Math.abs(log) / MAX_LOG) * (CHART / 2);
    const x = log >= 0 ? centre : centre - width;
    const colour = record.ratio >= 1 ? "#2e7d32" : "#c62828";
    const label = `${week} · ${record.name} (vs ${record.yardstick.library})`;
    return [
      `<text x="${LABEL - 8}" y="${y + 16}" text-anchor="end">${escape(label.length > 58 ? `${label.slice(0, 57)}…` : label)}</text>`,
      `<rect x="${x.toFixed(1)}" y="${y + 4}" width="${Math.max(1, width).toFixed(1)}" height="${ROW - 10}" fill="${colour}"/>`,
      `<text x="${(log >= 0 ? x + width + 4 : x - 4).toFixed(1)}" y="${y + 16}" text-anchor="${log >= 0 ? "start" : "end"}">${record.ratio.toFixed(2)}×</text>`,
    ].join("");
  });
  const ticks = [-2, -1, 0, 1, 2].map((t) => {
    const x = centre + (t / MAX_LOG) * (CHART / 2);
    return `<line x1="${x}" y1="24" x2="${x}" y2="${height - 24}" stroke="#bbb" stroke-dasharray="${t === 0 ? "" : "3,3"}"/><text x="${x}" y="${height - 8}" text-anchor="middle">${10 ** t}×</text>`;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${LABEL + CHART + 60}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<text x="${centre}" y="16" text-anchor="middle" font-weight="bold">reference solution ÷ yardstick (right of 1×: ours is better)</text>`,
    ...ticks,
    ...bars,
    "</svg>",
    "",
  ].join("\n");
}
