/**
 * Case files are data: the confinement of paths, fds and boards (docs/conformance.md,
 * "Confinement"), the linear-time regex engine ("Regular expressions") and the budgets of
 * expressions, repeat, buffers and poll ("Budgets"). Every refusal is asserted with its exact text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SyscallTarget } from '../../src/api/target.js';
import { createEmulatedTarget, ORACLE_MACHINE } from '../../src/backends/emulated/target.js';
import { caseMachineFactory, conformanceMain } from '../../src/apps/conformance/cli.js';
import { expandPaths, loadCaseFiles, parseCaseFile, readCaseFile } from '../../src/apps/conformance/cases.js';
import { pidValue } from '../../src/apps/conformance/confine.js';
import { evalExpr } from '../../src/apps/conformance/expr.js';
import { CaseRegex } from '../../src/apps/conformance/regex.js';
import { formatReport, resolveHostPath, runCases } from '../../src/apps/conformance/runner.js';
import type { CaseFile, RunOptions } from '../../src/apps/conformance/runner.js';

const root = (p: string): string => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
const TAIL = '(docs/conformance.md, "Confinement"; a trusted suite may run with --allow-host-paths)';
const REACH = 'a case reaches only /dev/dma_heap, /dev/udmabuf, /proc/self (fd, fdinfo, maps), /proc/meminfo, /proc/sys/kernel/osrelease, '
  + '/sys/kernel/{dmabuf,mm/cma,debug/dma_buf,debug/cma}, /sys/class/dma_heap, /sys/module/dma_heap/parameters and its cgroups under /sys/fs/cgroup';

function file(cases: unknown[], path = 't.json'): CaseFile {
  const r = parseCaseFile(JSON.stringify({ cases }), path, 't.json');
  assert.deepEqual(r.errors, []);
  assert.ok(r.file !== null);
  return r.file;
}

const emulated = (): SyscallTarget => createEmulatedTarget({ ...ORACLE_MACHINE, profile: '6.1' });

/** The report lines of running `cases` on the emulated 6.1 machine (without the closing line). */
async function lines(cases: unknown[], opts: RunOptions = {}, make: () => SyscallTarget = emulated): Promise<string[]> {
  const report = await runCases([file(cases)], make, opts);
  return formatReport(report).trimEnd().split('\n').slice(0, -1);
}

/** The ERROR line of a one-step case refused at step `step`. */
function refused(name: string, step: string, op: string, text: string): string {
  return `ERROR t.json: case 1 "${name}": step ${step} (${op}): ${text} ${TAIL}`;
}

