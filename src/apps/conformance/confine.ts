/**
 * Confinement of case files: what a case's steps may reach. A case file is data from others, so
 * every step that names a path (open, read_file, readlink, readdir, mkdir, rmdir, write_file) and
 * every fd operand is checked before it runs, on every backend, against what the dma-buf world
 * needs:
 *
 *   /dev/dma_heap and its entries, /dev/udmabuf,
 *   /proc/self (or /proc/<the case's pid>): fd, fd/<n>, fdinfo, fdinfo/<n>, maps,
 *   /proc/meminfo, /proc/sys/kernel/osrelease (read-only),
 *   /sys/kernel/dmabuf, /sys/kernel/mm/cma, /sys/class/dma_heap, /sys/module/dma_heap/parameters (sysfs),
 *   /sys/kernel/debug/dma_buf, /sys/kernel/debug/cma (debugfs, read-only),
 *   /sys/fs/cgroup: the case's cgroups.
 *
 * Paths are normalised lexically first (`//`, `.`, `..`), and the target is given the normalised
 * path, so what runs is what was checked. On the linux backend the path is also resolved on this
 * machine (realpath of the longest existing prefix) and the result must stay in the same place,
 * so a symbolic link is no way out; `/proc/<pid>/fd/<n>` (a magic link) is allowed only for a
 * descriptor the case opened, and descriptors the runner held before the case started are out of
 * reach of every fd operand. On the linux backend `/sys/fs/cgroup` is a scratch cgroup the runner
 * makes for the case and removes after it (see {@link CgroupScratch}). docs/conformance.md,
 * "Confinement", is the reference; `--allow-host-paths` lifts every rule for a trusted suite.
 */
import type { SyscallTarget, SysResult } from '../../api/target.js';
import { O_PATH } from '../../uapi/fcntl.js';
import { CaseError } from './expr.js';

/** Where a case sees the cgroup v2 hierarchy. */
export const CGROUP_ROOT = '/sys/fs/cgroup';
/** The runner's own cgroup inside the linux backend's scratch cgroup (a case may not name it). */
export const CGROUP_HOME = 'dmaheap-case-home';
/** No pid reaches this (include/linux/threads.h PID_MAX_LIMIT on 64-bit): a larger value names no process. */
export const PID_MAX_LIMIT = 4_194_304;
/** Longest path a case may give (PATH_MAX, with the NUL). */
export const CASE_PATH_MAX = 4096;

const DOCS = 'docs/conformance.md, "Confinement"';
/** `__O_TMPFILE` (asm-generic/fcntl.h, the same on x86-64 and arm64): O_TMPFILE is it with O_DIRECTORY. */
const O_TMPFILE_BIT = 0o20000000;

/** What a case may reach, for messages. */
export const REACHABLE = '/dev/dma_heap, /dev/udmabuf, /proc/self (fd, fdinfo, maps), /proc/meminfo, /proc/sys/kernel/osrelease, '
  + '/sys/kernel/{dmabuf,mm/cma,debug/dma_buf,debug/cma}, /sys/class/dma_heap, /sys/module/dma_heap/parameters and its cgroups under /sys/fs/cgroup';

/** A step refused by a confinement rule (reported as ERROR: the case asked for something it may not have). */
export class Refused extends CaseError {}

/** Something on this machine stopped the runner from setting up or cleaning up the case (a FAIL, not a case error). */
export class EnvironmentError extends Error {
  override readonly name = 'EnvironmentError';
}

export type PathOp = 'open' | 'read_file' | 'readlink' | 'readdir' | 'mkdir' | 'rmdir' | 'write_file';

/** The open(2) flag bits the rules look at (the target's arch). */
export interface OpenBits {
  readonly O_ACCMODE: number;
  readonly O_CREAT: number;
  readonly O_TRUNC: number;
  readonly F_GETFD: number;
}

/** The area of the file system a normalised path lies in. */
type Kind = 'dev' | 'proc-fd' | 'proc' | 'sysfs' | 'debugfs' | 'cgroup';

interface Area {
  readonly kind: Kind;
  /** Where the path may lead on this machine (the linux backend's symlink check). */
  readonly roots: readonly string[];
  /** /proc/<pid>/fd/<n>, /proc/<pid>/fdinfo/<n>: n. */
  readonly fd?: number;
  /** /sys/fs/cgroup/...: the components below it. */
  readonly rest?: readonly string[];
}

