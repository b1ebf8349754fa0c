// `dmaheap dump --backend linux`: this machine's /proc and debugfs (or sysfs) through the same
// dmabuf_dump parser as the emulated path, and what the reading could not see (other users'
// processes, debugfs root-only or not mounted) said under the report. The machine is a fake
// /proc tree with errnos, or an emulated kernel's files read as if they were this machine's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dmabufFsOf } from '../../src/api/dmabuf-info.js';
import { printDump, printLinuxDump, readLinuxDump, runDemoWorkload, runDump } from '../../src/apps/cli/dump.js';
import type { LinuxDumpResult } from '../../src/apps/cli/dump.js';
import type { FilesTarget } from '../../src/apps/common/backend.js';
import { createEmulatedTarget } from '../../src/backends/emulated/index.js';
import type { EmulatedOptions } from '../../src/backends/emulated/index.js';
import type { ErrnoName } from '../../src/uapi/errno.js';

const MAIN = new URL('../../src/apps/cli/main.js', import.meta.url).pathname;
const M = 1024 * 1024;

type Entry = string | { errno: ErrnoName };

/** Files and directories by path (an errno where reading fails); a missing path is ENOENT. */
function fakeFiles(files: Record<string, Entry>, dirs: Record<string, readonly string[] | { errno: ErrnoName }>): FilesTarget {
  const enoent = { errno: 'ENOENT' as const };
  return {
    readFile(p) {
      const v = files[p] ?? enoent;
      return typeof v === 'string' ? { ret: v.length, errno: null, text: v } : { ret: -1, errno: v.errno, text: null };
    },
    readdir(p) {
      const v = dirs[p] ?? enoent;
      return 'errno' in v ? { ret: -1, errno: v.errno, names: null } : { ret: v.length, errno: null, names: v };
    },
    readlink: () => ({ ret: -1, errno: 'ENOENT', text: null }),
  };
}

const fdinfo = (ino: number, size: number, exp: string, count: number, name?: string): string =>
  `pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t${ino}\nsize:\t${size}\ncount:\t${count}\nexp_name:\t${exp}\n${name !== undefined ? `name:\t${name}\n` : ''}`;

/**
 * A desktop read by uid 1000: systemd (pid 1, root's: fdinfo refused), the user's camera app
 * (a 1 MiB system buffer by fd and mapping, a 4 KiB CMA buffer) and a viewer sharing the frame;
 * debugfs root-only, no sysfs stats (a 7.0 kernel).
 */
const DESKTOP = fakeFiles({
  '/proc/1/comm': 'systemd\n',
  '/proc/1/maps': { errno: 'EACCES' },
  '/proc/42/comm': 'cam\n',
  '/proc/42/fdinfo/0': 'pos:\t0\nflags:\t02\nmnt_id:\t25\nino:\t3\n',
  '/proc/42/fdinfo/5': fdinfo(100, M, 'system', 3, 'frame'),
  '/proc/42/fdinfo/6': fdinfo(101, 4096, 'reserved', 1),
  '/proc/42/maps': '7f0000000000-7f0000100000 rw-s 00000000 00:0f 100                        /dmabuf:frame\n',
  '/proc/43/comm': 'viewer\n',
  '/proc/43/fdinfo/3': fdinfo(100, M, 'system', 3, 'frame'),
  '/proc/43/maps': '',
  '/sys/kernel/debug/dma_buf/bufinfo': { errno: 'EACCES' },
}, {
  '/proc': ['1', '42', '43', 'meminfo', 'self'],
  '/proc/1': ['comm', 'fd', 'fdinfo', 'maps'],
  '/proc/42': ['comm', 'fd', 'fdinfo', 'maps'],
  '/proc/43': ['comm', 'fd', 'fdinfo', 'maps'],
  '/proc/1/fdinfo': { errno: 'EACCES' },
  '/proc/42/fdinfo': ['0', '5', '6'],
  '/proc/43/fdinfo': ['3'],
});

function read(files: FilesTarget, uid: number, pids?: readonly number[]): LinuxDumpResult {
  return readLinuxDump(files, dmabufFsOf(files), { machine: 'Linux 7.0.1 (this machine)', uid }, pids !== undefined ? { pids } : {});
}

