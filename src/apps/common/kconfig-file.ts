/**
 * `--kconfig`: a kernel configuration from the command line (docs/kconfig.md). Each value is a
 * `.config` file (plain or gzip'd, as /proc/config.gz), or options `SYMBOL=value` separated by
 * commas; the option is repeatable, one file at most, options in the order given on top of the
 * file (or of the emulated build's configuration). Files are read within KCONFIG_LIMITS, never
 * from a device or FIFO; every refusal is a KconfigArgError naming the file and line.
 */
import { gunzipSync } from 'node:zlib';
import { Kconfig, KconfigError, KCONFIG_LIMITS, looksLikeKconfigOptions, parseKconfigOptions, parseKconfigText } from '../../kernel/kconfig.js';
import type { KconfigText } from '../../kernel/kconfig.js';
import { readBoundedFile } from '../../boards/files.js';

/** A refused --kconfig value (args.ts machineFrom() makes it a UsageError: exit status 2). */
export class KconfigArgError extends Error {
  override readonly name = 'KconfigArgError';
  constructor(
    message: string,
    readonly hint: string = KCONFIG_HINT,
  ) {
    super(message);
  }
}

/** The hint of every --kconfig refusal. */
export const KCONFIG_HINT = '--kconfig takes a .config file (CONFIG_<SYMBOL>=<value> and "# CONFIG_<SYMBOL> is not set" lines; /proc/config.gz too) or options SYMBOL=value, comma-separated (CMA_SIZE_MBYTES=64,DMABUF_HEAPS_CMA=n); see docs/kconfig.md';

/** A `.config` file's text: plain or gzip'd, at most KCONFIG_LIMITS.maxBytes either way. Throws KconfigArgError. */
export function readKconfigFile(path: string, what = '--kconfig'): KconfigText {
  const r = readBoundedFile(path, KCONFIG_LIMITS.maxBytes);
  if (!(r instanceof Uint8Array)) throw new KconfigArgError(`${what}: ${r.error}`, KCONFIG_HINT);
  let bytes = r;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = new Uint8Array(gunzipSync(bytes, { maxOutputLength: KCONFIG_LIMITS.maxBytes }));
    } catch (e) {
      const big = (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError;
      throw new KconfigArgError(`${what}: ${path}: ${big ? `more than ${KCONFIG_LIMITS.maxBytes} bytes once gunzip'd` : 'a gzip file that does not gunzip'}`, KCONFIG_HINT);
    }
  }
  try {
    return parseKconfigText(Buffer.from(bytes).toString('latin1'), path);
  } catch (e) {
    if (e instanceof KconfigError) throw new KconfigArgError(`${what}: ${e.message}`, KCONFIG_HINT);
    throw e;
  }
}

/** The configuration of `--kconfig` values (files and options, in order). Throws KconfigArgError. */
export function kconfigFromArgs(values: readonly string[], what = '--kconfig', readFile: (path: string) => KconfigText = (p) => readKconfigFile(p, what)): Kconfig {
  let base: KconfigText | null = null;
  const opts: [string, string][] = [];
  for (const v of values) {
    if (looksLikeKconfigOptions(v)) {
      try {
        opts.push(...parseKconfigOptions(v, what));
      } catch (e) {
        if (e instanceof KconfigError) throw new KconfigArgError(e.message, KCONFIG_HINT);
        throw e;
      }
      continue;
    }
    if (v === '') throw new KconfigArgError(`${what}: an empty value`, KCONFIG_HINT);
    if (base !== null) throw new KconfigArgError(`${what}: two .config files (${base.source} and ${v})`, 'give one .config file and put the changes to it in options: --kconfig FILE --kconfig SYMBOL=value');
    base = readFile(v);
  }
  try {
    const kc = Kconfig.options(opts);
    return base === null ? kc : kc.withBase(base);
  } catch (e) {
    if (e instanceof KconfigError) throw new KconfigArgError(e.message, KCONFIG_HINT);
    throw e;
  }
}