const SYSFS = ['/sys/kernel/dmabuf', '/sys/kernel/mm/cma', '/sys/class/dma_heap', '/sys/module/dma_heap/parameters'] as const;
const DEBUGFS = ['/sys/kernel/debug/dma_buf', '/sys/kernel/debug/cma'] as const;
/** sysfs: the class links of /sys/class/dma_heap lead here. */
const SYSFS_TARGETS = [...SYSFS, '/sys/devices/virtual/dma_heap'];
const PROC_FILES = ['/proc/meminfo', '/proc/sys/kernel/osrelease'];

function under(path: string, root: string): boolean {
  return path === root || path.startsWith(`${root}/`);
}

/** `//`, `.` and `..` removed (`..` of `/` is `/`); null for a relative path. */
export function normalisePath(p: string): string | null {
  if (!p.startsWith('/')) return null;
  const out: string[] = [];
  for (const c of p.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') out.pop();
    else out.push(c);
  }
  return `/${out.join('/')}`;
}

/** A host path resolver: realpath(3) of the longest existing prefix, the rest appended. */
export type ResolvePath = (path: string) => string;

export interface ConfineOptions {
  /** `--allow-host-paths`: no rule applies, paths reach the target unchanged. */
  readonly allowHostPaths?: boolean;
  /**
   * The target's file system is this machine's (the linux backend): paths are also resolved
   * here (symbolic links), and /sys/fs/cgroup is a scratch cgroup. Null: an emulated kernel,
   * whose file system is its own.
   */
  readonly host?: { readonly resolve: ResolvePath } | null;
}

/** How a path step runs: the path the target gets, and what to do with its result. */
export interface PathPlan {
  readonly path: string;
  /** readdir of the case's cgroup root on the linux backend: the runner's own cgroup is left out. */
  readonly hide?: string;
  /** Called with the result (the cgroup bookkeeping of the linux backend). */
  readonly done?: (r: SysResult) => void;
}

let scratchSerial = 0;

/**
 * The linux backend's cgroups for one case instance. The case's `/sys/fs/cgroup` is
 * `/sys/fs/cgroup/dmaheap-<runner pid>-<n>` (S), made when the case first names a cgroup path:
 * the runner enables in the root's `cgroup.subtree_control` every controller the root has (so S
 * offers what a root offers), makes S and, inside it, its own cgroup `dmaheap-case-home`, and
 * moves itself there, so that S holds no process and can hand controllers to its children as
 * the root can. The case's root-level files are:
 *
 * - `cgroup.procs`, `cgroup.threads`: the runner's cgroup's (the case's process is "in the root"
 *   when it is there; writing its pid or 0 moves it back);
 * - `cgroup.controllers`, `cgroup.subtree_control`: S's;
 * - a child cgroup the case made: S's child;
 * - any other name: the root's own file, read-only (so `memory.current`, which a root lacks, is
 *   ENOENT as on a root).
 *
 * readdir of the case's root lists S without the runner's cgroup. When the case ends the runner
 * moves itself back to where it was, removes S and everything in it, and takes back the
 * controllers it enabled.
 */
class CgroupScratch {
  readonly s: string;
  readonly home: string;
  /** The runner's cgroup before the case (from /proc/self/cgroup). */
  private origin: string | null = null;
  /** Controllers this scratch enabled in the root's subtree_control. */
  private added: string[] = [];
  private made = false;
  /** Where the runner's process is, as components below S; [] = its own cgroup ("the root"). */
  private at: string[] = [];
  /** The cgroups (joined components) where the case set memory.max or memory.high. */
  private readonly limits = new Set<string>();

  constructor(private readonly t: SyscallTarget) {
    this.s = `${CGROUP_ROOT}/dmaheap-${t.getpid()}-${++scratchSerial}`;
    this.home = `${this.s}/${CGROUP_HOME}`;
  }

  private must(r: SysResult, what: string): void {
    if (r.errno !== null || r.ret < 0) {
      throw new EnvironmentError(`cannot set up the case's scratch cgroup: ${what}: ${r.errno ?? `ret ${r.ret}`} (on the linux backend the cgroup cases need root: run as root, e.g. npm run test:kernel)`);
    }
  }