test('a user\'s own processes are read; another user\'s process and debugfs are explained, not fatal', () => {
  const d = read(DESKTOP, 1000);
  assert.deepEqual(d.access, {
    bufinfo: 'EACCES',
    sysfs: 'ENOENT',
    processes: 3,
    unreadable: [{ pid: 1, comm: 'systemd' }],
    missing: [],
    notes: [
      'read as uid 1000: /proc/<pid>/fdinfo and maps of 2 of 3 processes; no system-wide buffer list',
      '1 process could not be read: 1 (systemd); what it holds is missing above, or shown only through mappings',
      '/sys/kernel/debug/dma_buf/bufinfo: EACCES (debugfs is root-only); /sys/kernel/dmabuf/buffers: ENOENT (CONFIG_DMABUF_SYSFS_STATS off; removed in 7.0)',
      'so dmabuf total and kernel_rss are unknown, and buffers only the kernel holds (drivers, importers) cannot be seen',
    ],
    next: ['another user\'s /proc/<pid>/fdinfo and maps need root (PTRACE_MODE_READ), and so does debugfs: sudo dmaheap dump --backend linux'],
  });
  assert.equal(printLinuxDump(d, { all: false, perBuffer: false }), [
    'Linux 7.0.1 (this machine)',
    '',
    '             cam:42   ',
    '                  Name              Rss              Pss         nr_procs            Inode               Exporter',
    '                 frame          1024 kB           512 kB                2              100                  system',
    '             <unknown>             4 kB             4 kB                1              101                reserved',
    '         PROCESS TOTAL          1028 kB           516 kB                 ',
    '----------------------',
    '          viewer:43   ',
    '                  Name              Rss              Pss         nr_procs            Inode               Exporter',
    '                 frame          1024 kB           512 kB                2              100                  system',
    '         PROCESS TOTAL          1024 kB           512 kB                 ',
    '----------------------',
    'Unable to read DMA-BUF per-buffer stats from device',
    'dmabuf total: 1028 kB kernel_rss: n/a kB userspace_rss: 2052 kB userspace_pss: 1028 kB',
    '',
    'read as uid 1000: /proc/<pid>/fdinfo and maps of 2 of 3 processes; no system-wide buffer list',
    '1 process could not be read: 1 (systemd); what it holds is missing above, or shown only through mappings',
    '/sys/kernel/debug/dma_buf/bufinfo: EACCES (debugfs is root-only); /sys/kernel/dmabuf/buffers: ENOENT (CONFIG_DMABUF_SYSFS_STATS off; removed in 7.0)',
    'so dmabuf total and kernel_rss are unknown, and buffers only the kernel holds (drivers, importers) cannot be seen',
    'next: another user\'s /proc/<pid>/fdinfo and maps need root (PTRACE_MODE_READ), and so does debugfs: sudo dmaheap dump --backend linux',
  ].join('\n'));
  // -b has no system-wide list to show; -a the buffer x process table of what could be read
  assert.match(printLinuxDump(d, { all: false, perBuffer: true }), /^Linux 7\.0\.1 \(this machine\)\n\nUnable to read DMA-BUF per-buffer stats from device\n\nread as uid 1000: /);
  assert.ok(printLinuxDump(d, { all: true, perBuffer: false }).split('\n').includes('             100 |         1024 kB |               2 |               1 |        1(     1) refs |        1(     0) refs |'));
  // --pid: only that process; the JSON carries the report and the access
  const one = read(DESKTOP, 1000, [43]);
  assert.deepEqual([one.access.processes, one.access.unreadable, one.report.processes.map((p) => p.comm)], [1, [], ['viewer']]);
  const none = read(DESKTOP, 1000, [99]);
  assert.deepEqual([none.access.unreadable, none.access.missing, none.access.notes.slice(0, 2)], [[], [99], [
    'read as uid 1000: /proc/<pid>/fdinfo and maps of 0 of 1 process; no system-wide buffer list',
    'no process 99 (not running, or it exited while being read)',
  ]]);
  const j = JSON.parse(JSON.stringify(d)) as LinuxDumpResult;
  assert.deepEqual([j.machine, j.backend, j.uid, j.report.totals.userspaceRss, j.report.system], ['Linux 7.0.1 (this machine)', 'linux', 1000, 2052 * 1024, null]);
});

test('root in a container: debugfs not mounted, a process ptrace refuses; the next steps say so', () => {
  const d = read(DESKTOP, 0);
  assert.deepEqual(d.access.next, [
    'root without CAP_SYS_PTRACE (in a container) cannot read every process: run dmaheap dump on the host',
  ]);
  const unmounted = fakeFiles({ '/proc/7/comm': 'x\n', '/proc/7/maps': '' }, { '/proc': ['7'], '/proc/7': ['comm', 'fdinfo', 'maps'], '/proc/7/fdinfo': [] });
  const u = read(unmounted, 0);
  assert.deepEqual([u.access.bufinfo, u.access.notes, u.access.next], ['ENOENT', [
    'read as uid 0 (root): /proc/<pid>/fdinfo and maps of 1 of 1 process; no system-wide buffer list',
    '/sys/kernel/debug/dma_buf/bufinfo: ENOENT (debugfs not mounted, or CONFIG_DEBUG_FS off); /sys/kernel/dmabuf/buffers: ENOENT (CONFIG_DMABUF_SYSFS_STATS off; removed in 7.0)',
    'so dmabuf total and kernel_rss are unknown, and buffers only the kernel holds (drivers, importers) cannot be seen',
  ], ['mount debugfs: sudo mount -t debugfs none /sys/kernel/debug']]);
  assert.equal(printLinuxDump(u, { all: false, perBuffer: false }).split('\n')[2], 'dmabuf info not found ¯\\_(ツ)_/¯');
});

/** The emulated demo scene, its files read as this machine's by a process of `machine`'s user. */
function scene(machine: EmulatedOptions): LinuxDumpResult {
  const t = createEmulatedTarget(machine);
  try {
    runDemoWorkload(t.kernel);
    return readLinuxDump(t, dmabufFsOf(t), { machine: `Linux ${t.release} (this machine)`, uid: t.proc.cred.uid });
  } finally {
    t.dispose();
  }
}

