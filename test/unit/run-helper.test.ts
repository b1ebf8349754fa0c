/**
 * The notification helper (native/notify/dmaheap-notify.c, src/backends/run/helper.ts): it answers
 * only what the bridge would have let the host run, so every program prints the same, exits the
 * same and is counted the same with it and without it (DMAHEAP_RUN_HELPER=off), with the preload
 * shim and without it, dynamic and static.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, repo, runUnsupported, startDmaheapRun } from './run-helpers.js';
import { runProgram } from '../../src/backends/run/index.js';
import { parseProcStat } from '../../src/backends/run/bridge.js';

const has = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
const unsupported = runUnsupported ?? (has('gcc') ? null : 'gcc is not installed (Debian: apt-get install gcc): the test programs are compiled by the test');
const staticLibc = ((): string | null => {
  if (unsupported !== null) return unsupported;
  const r = spawnSync('sh', ['-c', 'echo "int main(void){return 0;}" | gcc -static -x c -o /dev/null -'], { stdio: 'ignore' });
  return r.status === 0 ? null : 'gcc cannot link statically here (Debian: libc6-dev)';
})();

let dir = '';
const built = (name: string): string => join(dir, name);

test.before(() => {
  if (unsupported !== null) return;
  dir = mkdtempSync(join(tmpdir(), 'dmaheap-helper-'));
  const cc = (args: string[]): void => {
    const r = spawnSync('gcc', args, { encoding: 'utf8' });
    assert.equal(r.status, 0, `gcc ${args.join(' ')}: ${r.stderr}`);
  };
  cc(['-O2', '-o', built('fast-path'), join(repo, 'test/fixtures/run/fast-path.c')]);
  cc(['-O2', '-o', built('run-generic'), join(repo, 'test/oracle/issue-12/run-generic.c')]);
  cc(['-O2', '-o', built('alloc'), join(repo, 'examples/run/alloc.c')]);
  cc(['-O2', '-o', built('lifecycle'), join(repo, 'test/fixtures/run/lifecycle.c')]);
  if (staticLibc === null) {
    cc(['-O2', '-static', '-o', built('alloc-static'), join(repo, 'examples/run/alloc.c')]);
    cc(['-O2', '-static', '-o', built('fork-hold'), join(repo, 'test/fixtures/run/fork-hold.c')]);
  }
});

test.after(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

interface Outcome {
  status: number;
  out: string;
  err: string;
  calls: unknown;
}

/** `dmaheap run --stats --json` with and without the helper: what the program printed and what the supervisor counted. */
function outcome(args: readonly string[], helper: boolean): Outcome {
  const r = spawnSync(process.execPath, [cli, 'run', '--stats', '--json', ...args], {
    cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000,
    env: { ...process.env, DMAHEAP_RUN_HELPER: helper ? 'on' : 'off' },
  });
  const lines = r.stderr.split('\n');
  const stats = lines.find((l) => l.startsWith('{"status"'));
  assert.notEqual(stats, undefined, r.stderr);
  const s = JSON.parse(stats!) as { calls: unknown; helper: string | null };
  assert.equal(s.helper === null, !helper, `helper in use: ${String(s.helper)}`);
  return { status: r.status ?? -1, out: r.stdout, err: lines.filter((l) => l !== stats).join('\n'), calls: s.calls };
}

/** The same with and without the helper; how many calls the helper answered. */
function same(args: readonly string[]): number {
  const off = outcome(args, false);
  const on = outcome(args, true);
  const { helper: helped, ...onCalls } = on.calls as { helper: number };
  const { helper: none, ...offCalls } = off.calls as { helper: number };
  assert.equal(none, 0);
  assert.deepEqual({ ...on, calls: onCalls }, { ...off, calls: offCalls }, args.join(' '));
  return helped;
}

test('helper: programs print, exit and are counted the same with it as without it', { skip: unsupported ?? false }, () => {
  for (const preload of [[], ['--preload', 'off']]) {
    // the dynamic loader's calls (and with --preload off, the program's on its own files) are the helper's
    assert.ok(same([...preload, '--profile', '6.1', '--', built('alloc')]) >= 20);
    same([...preload, '--profile', '6.12', '--', built('run-generic')]);
    same([...preload, '--', built('fast-path')]);
    same([...preload, '--', 'ls', '-la', '/dev/dma_heap', '/dev/dma_heap/..', '/usr/lib/../../dev/dma_heap/system']);
    same([...preload, '--', 'sh', '-c', 'cd /proc/self && cat maps >/dev/null; cd /sys/kernel/debug/dma_buf && cat bufinfo; find /etc/default -name "*" | sort']);
  }
});

