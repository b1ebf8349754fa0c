/**
 * The generic mm and fd paths around a dma-buf under `dmaheap run` against the referees:
 * test/oracle/issue-12/run-generic.c (mprotect, madvise, msync, mlock, mremap of a buffer
 * mapping; fcntl, dup3, F_DUPFD_CLOEXEC, fstat, lseek, poll, epoll, /proc/self/fd, fdinfo counts
 * across a fork) prints under `dmaheap run --profile V` exactly what it printed on the referee V
 * (run-generic.V.out, recorded with ../shared/oracle/run-in-kernel.sh); run-vfs.c likewise for the
 * walks around /dev/dma_heap (flags, trailing slashes, O_PATH, *at() relative to a directory fd,
 * chdir and fchdir into it, getcwd, access, readdir's d_type). Needs gcc with a static
 * libc (skipped with the reason otherwise) and a host where `dmaheap run` works.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const cli = join(repo, 'dist/src/apps/cli/main.js');

const skip = ((): string | null => {
  if (process.platform !== 'linux' || (process.arch !== 'x64' && process.arch !== 'arm64')) return 'dmaheap run needs Linux on x86-64 or arm64';
  if (spawnSync('sh', ['-c', 'command -v gcc'], { stdio: 'ignore' }).status !== 0) return 'gcc is not installed (Debian: apt-get install gcc)';
  const r = spawnSync(process.execPath, [cli, 'run', '--', 'true'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return r.status === 0 ? null : `dmaheap run does not work on this host: ${r.stderr.trim()}`;
})();

for (const name of ['run-generic', 'run-vfs']) test(`${name}.c prints under dmaheap run what it printed on the 6.1, 6.12 and 7.3 referees`, { skip: skip ?? false }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  try {
    const bin = join(dir, name);
    const cc = spawnSync('gcc', ['-O2', '-static', '-o', bin, join(repo, `test/oracle/issue-12/${name}.c`)], { encoding: 'utf8' });
    if (cc.status !== 0 && /cannot find -lc/.test(cc.stderr)) {
      t.skip('no static libc (Debian: libc6-dev)');
      return;
    }
    assert.equal(cc.status, 0, cc.stderr);
    for (const v of ['6.1', '6.12', '7.3']) {
      const r = spawnSync(process.execPath, [cli, 'run', '--profile', v, '--', bin], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      assert.equal(r.stderr, '', v);
      assert.equal(r.stdout, readFileSync(join(repo, `test/oracle/issue-12/${name}.${v}.out`), 'utf8'), `profile ${v}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