test('as root with debugfs: the same report as the emulated dump, and one line saying everything was read', () => {
  const d = scene({ profile: '6.1', cmdline: 'cma=64M' });
  const emulated = runDump({ profile: '6.1', cmdline: 'cma=64M' }, { demoWorkload: true });
  assert.deepEqual(d.report, emulated.report);
  const text = printLinuxDump(d, { all: false, perBuffer: false });
  const body = printDump({ ...emulated, workload: null }, { all: false, perBuffer: false }).split('\n').slice(2).join('\n');
  assert.equal(text, `Linux 6.1.192 (this machine)\n\n${body}\n\nread as uid 0 (root): /proc/<pid>/fdinfo and maps of 4 of 4 processes; system-wide list from debugfs /sys/kernel/debug/dma_buf/bufinfo`);
  assert.deepEqual([d.access.bufinfo, d.access.sysfs, d.access.next], ['ok', 'ok', []], '6.1 has the sysfs stats too; debugfs wins');
});

test('an unprivileged reader on 6.19: the sysfs stats stand in for debugfs; refused fdinfo entries count as unread', () => {
  const d = scene({ profile: '6.19', cmdline: 'cma=64M', uid: 1000, gid: 1000 });
  assert.deepEqual(d.access.notes, [
    'read as uid 1000: /proc/<pid>/fdinfo and maps of 1 of 4 processes; system-wide list from sysfs /sys/kernel/dmabuf/buffers (debugfs bufinfo: EACCES (debugfs is root-only); sysfs has no buffer names)',
    // init is root's: its maps need ptrace access too (mm_access), as on Linux
    '3 processes could not be read: 1 (init), 3 (camera), 4 (display); what they hold is missing above, or shown only through mappings',
  ]);
  assert.deepEqual(d.access.next, ['another user\'s /proc/<pid>/fdinfo and maps need root (PTRACE_MODE_READ): sudo dmaheap dump --backend linux']);
  assert.equal(d.report.system?.source, 'sysfs');
});

test('dmaheap dump on the command line: emulated output unchanged; bad arguments are usage errors', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [MAIN, 'dump', ...args], { encoding: 'utf8' });
  const emu = run('--demo-workload', '--profile', '6.1');
  assert.equal(emu.status, 0, emu.stderr);
  assert.equal(emu.stdout, `${printDump(runDump({ profile: '6.1', cmdline: 'cma=64M' }, { demoWorkload: true }), { all: false, perBuffer: false })}\n`);
  const forced = run('--backend', 'emulated', '--json');
  assert.equal(forced.status, 0, forced.stderr);
  assert.deepEqual(JSON.parse(forced.stdout), JSON.parse(JSON.stringify(runDump({ cmdline: 'cma=64M' }, { demoWorkload: false }))));
  const help = "'dmaheap dump --help' lists its options";
  for (const [args, message, hint] of [
    [['--backend', 'linux', '--demo-workload'], '--demo-workload applies to the emulated machine; with --backend linux the machine is this one', 'leave out --demo-workload to look at this machine, or use --backend emulated'],
    [['--backend', 'linux', '--board', 'x.dts'], '--board applies to the emulated machine; with --backend linux the machine is this one', 'leave out --board to look at this machine, or use --backend emulated'],
    [['--backend', 'linux', '--pid', '0'], "--pid: '0' is not a process id: the smallest is 1", '--pid takes a process id: a decimal whole number from 1 to 4194304 (PID_MAX_LIMIT)'],
    [['--backend', 'linux', '--pid'], '--pid needs a value', help],
    [['--backend', 'both'], "--backend: 'both' is not emulated, linux or auto", help],
    [['--json', '-a'], '-a/--all chooses a text layout; --json prints the whole report', 'leave out --json to see the layout, or leave out -a/-b'],
  ] as const) {
    const r = run(...args);
    assert.equal(r.status, 2, args.join(' '));
    if (args[0] === '--json') {
      assert.deepEqual(JSON.parse(r.stdout), { error: { code: 'usage', message, hint } });
      assert.equal(r.stderr, '');
    } else {
      assert.equal(r.stderr, `dmaheap dump: ${message}\nhint: ${hint}\n`);
      assert.equal(r.stdout, '');
    }
  }
});

test('dmaheap dump --backend linux on this machine: a report and what it could see, exit status 0', { skip: process.platform !== 'linux' ? 'not Linux' : false }, () => {
  const r = spawnSync(process.execPath, [MAIN, 'dump', '--backend', 'linux', '--pid', String(process.pid), '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as LinuxDumpResult;
  assert.deepEqual([j.backend, j.access.processes, j.access.unreadable], ['linux', 1, []]);
  assert.match(j.machine, /^Linux \S+ \(this machine\)$/);
  assert.match(j.access.notes[0]!, /^read as uid \d+( \(root\))?: \/proc\/<pid>\/fdinfo and maps of 1 of 1 process; /);
});
