// Every option of every command (src/apps/cli/commands.ts, and conformance run) is in that
// command's --help, and has an effect or is refused: no option is silently ignored. Each
// option is classified below; the test fails when a command gains an option that is not
// classified, or loses one that is. Effects are checked by running the command in-process
// (runCli) with and without the option: its output (stdout, stderr, exit status) must differ,
// or, for an option that only shapes the emulated machine, the machine the command boots must.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/apps/cli/run.js';
import type { CliIo } from '../../src/apps/cli/run.js';
import { COMMANDS } from '../../src/apps/cli/commands.js';
import { helpText, optionsOf } from '../../src/apps/common/options.js';
import type { EmulatedOptions } from '../../src/backends/emulated/index.js';

const root = (p: string) => new URL(`../../../${p}`, import.meta.url).pathname;
const IMX8MP = root('examples/boards/imx8mp.dts');
const AM62X = root('examples/boards/am62x.dts');

interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
  readonly machine: string | null;
}

/** Runs `dmaheap <argv>` in this process; a live command (top, alloc --hold) stops after its first output. */
async function run(argv: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  let machine: string | null = null;
  let ac = new AbortController();
  const io: CliIo = {
    out: (s) => out.push(s),
    err: (s) => err.push(s),
    write: (s) => {
      out.push(s);
      ac.abort();
    },
    isTTY: false,
    columns: () => undefined,
    stop: () => {
      // alloc --hold: released at once; top: after its first screen
      if (argv[0] === 'alloc' || argv[0] === 'dashboard') ac.abort();
      return { signal: ac.signal, dispose: () => (ac = new AbortController()) };
    },
    openUrl: (u) => out.push(`opened ${u}`),
    onMachine: (m: EmulatedOptions) => {
      machine = JSON.stringify(m, (_k, v: unknown) => (v !== null && typeof v === 'object' && 'root' in v ? '<board>' : v));
    },
  };
  const code = await runCli(argv, io);
  // times of day differ between two runs
  const clean = (s: string) => s.replace(/\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>').replace(/:(3[2-9]\d{3}|[4-6]\d{4})\//g, ':<port>/');
  return { code, out: clean(out.join('\n')), err: clean(err.join('\n')), machine };
}

/**
 * How an option shows its effect: `output`: the command with `args` added to `base` prints
 * something else (and is not a usage error); `machine`: the emulated machine it boots differs
 * (options that shape the machine without showing in this command's output).
 */
type Effect = { readonly effect: 'output' | 'machine' | 'enables'; readonly base: readonly string[]; readonly args: readonly string[] };

const out = (base: readonly string[], ...args: string[]): Effect => ({ effect: 'output', base, args });
const machine = (base: readonly string[], ...args: string[]): Effect => ({ effect: 'machine', base, args });
/** `enables`: the base command is refused (a usage error) and the option makes it work (simulate --replay reads a recording). */
const enables = (base: readonly string[], ...args: string[]): Effect => ({ effect: 'enables', base, args });

let casesDir = '';

/** Per command, per option. */
function effects(): Record<string, Record<string, Effect>> {
  const demo = ['demo'];
  const heaps = ['heaps', '--backend', 'emulated'];
  const lint = ['lint-names'];
  const sim = ['simulate', join(casesDir, 'sim.yaml')];
  const dump = ['dump', '--backend', 'emulated', '--demo-workload'];
  const doctor = ['doctor', '--backend', 'emulated'];
  const top = ['top', '--backend', 'emulated', '--once', '--demo-workload'];
  const alloc = ['alloc', 'default_cma_region', '4096', '--backend', 'emulated'];
  const conf = ['conformance', 'run', join(casesDir, 'heaps.json')];
  const runTrue = ['run', '--', 'true'];
  const dash = ['dashboard'];
  return {
    demo: {
      heap: out(demo, '--heap', 'system'),
      size: out(demo, '--size', '64K'),
      sanitize: out(demo, '--sanitize'),
      json: out(demo, '--json'),
      help: out(demo, '--help'),
      board: out(demo, '--board', IMX8MP),
      profile: out(demo, '--profile', '6.1'),
      cmdline: out(demo, '--cmdline', 'cma=128M'),
      features: out([...demo, '--board', AM62X], '--features', 'coherent'),
      ram: out(demo, '--ram', '4G'),
      'page-size': out([...demo, '--arch', 'arm64'], '--page-size', '16K'),
      arch: out(demo, '--arch', 'arm64'),
      kconfig: out(demo, '--kconfig', 'DMABUF_HEAPS_CMA=n'),
      loader: machine([...demo, '--arch', 'arm64'], '--loader', 'qemu-virt'),
      fault: out(demo, '--fault', 'alloc:every=1'),
    },
    heaps: {
      backend: out(['heaps'], '--backend', 'emulated'),
      diff: out(heaps, '--diff', '6.12', '7.0'),
      json: out(heaps, '--json'),
      help: out(heaps, '--help'),
      board: out(heaps, '--board', IMX8MP),
      profile: out(heaps, '--profile', '6.1'),
      cmdline: out(heaps, '--cmdline', 'cma=128M'),
      features: out([...heaps, '--board', AM62X], '--features', 'coherent'),
      ram: out(heaps, '--ram', '4G'),
      'page-size': machine([...heaps, '--arch', 'arm64'], '--page-size', '16K'),
      arch: out(heaps, '--arch', 'arm64'),
      kconfig: out(heaps, '--kconfig', 'DMABUF_HEAPS_CMA=n'),
      loader: machine([...heaps, '--arch', 'arm64'], '--loader', 'qemu-virt'),
      fault: out(heaps, '--fault', 'shrink-cma:size=16M'),
    },
    'lint-names': {
      'fail-on': out(lint, '--fail-on', 'changeable'),
      json: out(lint, '--json'),
      help: out(lint, '--help'),
      board: out(lint, '--board', IMX8MP),
      profile: out(lint, '--profile', '6.1'),
      cmdline: out(lint, '--cmdline', 'cma=64M@0x40000000'),
      features: out([...lint, '--board', AM62X], '--features', 'coherent'),
      ram: out(lint, '--ram', '4G'),
      'page-size': machine([...lint, '--arch', 'arm64'], '--page-size', '16K'),
      arch: out(lint, '--arch', 'arm64'),
      kconfig: machine(lint, '--kconfig', 'CMA_AREAS=2'),
      loader: machine([...lint, '--arch', 'arm64'], '--loader', 'qemu-virt'),
      fault: machine(lint, '--fault', 'take-memory:size=1M'),
    },
    dump: {
      attach: out(['dump'], '--attach', '999999999'),
      all: out(dump, '-a'),
      'per-buffer': out(dump, '-b'),
      pid: out(dump, '--pid', '3'),
      backend: out(['dump'], '--backend', 'emulated'),
      'demo-workload': out(['dump', '--backend', 'emulated'], '--demo-workload'),
      json: out(dump, '--json'),
      help: out(dump, '--help'),
      board: out(dump, '--board', IMX8MP),
      profile: out(dump, '--profile', '6.1'),
      cmdline: out(dump, '--cmdline', 'cma=0'),
      features: machine(dump, '--features', 'dmem'),
      ram: machine(dump, '--ram', '4G'),
      'page-size': machine([...dump, '--arch', 'arm64'], '--page-size', '16K'),
      arch: machine(dump, '--arch', 'arm64'),
      kconfig: machine(dump, '--kconfig', 'CMA_AREAS=2'),
      loader: machine([...dump, '--arch', 'arm64'], '--loader', 'qemu-virt'),
      fault: machine(dump, '--fault', 'take-memory:size=1M'),
    },
    doctor: {
      backend: out(['doctor'], '--backend', 'emulated'),
      uid: out(doctor, '--uid', '1000'),
      gid: out(doctor, '--gid', '44'),
      groups: out(doctor, '--groups', '44'),
      json: out(doctor, '--json'),
      help: out(doctor, '--help'),
      board: out(doctor, '--board', IMX8MP),
      profile: out(doctor, '--profile', '6.1'),
      cmdline: out(doctor, '--cmdline', 'cma=0'),
      features: out([...doctor, '--board', AM62X], '--features', 'coherent'),
      ram: out([...doctor, '--cmdline', 'cma=1G'], '--ram', '1G'),
      'page-size': machine([...doctor, '--arch', 'arm64'], '--page-size', '16K'),
      arch: out(doctor, '--arch', 'arm64'),
      kconfig: out(doctor, '--kconfig', 'DMABUF_HEAPS=n'),
      loader: machine([...doctor, '--arch', 'arm64'], '--loader', 'qemu-virt'),
      fault: machine(doctor, '--fault', 'take-memory:size=1M'),
    },
    top: {
      once: out(['top', '--backend', 'emulated'], '--once'),
      attach: out(['top', '--once'], '--attach', '999999999'),
      interval: out(['top', '--backend', 'emulated'], '--interval', '500'),
      backend: out(['top', '--once'], '--backend', 'emulated'),
      'demo-workload': out(['top', '--backend', 'emulated', '--once'], '--demo-workload'),
      json: out(top, '--json'),
      help: out(top, '--help'),
      board: out(top, '--board', IMX8MP),
      profile: out(top, '--profile', '6.1'),
      cmdline: out(top, '--cmdline', 'cma=0'),
      features: machine(top, '--features', 'dmem'),
      ram: machine(top, '--ram', '4G'),
      'page-size': machine([...top, '--arch', 'arm64'], '--page-size', '16K'),
      arch: machine(top, '--arch', 'arm64'),
      kconfig: machine(top, '--kconfig', 'CMA_AREAS=2'),
      loader: machine([...top, '--arch', 'arm64'], '--loader', 'qemu-virt'),
      fault: machine(top, '--fault', 'take-memory:size=1M'),
    },
    alloc: {
      name: out(alloc, '--name', 'x'),
      hold: out(alloc, '--hold'),
      backend: out(['alloc', 'system', '4096'], '--backend', 'emulated'),
      uid: out(alloc, '--uid', '1000'),
      json: out(alloc, '--json'),
      help: out(alloc, '--help'),
      board: out(['alloc', 'system', '4096'], '--board', IMX8MP),
      profile: out(alloc, '--profile', '6.19'),
      cmdline: out(alloc, '--cmdline', 'cma=128M'),
      features: machine(alloc, '--features', 'dmem'),
      ram: out(alloc, '--ram', '4G'),
      'page-size': out([...alloc, '--arch', 'arm64'], '--page-size', '16K'),
      arch: out(alloc, '--arch', 'arm64'),
      kconfig: out(alloc, '--kconfig', 'DMABUF_HEAPS_CMA=n'),
      loader: machine([...alloc, '--arch', 'arm64'], '--loader', 'qemu-virt'),
      fault: out(alloc, '--fault', 'alloc:nth=1'),
    },
    // run's own options show in what it prints on a host where dmaheap run works (Linux x86-64, arm64)
    run: {
      sanitize: out(runTrue, '--sanitize'),
      trace: out(runTrue, '--trace', join(casesDir, 'no-such-dir', 'trace.jsonl')),
      stats: out(runTrue, '--stats'),
      preload: out(runTrue, '--preload', join(casesDir, 'no-such-preload.so')),
      json: out(['run', '--stats', '--', 'true'], '--json'),
      help: out(runTrue, '--help'),
      board: machine(runTrue, '--board', IMX8MP),
      profile: machine(runTrue, '--profile', '6.1'),
      cmdline: machine(runTrue, '--cmdline', 'cma=128M'),
      features: machine(runTrue, '--features', 'dmem'),
      ram: machine(runTrue, '--ram', '4G'),
      'page-size': machine(['run', '--arch', 'arm64', '--', 'true'], '--page-size', '16K'),
      arch: machine(runTrue, '--arch', 'arm64'),
      kconfig: machine(runTrue, '--kconfig', 'DMABUF_HEAPS_CMA=n'),
      loader: machine(['run', '--arch', 'arm64', '--', 'true'], '--loader', 'qemu-virt'),
      fault: machine(runTrue, '--fault', 'alloc:nth=1'),
    },
    simulate: {
      seed: out(sim, '--seed', '5'),
      report: out(sim, '--report', join(casesDir, 'sim.html')),
      csv: out(sim, '--csv', '-'),
      sweep: out(sim, '--sweep', 'cma=8M..16M'),
      points: out([...sim, '--sweep', 'cma=8M..16M'], '--points', '3'),
      resolution: out([...sim, '--sweep', 'cma=2M..32M', '--points', '2'], '--resolution', '16M'),
      seeds: out([...sim, '--sweep', 'cma=8M..16M', '--points', '2'], '--seeds', '2'),
      'compare-profiles': out(sim, '--compare-profiles', '6.12,7.0'),
      jobs: out([...sim, '--sweep', 'cma=8M..16M', '--points', '2'], '--jobs', '1'),
      replay: enables(['simulate', root('test/fixtures/sim/run-trace.jsonl')], '--replay'),
      'save-workload': out(sim, '--save-workload', join(casesDir, 'saved.yaml')),
      json: out(sim, '--json'),
      help: out(sim, '--help'),
      board: out(sim, '--board', IMX8MP),
      profile: out(sim, '--profile', '6.1'),
      cmdline: out(sim, '--cmdline', 'cma=128M'),
      features: machine(sim, '--features', 'dmem'),
      ram: machine(sim, '--ram', '4G'),
      'page-size': out([...sim, '--arch', 'arm64'], '--page-size', '16K'),
      arch: out(sim, '--arch', 'arm64'),
      kconfig: machine(sim, '--kconfig', 'CMA_AREAS=2'),
      loader: machine([...sim, '--arch', 'arm64'], '--loader', 'qemu-virt'),
      fault: out(sim, '--fault', 'alloc:nth=2'),
    },
    // dashboard prints where it listens and what it shows, then stops at once (run() aborts it); an ephemeral port is <port>
    dashboard: {
      backend: out(dash, '--backend', 'linux'),
      attach: out(dash, '--attach', '999999999'),
      workload: out(dash, '--workload', join(casesDir, 'sim.yaml')),
      speed: out([...dash, '--workload', join(casesDir, 'sim.yaml')], '--speed', '60'),
      port: out(dash, '--port', '18234'),
      host: out(dash, '--host', '0.0.0.0'),
      token: out(dash, '--token', 'abcdefghijklmnop0123'),
      open: out(dash, '--open'),
      sanitize: out(dash, '--sanitize'),
      'demo-workload': out(dash, '--demo-workload'),
      json: out(dash, '--json'),
      help: out(dash, '--help'),
      board: out(dash, '--board', IMX8MP),
      profile: out(dash, '--profile', '6.1'),
      cmdline: machine(dash, '--cmdline', 'cma=128M'),
      features: machine(dash, '--features', 'dmem'),
      ram: machine(dash, '--ram', '4G'),
      'page-size': machine([...dash, '--arch', 'arm64'], '--page-size', '16K'),
      arch: machine(dash, '--arch', 'arm64'),
      kconfig: machine(dash, '--kconfig', 'CMA_AREAS=2'),
      loader: machine([...dash, '--arch', 'arm64'], '--loader', 'qemu-virt'),
      fault: machine(dash, '--fault', 'take-memory:size=1M'),
    },
    'conformance run': {
      backend: out(conf, '--backend', 'linux'),
      sanitize: out([...conf.slice(0, 2), join(casesDir, 'sanitizer.json')], '--sanitize'),
      filter: out(conf, '--filter', 'nothing-matches'),
      quiet: out(conf, '--quiet'),
      json: out(conf, '--json'),
      help: out(conf, '--help'),
      board: out(conf, '--board', IMX8MP),
      profile: out(conf, '--profile', '6.1'),
      cmdline: out(conf, '--cmdline', 'cma=0'),
      features: out([...conf, '--board', AM62X], '--features', 'coherent'),
      ram: out([...conf, '--cmdline', 'cma=4G'], '--ram', '8G'),
      'page-size': machine([...conf, '--arch', 'arm64'], '--page-size', '16K'),
      arch: machine(conf, '--arch', 'arm64'),
      kconfig: out(conf, '--kconfig', 'DMABUF_HEAPS_CMA=n'),
      loader: machine([...conf, '--arch', 'arm64'], '--loader', 'qemu-virt'),
      fault: machine(conf, '--fault', 'take-memory:size=1M'),
      'allow-host-paths': out([...conf.slice(0, 2), join(casesDir, 'host.json')], '--allow-host-paths'),
    },
  };
}

test.before(() => {
  casesDir = mkdtempSync(join(tmpdir(), 'cli-options-'));
  // the heaps of the default machine (7.0, cma=64M): anything that changes the machine's heaps fails the case
  writeFileSync(join(casesDir, 'heaps.json'), JSON.stringify({ cases: [{ name: 'heaps', steps: [{ list_heaps: true, expect: { equals: 'default_cma_region,reserved,system' } }] }] }));
  // a path outside the dma-buf files: refused without --allow-host-paths
  writeFileSync(join(casesDir, 'host.json'), JSON.stringify({ cases: [{ name: 'host', steps: [{ read_file: '/etc/hostname', expect: { errno: 'ENOENT' } }] }] }));
  writeFileSync(join(casesDir, 'sim.yaml'), 'duration: 2s\nsample: 100ms\nprocesses:\n  - name: cam\n    streams:\n      - name: frames\n        heap: { requires: { contiguous: true } }\n        size: 4M\n        mode: churn\n        fps: 30\n        hold: 2\n');
  writeFileSync(join(casesDir, 'sanitizer.json'), JSON.stringify({ cases: [{ name: 'sanitizer', steps: [{ sanitizer: 'check', expect: { ret: 0 } }] }] }));
});
test.after(() => rmSync(casesDir, { recursive: true, force: true }));

test('every command\'s --help lists every option its parser accepts', () => {
  for (const c of COMMANDS) {
    const help = helpText(c);
    for (const [name, o] of Object.entries(optionsOf(c))) {
      assert.match(help, new RegExp(`(^|[\\s\\[|])--${name}([\\s\\]=|,]|$)`, 'm'), `${c.name} --help lacks --${name}`);
      if (o.short !== undefined) assert.match(help, new RegExp(`(^|[\\s\\[|])-${o.short}[\\s,|\\]]`, 'm'), `${c.name} --help lacks -${o.short}`);
    }
  }
});

test('every option of every command has an effect (or see the refusals below)', async () => {
  const table = effects();
  assert.deepEqual(COMMANDS.map((c) => c.name).sort(), Object.keys(table).sort());
  for (const c of COMMANDS) {
    const classified = table[c.name]!;
    assert.deepEqual(Object.keys(optionsOf(c)).sort(), Object.keys(classified).sort(), `${c.name}: the options its parser accepts vs the ones this test classifies`);
    for (const [name, e] of Object.entries(classified)) {
      const what = `${c.name} --${name}: ${[...e.base, ...e.args].join(' ')}`;
      const a = await run([...e.base]);
      // options go before a `--` (dmaheap run's program and its arguments follow it)
      const dd = e.base.indexOf('--');
      const b = await run(dd < 0 ? [...e.base, ...e.args] : [...e.base.slice(0, dd), ...e.args, ...e.base.slice(dd)]);
      if (e.effect === 'enables') {
        assert.equal(a.code, 2, `${what}: the base command is not refused`);
        assert.notEqual(b.code, 2, `${what}: still a usage error: ${b.err}${b.out}`);
        continue;
      }
      assert.notEqual(a.code, 2, `${what}: the base command is a usage error: ${a.err}${a.out}`);
      assert.notEqual(b.code, 2, `${what}: a usage error: ${b.err}${b.out}`);
      if (e.effect === 'output') assert.notDeepEqual([a.code, a.out, a.err], [b.code, b.out, b.err], `${what}: prints the same as without --${name}`);
      else {
        assert.notEqual(a.machine, null, `${what}: boots no emulated machine`);
        assert.notEqual(a.machine, b.machine, `${what}: the machine is the same as without --${name}`);
      }
    }
  }
});

test('options that do not apply are refused, with the reason, never ignored', async () => {
  const cases: [string[], string, string][] = [
    [['heaps', '--sanitize'], 'dmaheap heaps: --sanitize does not apply to heaps (it is an option of demo, conformance run, run, dashboard)', "'dmaheap heaps --help' lists its options"],
    [['lint-names', '--sanitize'], 'dmaheap lint-names: --sanitize does not apply to lint-names (it is an option of demo, conformance run, run, dashboard)', "'dmaheap lint-names --help' lists its options"],
    [['lint-names', '--backend', 'linux'], 'dmaheap lint-names: --backend does not apply to lint-names (it is an option of heaps, dump, conformance run, doctor, top, alloc, dashboard)', "'dmaheap lint-names --help' lists its options"],
    [['alloc', 'system', '1M', '--groups', '44'], 'dmaheap alloc: --groups does not apply to alloc (it is an option of doctor)', "'dmaheap alloc --help' lists its options"],
    [['demo', '--backend', 'linux'], 'dmaheap demo: --backend does not apply to demo (it is an option of heaps, dump, conformance run, doctor, top, alloc, dashboard)', "'dmaheap demo --help' lists its options"],
    [['top', '--once', '--interval', '500'], 'dmaheap top: --interval applies to the live view; --once prints one reading', 'leave out --once for a reading every --interval ms, or --interval for one reading'],
    [['dump', '--json', '-b'], 'dmaheap dump: -b/--per-buffer chooses a text layout; --json prints the whole report', 'leave out --json to see the layout, or leave out -a/-b'],
    [['heaps', '--diff', '6.12', '7.0', '--profile', '6.1'], 'dmaheap heaps: --profile does not apply with --diff: --diff <v1> <v2> names both kernel versions', "'dmaheap heaps --help' lists its options"],
    [['conformance', 'run', 'x', '--json', '--quiet'], 'dmaheap conformance: --quiet applies to the text report; --json prints every case', 'leave out one of --quiet and --json'],
    [['conformance', 'run', 'x', '--backend', 'linux', '--sanitize'], 'dmaheap conformance: --sanitize describes an emulated machine; with --backend linux the machine is this one', 'leave out --sanitize, or use --backend emulated'],
    [['conformance', 'run', 'x', '--demo-workload'], 'dmaheap conformance: --demo-workload does not apply to conformance run (it is an option of dump, top, dashboard)', "'dmaheap conformance run --help' lists its options"],
  ];
  for (const cmd of ['heaps', 'dump', 'doctor', 'top', 'alloc']) {
    for (const opt of ['board', 'profile', 'cmdline', 'features', 'ram', 'page-size', 'arch', 'kconfig', 'loader', 'fault']) {
      const args = cmd === 'alloc' ? ['alloc', 'system', '1M'] : [cmd];
      cases.push([[...args, '--backend', 'linux', `--${opt}`, 'x'], `dmaheap ${cmd}: --${opt} applies to the emulated machine; with --backend linux the machine is this one`, `leave out --${opt} to look at this machine, or use --backend emulated`]);
    }
  }
  for (const [argv, message, hint] of cases) {
    const json = { error: { code: 'usage', message: message.replace(/^dmaheap [a-z-]+: /, ''), hint } };
    if (!argv.includes('--json')) {
      const r = await run(argv);
      assert.deepEqual([r.code, r.err, r.out], [2, `${message}\nhint: ${hint}`, ''], argv.join(' '));
    }
    // the same refusal as JSON, on stdout
    const j = await run(argv.includes('--json') ? argv : [...argv, '--json']);
    assert.deepEqual([j.code, JSON.parse(j.out) as unknown, j.err], [2, json, ''], `${argv.join(' ')} --json`);
  }
});