  /** Makes S and moves the runner into it (once). */
  setUp(): void {
    if (this.made) return;
    this.made = true;
    const t = this.t;
    const self = t.readFile('/proc/self/cgroup');
    const line = (self.text ?? '').split('\n').find((l) => l.startsWith('0::'));
    this.origin = line === undefined ? CGROUP_ROOT : `${CGROUP_ROOT}${line.slice(3) === '/' ? '' : line.slice(3)}`;
    const have = (t.readFile(`${CGROUP_ROOT}/cgroup.controllers`).text ?? '').split(/\s+/).filter((c) => c !== '');
    const on = new Set((t.readFile(`${CGROUP_ROOT}/cgroup.subtree_control`).text ?? '').split(/\s+/));
    for (const c of have) {
      if (on.has(c)) continue;
      this.must(t.writeFile(`${CGROUP_ROOT}/cgroup.subtree_control`, `+${c}`), `enabling ${c} in ${CGROUP_ROOT}/cgroup.subtree_control`);
      this.added.push(c);
    }
    this.must(t.mkdir(this.s, 0o755), `mkdir ${this.s}`);
    this.must(t.mkdir(this.home, 0o755), `mkdir ${this.home}`);
    this.must(t.writeFile(`${this.home}/cgroup.procs`, String(t.getpid())), `moving pid ${t.getpid()} to ${this.home}`);
  }

  /** The host path of the case's `/sys/fs/cgroup/<rest>`. */
  map(rest: readonly string[], op: PathOp): { path: string; readOnly: boolean } {
    if (rest.length === 0) return { path: this.s, readOnly: false };
    if (rest.length > 1) return { path: `${this.s}/${rest.join('/')}`, readOnly: false };
    const name = rest[0]!;
    if (name === 'cgroup.procs' || name === 'cgroup.threads') return { path: `${this.home}/${name}`, readOnly: false };
    if (name === 'cgroup.controllers' || name === 'cgroup.subtree_control' || op === 'mkdir' || op === 'rmdir') return { path: `${this.s}/${name}`, readOnly: false };
    const child = `${this.s}/${name}`;
    if (this.t.readdir(child).names !== null) return { path: child, readOnly: false };
    // an interface file of the root: the root's own (read-only)
    return /^[a-z_]+\.[a-z0-9_.]+$/.test(name) ? { path: `${CGROUP_ROOT}/${name}`, readOnly: true } : { path: child, readOnly: false };
  }

  /** The memory-limit rule: a limit may not hold the runner (it is the case's process). */
  checkWrite(rest: readonly string[], text: string, pid: number): ((r: SysResult) => void) | string {
    const name = rest[rest.length - 1] ?? '';
    const dir = rest.slice(0, -1);
    const key = dir.join('/');
    if (name === 'memory.max' || name === 'memory.high') {
      const lifts = text.trim() === 'max';
      if (!lifts && (this.at.join('/') === key || this.at.join('/').startsWith(`${key}/`))) {
        return `${name} of ${CGROUP_ROOT}/${key} would limit the cgroup the case's process is in, and on the linux backend that process is the runner (an OOM kill or throttling would stop the run)`;
      }
      return (r) => {
        if (r.errno !== null) return;
        if (lifts) this.limits.delete(key);
        else this.limits.add(key);
      };
    }
    if (name === 'cgroup.procs') {
      const v = pidValue(text);
      if (v !== pid && v !== 0) return () => undefined;
      for (let k = dir.length; k > 0; k--) {
        const up = dir.slice(0, k).join('/');
        if (this.limits.has(up)) {
          return `moving the case's process into ${CGROUP_ROOT}/${dir.join('/')} puts it under the memory limit of ${CGROUP_ROOT}/${up}, and on the linux backend that process is the runner`;
        }
      }
      return (r) => {
        if (r.errno === null) this.at = [...dir];
      };
    }
    return () => undefined;
  }

