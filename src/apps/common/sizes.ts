/**
 * Errors the CLI reports and the grammar of sizes and whole numbers on a command line or in a
 * file: no Node APIs, so that data parsers (workloads, src/apps/sim) use them anywhere.
 */
/**
 * An error a command reports instead of its output: a stable `code` (docs/tools.md, "Errors"),
 * a message saying what went wrong, a hint saying what to do, and the exit status (2: the
 * command line or a file it names is wrong; 1: the command ran and failed).
 */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  constructor(
    readonly code: string,
    message: string,
    readonly hint: string | null = null,
    readonly exitCode: 1 | 2 | 125 = 1,
  ) {
    super(message);
  }
}

/** A usage error: code `usage`, exit status 2. `option` is set for an option the command does not know. */
export class UsageError extends CliError {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    hint: string | null = null,
    readonly option: string | null = null,
  ) {
    super('usage', message, hint, 2);
  }
}

/** The hint of every size refusal: what a size may look like. */
export const SIZE_FORMS = 'a size is a whole number of bytes, decimal or 0x hex, with an optional unit K, M, G or T (1K = 1024; KiB and KB mean K): 4096, 64K, 1M, 0x1000';

const UNITS: Readonly<Record<string, bigint>> = { '': 1n, b: 1n, k: 1n << 10n, m: 1n << 20n, g: 1n << 30n, t: 1n << 40n };

/** 4096 → "4096", 65536 → "64K", 2^42 → "4T": the largest unit that divides `n` exactly. */
export function sizeText(n: number | bigint): string {
  const v = BigInt(n);
  for (const [u, m] of [['T', 1n << 40n], ['G', 1n << 30n], ['M', 1n << 20n], ['K', 1n << 10n]] as const) {
    if (v >= m && v % m === 0n) return `${v / m}${u}`;
  }
  return String(v);
}

export interface SizeLimits {
  /** Smallest accepted value (default 0). */
  readonly min?: number;
  /** Largest accepted value (default 2^53 - 1, the largest byte count a JavaScript number holds exactly). */
  readonly max?: number;
  /** Why the maximum is what it is, appended to the refusal. */
  readonly maxWhy?: string;
}

/** Why `s` is not a size, for a refusal; null when it matches the grammar. */
function sizeProblem(s: string): string | null {
  if (s === '') return 'it is empty';
  if (/\s/.test(s)) return 'it contains a space';
  if (s.startsWith('-')) return 'it is negative';
  if (s.startsWith('+')) return 'a sign is not accepted';
  if (/^0x([^0-9a-f]|$)/i.test(s)) return '0x needs hex digits after it';
  const frac = /^(\d*\.\d*|\d+(?:\.\d*)?e[+-]?\d+)([kmgt]?)(i?b?)$/i.exec(s);
  if (frac !== null && /\d/.test(frac[1]!)) {
    const exp = /e/i.test(frac[1]!);
    const bytes = Number(frac[1]) * Number(UNITS[frac[2]!.toLowerCase()] ?? 1n);
    const instead = Number.isSafeInteger(bytes) && bytes > 0 ? ` (write ${sizeText(bytes)})` : '';
    return `${exp ? 'exponents are not accepted' : 'it is not a whole number of bytes'}${instead}`;
  }
  if (/^0\d/.test(s)) return 'a leading zero is ambiguous (the kernel reads 010 as octal): write the number without it, or in 0x hex';
  const m = /^(0x[0-9a-f]+|\d+)(.*)$/i.exec(s);
  if (m === null) return 'it does not start with a number';
  const unit = m[2]!;
  if (/^([kmgt]i?b?|b)?$/i.test(unit)) return null;
  return `'${unit}' is not a unit`;
}

/**
 * A size from the command line → bytes. Accepted: a decimal number without leading zeros, or
 * 0x and hex digits, then optionally a unit: K, M, G or T (powers of 1024, as the kernel's
 * memparse reads them), each optionally followed by `i`, `B` or `iB` (`64KiB`, `64KB`), or `B`
 * alone; case does not matter. Everything else is refused, with the accepted forms in the hint:
 * empty text, spaces, signs, fractions, exponents, other units, values above `max`.
 */
export function parseSize(s: string, what: string, limits: SizeLimits = {}): number {
  const problem = sizeProblem(s);
  if (problem !== null) throw new UsageError(`${what}: '${s}' is not a size: ${problem}`, SIZE_FORMS);
  const m = /^(0x[0-9a-f]+|\d+)([kmgt]?)/i.exec(s)!;
  const bytes = BigInt(m[1]!) * UNITS[m[2]!.toLowerCase()]!;
  const max = limits.max ?? Number.MAX_SAFE_INTEGER;
  const min = limits.min ?? 0;
  if (bytes > BigInt(max)) {
    const at = limits.max === undefined ? '9007199254740991 bytes (2^53 - 1, the largest whole number a JavaScript number holds exactly)' : `${sizeText(max)}${limits.maxWhy !== undefined ? ` (${limits.maxWhy})` : ''}`;
    throw new UsageError(`${what}: '${s}' is too large: the largest is ${at}`, SIZE_FORMS);
  }
  if (bytes < BigInt(min)) throw new UsageError(`${what}: '${s}' is too small: the smallest is ${sizeText(min)}`, SIZE_FORMS);
  return Number(bytes);
}

export interface IntegerSpec {
  /** What the number is, with its article: "a process id". */
  readonly noun: string;
  readonly min: number;
  readonly max: number;
  /** Said after the range in the hint, e.g. "(PID_MAX_LIMIT)". */
  readonly note?: string;
}

/**
 * A whole number from the command line: decimal digits only, no sign, no leading zero, no
 * spaces, no unit, within [min, max]. The refusal says what was wrong; its hint gives the range.
 */
export function parseInteger(s: string, what: string, spec: IntegerSpec): number {
  const hint = `${what} takes ${spec.noun}: a decimal whole number from ${spec.min} to ${spec.max}${spec.note !== undefined ? ` ${spec.note}` : ''}`;
  const refuse = (why: string): never => {
    throw new UsageError(`${what}: '${s}' is not ${spec.noun}: ${why}`, hint);
  };
  if (s === '') refuse('it is empty');
  if (/\s/.test(s)) refuse('it contains a space');
  if (s.startsWith('-')) refuse('it is negative');
  if (!/^\d+$/.test(s)) refuse('only decimal digits are accepted');
  if (/^0\d/.test(s)) refuse('a leading zero is not accepted');
  const n = BigInt(s);
  if (n > BigInt(spec.max)) refuse(`the largest is ${spec.max}`);
  if (n < BigInt(spec.min)) refuse(`the smallest is ${spec.min}`);
  return Number(n);
}