test('helper: a plain process\'s fork, exec, chdir, uname and exit are let through (or answered) by it, and leave what the bridge would', { skip: unsupported ?? false }, () => {
  for (const preload of [[], ['--preload', 'off']]) {
    const args = [...preload, '--profile', '6.12', '--', built('lifecycle')];
    same(args);
    const r = spawnSync(process.execPath, [cli, 'run', ...args], { cwd: repo, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, [
      // forked before the parent allocated: the child's mirror has no buffer at that fd
      'child: the parent\'s buffer fd is EBADF',
      'child: allocated a buffer',
      'parent: child exited 0, buffer fd open',
      // forked with a buffer open: the child's calls on it are the emulated kernel's
      'child: read of the inherited buffer: Invalid argument',
      // the helper's chdir: the bridge reads the working directory again
      'after chdir /usr: dma_heap/system No such file or directory',
      'after chdir /dev: dma_heap/system exists',
      'exec: exit 7',
      'uname: Linux 6.12.118',
      'uname(NULL): -1 Bad address',
      '',
    ].join('\n'));
  }
});

test('helper: a program a shell starts costs the bridge no call', { skip: unsupported ?? false }, () => {
  // the shell's fork, the child's first call, its exec, the dynamic loader's calls, the shim's
  // registration and the exit are the helper's
  const bridge = (n: number): number => {
    const c = outcome(['--', 'sh', '-c', `i=0; while [ $i -lt ${n} ]; do /bin/true; i=$((i+1)); done`], true).calls as { served: number; continued: number; helper: number };
    return c.served + c.continued - c.helper;
  };
  assert.equal(bridge(9) - bridge(3), 0);
});

test('helper: a static program, every call of which stops, is the same with it as without it', { skip: staticLibc ?? false }, () => {
  // its writes to stdout, its exit's calls on host fds
  assert.ok(same(['--profile', '6.1', '--', built('alloc-static')]) > 0);
});

test('helper: a process forked after an exec the helper let through has the new image\'s name', { skip: staticLibc ?? false }, async () => {
  // a static program (no shim registration to say the name) executed by a shell, forking at once:
  // the child's mirror, which dmaheap dump --attach lists for its buffer, is named after it
  const { child, firstLine } = startDmaheapRun(['--profile', '6.12', '--', 'sh', '-c', `exec ${built('fork-hold')}`]);
  try {
    const pid = await firstLine;
    const dump = spawnSync(process.execPath, [cli, 'dump', '--attach', String(child.pid)], { encoding: 'utf8' });
    assert.equal(dump.status, 0, dump.stderr);
    assert.match(dump.stdout, new RegExp(`\\n +fork-hold:${pid} *\\n`));
  } finally {
    child.stdin.end('\n');
    await new Promise((r) => child.on('close', r));
  }
});

test('helper: one that cannot be loaded is a warning, and the run goes on without it', { skip: unsupported ?? false }, async () => {
  const warnings: string[] = [];
  const r = await runProgram({ machine: { profile: '6.12' }, program: '/bin/true', args: [], warn: (l) => warnings.push(l), helper: join(tmpdir(), 'no-such-dmaheap-notify.so') });
  assert.equal(r.status, 0);
  assert.equal(r.helper, null);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /^dmaheap run: the notification helper cannot be used \(.*no-such-dmaheap-notify\.so.*\); every call is decided in JavaScript, which is slower \(npm run build:native rebuilds it; DMAHEAP_RUN_HELPER=off silences this\)$/);
  // and the shipped one is used by default
  const d = await runProgram({ machine: { profile: '6.12' }, program: '/bin/true', args: [], warn: (l) => assert.fail(l) });
  assert.match(d.helper ?? '', /native\/prebuilt\/linux-(x64|arm64)\/dmaheap-notify\.so$/);
});