test('paths outside the dma-buf files are refused before they run, with the path and the rule', async () => {
  const forms: [unknown, string, string][] = [
    [{ read_file: '/etc/passwd' }, 'read_file', `read_file '/etc/passwd': refused by the confinement rule "paths": ${REACH}`],
    [{ read_file: '/proc/self/../../etc/passwd' }, 'read_file', `read_file '/proc/self/../../etc/passwd' (= /etc/passwd): refused by the confinement rule "paths": ${REACH}`],
    [{ open: '/dev/dma_heap/../../etc/shadow', flags: 'O_RDWR' }, 'open', `open '/dev/dma_heap/../../etc/shadow' (= /etc/shadow): refused by the confinement rule "paths": ${REACH}`],
    [{ open: '//etc///passwd' }, 'open', `open '//etc///passwd' (= /etc/passwd): refused by the confinement rule "paths": ${REACH}`],
    [{ readlink: 'proc/self/exe' }, 'readlink', `readlink 'proc/self/exe': refused by the confinement rule "absolute": a case path must be absolute`],
    [{ write_file: '/tmp/owned', text: 'x' }, 'write_file', `write_file '/tmp/owned': refused by the confinement rule "paths": ${REACH}`],
    [{ mkdir: '/tmp/d' }, 'mkdir', `mkdir '/tmp/d': refused by the confinement rule "paths": ${REACH}`],
    [{ readdir: '/' }, 'readdir', `readdir '/': refused by the confinement rule "paths": ${REACH}`],
    [{ open: '/dev/dma_heap/new', flags: 'O_RDWR|O_CREAT|O_TRUNC' }, 'open', `open '/dev/dma_heap/new': refused by the confinement rule "no new files": open with O_TMPFILE, or with O_CREAT of a path that does not exist, would create a file; a case creates no files (cgroups are made with mkdir)`],
    [{ open: '/dev/dma_heap', flags: 'O_RDWR|O_TMPFILE' }, 'open', `open '/dev/dma_heap': refused by the confinement rule "no new files": open with O_TMPFILE, or with O_CREAT of a path that does not exist, would create a file; a case creates no files (cgroups are made with mkdir)`],
    [{ mkdir: '/dev/dma_heap/d' }, 'mkdir', `mkdir '/dev/dma_heap/d': refused by the confinement rule "directories": mkdir and rmdir reach only the cgroups under /sys/fs/cgroup (and sysfs, which refuses them)`],
    [{ read_file: '/proc/1/maps' }, 'read_file', `read_file '/proc/1/maps': refused by the confinement rule "own process": /proc/1 is not the case's process (pid 2); use /proc/self`],
    [{ readlink: '/proc/self/root' }, 'readlink', `readlink '/proc/self/root': refused by the confinement rule "proc entries": of /proc/self a case reaches only the directory itself, fd, fd/<n>, fdinfo, fdinfo/<n> and maps`],
    [{ readlink: '/proc/self/cwd' }, 'readlink', `readlink '/proc/self/cwd': refused by the confinement rule "proc entries": of /proc/self a case reaches only the directory itself, fd, fd/<n>, fdinfo, fdinfo/<n> and maps`],
    [{ open: '/proc/self/mem', flags: 'O_RDWR' }, 'open', `open '/proc/self/mem': refused by the confinement rule "proc entries": of /proc/self a case reaches only the directory itself, fd, fd/<n>, fdinfo, fdinfo/<n> and maps`],
    [{ read_file: '/proc/self/fd/0/../../environ' }, 'read_file', `read_file '/proc/self/fd/0/../../environ' (= /proc/self/environ): refused by the confinement rule "proc entries": of /proc/self a case reaches only the directory itself, fd, fd/<n>, fdinfo, fdinfo/<n> and maps`],
    [{ open: '/sys/kernel/debug/dma_buf/bufinfo', flags: 'O_RDWR' }, 'open', `open '/sys/kernel/debug/dma_buf/bufinfo': refused by the confinement rule "read-only": debugfs (/sys/kernel/debug) is read-only for a case`],
    [{ write_file: '/proc/meminfo', text: '1' }, 'write_file', `write_file '/proc/meminfo': refused by the confinement rule "read-only": this /proc file is read-only for a case`],
    [{ write_file: '/sys/fs/cgroup/cgroup.procs', text: '1' }, 'write_file', `write_file '/sys/fs/cgroup/cgroup.procs': refused by the confinement rule "cgroup pids": cgroup.procs takes only the case's own pid (2), 0 (the writer) or a value no process has (negative, not a number, or 4194304 and above); 1 could be another process`],
    [{ write_file: '/sys/fs/cgroup/cgroup.procs', text: ' 0x1\n' }, 'write_file', `write_file '/sys/fs/cgroup/cgroup.procs': refused by the confinement rule "cgroup pids": cgroup.procs takes only the case's own pid (2), 0 (the writer) or a value no process has (negative, not a number, or 4194304 and above); 1 could be another process`],
    [{ write_file: '/sys/fs/cgroup/cgroup.freeze', text: '1' }, 'write_file', `write_file '/sys/fs/cgroup/cgroup.freeze': refused by the confinement rule "cgroup writes": a case writes only cgroup.procs, cgroup.subtree_control, and the memory.* and dmem.* files of the cgroups it made`],
    [{ write_file: '/sys/fs/cgroup/memory.reclaim', text: '1G' }, 'write_file', `write_file '/sys/fs/cgroup/memory.reclaim': refused by the confinement rule "cgroup writes": a case writes only cgroup.procs, cgroup.subtree_control, and the memory.* and dmem.* files of the cgroups it made`],
    [{ open: '/sys/fs/cgroup/cgroup.procs', flags: 'O_WRONLY' }, 'open', `open '/sys/fs/cgroup/cgroup.procs': refused by the confinement rule "cgroup writes": a case writes cgroup files only with write_file (its text is checked); open them O_RDONLY`],
    [{ mkdir: '/sys/fs/cgroup/dmaheap-case-home' }, 'mkdir', `mkdir '/sys/fs/cgroup/dmaheap-case-home': refused by the confinement rule "runner cgroup": 'dmaheap-case-home' is the runner's own cgroup (on the linux backend), not the case's`],
  ];
  for (const [step, op, text] of forms) {
    assert.deepEqual(await lines([{ name: 'x', steps: [step] }]), [refused('x', '1', op, text)], JSON.stringify(step));
  }
});

