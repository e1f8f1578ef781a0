/**
 * Kata `capacity-report`, part two: the report as an SVG chart of latency against offered load.
 *
 * Draw, in a standalone SVG document (xmlns, width and height attributes from the options and
 * viewBox="0 0 <width> <height>", no scripts):
 * - `<polyline data-series="p50" ...>` and `<polyline data-series="p99" ...>`, one point per
 *   valid step, on linear axes from 0: x grows with the rate, y with latency (upwards on
 *   screen: SVG's y axis points down);
 * - a `<circle data-series="p50|p99">` on every point with a `<title>` tooltip naming the rate
 *   and the value ("160/s: p99 900.0 ms"), and the class `broken` on steps that broke the SLO;
 * - `<line data-role="slo" ...>`, horizontal at the SLO's p99, with a `<text>` label holding
 *   "SLO" and the objective's value ("SLO p99 100 ms");
 * - `<line data-role="knee" ...>`, vertical at the knee's rate, when there is a knee, with a
 *   `<text>` label holding "knee" and its rate;
 * - axes with round-numbered tick labels from 0 past the largest value (each a `<text>` that
 *   holds only the number): the rates below the plot, the latencies to its left;
 * - a `<title>` (a default one when none is given), escaped: the chart must parse as XML;
 * - everything inside the drawing (0 to width, 0 to height).
 *
 * Covered by the "SVG chart" part of tests/capacity-report.test.ts.
 *
 * Keep the exported names and signatures: the tests import them.
 */
import { NotImplementedError } from "#kata";
import type { CapacityReport } from "./capacity-report";

export interface ChartOptions {
  title?: string;
  /** Pixels. Default 720. */
  width?: number;
  /** Pixels. Default 420. */
  height?: number;
}

/** Renders the report as a standalone SVG document. */
export function renderSvg(report: CapacityReport, options: ChartOptions = {}): string {
  // TODO: map rate to x and latency to y, then write the elements as strings.
  void report;
  void options;
  throw new NotImplementedError("capacity-report");
}
