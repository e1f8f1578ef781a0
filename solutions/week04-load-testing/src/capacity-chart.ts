/**
 * The capacity report as an SVG line chart: latency (p50 and p99) against offered load, with
 * the SLO as a dashed line and the knee marked. Self-contained markup, no scripts, no fonts to
 * fetch, so it renders in a browser, a pull request or a CI artifact viewer alike.
 */
import type { CapacityReport, StepReport } from "./capacity-report";

export interface ChartOptions {
  title?: string;
  /** Pixels. Default 720. */
  width?: number;
  /** Pixels. Default 420. */
  height?: number;
}

const MARGIN = { top: 48, right: 24, bottom: 56, left: 72 };

/** Maps data onto the drawing: rates along x from 0, latencies along y from 0, upwards. */
interface Scale {
  left: number;
  right: number;
  top: number;
  bottom: number;
  rateMax: number;
  latencyMax: number;
  x(rate: number): number;
  y(latencyMs: number): number;
}

/** Escapes text for XML content and attribute values. */
function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!,
  );
}

/** The smallest 1, 2 or 5 times a power of ten at or above `value`: a round end for an axis. */
function niceCeil(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= value)!;
}

/** Round tick values from 0 to `max`, about `count` of them (max is itself round). */
function ticks(max: number, count: number): number[] {
  const step = niceCeil(max / count);
  const out: number[] = [];
  // toPrecision strips the float noise of repeated addition (0.30000000000000004).
  for (let i = 0; i * step <= max * (1 + 1e-9); i++) out.push(Number((i * step).toPrecision(12)));
  return out;
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));
const coord = (n: number) => n.toFixed(1);

function scaleFor(report: CapacityReport, measured: readonly StepReport[], width: number, height: number): Scale {
  const left = MARGIN.left;
  const right = width - MARGIN.right;
  const top = MARGIN.top;
  const bottom = height - MARGIN.bottom;
  const rateMax = niceCeil(Math.max(...report.steps.map((step) => step.rate)));
  // Headroom above the highest of the p99s and the SLO, so neither sits on the frame.
  const latencyMax = niceCeil(Math.max(report.slo.p99Ms, ...measured.map((step) => step.p99Ms!)) * 1.1);
  return {
    left,
    right,
    top,
    bottom,
    rateMax,
    latencyMax,
    x: (rate) => left + (rate / rateMax) * (right - left),
    y: (latencyMs) => bottom - (latencyMs / latencyMax) * (bottom - top),
  };
}

function axes(scale: Scale): string[] {
  const parts: string[] = [];
  for (const tick of ticks(scale.rateMax, 6)) {
    const x = coord(scale.x(tick));
    parts.push(`<line class="grid" x1="${x}" y1="${scale.top}" x2="${x}" y2="${scale.bottom}"/>`);
    parts.push(`<text class="tick-x" x="${x}" y="${scale.bottom + 18}">${fmt(tick)}</text>`);
  }
  for (const tick of ticks(scale.latencyMax, 5)) {
    const y = coord(scale.y(tick));
    parts.push(`<line class="grid" x1="${scale.left}" y1="${y}" x2="${scale.right}" y2="${y}"/>`);
    parts.push(`<text class="tick-y" x="${scale.left - 8}" y="${y}">${fmt(tick)}</text>`);
  }
  parts.push(`<line class="axis" x1="${scale.left}" y1="${scale.bottom}" x2="${scale.right}" y2="${scale.bottom}"/>`);
  parts.push(`<line class="axis" x1="${scale.left}" y1="${scale.top}" x2="${scale.left}" y2="${scale.bottom}"/>`);
  return parts;
}

function objectiveAndKnee(report: CapacityReport, scale: Scale): string[] {
  const sloY = coord(scale.y(report.slo.p99Ms));
  const parts = [
    `<line class="slo" data-role="slo" x1="${scale.left}" y1="${sloY}" x2="${scale.right}" y2="${sloY}"/>`,
    `<text class="slo-label" x="${scale.right - 4}" y="${sloY}">SLO p99 ${fmt(report.slo.p99Ms)} ms</text>`,
  ];
  if (report.knee !== null) {
    const kneeX = coord(scale.x(report.knee));
    parts.push(
      `<line class="knee" data-role="knee" x1="${kneeX}" y1="${scale.top}" x2="${kneeX}" y2="${scale.bottom}"/>`,
    );
    parts.push(`<text class="knee-label" x="${kneeX}" y="${scale.top - 6}">knee ${fmt(report.knee)}/s</text>`);
  }
  return parts;
}