test('through /proc/self/fd: not the runner\'s descriptors, no whole reads, reopen only memfds and dma-bufs', async () => {
  const steps = [
    { open: '/dev/dma_heap/system', flags: 'O_RDWR', as: 'h' },
    { memfd_create: 'm', as: 'm' },
    { readlink: '/proc/self/fd/${h}', expect: { equals: '/dev/dma_heap/system' } },
    { open: '/proc/self/fd/${m}', flags: 'O_RDWR', as: 'r' },
  ];
  assert.deepEqual(await lines([{ name: 'ok', steps }]), ['PASS  t.json: case 1 "ok"']);
  assert.deepEqual(await lines([{ name: 'x', steps: [...steps, { read_file: '/proc/self/fd/${m}' }] }]),
    [refused('x', '5', 'read_file', `read_file '/proc/self/fd/1': refused by the confinement rule "bounded reads": read_file reads to the end, and behind /proc/self/fd/<n> may be a memfd of any size; open it and read with a count`)]);
  assert.deepEqual(await lines([{ name: 'x', steps: [...steps, { open: '/proc/self/fd/${h}', flags: 'O_RDONLY' }] }]),
    [refused('x', '5', 'open', `open '/proc/self/fd/0': refused by the confinement rule "reopen": fd 0 is '/dev/dma_heap/system'; only memfds and dma-bufs are reopened through /proc/self/fd (open the file itself)`)]);

  // descriptors the runner held before the case (a process that is not fresh: the linux backend's)
  const used = (): SyscallTarget => {
    const t = emulated();
    t.open('/proc/meminfo', 0); // fd 0: the runner's
    return t;
  };
  const own = (what: string): string => `${what}: refused by the confinement rule "own descriptors": fd 0 was open before the case started (it is the runner's); a case`;
  const cases: [unknown, string, string][] = [
    [{ close: 0 }, 'close', `${own('close fd 0')} uses only descriptors it opened`],
    [{ read: 0, count: 4 }, 'read', `${own('read fd 0')} uses only descriptors it opened`],
    [{ poll: [{ fd: 'h' }, { fd: 0 }] }, 'poll', `${own('poll fd 0')} uses only descriptors it opened`],
    [{ readlink: '/proc/self/fd/0' }, 'readlink', `${own("readlink '/proc/self/fd/0'")} reaches only descriptors it opened`],
    [{ read_file: '/proc/self/fdinfo/0' }, 'read_file', `${own("read_file '/proc/self/fdinfo/0'")} reaches only descriptors it opened`],
  ];
  for (const [step, op, text] of cases) {
    assert.deepEqual(await lines([{ name: 'x', steps: [{ open: '/dev/dma_heap/system', as: 'h' }, step] }], {}, used), [refused('x', '2', op, text)], JSON.stringify(step));
  }
  // the case's own descriptors are fine; --allow-host-paths lifts the rule
  assert.deepEqual(await lines([{ name: 'ok', steps: [{ open: '/dev/dma_heap/system', as: 'h' }, { fstat: 'h' }, { readlink: '/proc/self/fd/${h}' }] }], {}, used), ['PASS  t.json: case 1 "ok"']);
  assert.deepEqual(await lines([{ name: 'ok', steps: [{ fstat: 0 }, { readlink: '/proc/self/fd/0', expect: { equals: '/proc/meminfo' } }] }], { allowHostPaths: true }, used), ['PASS  t.json: case 1 "ok"']);
});

