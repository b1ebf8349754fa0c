/**
 * The emulated kernel against the referees, line by line: test/oracle/issue-11/fd-generic.c
 * (fcntl in full, epoll, the escaping of names in /proc, st_size of pseudo files, the file
 * references fork, exec and SCM_RIGHTS hold) and open-matrix.c (open(2) flags on every kind of
 * file, as root and as uid 1000) and unix-socket.c (the socket pair SCM_RIGHTS travels on) re-run on the emulated kernel (fd-oracle-probe.ts)
 * must print what Linux 6.1.192 printed on the 6.1 profile, 6.12.118 on 6.12, and 7.3-rc7 on
 * 7.3. Masked: inode numbers and mount ids (fdinfo, bufinfo), and the order of an epoll
 * instance's fdinfo lines (the kernel's tree is ordered by struct file addresses).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runFdGeneric, runOpenMatrix, runUnixSocket } from './fd-oracle-probe.js';
import type { ProfileName } from '../../src/kernel/profile.js';

const DIR = fileURLToPath(new URL('../../../test/oracle/issue-11/', import.meta.url));

/** epoll fdinfo's tfd lines: inode and device masked, sorted by fd. */
function normalise(lines: string[]): string[] {
  const out: string[] = [];
  let tfd: string[] = [];
  const flush = (): void => {
    out.push(...tfd.sort());
    tfd = [];
  };
  for (const l of lines) {
    if (l.startsWith('tfd: ')) {
      tfd.push(l.replace(/ ino:[0-9a-f]+ sdev:[0-9a-f]+$/, ' ino:INO sdev:DEV'));
      continue;
    }
    flush();
    out.push(l);
  }
  flush();
  return out;
}

function compare(name: string, observed: string[], expected: string[], allowed: readonly RegExp[] = []): void {
  const exp = normalise(expected.filter((l) => l !== ''));
  const obs = normalise(observed.join('\n').split('\n').filter((l) => l !== ''));
  const diffs: string[] = [];
  const n = Math.max(exp.length, obs.length);
  for (let i = 0; i < n; i++) {
    if (exp[i] === obs[i]) continue;
    if (allowed.some((r) => r.test(exp[i] ?? ''))) continue;
    diffs.push(`line ${i + 1}:\n  linux:    ${JSON.stringify(exp[i] ?? '(none)')}\n  emulated: ${JSON.stringify(obs[i] ?? '(none)')}`);
    if (diffs.length >= 15) break;
  }
  assert.deepEqual(diffs, [], `${name}: lines differ from the referee\n${diffs.join('\n')}`);
  assert.equal(obs.length, exp.length);
}

/**
 * The divergence `read-only-paths` (docs/fidelity.md): devtmpfs makes no files here, so O_TMPFILE
 * in /dev/dma_heap is EROFS where Linux makes one (root) or checks write permission (EACCES).
 */
const READ_ONLY_PATHS = [/^(root|user) heap-dir O_TMPFILE\|O_RDWR: /];

const RUNS: readonly [ProfileName, string][] = [['6.1', '6.1'], ['6.12', '6.12'], ['7.3', '7.3']];
for (const [profile, kernel] of RUNS) {
  test(`fd-generic.c: profile ${profile} prints what Linux ${kernel} printed`, () => {
    const expected = readFileSync(`${DIR}fd-generic-${kernel}.out`, 'latin1').split('\n');
    compare(`fd-generic ${profile}`, runFdGeneric(profile), expected);
  });
}

for (const [profile, kernel] of RUNS) {
  test(`open-matrix.c: open(2) flags on every kind of file, as root and as a user: profile ${profile} prints what Linux ${kernel} printed`, () => {
    const expected = readFileSync(`${DIR}open-matrix-${kernel}.out`, 'latin1').split('\n');
    compare(`open-matrix ${profile}`, runOpenMatrix(profile), expected, READ_ONLY_PATHS);
  });
}

for (const [profile, kernel] of RUNS) {
  test(`unix-socket.c: a socket pair as a file, scm_fds, poll, socketpair's checks: profile ${profile} prints what Linux ${kernel} printed`, () => {
    const expected = readFileSync(`${DIR}unix-socket-${kernel}.out`, 'latin1').split('\n');
    compare(`unix-socket ${profile}`, runUnixSocket(profile), expected);
  });
}
