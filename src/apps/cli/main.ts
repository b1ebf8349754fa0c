#!/usr/bin/env node
/**
 * The dmaheap command line.
 */
import { readFileSync } from 'node:fs';
import { ErrnoError } from '../../api/errors.js';
import { createEmulatedTarget, describeHeaps } from '../../backends/emulated/index.js';
import { conformanceMain } from '../conformance/cli.js';
import { MACHINE_OPTIONS, UsageError, machineFrom, parse, parseSize } from '../common/args.js';
import { printDemo, runDemo } from './demo.js';
import { fmtBytes, table } from '../common/format.js';

const USAGE = `Usage: dmaheap <command> [options]

Commands:
  demo                       boot the emulated kernel, list its heaps, then allocate, map,
                             sync, name and free a buffer, printing what happened
  heaps                      list the heaps of the emulated machine
  conformance run <files>    run conformance case files (JSON) against a backend

Machine options (emulated kernel; defaults: profile 7.0, x86_64, 4 KiB pages, 2 GiB RAM, cma=64M):
  --profile <v>      kernel version profile: 6.1, 6.6, 6.12, 6.17, 6.18, 6.19, 7.0
  --cmdline <args>   kernel command line, e.g. 'cma=128M@0x40000000'
  --ram <size>       RAM size, e.g. 4G
  --page-size <n>    4096, or 16K/64K with --arch arm64
  --arch <a>         x86_64 or arm64
  --json             machine-readable output
Run 'dmaheap <command> --help' for a command's own options.`;

const DEFAULT_MACHINE = { cmdline: 'cma=64M' };

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      console.log(USAGE);
      return cmd === undefined ? 2 : 0;
    case '--version':
    case '-V':
      console.log(version());
      return 0;
    case 'demo': {
      const { values } = parse(rest, { ...MACHINE_OPTIONS, heap: { type: 'string' }, size: { type: 'string' } });
      if (values.help) {
        console.log('Usage: dmaheap demo [--heap <name>] [--size <bytes>] [machine options] [--json]');
        return 0;
      }
      const machine = machineFrom(values, DEFAULT_MACHINE);
      const size = values.size !== undefined ? parseSize(values.size, '--size') : 1024 * 1024;
      const r = runDemo(machine, values.heap, size);
      console.log(values.json ? JSON.stringify(r, null, 2) : printDemo(r, machine));
      return 0;
    }
    case 'heaps': {
      const { values } = parse(rest, MACHINE_OPTIONS);
      if (values.help) {
        console.log('Usage: dmaheap heaps [machine options] [--json]');
        return 0;
      }
      const t = createEmulatedTarget(machineFrom(values, DEFAULT_MACHINE));
      const heaps = describeHeaps(t.kernel);
      if (values.json) console.log(JSON.stringify({ kernel: t.release, heaps }, null, 2));
      else {
        console.log(`Emulated Linux ${t.release}: ${heaps.length} heap${heaps.length === 1 ? '' : 's'} in /dev/dma_heap`);
        console.log(table([['name', 'dev', 'kind', 'contiguous', 'backing', 'capacity', 'free'], ...heaps.map((h) => [h.name, h.dev, h.kind, h.contiguous ? 'yes' : 'no', h.area ? `CMA area "${h.area.name}" at 0x${h.area.base.toString(16)}` : 'page allocator', fmtBytes(h.capacity), fmtBytes(h.free)])]));
        if (heaps.length === 0) console.log('No heaps: boot with --cmdline cma=64M for a CMA heap.');
      }
      t.dispose();
      return 0;
    }
    case 'conformance':
      return conformanceMain(rest);
    default:
      throw new UsageError(`unknown command '${cmd}'`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) {
      console.error(`dmaheap: ${e.message}\nRun 'dmaheap --help' for usage.`);
      process.exitCode = 2;
    } else if (e instanceof ErrnoError) {
      console.error(`dmaheap: ${e.message}`);
      process.exitCode = 1;
    } else if (e instanceof Error && e.name === 'KernelConfigError') {
      console.error(`dmaheap: ${e.message}`);
      process.exitCode = 2;
    } else {
      console.error(`dmaheap: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      process.exitCode = 70;
    }
  },
);