test('--allow-host-paths lifts the path rules (runner option and CLI)', async () => {
  const c = [{ name: 'host', steps: [{ read_file: '/etc/passwd', expect: { errno: 'ENOENT' } }, { write_file: '/sys/fs/cgroup/cgroup.procs', text: '1' }] }];
  assert.deepEqual(await lines(c, { allowHostPaths: true }), ['PASS  t.json: case 1 "host"']);
  const dir = mkdtempSync(join(tmpdir(), 'conf-host-'));
  try {
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ cases: c }));
    const out: string[] = [];
    const print = { out: (s: string) => out.push(s), err: (s: string) => out.push(s) };
    assert.equal(await conformanceMain(['run', join(dir, 'c.json'), '--profile', '6.1'], print), 1);
    assert.match(out.join('\n'), /^ERROR .*c\.json: case 1 "host": step 1 \(read_file\): read_file '\/etc\/passwd': refused by the confinement rule "paths"/m);
    out.length = 0;
    assert.equal(await conformanceMain(['run', join(dir, 'c.json'), '--profile', '6.1', '--allow-host-paths'], print), 0, out.join('\n'));
    assert.equal(out.at(-1), '1 passed, 0 failed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the allowed files keep working: heaps, udmabuf, /proc/self, sysfs, debugfs, cgroups', async () => {
  const steps = [
    { readdir: '/dev/dma_heap', expect: { equals: 'reserved\nsystem' } },
    { open: '/dev/dma_heap/system', flags: 'O_RDWR|O_CLOEXEC', as: 'h' },
    { ioctl: 'h', cmd: 'DMA_HEAP_IOCTL_ALLOC', arg: { struct: 'dma_heap_allocation_data', len: 4096, fd_flags: 'O_RDWR' }, as: 'b' },
    { fstat: 'b.fd', as: 's' },
    { read_file: '/proc/self/fdinfo/${b.fd}', expect: { match: '^exp_name:\\tsystem$' } },
    { read_file: '/proc/${pid}/maps' },
    { readdir: '/proc/self/fd', expect: { equals: '0\n1' } },
    { read_file: '/sys/kernel/dmabuf/buffers/${s.ino}/size', expect: { equals: '4096\n' } },
    { read_file: '/sys/kernel/debug/dma_buf/bufinfo', expect: { match: '^Total 1 objects, 4096 bytes$' } },
    { read_file: '/sys/kernel/mm/cma/reserved/alloc_pages_success' },
    { read_file: '/sys/class/dma_heap/system/dev' },
    { open: '/dev/udmabuf', flags: 'O_RDWR' },
    { read_file: '/proc/meminfo' },
    { mkdir: '/sys/fs/cgroup/a' },
    { write_file: '/sys/fs/cgroup/a/cgroup.procs', text: '${pid}' },
    { write_file: '/sys/fs/cgroup/cgroup.procs', text: '0' },
    { write_file: '/sys/fs/cgroup/a/cgroup.procs', text: '4194304', expect: { errno: 'ESRCH' } },
    { write_file: '/sys/fs/cgroup/a/cgroup.procs', text: '-1', expect: { errno: 'EINVAL' } },
    { rmdir: '/sys/fs/cgroup/a' },
    { mkdir: '/sys/class/dma_heap/foo', expect: { errno: 'EPERM' } },
    { open: '/sys/kernel/dmabuf/../dmabuf/buffers/${s.ino}/size' },
  ];
  assert.deepEqual(await lines([{ name: 'ok', steps }]), ['PASS  t.json: case 1 "ok"']);
});