  /** Moves the runner back, removes S, disables what setUp enabled; returns what went wrong. */
  tearDown(): string[] {
    if (!this.made) return [];
    const t = this.t;
    const problems: string[] = [];
    const origin = this.origin ?? CGROUP_ROOT;
    const back = t.writeFile(`${origin}/cgroup.procs`, String(t.getpid()));
    if (back.errno !== null) problems.push(`moving pid ${t.getpid()} back to ${origin}: ${back.errno}`);
    // every cgroup below S, children before parents (an explicit stack: no recursion limit)
    const order: string[] = [];
    const stack = [this.s];
    while (stack.length > 0) {
      const dir = stack.pop()!;
      order.push(dir);
      for (const name of t.readdir(dir).names ?? []) {
        const p = `${dir}/${name}`;
        if (t.readdir(p).names !== null) stack.push(p);
      }
    }
    for (const dir of order.reverse()) {
      const r = t.rmdir(dir);
      if (r.errno !== null && r.errno !== 'ENOENT') problems.push(`rmdir ${dir}: ${r.errno}`);
    }
    for (const c of this.added.reverse()) {
      const r = t.writeFile(`${CGROUP_ROOT}/cgroup.subtree_control`, `-${c}`);
      if (r.errno !== null) problems.push(`disabling ${c} in ${CGROUP_ROOT}/cgroup.subtree_control: ${r.errno}`);
    }
    return problems;
  }
}

/**
 * The value the kernel would read from a cgroup.procs write: kstrtoint(strstrip(buf), 0)
 * (kernel/cgroup/cgroup.c __cgroup_procs_write, lib/kstrtox.c); null when it is no integer (the
 * kernel answers EINVAL or ERANGE).
 */
export function pidValue(text: string): number | null {
  const s = text.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, '');
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (m === null || s.length > 40) return null;
  const digits = m[2]!;
  const v = /^0[xX]/.test(digits) ? BigInt(digits) : digits.length > 1 && digits.startsWith('0') ? BigInt(`0o${digits.slice(1)}`) : BigInt(digits);
  const signed = m[1] === '-' ? -v : v;
  if (signed > 0x7fffffffn || signed < -0x80000000n) return null;
  return Number(signed);
}

/**
 * The rules for one case instance. Made before its first step: it notes the descriptors open
 * then (the runner's own, on the linux backend; none in a fresh emulated process).
 */
export class Confinement {
  private readonly before = new Set<number>();
  private scratch: CgroupScratch | null = null;
  private readonly pid: number;

  constructor(private readonly t: SyscallTarget, private readonly bits: OpenBits, private readonly opts: ConfineOptions = {}) {
    this.pid = t.getpid();
    if (opts.allowHostPaths === true) return;
    const fds = t.readdir('/proc/self/fd').names ?? [];
    for (const n of fds) {
      const fd = Number(n);
      // the descriptor readdir itself had open is closed again by now
      if (Number.isInteger(fd) && t.fcntl(fd, bits.F_GETFD).ret >= 0) this.before.add(fd);
    }
  }

  /** The runner's descriptors (open before the case started). */
  get runnerFds(): ReadonlySet<number> {
    return this.before;
  }

  private refuse(op: string, shown: string, rule: string, why: string): never {
    throw new Refused(`${op} ${shown}: refused by the confinement rule "${rule}": ${why} (${DOCS}; a trusted suite may run with --allow-host-paths)`);
  }

  /** An fd operand: not one of the runner's descriptors. */
  checkFd(fd: number, op: string): void {
    if (this.before.has(fd)) {
      this.refuse(op, `fd ${fd}`, 'own descriptors', `fd ${fd} was open before the case started (it is the runner's); a case uses only descriptors it opened`);
    }
  }

