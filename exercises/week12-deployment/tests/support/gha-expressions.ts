/**
 * GitHub Actions expressions, evaluated the way the runner does, so the release-workflow
 * tests can ask "does this job run for a tag push?" of any correct `if:`. Supported: literals
 * (null, booleans, numbers, 'strings' with '' as the escape), property access (a.b, a['b']),
 * ! < <= > >= == != && || and parentheses, the functions contains, startsWith, endsWith,
 * format, join, toJSON, fromJSON, hashFiles, and the status functions success, always,
 * failure and cancelled. As on GitHub: == compares strings case-insensitively and coerces
 * mixed types to numbers; && and || return an operand; false, 0, '', null and NaN are falsy.
 */

export type Value = null | boolean | number | string | Value[] | { [key: string]: Value };
export interface Context {
  readonly [name: string]: Value;
}
export interface StatusFunctions {
  success(): boolean;
  always(): boolean;
  failure(): boolean;
  cancelled(): boolean;
}

type Token =
  | { kind: "num"; value: number }
  | { kind: "str"; value: string }
  | { kind: "id"; value: string }
  | { kind: "op"; value: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === "'") {
      let value = "";
      i++;
      for (;;) {
        if (i >= text.length) throw new SyntaxError(`unterminated string in ${text}`);
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i++];
      }
      tokens.push({ kind: "str", value });
    } else if (/[0-9]/.test(ch) || (ch === "-" && /[0-9]/.test(text[i + 1] ?? ""))) {
      const match = /^-?(0x[0-9a-f]+|\d+(\.\d+)?(e[+-]?\d+)?)/i.exec(text.slice(i))!;
      tokens.push({ kind: "num", value: Number(match[0]) });
      i += match[0].length;
    } else if (/[A-Za-z_]/.test(ch)) {
      const match = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(text.slice(i))!;
      tokens.push({ kind: "id", value: match[0] });
      i += match[0].length;
    } else {
      const two = text.slice(i, i + 2);
      if (["==", "!=", "<=", ">=", "&&", "||"].includes(two)) {
        tokens.push({ kind: "op", value: two });
        i += 2;
      } else if ("!<>()[].,*".includes(ch)) {
        tokens.push({ kind: "op", value: ch });
        i++;
      } else throw new SyntaxError(`unexpected ${JSON.stringify(ch)} in ${text}`);
    }
  }
  return tokens;
}

const isObject = (v: Value): v is { [key: string]: Value } => v !== null && typeof v === "object" && !Array.isArray(v);

export function truthy(v: Value): boolean {
  return !(v === null || v === false || v === 0 || v === "" || (typeof v === "number" && Number.isNaN(v)));
}

function toNumber(v: Value): number {
  if (v === null) return 0;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "number") return v;
  if (typeof v === "string") return v.trim() === "" ? 0 : Number(v);
  return Number.NaN;
}

/** How a value turns into text inside ${{ }} and for string functions. */
export function toText(v: Value): string {
  if (v === null) return "";
  if (typeof v === "string") return v;
  if (typeof v === "boolean" || typeof v === "number") return String(v);
  return JSON.stringify(v);
}

function equal(a: Value, b: Value): boolean {
  if (typeof a === "string" && typeof b === "string") return a.toLowerCase() === b.toLowerCase();
  const complex = (v: Value) => v !== null && typeof v === "object";
  if (complex(a) || complex(b)) return a === b;
  if (typeof a === typeof b) return a === b;
  return toNumber(a) === toNumber(b);
}

function compare(a: Value, b: Value): number {
  if (typeof a === "string" && typeof b === "string")
    return a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0;
  const x = toNumber(a);
  const y = toNumber(b);
  return Number.isNaN(x) || Number.isNaN(y) ? Number.NaN : x - y;
}