/** One polyline per percentile, and a dot with a tooltip per step; steps that broke the SLO get the "broken" class. */
function series(measured: readonly StepReport[], scale: Scale): string[] {
  const parts: string[] = [];
  for (const [name, key] of [
    ["p50", "p50Ms"],
    ["p99", "p99Ms"],
  ] as const) {
    const at = (step: StepReport) => [coord(scale.x(step.rate)), coord(scale.y(step[key]!))] as const;
    parts.push(
      `<polyline class="${name}" data-series="${name}" points="${measured.map((step) => at(step).join(",")).join(" ")}"/>`,
    );
    for (const step of measured) {
      const [cx, cy] = at(step);
      const tooltip = `${step.rate}/s: ${name} ${step[key]!.toFixed(1)} ms${step.metSlo ? "" : ` (${step.breaches.join("; ")})`}`;
      parts.push(
        `<circle class="${name}${step.metSlo ? "" : " broken"}" data-series="${name}" cx="${cx}" cy="${cy}" r="4"><title>${escapeXml(tooltip)}</title></circle>`,
      );
    }
  }
  return parts;
}

// Stryker disable all: colours, fonts and label offsets are presentation; no test can tell a
// good choice from a bad one, so mutating them only measures taste.
const STYLE = `<style>
  text { font: 12px system-ui, sans-serif; fill: #2d3748; }
  .title { font-size: 16px; text-anchor: middle; }
  .tick-x { text-anchor: middle; dominant-baseline: hanging; }
  .tick-y { text-anchor: end; dominant-baseline: middle; }
  .grid { stroke: #e2e8f0; }
  .axis { stroke: #2d3748; }
  .slo { stroke: #c53030; stroke-dasharray: 6 4; }
  .slo-label { fill: #c53030; text-anchor: end; dominant-baseline: text-after-edge; }
  .knee { stroke: #718096; stroke-dasharray: 2 4; }
  .knee-label { fill: #718096; text-anchor: middle; }
  polyline { fill: none; stroke-width: 2; }
  polyline.p50 { stroke: #2b6cb0; } circle.p50 { fill: #2b6cb0; }
  polyline.p99 { stroke: #c05621; } circle.p99 { fill: #c05621; }
  circle.broken { fill: #c53030; }
</style>`;

function frame(scale: Scale, width: number, height: number, title: string): string[] {
  const middleY = (scale.top + scale.bottom) / 2;
  return [
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text class="title" x="${width / 2}" y="24">${escapeXml(title)}</text>`,
    `<text class="tick-x" x="${(scale.left + scale.right) / 2}" y="${height - 20}">offered load (requests/s)</text>`,
    `<text class="tick-x" x="18" y="${middleY}" transform="rotate(-90 18 ${middleY})">latency (ms)</text>`,
    `<line class="p99" x1="${scale.left + 12}" y1="${scale.top + 12}" x2="${scale.left + 32}" y2="${scale.top + 12}" stroke="#c05621" stroke-width="2"/>`,
    `<text x="${scale.left + 38}" y="${scale.top + 16}">p99</text>`,
    `<line class="p50" x1="${scale.left + 12}" y1="${scale.top + 30}" x2="${scale.left + 32}" y2="${scale.top + 30}" stroke="#2b6cb0" stroke-width="2"/>`,
    `<text x="${scale.left + 38}" y="${scale.top + 34}">p50</text>`,
  ];
}
// Stryker restore all

/** Renders the report as a standalone SVG document. */
export function renderSvg(report: CapacityReport, options: ChartOptions = {}): string {
  const width = options.width ?? 720;
  const height = options.height ?? 420;
  const title = options.title ?? "Latency vs offered load";
  const measured = report.steps.filter((step) => step.valid);
  const scale = scaleFor(report, measured, width, height);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="chart-title">`,
    `<title id="chart-title">${escapeXml(title)}</title>`,
    STYLE,
    ...frame(scale, width, height, title),
    ...axes(scale),
    ...objectiveAndKnee(report, scale),
    ...series(measured, scale),
    "</svg>",
    "",
  ].join("\n");
}