test('the linux backend: symbolic links are resolved on the host and must stay where the path points', async () => {
  // a resolver as the linux backend's, here over the emulated kernel: /sys/class/dma_heap's links
  // lead to /sys/devices/virtual/dma_heap (allowed); a link out of the tree is refused
  const links: Record<string, string> = {
    '/sys/class/dma_heap/system': '/sys/devices/virtual/dma_heap/system',
    '/sys/kernel/dmabuf/buffers': '/etc',
  };
  const resolve = (p: string): string => {
    for (const [from, to] of Object.entries(links)) if (p === from || p.startsWith(`${from}/`)) return to + p.slice(from.length);
    return p;
  };
  const host = { resolve };
  assert.deepEqual(await lines([{ name: 'ok', steps: [{ read_file: '/sys/class/dma_heap/system/dev' }] }], { host }), ['PASS  t.json: case 1 "ok"']);
  assert.deepEqual(await lines([{ name: 'x', steps: [{ read_file: '/sys/kernel/dmabuf/buffers/passwd' }] }], { host }),
    [refused('x', '1', 'read_file', `read_file '/sys/kernel/dmabuf/buffers/passwd': refused by the confinement rule "symlinks": on this machine it resolves to '/etc/passwd', outside /sys/kernel/dmabuf, /sys/kernel/mm/cma, /sys/class/dma_heap, /sys/module/dma_heap/parameters, /sys/devices/virtual/dma_heap`)]);

  // resolveHostPath: realpath of the longest existing prefix, the rest appended
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'conf-link-')));
  try {
    mkdirSync(join(dir, 'real'));
    symlinkSync(join(dir, 'real'), join(dir, 'link'));
    symlinkSync('/etc', join(dir, 'out'));
    assert.equal(resolveHostPath(join(dir, 'link', 'missing', 'file')), join(dir, 'real', 'missing', 'file'));
    assert.equal(resolveHostPath(join(dir, 'out', 'passwd')), '/etc/passwd');
    assert.equal(resolveHostPath(`${dir}/link/../real`), join(dir, 'real'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the linux backend\'s scratch cgroup: memcg.json passes in it, and nothing is left behind', async () => {
  // the emulated kernel's cgroupfs stands in for this machine's: the runner makes the scratch
  // cgroup in it as on the linux backend (host mode), and the root is checked after every case
  const seen: string[] = [];
  const make = (): SyscallTarget => {
    const t = emulated();
    const dispose = t.dispose.bind(t);
    t.dispose = () => {
      seen.push(`${(t.readdir('/sys/fs/cgroup').names ?? []).filter((n) => !n.includes('.')).join(',')}|${t.readFile('/sys/fs/cgroup/cgroup.subtree_control').text ?? ''}`);
      dispose();
    };
    return t;
  };
  const { files, errors } = loadCaseFiles([root('test/conformance/cases/memcg.json')]);
  assert.deepEqual(errors, []);
  const host = { resolve: (p: string) => p };
  const report = await runCases(files, make, { host, profile: '6.1' });
  assert.equal(report.failed, 0, formatReport(report));
  assert.equal(report.passed, 6);
  assert.ok(seen.length >= 6 && seen.every((s) => s === '|'), `the root after each case: ${seen.join(' ')}`);

  // in it, the case's process is the runner: a memory limit may not hold it
  const limit = [
    { mkdir: '/sys/fs/cgroup/a' },
    { write_file: '/sys/fs/cgroup/a/cgroup.procs', text: '${pid}' },
    { write_file: '/sys/fs/cgroup/a/memory.max', text: '1M' },
  ];
  assert.deepEqual(await lines([{ name: 'x', steps: [{ write_file: '/sys/fs/cgroup/cgroup.subtree_control', text: '+memory' }, ...limit] }], { host }),
    [refused('x', '4', 'write_file', `write_file '/sys/fs/cgroup/a/memory.max': refused by the confinement rule "memory limits": memory.max of /sys/fs/cgroup/a would limit the cgroup the case's process is in, and on the linux backend that process is the runner (an OOM kill or throttling would stop the run)`)]);
  const moveIn = [limit[0], limit[2], limit[1]];
  assert.deepEqual(await lines([{ name: 'x', steps: [{ write_file: '/sys/fs/cgroup/cgroup.subtree_control', text: '+memory' }, ...moveIn] }], { host }),
    [refused('x', '4', 'write_file', `write_file '/sys/fs/cgroup/a/cgroup.procs': refused by the confinement rule "memory limits": moving the case's process into /sys/fs/cgroup/a puts it under the memory limit of /sys/fs/cgroup/a, and on the linux backend that process is the runner`)]);
  // on the emulated kernel the process is the case's own: the OOM killer is something a case may test
  assert.deepEqual(await lines([{ name: 'ok', steps: [{ write_file: '/sys/fs/cgroup/cgroup.subtree_control', text: '+memory' }, ...limit] }]), ['PASS  t.json: case 1 "ok"']);
});

test('a case\'s board: a shipped board or a file of its suite; /dev/zero and escapes are refused with the rule', () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'conf-board-')));
  try {
    const suite = join(dir, 'suite');
    mkdirSync(join(suite, 'boards'), { recursive: true });
    writeFileSync(join(dir, 'outside.dts'), '/dts-v1/;\n/ { };\n');
    writeFileSync(join(suite, 'boards', 'mine.dts'), `/include/ "${root('examples/boards/imx8mp.dts')}"\n`);
    writeFileSync(join(suite, 'boards', 'leak.dts'), '/dts-v1/;\n/ { x = /incbin/("/etc/hostname"); };\n');
    symlinkSync('/dev/zero', join(suite, 'zero.dts'));
    const shipped = realpathSync(root('examples/boards'));
    const errs = (board: string, opts = {}): string[] => {
      const r = parseCaseFile(JSON.stringify({ cases: [{ name: 'b', backend: 'emulated', board, steps: [{ count_fds: true }] }] }), join(suite, 'c.json'), 'c.json', opts);
      return r.errors;
    };
    const rule = (board: string, real: string): string => `c.json: case 1 "b": board '${board}' is refused by the confinement rule "boards": a case's board is a shipped board's name `
      + `(am62x, imx8mp, rk3588, rpi5, x86-pc) or a file or directory inside the case file's directory (${suite}) or the shipped boards' (${shipped}), and '${board}' is ${real} ${TAIL}`;
    assert.deepEqual(errs('/dev/zero'), [rule('/dev/zero', '/dev/zero')]);
    assert.deepEqual(errs('../outside.dts'), [rule('../outside.dts', join(dir, 'outside.dts'))]);
    assert.deepEqual(errs('zero.dts'), [rule('zero.dts', '/dev/zero')]);
    assert.deepEqual(errs('imx8mp'), []);
    assert.deepEqual(errs('boards/mine.dts'), []);
    assert.deepEqual(errs(root('examples/boards/rpi5.dts')), [], 'a shipped board by its path');
    // --allow-host-paths: any path, but still a file or a directory
    assert.deepEqual(errs('/dev/zero', { allowHostPaths: true }), [`c.json: case 1 "b": board '/dev/zero' is not a regular file or a directory (a DTS, a DTB or a live-tree directory)`]);
    assert.deepEqual(errs('../outside.dts', { allowHostPaths: true }), []);
    // what a board from the suite includes stays in the suite (or the shipped boards)
    const make = caseMachineFactory({}, undefined);
    const file = (b: string): CaseFile => parseCaseFile(JSON.stringify({ cases: [{ name: 'b', backend: 'emulated', board: b, steps: [{ count_fds: true }] }] }), join(suite, 'c.json'), 'c.json').file!;
    assert.equal(make(file('boards/mine.dts').cases[0]!.machine!).arch, 'arm64');
    assert.throws(() => make(file('boards/leak.dts').cases[0]!.machine!), {
      message: `board: ${join(suite, 'boards', 'leak.dts')}: the board's file '/etc/hostname' is refused by the confinement rule "boards": a case's board and the files it includes stay inside the case file's directory (${suite}) or the shipped boards' (${shipped}), and '/etc/hostname' is /etc/hostname ${TAIL}`,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('case files: regular files only, bounded, FIFOs do not block, directory links are not followed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'conf-files-'));
  try {
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'a.json'), '{"cases": []}');
    symlinkSync(dir, join(dir, 'sub', 'loop'));
    assert.deepEqual(expandPaths([dir]), { files: [join(dir, 'sub', 'a.json')], errors: [] });
    writeFileSync(join(dir, 'big.json'), Buffer.alloc(16 * 1024 * 1024 + 1, 0x20));
    assert.throws(() => readCaseFile(join(dir, 'big.json')), { message: 'larger than 16777216 bytes (the limit of a case file)' });
    assert.throws(() => readCaseFile('/dev/zero'), { message: 'not a regular file' });
    let fifo = true;
    try {
      execFileSync('mkfifo', [join(dir, 'fifo.json')]);
    } catch {
      fifo = false; // no mkfifo here: the FIFO form is not checked
    }
    if (fifo) {
      const r = loadCaseFiles([join(dir, 'fifo.json')]);
      assert.deepEqual(r.errors.map((e) => e.replace(/^.*fifo\.json: /, '')), ['cannot read: not a regular file']);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('regular expressions run in linear time: ^(a+)+$ returns, the step budget is an error', async () => {
  const evil = `${'a'.repeat(100_000)}b`;
  assert.equal(new CaseRegex('^(a+)+$').test(evil), false);
  assert.equal(new CaseRegex('^(a+)+$').test('aaaa'), true);
  assert.equal(new CaseRegex('(a|a)*c').test(evil), false);
  assert.deepEqual(await lines([{ name: 'evil', steps: [{ eval: 1, as: 't' }, { write_file: '/sys/fs/cgroup/cgroup.subtree_control', text: '+memory' }, { read_file: '/sys/fs/cgroup/cgroup.subtree_control', expect: { not_match: '^(a+)+$' } }] }]), ['PASS  t.json: case 1 "evil"']);
  const big = [{ memfd_create: 'm', as: 'm' }, { ftruncate: 'm', length: 100_000 }, { mmap: 'm', length: 100_000, prot: 'PROT_READ|PROT_WRITE', as: 'p' },
    { write_mem: 'p', fill: '0x61', length: 100_000 }, { read_mem: 'p', length: 100_000, expect: { match: '[a-z]{1000}Z' } }];
  assert.deepEqual(await lines([{ name: 'budget', steps: big }]),
    ['ERROR t.json: case 1 "budget": step 5 (read_mem): expect.match: the search took more than 20000000 steps (the regex step budget; the pattern has 1002 instructions, the text 100000 characters)']);
  const load = (re: string): string[] => parseCaseFile(JSON.stringify({ cases: [{ name: 'r', steps: [{ read_file: '/proc/meminfo', expect: { match: re } }] }] }), 'f.json').errors;
  const engine = 'f.json: case 1 "r": step 1 (read_file): expect.match is not a regular expression the case engine runs: ';
  const doc = ' (docs/conformance.md, "Regular expressions")';
  assert.deepEqual(load('(a)\\1'), [`${engine}backreference \\1 is not supported (backreferences can take exponential time) at offset 5${doc}`]);
  assert.deepEqual(load('(?<x>a)\\k<x>'), [`${engine}backreference \\k<...> is not supported (backreferences can take exponential time) at offset 9${doc}`]);
  assert.deepEqual(load('a(?=b)'), [`${engine}lookaround is not supported (only (?<![\\s\\S]) for the start and (?![\\s\\S]) for the end of the text) at offset 1${doc}`]);
  assert.deepEqual(load('a{1001}'), [`${engine}counted repetition {1001} is above the budget of 1000 at offset 1${doc}`]);
  assert.deepEqual(load('(a{1000}){30}'), [`${engine}the pattern compiles to more than 20000 instructions (the regex program budget)${doc}`]);
  assert.deepEqual(load('('), [`${engine}Unterminated group${doc}`]);
});

test('the regex engine agrees with JavaScript on the suite\'s patterns and more', () => {
  const patterns = [
    '(?<![\\s\\S])pos:\\t0\\nflags:\\t02000002\\nmnt_id:\\t\\d+\\n(?![\\s\\S])', '(^|,)display-carveout@a1000000(,|$)', '^\\d+:(\\d|[1-9]\\d|1[01]\\d|12[0-7])$',
    '^[0-9]+\\n(?![\\s\\S])', 'carveout|r5f', '^[0-9a-f]+-[0-9a-f]+ r--p a1000000 ', 'wrote 4 bytes at offset 0 of .* while', '\\bfoo\\b', '\\Bo\\B', 'a{2,3}b', 'a{2,}b', 'a{0}b',
    '[^\\n]+$', '[\\d-x]+', '.\\.', 'x*', '(?:ab|a)c', '[\\s\\S]{3}', '^$', 'a?b??c', '\\x41\\u0042', '[a-c\\-]+z', '\\cJ', 'a|', '()', 'a{,2}', 'a{', ']', '\\/',
  ];
  const texts = ['', 'a', 'pos:\t0\nflags:\t02000002\nmnt_id:\t12\nino:\t345\nsize:\t4096\ncount:\t1\nexp_name:\tx\n', 'exp_name:\tx\nname:\tfoo\n', 'Total 1 objects, 4096 bytes\n', 'memory.max\n', 'x\n', 'aab', 'foo bar', 'x-1-2', 'pos:\t0\nflags:\t02000002\nmnt_id:\t5\n', 'display-carveout@a1000000', 'a,display-carveout@a1000000,b', '1:127\n2:128',
    'carveout', '12\n', 'abc\r\ndef', 'A B', '\n', 'aaab', 'a{,2}', 'a{', ']', 'ac', 'abc', 'ab.', '7ffd-8000 r--p a1000000 x', 'wrote 4 bytes at offset 0 of dma-buf 3 while', 'x\ny', 'b', '-z'];
  // and every pattern of the suite, its ${...} blanked as the loader does
  const { files } = loadCaseFiles([root('test/conformance/cases')]);
  const suite = new Set<string>();
  const walk = (steps: readonly { raw: Readonly<Record<string, unknown>>; steps?: readonly unknown[] }[]): void => {
    for (const st of steps) {
      const e = st.raw.expect as { match?: string; not_match?: string } | undefined;
      for (const p of [e?.match, e?.not_match]) if (p !== undefined) suite.add(p.replace(/\$\{[^}]*\}/g, 'x'));
      if (st.steps !== undefined) walk(st.steps as typeof steps);
    }
  };
  for (const f of files) for (const c of f.cases) walk(c.steps);
  assert.ok(suite.size >= 60, `the suite's patterns: ${suite.size}`);
  for (const p of [...patterns, ...suite]) {
    const js = new RegExp(p, 'm');
    const ours = new CaseRegex(p);
    for (const t of texts) assert.equal(ours.test(t), js.test(t), `/${p}/ on ${JSON.stringify(t)}`);
  }
});

test('expression budgets: value bits, shift counts, length, nesting, digits of a text', async () => {
  const ev = async (expr: string): Promise<string[]> => lines([{ name: 'e', steps: [{ eval: expr }] }]);
  const err = (text: string): string[] => [`ERROR t.json: case 1 "e": step 1 (eval): ${text}`];
  assert.deepEqual(await ev('1 << 1000000000'), err(`expression budget: shift count 1000000000 in '1 << 1000000000' is outside 0..128`));
  assert.deepEqual(await ev('1 >> -1'), err(`expression budget: shift count -1 in '1 >> -1' is outside 0..128`));
  assert.deepEqual(await ev('1 << 128'), err(`expression budget: a value in '1 << 128' needs more than 128 bits (every value must be below 2^128 in magnitude)`));
  assert.deepEqual(await ev('(1 << 100) * (1 << 100)'), err(`expression budget: a value in '(1 << 100) * (1 << 100)' needs more than 128 bits (every value must be below 2^128 in magnitude)`));
  assert.deepEqual(await ev(`0x${'f'.repeat(40)}`), err(`expression budget: a value in '0x${'f'.repeat(40)}' needs more than 128 bits (every value must be below 2^128 in magnitude)`));
  assert.deepEqual(await ev(`${'('.repeat(65)}1${')'.repeat(65)}`), err(`expression budget: '${'('.repeat(60)}...' nests deeper than 64 (parentheses and unary operators)`));
  assert.deepEqual(await ev(`${'-'.repeat(65)}1`), err(`expression budget: '${'-'.repeat(60)}...' nests deeper than 64 (parentheses and unary operators)`));
  assert.deepEqual(await ev(`1${' + 1'.repeat(1024)}`), err(`expression budget: '1${' + 1'.repeat(14)} + ...' is 4097 characters, more than 4096`));
  assert.deepEqual(await ev('(1 << 127) + (1 << 127)'), err(`expression budget: a value in '(1 << 127) + (1 << 127)' needs more than 128 bits (every value must be below 2^128 in magnitude)`));
  assert.deepEqual(await ev('0xffffffffffffffff * 0xffffffffffffffff'), ['PASS  t.json: case 1 "e"']);
  // a text result that is a number (a sysfs counter) of more than 128 bits
  const env = { constants: {}, lookup: (ref: string) => (ref === 'm' ? `${'1'.repeat(42)}\n` : undefined) };
  assert.throws(() => evalExpr('m + 1', env), { message: `expression budget: 'm' is a number of 42 digits, more than 128 bits, in expression 'm + 1'` });
  assert.equal(evalExpr('m + 1', { constants: {}, lookup: (ref: string) => (ref === 'm' ? '41\n' : undefined) }), 42n);
});

test('repeat, byte and poll budgets: per case, with the budget named', async () => {
  assert.deepEqual(await lines([{ name: 'r', steps: [{ repeat: 100_000, steps: [{ repeat: 100_000, index: 'j', steps: [] }] }] }]),
    ['ERROR t.json: case 1 "r": step 1.1 (repeat): step budget: the case has run more than 1000000 steps and repeat iterations (the budget of one case) (iteration j=99979)']);
  assert.deepEqual(await lines([{ name: 'r', steps: [{ repeat: 1000, steps: [{ repeat: 1000, index: 'j', steps: [{ eval: 'i * j' }] }] }] }]),
    ['ERROR t.json: case 1 "r": step 1.1.1 (eval): step budget: the case has run more than 1000000 steps and repeat iterations (the budget of one case)']);
  assert.deepEqual(await lines([{ name: 'b', steps: [{ repeat: 5, steps: [{ read: 999, count: 256 * 1024 * 1024, expect: { errno: 'EBADF' } }] }] }]),
    ['ERROR t.json: case 1 "b": step 1.1 (read): byte budget: read.count (268435456 bytes) takes the buffers of the case past 1073741824 bytes (the budget of one case)']);
  const poll = [{ open: '/dev/dma_heap/system', as: 'h' },
    { ioctl: 'h', cmd: 'DMA_HEAP_IOCTL_ALLOC', arg: { struct: 'dma_heap_allocation_data', len: 4096, fd_flags: 'O_RDWR' }, as: 'b' },
    { poll: 'b.fd', events: 'POLLIN', timeout: 6000, expect: { ret: 1 } }, { poll: 'b.fd', events: 'POLLIN', timeout: 6000 }];
  assert.deepEqual(await lines([{ name: 'p', steps: poll }]),
    ['ERROR t.json: case 1 "p": step 4 (poll): poll budget: the poll timeouts of the case add up to 12000 ms, more than 10000 ms (the budget of one case)']);
  assert.deepEqual(await lines([{ name: 's', steps: [{ eval: 1, as: 'x' }, { write_file: '/sys/fs/cgroup/cgroup.subtree_control', text: `${'${x}'.repeat(1)}${'y'.repeat(1 << 20)}` }] }]),
    [`ERROR t.json: case 1 "s": step 2 (write_file): substitution budget: '\${x}${'y'.repeat(56)}...' makes more than 1048576 characters`]);
});

test('cgroup.procs values as the kernel reads them (kstrtoint base 0 after strstrip)', () => {
  assert.deepEqual(['5', ' 5\n', '+5', '-1', '0x10', '010', '0', 'abc', '5x', '', '99999999999', '4194304'].map(pidValue),
    [5, 5, 5, -1, 16, 8, 0, null, null, null, null, 4194304]);
});
