/**
 * A strict reader of the Prometheus text format 0.0.4 and OpenMetrics 1.0.0, written for the
 * tests: it refuses what a real scraper refuses (a TYPE after its samples, an interleaved
 * family, a missing # EOF, an escape the format does not know) and gives back the parsed
 * meaning, so tests compare meaning and never the byte layout the formats leave free.
 */

export type Format = "prometheus-0.0.4" | "openmetrics-1.0.0";

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help?: string;
  unit?: string;
  samples: Sample[];
}

export interface Exposition {
  families: Family[];
  family(name: string): Family | undefined;
}

export class ExpositionError extends Error {}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)$/;
const TYPES_004 = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);
const TYPES_OM = new Set(["counter", "gauge", "histogram", "gaugehistogram", "stateset", "info", "summary", "unknown"]);
/** The sample names each type writes, as suffixes of its family name. */
const SUFFIXES: Record<Format, Record<string, readonly string[]>> = {
  "prometheus-0.0.4": { histogram: ["_bucket", "_count", "_sum"], summary: ["", "_count", "_sum"] },
  "openmetrics-1.0.0": {
    counter: ["_total", "_created"],
    histogram: ["_bucket", "_count", "_sum", "_created"],
    gaugehistogram: ["_bucket", "_gcount", "_gsum"],
    summary: ["", "_count", "_sum", "_created"],
    info: ["_info"],
  },
};

/** Parses a sample value: a float, or NaN / Inf / +Inf / -Inf in any case. */
export function parseNumber(text: string): number {
  if (/^nan$/i.test(text)) return Number.NaN;
  const inf = /^([+-]?)inf(?:inity)?$/i.exec(text);
  if (inf) return inf[1] === "-" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  if (!NUMBER.test(text)) throw new ExpositionError(`not a number: ${JSON.stringify(text)}`);
  return Number(text);
}

function unescape(text: string, allowed: string, where: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const next = text[++i];
    if (next === undefined || !allowed.includes(next)) {
      throw new ExpositionError(
        `${where}: invalid escape \\${next ?? ""} (this format escapes only ${allowed
          .split("")
          .map((e) => `\\${e}`)
          .join(" ")})`,
      );
    }
    out += next === "n" ? "\n" : next;
  }
  return out;
}

/** Reads `{a="x",b="y"}` starting at `text[0] === "{"`; returns the labels and the rest of the line. */
function parseLabels(text: string, format: Format): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  const om = format === "openmetrics-1.0.0";
  for (;;) {
    if (!om) while (text[i] === " " || text[i] === "\t") i++;
    if (text[i] === "}") return { labels, rest: text.slice(i + 1) };
    const name = LABEL_NAME.exec(text.slice(i))?.[0];
    if (!name) throw new ExpositionError(`bad label name at ${JSON.stringify(text.slice(i, i + 20))}`);
    i += name.length;
    if (!om) while (text[i] === " " || text[i] === "\t") i++;
    if (text[i] !== "=") throw new ExpositionError(`expected = after label ${name}`);
    i++;
    if (!om) while (text[i] === " " || text[i] === "\t") i++;
    if (text[i] !== '"') throw new ExpositionError(`label ${name}: the value must be quoted`);
    let j = i + 1;
    while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
    if (j >= text.length) throw new ExpositionError(`label ${name}: unterminated value`);
    if (name in labels) throw new ExpositionError(`label ${name} appears twice in one sample`);
    labels[name] = unescape(text.slice(i + 1, j), '\\"n', `label ${name}`);
    i = j + 1;
    if (!om) while (text[i] === " " || text[i] === "\t") i++;
    if (text[i] === ",") {
      i++;
      if (om && text[i] === "}") throw new ExpositionError("OpenMetrics allows no trailing comma in a label set");
      continue;
    }
    if (text[i] !== "}") throw new ExpositionError(`expected , or } after label ${name}`);
  }
}