  /** Where a normalised path lies, or a refusal. */
  private area(op: PathOp, shown: string, p: string): Area {
    const c = p.split('/').slice(1);
    if (p === '/dev/dma_heap' || (c[0] === 'dev' && c[1] === 'dma_heap' && c.length === 3) || p === '/dev/udmabuf') {
      return { kind: 'dev', roots: ['/dev/dma_heap', '/dev/udmabuf'] };
    }
    if (PROC_FILES.includes(p)) return { kind: 'proc', roots: PROC_FILES };
    if (c[0] === 'proc' && c[1] !== undefined && (c[1] === 'self' || /^[0-9]+$/.test(c[1]))) {
      if (c[1] !== 'self' && Number(c[1]) !== this.pid) {
        this.refuse(op, shown, 'own process', `/proc/${c[1]} is not the case's process (pid ${this.pid}); use /proc/self`);
      }
      const e = c.slice(2);
      const roots = [`/proc/${this.pid}`];
      const n = e[1] !== undefined && /^[0-9]+$/.test(e[1]) ? Number(e[1]) : null;
      // the directory itself (an open of it reads nothing: O_NOFOLLOW on /proc/self is ELOOP, as cases test)
      if (e.length === 0) return { kind: 'proc', roots };
      if (e.length === 1 && (e[0] === 'fd' || e[0] === 'fdinfo' || e[0] === 'maps')) return { kind: 'proc', roots };
      if (e.length === 2 && e[0] === 'fdinfo' && n !== null) return { kind: 'proc', roots, fd: n };
      if (e.length === 2 && e[0] === 'fd' && n !== null) return { kind: 'proc-fd', roots, fd: n };
      this.refuse(op, shown, 'proc entries', `of /proc/self a case reaches only the directory itself, fd, fd/<n>, fdinfo, fdinfo/<n> and maps`);
    }
    for (const r of SYSFS) if (under(p, r)) return { kind: 'sysfs', roots: SYSFS_TARGETS };
    for (const r of DEBUGFS) if (under(p, r)) return { kind: 'debugfs', roots: DEBUGFS };
    if (under(p, CGROUP_ROOT)) return { kind: 'cgroup', roots: [], rest: c.slice(3) };
    this.refuse(op, shown, 'paths', `a case reaches only ${REACHABLE}`);
  }

