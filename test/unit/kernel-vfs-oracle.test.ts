/**
 * The emulated kernel's path walk against the referees, line by line: test/oracle/issue-11/
 * vfs-walk.c and vfs-walk2.c (trailing slashes, O_DIRECTORY, ENOTDIR/ENOENT, symbolic and magic
 * links, O_NOFOLLOW, `..` at mount roots, search permission, ENAMETOOLONG, mkdir/rmdir/readlink,
 * getdents order, the 40-link limit) re-run on the emulated kernel (vfs-oracle-probe.ts) must
 * print what Linux 6.1.192 printed on the 6.1 profile, 6.12.118 on 6.12, and 7.3-rc7 on 7.3.
 *
 * Masked, because they are the referee's environment and not the kernel's behaviour:
 * - st_dev: anonymous device numbers are handed out in the order the referee's boot mounted its
 *   file systems (its root is an overlay, it mounts devpts, /dev/shm and /run too); `dev=DEV`.
 * - inode numbers: they count what the boot allocated before. They are renamed in order of first
 *   appearance (`#1`, `#2`, ...; keyed by device and number), so which lines name the same inode
 *   and which name different ones still compares (the same fd link twice, two links).
 * - /proc/self/mountinfo (the last lines of vfs-walk.c): the referee's own mounts; the emulator
 *   has no mountinfo (divergence `proc-entries`).
 * Masked by intentional divergences (docs/fidelity.md), only on the lines named below.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runVfsWalk, runVfsWalk2 } from './vfs-oracle-probe.js';
import type { ProfileName } from '../../src/kernel/profile.js';

const DIR = fileURLToPath(new URL('../../../test/oracle/issue-11/', import.meta.url));

/** Device numbers masked, inode numbers renamed in order of first appearance (see above). */
function normalise(lines: readonly string[]): string[] {
  const names = new Map<string, number>();
  const label = (key: string): string => {
    if (!names.has(key)) names.set(key, names.size + 1);
    return `#${names.get(key)!}`;
  };
  const out: string[] = [];
  for (const l of lines) {
    if (l === '') continue;
    // the referee's mounts (the emulator has no mountinfo): the rest of the output
    if (l.startsWith('mountinfo: ')) break;
    out.push(l
      .replace(/ dev=(\d+:\d+) ino=(\d+)/, (_m, dev: string, ino: string) => ` dev=DEV ino=${label(`${dev}/${ino}`)}`)
      .replace(/ ino=(\d+)$/, (_m, ino: string) => ` ino=${label(ino)}`));
  }
  return out;
}

/**
 * Divergence `dir-nlink`: st_nlink of a directory counts its subdirectories (2 + them), and the
 * emulator has part of the subdirectories of these (sysfs-subset, proc-entries); /proc and
 * /proc/<pid> say 1. Only these directories' nlink is masked; every other directory's must agree.
 */
const PARTIAL_DIRS = /^stat (\/proc|\/proc\/self|\/sys|\/sys\/kernel|\/sys\/class|\/sys\/fs|\/sys\/kernel\/debug|\/dev): /;
function maskDirNlink(l: string): string {
  return PARTIAL_DIRS.test(l) ? l.replace(/( mode=04\d+) nlink=\d+$/, '$1 nlink=N') : l;
}

/**
 * Divergence `read-only-paths`: the root and /dev are read-only mounts here, so rmdir under them
 * is EROFS (do_rmdir's mnt_want_write comes before the lookup) where the referee's writable
 * overlay root and devtmpfs say ENOTDIR, EBUSY (a mount point) or ENOTEMPTY.
 */
const READ_ONLY_PATHS = /^rmdir (\/dev\/dma_heap\/system|\/proc|\/sys|\/dev\/dma_heap): ret=-1 errno=/;

/**
 * Directories whose listing the emulator has part of (divergences `proc-entries`: /proc,
 * /proc/<pid>, /proc/sys; `sysfs-subset`: /sys, /sys/kernel, /sys/class, /sys/devices/virtual,
 * /sys/fs, /dev, debugfs; `memcg`: the cgroup interface files). On these lines the emulated
 * names must be the referee's names in the referee's order with some left out; a name the
 * referee does not list fails, unless the referee's listing was cut at 40 entries (vfs-walk2.c).
 */