function parseSample(line: string, format: Format): Sample {
  const name = METRIC_NAME.exec(line)?.[0];
  if (!name) throw new ExpositionError("a sample must start with a metric name");
  let rest = line.slice(name.length);
  let labels: Record<string, string> = {};
  if (rest.startsWith("{")) ({ labels, rest } = parseLabels(rest, format));
  const parts = format === "openmetrics-1.0.0" ? rest.split(" ") : rest.trim().split(/[ \t]+/);
  if (format === "openmetrics-1.0.0") {
    if (parts.shift() !== "") throw new ExpositionError("OpenMetrics: exactly one space before the value");
  }
  if (parts.length < 1 || parts.length > 2 || parts[0] === "")
    throw new ExpositionError(`expected a value (and an optional timestamp), got ${JSON.stringify(rest)}`);
  const value = parseNumber(parts[0]!);
  if (parts[1] !== undefined) parseNumber(parts[1]);
  return { name, labels, value };
}

function seriesKey(sample: Sample): string {
  const labels = Object.entries(sample.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${sample.name}${JSON.stringify(labels)}`;
}

function belongsTo(sampleName: string, current: Family | undefined, format: Format): boolean {
  if (!current) return false;
  const suffixes = SUFFIXES[format][current.type] ?? [""];
  return suffixes.some((suffix) => sampleName === current.name + suffix);
}

/**
 * Parses an exposition strictly. Throws ExpositionError naming the line for anything a scraper
 * of that format would refuse.
 */
export function parseExposition(text: string, format: Format): Exposition {
  const om = format === "openmetrics-1.0.0";
  if (text.includes("\r")) throw new ExpositionError("line endings must be \\n, never \\r");
  if (!text.endsWith("\n")) throw new ExpositionError("the exposition must end with a line feed");
  const lines = text.slice(0, -1).split("\n");
  const families: Family[] = [];
  const byName = new Map<string, Family>();
  const closed = new Set<string>();
  const series = new Set<string>();
  const typed = new Set<string>();
  let current: Family | undefined;
  let currentHasSamples = false;
  let sawEof = false;

  const open = (name: string): Family => {
    if (current?.name === name) return current;
    if (current) closed.add(current.name);
    if (closed.has(name) || byName.has(name))
      throw new ExpositionError(`metric ${name} appears in two places: a family's lines must form one group`);
    const family: Family = { name, type: om ? "unknown" : "untyped", samples: [] };
    families.push(family);
    byName.set(name, family);
    current = family;
    currentHasSamples = false;
    return family;
  };

  lines.forEach((line, index) => {
    const where = `line ${index + 1} (${JSON.stringify(line.slice(0, 80))})`;
    try {
      if (sawEof) throw new ExpositionError("nothing may follow # EOF");
      if (line === "") {
        if (om) throw new ExpositionError("OpenMetrics allows no blank lines");
        return;
      }
      if (line.startsWith("#")) {
        if (om && line === "# EOF") {
          sawEof = true;
          return;
        }
        const meta = om
          ? /^# (TYPE|HELP|UNIT) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line)
          : /^#[ \t]+(TYPE|HELP)[ \t]+([a-zA-Z_:][a-zA-Z0-9_:]*)(?:[ \t]+(.*))?$/.exec(line);
        if (!meta) {
          if (om)
            throw new ExpositionError("OpenMetrics allows no comments besides TYPE, UNIT, HELP and the final # EOF");
          return; // 0.0.4: any other comment is ignored
        }
        const [, keyword, name, rawValue = ""] = meta as unknown as [string, string, string, string?];
        const family = open(name);
        if (currentHasSamples) throw new ExpositionError(`# ${keyword} ${name} comes after its samples`);
        if (keyword === "TYPE") {
          if (typed.has(name)) throw new ExpositionError(`a second TYPE for ${name}`);
          const type = rawValue.trim();
          if (!(om ? TYPES_OM : TYPES_004).has(type)) throw new ExpositionError(`unknown type ${JSON.stringify(type)}`);
          family.type = type;
          typed.add(name);
        } else if (keyword === "HELP") {
          if (family.help !== undefined) throw new ExpositionError(`a second HELP for ${name}`);
          if (om && /(^|[^\\])(\\\\)*"/.test(rawValue))
            throw new ExpositionError(`HELP ${name}: a double quote must be escaped as \\" in OpenMetrics`);
          family.help = unescape(rawValue, om ? '\\"n' : "\\n", `HELP ${name}`);
        } else {
          if (family.unit !== undefined) throw new ExpositionError(`a second UNIT for ${name}`);
          if (rawValue !== "" && !name.endsWith(`_${rawValue}`))
            throw new ExpositionError(`UNIT ${rawValue} is not a suffix of ${name}`);
          family.unit = rawValue;
        }
        return;
      }
      const sample = parseSample(line, format);
      let family = current;
      if (!belongsTo(sample.name, family, format)) {
        if (om && byName.has(sample.name))
          throw new ExpositionError(`sample ${sample.name} does not belong to the family it follows`);
        family = open(sample.name);
      }
      if (om && family!.type === "counter" && !sample.name.endsWith("_total") && !sample.name.endsWith("_created")) {
        throw new ExpositionError("OpenMetrics counter samples are named <family>_total (or _created)");
      }
      if (sample.name.endsWith("_bucket") && family!.type.endsWith("histogram") && sample.labels.le === undefined) {
        throw new ExpositionError("a _bucket sample needs an le label");
      }
      const key = seriesKey(sample);
      if (series.has(key)) throw new ExpositionError(`the series ${key} appears twice`);
      series.add(key);
      family!.samples.push(sample);
      currentHasSamples = true;
    } catch (error) {
      if (error instanceof ExpositionError) throw new ExpositionError(`${format}, ${where}: ${error.message}`);
      throw error;
    }
  });
  if (om && !sawEof) throw new ExpositionError("an OpenMetrics exposition must end with # EOF");
  return { families, family: (name) => byName.get(name) };
}

/** The labels of a histogram sample without `le`: which series a bucket belongs to. */
function withoutLe(labels: Record<string, string>): string {
  const { le: _le, ...rest } = labels;
  return JSON.stringify(Object.entries(rest).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * Checks what makes a histogram a histogram: in every series the buckets come in increasing
 * `le` order, end at +Inf, are cumulative, and _count equals the +Inf bucket. Throws a message
 * that says which rule broke.
 */
export function checkHistograms(exposition: Exposition): void {
  for (const family of exposition.families) {
    if (family.type !== "histogram") continue;
    const groups = new Map<string, { les: number[]; values: number[]; count?: number }>();
    for (const sample of family.samples) {
      const key = withoutLe(sample.labels);
      const group = groups.get(key) ?? { les: [], values: [] };
      groups.set(key, group);
      if (sample.name === `${family.name}_bucket`) {
        group.les.push(parseNumber(sample.labels.le!));
        group.values.push(sample.value);
      } else if (sample.name === `${family.name}_count`) {
        group.count = sample.value;
      }
    }
    for (const [key, group] of groups) {
      const where = `histogram ${family.name} ${key}`;
      for (let i = 1; i < group.les.length; i++) {
        if (!(group.les[i]! > group.les[i - 1]!))
          throw new ExpositionError(`${where}: buckets must come in increasing le order`);
        if (group.values[i]! < group.values[i - 1]!) {
          throw new ExpositionError(
            `${where}: buckets must be cumulative (le=${group.les[i]} counts ${group.values[i]}, ` +
              `less than le=${group.les[i - 1]} with ${group.values[i - 1]})`,
          );
        }
      }
      if (group.les.at(-1) !== Number.POSITIVE_INFINITY)
        throw new ExpositionError(`${where}: the last bucket must be le="+Inf"`);
      if (group.count !== undefined && group.count !== group.values.at(-1)) {
        throw new ExpositionError(
          `${where}: _count (${group.count}) must equal the +Inf bucket (${group.values.at(-1)})`,
        );
      }
    }
  }
}

/** A comparable view: families by name, samples sorted, `le` as a number, optional `_created` dropped. */
export function meaning(exposition: Exposition, options: { keepCreated?: boolean; keepUnit?: boolean } = {}): unknown {
  return exposition.families
    .map((family) => ({
      name: family.name,
      type: family.type,
      help: family.help ?? "",
      ...(options.keepUnit ? { unit: family.unit } : {}),
      samples: family.samples
        .filter((s) => options.keepCreated || !s.name.endsWith("_created"))
        .map((s) => {
          const labels = { ...s.labels };
          if (labels.le !== undefined) labels.le = String(parseNumber(labels.le));
          return { key: seriesKey({ ...s, labels }), value: Number.isNaN(s.value) ? "NaN" : s.value };
        })
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** The value of the one sample with this name and exactly these labels, or undefined. */
export function valueOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = seriesKey({ name, labels, value: 0 });
  for (const family of exposition.families) for (const s of family.samples) if (seriesKey(s) === want) return s.value;
  return undefined;
}
