/**
 * Command-line parsing shared by every command: strict options with clear errors, sizes with
 * K/M/G suffixes, and the options that describe an emulated machine.
 */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import type { EmulatedOptions } from '../../backends/emulated/index.js';

/** A usage error: printed with a hint, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const MACHINE_OPTIONS = {
  profile: { type: 'string' },
  cmdline: { type: 'string' },
  board: { type: 'string' },
  features: { type: 'string' },
  ram: { type: 'string' },
  'page-size': { type: 'string' },
  arch: { type: 'string' },
  json: { type: 'boolean' },
  sanitize: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `64M`, `2G`, `4096`, `0x1000` → bytes. */
export function parseSize(s: string, what: string): number {
  const m = /^(0x[0-9a-f]+|\d+)([kmgt]i?b?)?$/i.exec(s.trim());
  if (m === null) throw new UsageError(`${what}: '${s}' is not a size (examples: 4096, 64M, 2G)`);
  const n = Number(m[1]);
  const unit = (m[2] ?? '').charAt(0).toLowerCase();
  const mult = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : unit === 't' ? 1024 ** 4 : 1;
  const v = n * mult;
  if (!Number.isSafeInteger(v)) throw new UsageError(`${what}: '${s}' is too large`);
  return v;
}

export function machineFrom(values: Record<string, unknown>, defaults: EmulatedOptions = {}): EmulatedOptions {
  const o: EmulatedOptions = { ...defaults };
  if (typeof values.profile === 'string') o.profile = values.profile;
  if (typeof values.cmdline === 'string') {
    o.cmdline = values.cmdline;
    o.cmdlineGiven = true;
  }
  if (typeof values.ram === 'string') o.ramBytes = parseSize(values.ram, '--ram');
  if (typeof values['page-size'] === 'string') o.pageSize = parseSize(values['page-size'], '--page-size');
  if (typeof values.features === 'string') {
    for (const f of values.features.split(',').map((x) => x.trim()).filter((x) => x !== '')) {
      if (f === 'coherent' || f === 'coherent-v3') o.features = { ...o.features, coherentHeap: 'v3' };
      else if (f === 'coherent-prefixed') o.features = { ...o.features, coherentHeap: 'prefixed' };
      else if (f === 'dmem') o.features = { ...o.features, dmemCharging: true };
      else if (f === 'charge-pidfd') o.features = { ...o.features, chargePidFd: true };
      else throw new UsageError(`--features: unknown feature '${f}' (known: coherent, coherent-prefixed, dmem, charge-pidfd)`);
    }
  }
  if (values.sanitize === true) o.sanitizer = true;
  if (typeof values.arch === 'string') {
    if (values.arch !== 'x86_64' && values.arch !== 'arm64') throw new UsageError(`--arch: '${values.arch}' is not x86_64 or arm64`);
    o.arch = values.arch;
  }
  return o;
}

/** parseArgs with errors turned into UsageErrors. */
export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, allowPositionals = false): ReturnType<typeof parseArgs<{ options: T; strict: true; allowPositionals: boolean }>> {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
}