/** Evaluates one expression (without the ${{ }}) in `context`. */
export function evaluate(expression: string, context: Context, status: StatusFunctions): Value {
  const tokens = tokenize(expression);
  let pos = 0;
  const peek = () => tokens[pos];
  const isOp = (value: string) => peek()?.kind === "op" && peek()!.value === value;
  const expectOp = (value: string) => {
    if (!isOp(value)) throw new SyntaxError(`expected ${value} in ${expression}`);
    pos++;
  };

  const call = (name: string, args: Value[]): Value => {
    const fn = name.toLowerCase();
    const [a = null, b = null] = args;
    if (fn === "success") return status.success();
    if (fn === "always") return status.always();
    if (fn === "failure") return status.failure();
    if (fn === "cancelled") return status.cancelled();
    if (fn === "contains")
      return Array.isArray(a)
        ? a.some((item) => equal(item, b))
        : toText(a).toLowerCase().includes(toText(b).toLowerCase());
    if (fn === "startswith") return toText(a).toLowerCase().startsWith(toText(b).toLowerCase());
    if (fn === "endswith") return toText(a).toLowerCase().endsWith(toText(b).toLowerCase());
    if (fn === "format") return toText(a).replace(/\{(\d+)\}/g, (_, n: string) => toText(args[Number(n) + 1] ?? null));
    if (fn === "join") return Array.isArray(a) ? a.map(toText).join(b === null ? "," : toText(b)) : toText(a);
    if (fn === "tojson") return JSON.stringify(a, null, 2);
    if (fn === "fromjson") return JSON.parse(toText(a)) as Value;
    if (fn === "hashfiles") return "0123456789abcdef";
    throw new SyntaxError(`unknown function ${name}() in ${expression}`);
  };

  const primary = (): Value => {
    const token = peek();
    if (!token) throw new SyntaxError(`unexpected end of ${expression}`);
    pos++;
    if (token.kind === "num" || token.kind === "str") return token.value;
    if (token.kind === "op" && token.value === "(") {
      const inner = or();
      expectOp(")");
      return inner;
    }
    if (token.kind === "id") {
      if (isOp("(")) {
        pos++;
        const args: Value[] = [];
        while (!isOp(")")) {
          args.push(or());
          if (isOp(",")) pos++;
          else break;
        }
        expectOp(")");
        return call(token.value, args);
      }
      if (token.value === "true") return true;
      if (token.value === "false") return false;
      if (token.value === "null") return null;
      return context[token.value] ?? null;
    }
    throw new SyntaxError(`unexpected ${token.value} in ${expression}`);
  };

  const member = (): Value => {
    let value = primary();
    for (;;) {
      if (isOp(".")) {
        pos++;
        const name = peek();
        pos++;
        if (name?.kind === "op" && name.value === "*")
          value = Array.isArray(value) ? value : isObject(value) ? Object.values(value) : [];
        else if (name?.kind === "id") value = isObject(value) ? (value[name.value] ?? null) : null;
        else throw new SyntaxError(`bad property access in ${expression}`);
      } else if (isOp("[")) {
        pos++;
        const key = or();
        expectOp("]");
        value = Array.isArray(value)
          ? (value[toNumber(key)] ?? null)
          : isObject(value)
            ? (value[toText(key)] ?? null)
            : null;
      } else return value;
    }
  };

  const unary = (): Value => {
    if (isOp("!")) {
      pos++;
      return !truthy(unary());
    }
    return member();
  };

  const relational = (): Value => {
    let left = unary();
    while (["<", "<=", ">", ">="].some(isOp)) {
      const op = peek()!.value;
      pos++;
      const c = compare(left, unary());
      left = op === "<" ? c < 0 : op === "<=" ? c <= 0 : op === ">" ? c > 0 : c >= 0;
    }
    return left;
  };

  const equality = (): Value => {
    let left = relational();
    while (isOp("==") || isOp("!=")) {
      const op = peek()!.value;
      pos++;
      const same = equal(left, relational());
      left = op === "==" ? same : !same;
    }
    return left;
  };

  const and = (): Value => {
    let left = equality();
    while (isOp("&&")) {
      pos++;
      const right = equality();
      left = truthy(left) ? right : left;
    }
    return left;
  };

  function or(): Value {
    let left = and();
    while (isOp("||")) {
      pos++;
      const right = and();
      left = truthy(left) ? left : right;
    }
    return left;
  }

  const result = or();
  if (pos !== tokens.length) throw new SyntaxError(`unexpected ${tokens[pos]!.value} in ${expression}`);
  return result;
}

const WHOLE = /^\s*\$\{\{([\s\S]*)\}\}\s*$/;

/** A field that may hold ${{ }} parts: each part is evaluated and spliced in as text. */
export function interpolate(text: unknown, context: Context, status: StatusFunctions): Value {
  if (typeof text !== "string") return (text ?? null) as Value;
  const whole = WHOLE.exec(text);
  if (whole && !whole[1]!.includes("}}")) return evaluate(whole[1]!, context, status);
  return text.replace(/\$\{\{([\s\S]*?)\}\}/g, (_, inner: string) => toText(evaluate(inner, context, status)));
}

/** An `if:` condition: an expression with or without ${{ }}; text around a ${{ }} makes it a (truthy) string. */
export function condition(text: unknown, context: Context, status: StatusFunctions): boolean {
  if (text === undefined || text === null) return status.success();
  if (typeof text !== "string") return truthy(text as Value) && status.success();
  const whole = WHOLE.exec(text);
  const expression = whole && !whole[1]!.includes("}}") ? whole[1]! : text.includes("${{") ? undefined : text;
  if (expression === undefined) return truthy(interpolate(text, context, status)) && status.success();
  const usesStatus = /\b(success|always|failure|cancelled)\s*\(/i.test(expression);
  const value = truthy(evaluate(expression, context, status));
  // Without a status function, GitHub adds `success() &&` in front.
  return usesStatus ? value : status.success() && value;
}
