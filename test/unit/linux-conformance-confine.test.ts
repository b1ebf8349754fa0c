/**
 * The confinement of case files on the real kernel (docs/conformance.md, "Confinement"): a
 * hostile case file run with `conformance run --backend linux` as root (the oracle VM: `npm run
 * test:kernel` runs every linux-*.test.js there) reaches nothing outside the dma-buf files, leaves
 * the host's files, the runner's descriptors and the cgroup hierarchy as they were, and cannot
 * limit the runner's memory. Elsewhere (no heaps, or not root) it skips with the reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAvailable } from '../../src/backends/linux/index.js';
import { conformanceMain } from '../../src/apps/conformance/cli.js';

const avail = isAvailable();
const skip: string | false = !avail.ok ? avail.reason : process.getuid?.() !== 0 ? 'needs root (cgroups, a link in /dev/dma_heap): the oracle VM runs it' : false;

const TAIL = '(docs/conformance.md, "Confinement"; a trusted suite may run with --allow-host-paths)';

test('a hostile case file on the real kernel: every escape refused, nothing changed, the scratch cgroup removed', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'conf-linux-'));
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'safe\n');
  const link = `/dev/dma_heap/dmaheap-test-link-${process.pid}`;
  symlinkSync('/etc/passwd', link);
  const cgroupsBefore = readdirSync('/sys/fs/cgroup').filter((n) => n.startsWith('dmaheap-'));
  const subtreeBefore = readFileSync('/sys/fs/cgroup/cgroup.subtree_control', 'utf8');
  try {
    const one = (name: string, steps: unknown[]): unknown => ({ name, steps });
    const cases = [
      one('passwd', [{ read_file: '/etc/passwd', expect: { match: 'root' } }]),
      one('victim', [{ write_file: victim, text: 'owned' }]),
      one('truncate', [{ open: victim, flags: 'O_RDWR|O_TRUNC' }]),
      one('create', [{ open: '/dev/dma_heap/evil', flags: 'O_RDWR|O_CREAT' }]),
      one('mkdir', [{ mkdir: join(dir, 'made') }]),
      one('symlink', [{ read_file: link }]),
      one('stdout', [{ write: 1, text: 'PWNED\n' }]),
      one('cwd', [{ readlink: '/proc/self/cwd' }]),
      one('environ', [{ read_file: '/proc/self/environ' }]),
      one('init', [{ write_file: '/sys/fs/cgroup/cgroup.procs', text: '1' }]),
      one('limit', [
        { write_file: '/sys/fs/cgroup/cgroup.subtree_control', text: '+memory' },
        { mkdir: '/sys/fs/cgroup/a' },
        { write_file: '/sys/fs/cgroup/a/cgroup.procs', text: '${pid}' },
        { write_file: '/sys/fs/cgroup/a/memory.max', text: '4096' },
      ]),
      one('fails inside cgroups', [
        { write_file: '/sys/fs/cgroup/cgroup.subtree_control', text: '+memory' },
        { mkdir: '/sys/fs/cgroup/a' },
        { mkdir: '/sys/fs/cgroup/a/b' },
        { write_file: '/sys/fs/cgroup/a/b/cgroup.procs', text: '${pid}' },
        { read_file: '/sys/fs/cgroup/a/b/cgroup.procs', expect: { equals: 'not this' } },
      ]),
    ];
    writeFileSync(join(dir, 'hostile.json'), JSON.stringify({ cases }));
    const out: string[] = [];
    const status = await conformanceMain(['run', join(dir, 'hostile.json'), '--backend', 'linux'], { out: (s) => out.push(s), err: (s) => out.push(s) });
    const text = out.join('\n');
    assert.equal(status, 1, text);
    const line = (name: string): string => out.find((l) => l.includes(`"${name}"`)) ?? `(no line for ${name})`;
    const pid = process.pid;
    const file = join(dir, 'hostile.json');
    const err = (n: number, name: string, step: string, op: string, what: string): string => `ERROR ${file}: case ${n} "${name}": step ${step} (${op}): ${what} ${TAIL}`;
    assert.match(line('passwd'), /^ERROR .*: step 1 \(read_file\): read_file '\/etc\/passwd': refused by the confinement rule "paths"/);
    assert.match(line('victim'), /refused by the confinement rule "paths"/);
    assert.match(line('truncate'), /refused by the confinement rule "paths"/);
    assert.equal(line('create'), err(4, 'create', '1', 'open', `open '/dev/dma_heap/evil': refused by the confinement rule "no new files": open with O_TMPFILE, or with O_CREAT of a path that does not exist, would create a file; a case creates no files (cgroups are made with mkdir)`));
    assert.match(line('mkdir'), /refused by the confinement rule "paths"/);
    assert.equal(line('symlink'), err(6, 'symlink', '1', 'read_file', `read_file '${link}': refused by the confinement rule "symlinks": on this machine it resolves to '/etc/passwd', outside /dev/dma_heap, /dev/udmabuf`));
    assert.equal(line('stdout'), err(7, 'stdout', '1', 'write', `write fd 1: refused by the confinement rule "own descriptors": fd 1 was open before the case started (it is the runner's); a case uses only descriptors it opened`));
    assert.match(line('cwd'), /refused by the confinement rule "proc entries"/);
    assert.match(line('environ'), /refused by the confinement rule "proc entries"/);
    assert.equal(line('init'), err(10, 'init', '1', 'write_file', `write_file '/sys/fs/cgroup/cgroup.procs': refused by the confinement rule "cgroup pids": cgroup.procs takes only the case's own pid (${pid}), 0 (the writer) or a value no process has (negative, not a number, or 4194304 and above); 1 could be another process`));
    assert.equal(line('limit'), err(11, 'limit', '4', 'write_file', `write_file '/sys/fs/cgroup/a/memory.max': refused by the confinement rule "memory limits": memory.max of /sys/fs/cgroup/a would limit the cgroup the case's process is in, and on the linux backend that process is the runner (an OOM kill or throttling would stop the run)`));
    assert.equal(line('fails inside cgroups'), `FAIL  ${file}: case 12 "fails inside cgroups": step 5 (read_file): equals: expected "not this", observed "${pid}\\n"`);
    assert.equal(out.at(-1), '0 passed, 12 failed');
    // nothing changed
    assert.equal(readFileSync(victim, 'utf8'), 'safe\n');
    assert.equal(existsSync('/dev/dma_heap/evil'), false);
    assert.equal(existsSync(join(dir, 'made')), false);
    assert.ok(!text.includes('PWNED') && !text.includes('root:x:0:0'), 'nothing of the refused files or writes in the output');
    assert.deepEqual(readdirSync('/sys/fs/cgroup').filter((n) => n.startsWith('dmaheap-')), cgroupsBefore, 'no scratch cgroup left');
    assert.equal(readFileSync('/sys/fs/cgroup/cgroup.subtree_control', 'utf8'), subtreeBefore, 'the root\'s controllers as they were');
    const self = readFileSync('/proc/self/cgroup', 'utf8');
    assert.ok(!self.includes('dmaheap-'), `the runner is back in its cgroup: ${self}`);
  } finally {
    unlinkSync(link);
    rmSync(dir, { recursive: true, force: true });
  }
});
