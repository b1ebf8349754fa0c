/**
 * The notification helper (native/notify/dmaheap-notify.c, src/backends/run/helper.ts): it answers
 * only what the bridge would have let the host run, so every program prints the same, exits the
 * same and is counted the same with it and without it (DMAHEAP_RUN_HELPER=off), with the preload
 * shim and without it, dynamic and static.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, repo, runUnsupported } from './run-helpers.js';
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
  if (staticLibc === null) cc(['-O2', '-static', '-o', built('alloc-static'), join(repo, 'examples/run/alloc.c')]);
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

test('helper: a static program, every call of which stops, is the same with it as without it', { skip: staticLibc ?? false }, () => {
  // its writes to stdout, its exit's calls on host fds
  assert.ok(same(['--profile', '6.1', '--', built('alloc-static')]) > 0);
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