  /**
   * Checks a path step and says how to run it. `flags`: open's flags; `text`: write_file's text.
   * Throws {@link Refused} with the path and the rule.
   */
  path(op: PathOp, raw: string, detail: { flags?: number; text?: string } = {}): PathPlan {
    if (this.opts.allowHostPaths === true) return { path: raw };
    const norm = normalisePath(raw);
    const shown = norm === null || norm === raw ? `'${raw}'` : `'${raw}' (= ${norm})`;
    if (raw.length >= CASE_PATH_MAX || Buffer.byteLength(raw) >= CASE_PATH_MAX) this.refuse(op, `'${raw.slice(0, 60)}...'`, 'paths', `a path is at most ${CASE_PATH_MAX - 1} bytes`);
    if (raw.includes('\0')) this.refuse(op, JSON.stringify(raw), 'paths', 'a path has no NUL byte');
    if (norm === null) this.refuse(op, shown, 'absolute', 'a case path must be absolute');
    const area = this.area(op, shown, norm);
    const b = this.bits;
    // O_PATH keeps only O_PATH_FLAGS (O_DIRECTORY, O_NOFOLLOW, O_CLOEXEC): such an open neither
    // creates nor reads nor writes (fs/open.c build_open_flags)
    const raw0 = detail.flags ?? 0;
    const flags = op === 'open' && (raw0 & O_PATH) !== 0 ? 0 : raw0;
    const writes = op === 'write_file' || (op === 'open' && ((flags & b.O_ACCMODE) !== 0 || (flags & b.O_TRUNC) !== 0));
    // O_CREAT of a path that exists creates nothing (O_CREAT|O_EXCL: EEXIST, as cases test)
    if (op === 'open' && ((flags & O_TMPFILE_BIT) !== 0 || ((flags & b.O_CREAT) !== 0 && !this.exists(norm)))) {
      this.refuse(op, shown, 'no new files', 'open with O_TMPFILE, or with O_CREAT of a path that does not exist, would create a file; a case creates no files (cgroups are made with mkdir)');
    }
    if ((op === 'mkdir' || op === 'rmdir') && area.kind !== 'sysfs' && area.kind !== 'cgroup') {
      this.refuse(op, shown, 'directories', `mkdir and rmdir reach only the cgroups under ${CGROUP_ROOT} (and sysfs, which refuses them)`);
    }
    if (area.fd !== undefined && this.before.has(area.fd)) {
      this.refuse(op, shown, 'own descriptors', `fd ${area.fd} was open before the case started (it is the runner's); a case reaches only descriptors it opened`);
    }
    if (writes && (area.kind === 'proc' || area.kind === 'debugfs')) {
      this.refuse(op, shown, 'read-only', `${area.kind === 'proc' ? 'this /proc file' : 'debugfs (/sys/kernel/debug)'} is read-only for a case`);
    }
    if (op === 'read_file' && area.kind === 'proc-fd') {
      this.refuse(op, shown, 'bounded reads', 'read_file reads to the end, and behind /proc/self/fd/<n> may be a memfd of any size; open it and read with a count');
    }
    if ((op === 'open' || op === 'write_file') && area.kind === 'proc-fd') {
      // a reopen gets a new access mode: it would get around the rules of the file behind the fd
      const link = this.t.readlink(norm).text;
      if (link !== null && !/^\/memfd:|^\/dmabuf:|^anon_inode:/.test(link)) {
        this.refuse(op, shown, 'reopen', `fd ${area.fd ?? ''} is '${link}'; only memfds and dma-bufs are reopened through /proc/self/fd (open the file itself)`);
      }
    }
    let path = norm;
    let plan: { hide?: string; done?: (r: SysResult) => void } = {};
    if (area.kind === 'cgroup') {
      const rest = area.rest ?? [];
      if (rest[0] === CGROUP_HOME) this.refuse(op, shown, 'runner cgroup', `'${CGROUP_HOME}' is the runner's own cgroup (on the linux backend), not the case's`);
      let check: ((r: SysResult) => void) | undefined;
      if (writes) {
        const name = rest[rest.length - 1] ?? '';
        if (op === 'open') this.refuse(op, shown, 'cgroup writes', 'a case writes cgroup files only with write_file (its text is checked); open them O_RDONLY');
        const text = detail.text ?? '';
        if (name === 'cgroup.procs' && rest.length >= 1) {
          const v = pidValue(text);
          if (v !== null && v > 0 && v < PID_MAX_LIMIT && v !== this.pid) {
            this.refuse(op, shown, 'cgroup pids', `cgroup.procs takes only the case's own pid (${this.pid}), 0 (the writer) or a value no process has (negative, not a number, or ${PID_MAX_LIMIT} and above); ${v} could be another process`);
          }
        } else if (!(name === 'cgroup.subtree_control' || (rest.length >= 2 && /^(memory|dmem)\./.test(name)))) {
          this.refuse(op, shown, 'cgroup writes', `a case writes only cgroup.procs, cgroup.subtree_control, and the memory.* and dmem.* files of the cgroups it made`);
        }
        if (this.opts.host != null) {
          const c = this.cgroups().checkWrite(rest, text, this.pid);
          if (typeof c === 'string') this.refuse(op, shown, 'memory limits', c);
          check = c;
        }
      }
      if (this.opts.host != null) {
        const sc = this.cgroups();
        sc.setUp();
        const m = sc.map(rest, op);
        if (m.readOnly && writes) this.refuse(op, shown, 'cgroup writes', `a case writes only cgroup.procs, cgroup.subtree_control, and the memory.* and dmem.* files of the cgroups it made`);
        path = m.path;
        this.resolveWithin(op, shown, path, m.readOnly ? [m.path] : [sc.s]);
        if (rest.length === 0 && op === 'readdir') plan = { hide: CGROUP_HOME };
      }
      if (check !== undefined) plan = { ...plan, done: check };
    } else if (this.opts.host != null && area.kind !== 'proc-fd') {
      this.resolveWithin(op, shown, norm, area.roots);
    }
    return { path, ...plan };
  }

  /** Whether `path` names something on the target (an O_PATH open: it creates, reads and writes nothing). */
  private exists(path: string): boolean {
    const r = this.t.open(path, O_PATH);
    if (r.errno !== null) return false;
    this.t.close(r.ret);
    return true;
  }

  /** The linux backend: the path resolved on this machine must stay under one of `roots`. */
  private resolveWithin(op: PathOp, shown: string, path: string, roots: readonly string[]): void {
    const host = this.opts.host;
    if (host == null) return;
    const real = host.resolve(path);
    if (!roots.some((r) => under(real, r))) {
      this.refuse(op, shown, 'symlinks', `on this machine it resolves to '${real}', outside ${roots.join(', ')}`);
    }
  }

  private cgroups(): CgroupScratch {
    this.scratch ??= new CgroupScratch(this.t);
    return this.scratch;
  }

  /** After the case: the linux backend's scratch cgroup removed; returns what went wrong. */
  tearDown(): string[] {
    return this.scratch === null ? [] : this.scratch.tearDown();
  }
}