test('a forked mirror\'s name and parent come from /proc/<pid>/stat, whatever the name holds', () => {
  assert.deepEqual(parseProcStat('1234 (bash) S 1200 1234 1200 0 -1 4194304 97 0 0 0\n'), { name: 'bash', ppid: 1200 });
  assert.deepEqual(parseProcStat('77 (a) b (c) R 1 77 77 0 -1\n'), { name: 'a) b (c', ppid: 1 });
  assert.deepEqual(parseProcStat('9 (x y) Z 0 0 0\n'), { name: 'x y', ppid: 0 });
  assert.equal(parseProcStat('9 (unterminated S 1 2'), null);
  assert.equal(parseProcStat('9 (x) S'), null);
  assert.equal(parseProcStat('9 (x) S -1 2'), null);
  assert.equal(parseProcStat(''), null);
});

test('the host\'s names under /dev, /sys and /proc that the shim and the helper let through are none the bridge answers', async () => {
  const { readFileSync } = await import('node:fs');
  const { EMULATED_FILES, EMULATED_TREES, PID_ENTRIES } = await import('../../src/backends/run/bridge.js');
  const h = readFileSync(join(repo, 'native/common/dmaheap-names.h'), 'utf8');
  const list = (name: string): string[] => {
    const m = new RegExp(`${name}\\[\\] = \\{([^}]*)\\}`).exec(h);
    assert.notEqual(m, null, name);
    return [...m![1]!.matchAll(/"([^"]+)"/g)].map((x) => x[1]!);
  };
  const names = list('dh_host_names');
  const trees = list('dh_host_trees');
  assert.ok(names.includes('/dev/null') && names.includes('/proc/filesystems') && trees.includes('/dev/shm'));
  const inside = (n: string, t: string): boolean => n === t || n.startsWith(t + '/') || t.startsWith(n + '/');
  for (const n of [...names, ...trees, ...trees.map((t) => `${t}/x`)]) {
    for (const t of EMULATED_TREES) assert.ok(!inside(n, t), `${n} and the emulated ${t}`);
    assert.ok(!EMULATED_FILES.includes(n), n);
    const pid = /^\/proc\/(self|thread-self|\d+)\/([^/]+)/.exec(n);
    assert.ok(pid === null || !['fd', 'fdinfo', ...PID_ENTRIES].includes(pid[2]!), n);
  }
});

test('native/common/dmaheap-names.h: which names the emulated machine may answer (the shim and the helper send those to the bridge)', { skip: unsupported ?? false }, () => {
  const cases: [string, 0 | 1][] = [
    ['/usr/lib/x86_64-linux-gnu/libc.so.6', 0], ['/dev/null', 0], ['//dev//null', 0], ['/dev/null/', 0], ['/dev/urandom', 0],
    ['/dev/shm', 0], ['/dev/shm/wayland-1', 0], ['/dev/pts/3', 0], ['/proc/filesystems', 0], ['/proc/self/status', 0],
    ['/sys/devices/system/cpu/online', 0], ['/sys/kernel/mm/transparent_hugepage/enabled', 0],
    // an emulated tree, a name near a listed one, any "." or "..", another process's /proc entry
    ['/dev/dma_heap/system', 1], ['/dev', 1], ['/dev/', 1], ['/dev/nullx', 1], ['/dev/shmx', 1], ['/dev/./null', 1],
    ['/dev/shm/../dma_heap/system', 1], ['/dev/null/..', 1], ['/usr/../dev/null', 1], ['/proc/self/maps', 1],
    ['/proc/1/status', 1], ['/proc/meminfo', 1], ['/sys/kernel/dmabuf/buffers', 1], ['/dev/dma_heap/../../usr', 1],
  ];
  const c = `#include <stdio.h>\n#include "${join(repo, 'native/common/dmaheap-names.h')}"\nint main(int argc, char **argv) { for (int i = 1; i < argc; i++) printf("%d\\n", dh_walks_emulated(argv[i])); return 0; }\n`;
  const src = join(dir, 'names.c');
  writeFileSync(src, c);
  const r0 = spawnSync('gcc', ['-O2', '-Wall', '-Werror', '-o', join(dir, 'names'), src], { encoding: 'utf8' });
  assert.equal(r0.status, 0, r0.stderr);
  const r = spawnSync(join(dir, 'names'), cases.map((x) => x[0]), { encoding: 'utf8' });
  assert.deepEqual(r.stdout.trim().split('\n').map((l, i) => [cases[i]![0], Number(l)]), cases);
});