const PARTIAL = /^(user )?ls (\/proc|\/proc\/self|\/proc\/sys|\/proc\/sys\/kernel \(osrelease\?\)|\/dev|\/sys|\/sys\/kernel|\/sys\/kernel\/debug|\/sys\/kernel\/debug\/cma\/reserved|\/sys\/fs|\/sys\/class|\/sys\/devices\/virtual|\/sys\/fs\/cgroup( after mkdir b a c)?|\/sys\/fs\/cgroup\/a( with memory)?|cg700): /;

function partialAgrees(linux: string, emulated: string): boolean {
  const at = linux.indexOf(': ');
  if (emulated.slice(0, at + 2) !== linux.slice(0, at + 2)) return false;
  const l = linux.slice(at + 2).split(' ');
  const e = emulated.slice(at + 2).split(' ');
  if (l.length === 1 || e.length === 1) return linux === emulated; // an errno
  const cut = l.length >= 40;
  const inLinux = new Set(l);
  const inEmu = new Set(e);
  if (!cut && e.some((n) => !inLinux.has(n))) return false;
  const common = e.filter((n) => inLinux.has(n));
  return common.join(' ') === l.filter((n) => inEmu.has(n)).join(' ');
}

interface Tally { lines: number; same: number; masked: number; diffs: string[] }

function compare(observed: readonly string[], expected: readonly string[]): Tally {
  const exp = normalise(expected);
  const obs = normalise(observed);
  const t: Tally = { lines: exp.length, same: 0, masked: 0, diffs: [] };
  const n = Math.max(exp.length, obs.length);
  for (let i = 0; i < n; i++) {
    const x = exp[i] ?? '(none)', y = obs[i] ?? '(none)';
    if (x === y) { t.same++; continue; }
    const ok = maskDirNlink(x) === maskDirNlink(y) || (READ_ONLY_PATHS.test(x) && READ_ONLY_PATHS.test(y))
      || (PARTIAL.test(x) && partialAgrees(x, y));
    if (ok) { t.masked++; continue; }
    t.diffs.push(`line ${i + 1}:\n  linux:    ${JSON.stringify(x)}\n  emulated: ${JSON.stringify(y)}`);
  }
  return t;
}

const RUNS: readonly [ProfileName, string][] = [['6.1', '6.1'], ['6.12', '6.12'], ['7.3', '7.3']];
for (const [probe, run] of [['vfs-walk', runVfsWalk], ['vfs-walk2', runVfsWalk2]] as const) {
  for (const [profile, kernel] of RUNS) {
    test(`${probe}.c: profile ${profile} prints what Linux ${kernel} printed`, () => {
      const expected = readFileSync(`${DIR}${probe}-${kernel}.out`, 'latin1').split('\n');
      const t = compare(run(profile), expected);
      if (process.env['VFS_ORACLE_TALLY'] !== undefined) console.log(`${probe} ${kernel}: ${t.lines} lines, ${t.same} the same, ${t.masked} masked, ${t.diffs.length} differ`);
      assert.deepEqual(t.diffs, [], `${probe} ${profile}: lines differ from the referee\n${t.diffs.slice(0, 30).join('\n')}`);
    });
  }
}

test('the comparison fails on a changed errno, a name out of order and an extra name', () => {
  const linux = ['ls /dev: . .. udmabuf dma_heap', 'open /proc/meminfo/: errno=ENOTDIR', 'stat /proc: dev=0:13 ino=1 mode=040555 nlink=37'];
  assert.equal(compare(linux, linux).diffs.length, 0);
  assert.equal(compare(['ls /dev: . .. dma_heap udmabuf', linux[1]!, linux[2]!], linux).diffs.length, 1);
  assert.equal(compare(['ls /dev: . .. udmabuf dma_heap x', linux[1]!, linux[2]!], linux).diffs.length, 1);
  assert.equal(compare([linux[0]!, 'open /proc/meminfo/: errno=ENOENT', linux[2]!], linux).diffs.length, 1);
  assert.equal(compare([linux[0]!, linux[1]!, 'stat /proc: dev=0:20 ino=7 mode=040555 nlink=1'], linux).diffs.length, 0);
  assert.equal(compare(['stat /proc/self/fd: dev=0:20 ino=7 mode=040500 nlink=1'], ['stat /proc/self/fd: dev=0:13 ino=103 mode=040500 nlink=2']).diffs.length, 1);
  assert.equal(compare([linux[0]!, linux[1]!, 'stat /proc: dev=0:20 ino=7 mode=040755 nlink=1'], linux).diffs.length, 1);
});
