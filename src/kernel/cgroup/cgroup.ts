/**
 * The cgroup v2 hierarchy mounted at /sys/fs/cgroup, with the memory controller (the oracle's
 * 6.1 kernel is built with CONFIG_MEMCG and no other controller) and, on kernels that have it
 * (v6.14+, our 6.17+ profiles), the dmem controller. Every process belongs to one cgroup; its
 * memory is charged to the nearest memcg at or above it, its device memory to the nearest dmem
 * css.
 *
 * @kernel kernel/cgroup/cgroup.c (the core and its cgroup.* files), mm/memcontrol.c (memory.* files),
 *   kernel/cgroup/dmem.c (dmem.* files)
 */
import { Errno } from '../../uapi/errno.js';
import type { Process } from '../fs/process.js';
import { DMEM_CONTROLLER, DmemCore } from './dmem.js';
import type { DmemCss, DmemFile } from './dmem.js';
import { MemcgCore, pageCounterMax, pageCounterMemparse } from './memcontrol.js';
import type { Memcg } from './memcontrol.js';

const E = Errno;

/** cgroup_subsys memory_cgrp_subsys */
export const MEMORY_CONTROLLER = 'memory';

export type Controller = typeof MEMORY_CONTROLLER | typeof DMEM_CONTROLLER;

/** Controllers in subsystem-id order, the order every mask is printed in (include/linux/cgroup_subsys.h: memory … misc, dmem). */
const SUBSYS_ORDER: readonly Controller[] = [MEMORY_CONTROLLER, DMEM_CONTROLLER];

/**
 * A file of a cgroup directory: `text` reads the whole file (or gives a negated errno);
 * `write` gets the written bytes as a string up to the first NUL and returns 0 or a negated
 * errno (the write(2) then returns the byte count: `ret ?: nbytes`).
 */
export interface CgroupFile {
  /** 0644 for files with a write handler, 0444 for read-only ones (cgroup_file_mode). */
  readonly mode: number;
  readonly ino: number;
  readonly text: () => string | number;
  readonly write?: (text: string, proc: Process) => number;
}

export class Cgroup {
  readonly children = new Map<string, Cgroup>();
  /** Member processes in the order they joined (the css_set task lists). */
  readonly procs = new Set<Process>();
  /** cgroup.subtree_control: the controllers enabled for the children. */
  readonly subtreeControl = new Set<Controller>();
  /** The memory css: present on the root, and on a child whose parent enables the controller. */
  memcg: Memcg | null = null;
  /** The dmem css: present on the root (when the kernel has dmem) and on a child whose parent enables it. */
  dmemCss: DmemCss | null = null;
  /** Removed (rmdir): files still open on it answer ENODEV (cgroup_kn_lock_live, kernfs_get_active). */
  dead = false;
  constructor(
    readonly name: string,
    readonly parent: Cgroup | null,
    /** kernfs node id, used for the inode numbers of the directory's files. */
    readonly id: number,
    /** Directory permissions. */
    readonly mode: number,
  ) {}

  get isRoot(): boolean {
    return this.parent === null;
  }

  /** cgroup_is_populated(): a live process in it or in a descendant. */
  get populated(): boolean {
    if (this.procs.size > 0) return true;
    for (const c of this.children.values()) if (c.populated) return true;
    return false;
  }
}

/** What the cgroup code needs from the kernel instance. */
export interface CgroupHost {
  readonly pageSize: number;
  /** find_task_by_vpid() */
  findProcess(pid: number): Process | null;
  /** CONFIG_CGROUP_DMEM: the dmem controller exists (v6.14+). */
  readonly dmem?: boolean;
  /**
   * mem_cgroup_out_of_memory() run by `writer` (current) for `memcg`: kills a task of the memcg;
   * false when none could be killed.
   */
  readonly memcgOutOfMemory?: (memcg: Memcg, writer: Process) => boolean;
}

/** Inode numbers of cgroup directories and files: base + cgroup id * 16 (+ file index for a file). */
export const CGROUP_INO_BASE = 0xa0000;
const FILE_INDEX: Readonly<Record<string, number>> = {
  'cgroup.controllers': 1, 'cgroup.procs': 2, 'cgroup.subtree_control': 3, 'memory.current': 4, 'memory.max': 5, 'memory.peak': 6,
  'dmem.capacity': 7, 'dmem.current': 8, 'dmem.min': 9, 'dmem.low': 10, 'dmem.max': 11,
};

export class CgroupFs {
  readonly root: Cgroup;
  readonly memory: MemcgCore;
  /** The dmem controller, or null when the kernel does not have it. */
  readonly dmem: DmemCore | null;
  /** The controllers this kernel has, in subsystem order. */
  readonly controllers: readonly Controller[];
  private lastId = 0;

  constructor(private readonly host: CgroupHost) {
    this.memory = new MemcgCore(host.pageSize);
    this.dmem = host.dmem === true ? new DmemCore(pageCounterMax(host.pageSize)) : null;
    this.controllers = SUBSYS_ORDER.filter((c) => c === MEMORY_CONTROLLER || this.dmem !== null);
    this.root = new Cgroup('', null, ++this.lastId, 0o755);
    this.root.memcg = this.memory.root;
    this.root.dmemCss = this.dmem?.root ?? null;
  }

  // ---- processes ---------------------------------------------------------------------------

  /** cgroup_fork()/cgroup_post_fork(): a new process joins its parent's cgroup (init: the root). */
  fork(p: Process, parent: Process | null): void {
    const cg = parent?.cgroup ?? this.root;
    p.cgroup = cg;
    cg.procs.add(p);
  }

  /** cgroup_exit(): the process leaves its cgroup (its charges stay where they were made). */
  exit(p: Process): void {
    p.cgroup?.procs.delete(p);
  }

  /**
   * The memcg a process's memory is charged to: the memory css of its cgroup, or of the nearest
   * ancestor that has one (the root memcg at the top, which is never charged).
   * @kernel mm/memcontrol.c mem_cgroup_from_task (task_css with the effective css)
   */
  memcgOf(p: Process | null): Memcg {
    for (let c: Cgroup | null = p?.cgroup ?? null; c !== null; c = c.parent) if (c.memcg !== null) return c.memcg;
    return this.memory.root;
  }

  /**
   * The dmem css a process's device memory is charged to: its cgroup's, or the nearest
   * ancestor's (the root's for the root cgroup and for in-kernel callers); null without dmem.
   * @kernel kernel/cgroup/dmem.c get_current_dmemcs (task_get_css with the effective css)
   */
  dmemCssOf(p: Process | null): DmemCss | null {
    for (let c: Cgroup | null = p?.cgroup ?? null; c !== null; c = c.parent) if (c.dmemCss !== null) return c.dmemCss;
    return this.root.dmemCss;
  }

  // ---- the file system ---------------------------------------------------------------------

  /** The cgroup at path components below /sys/fs/cgroup, or null. */
  lookup(parts: readonly string[]): Cgroup | null {
    let cg: Cgroup | undefined = this.root;
    for (const name of parts) {
      cg = cg.children.get(name);
      if (cg === undefined) return null;
    }
    return cg;
  }

  /** The names in a cgroup directory: its files, then its children. */
  readdir(cg: Cgroup): string[] {
    return [...this.fileNames(cg), ...cg.children.keys()];
  }

  /**
   * The interface files: cgroup.controllers, cgroup.procs and cgroup.subtree_control
   * everywhere; memory.current, memory.max and memory.peak in a non-root cgroup with a memory
   * css (CFTYPE_NOT_ON_ROOT); with a dmem css, dmem.capacity (root only, CFTYPE_ONLY_ON_ROOT),
   * dmem.current (everywhere) and dmem.min, dmem.low, dmem.max (not on the root). Linux has
   * more files in these sets (cgroup.stat, memory.stat, dmem.peak in 2026 kernels, ...).
   * @kernel kernel/cgroup/dmem.c files[]
   */
  fileNames(cg: Cgroup): string[] {
    const names = ['cgroup.controllers', 'cgroup.procs', 'cgroup.subtree_control'];
    if (!cg.isRoot && cg.memcg !== null) names.push('memory.current', 'memory.max', 'memory.peak');
    if (cg.dmemCss !== null) names.push(...(cg.isRoot ? ['dmem.capacity', 'dmem.current'] : ['dmem.current', 'dmem.min', 'dmem.low', 'dmem.max']));
    return names;
  }

  file(cg: Cgroup, name: string): CgroupFile | null {
    if (!this.fileNames(cg).includes(name)) return null;
    const ino = CGROUP_INO_BASE + cg.id * 16 + (FILE_INDEX[name] ?? 0);
    const live = (f: () => string): (() => string | number) => () => (cg.dead ? -E.ENODEV : f());
    const ps = this.host.pageSize;
    switch (name) {
      case 'cgroup.controllers':
        return { mode: 0o444, ino, text: live(() => printSsMask(this.control(cg))) };
      case 'cgroup.subtree_control':
        return { mode: 0o644, ino, text: live(() => printSsMask(cg.subtreeControl)), write: (t) => this.subtreeControlWrite(cg, t) };
      case 'cgroup.procs':
        return { mode: 0o644, ino, text: live(() => [...cg.procs].map((p) => `${p.pid}\n`).join('')), write: (t, proc) => this.procsWrite(cg, t, proc) };
    }
    if (name.startsWith('dmem.')) {
      const dmem = this.dmem!;
      const css = cg.dmemCss!;
      const which = name.slice(5);
      if (which === 'capacity') return { mode: 0o444, ino, text: live(() => dmem.capacityShow()) };
      if (which === 'current') return { mode: 0o444, ino, text: live(() => dmem.show(css, 'current')) };
      const limit = which as Exclude<DmemFile, 'current'>;
      return {
        mode: 0o644, ino,
        text: live(() => dmem.show(css, limit)),
        write: (t) => (cg.dead ? -E.ENODEV : dmem.limitWrite(css, strstrip(t), limit)),
      };
    }
    const m = cg.memcg!;
    switch (name) {
      case 'memory.current':
        // memory_current_read(): page_counter_read() * PAGE_SIZE
        return { mode: 0o444, ino, text: live(() => `${m.usage * ps}\n`) };
      case 'memory.peak':
        // memory_peak_read(): the counter's watermark * PAGE_SIZE (read-only in 6.1)
        return { mode: 0o444, ino, text: live(() => `${m.watermark * ps}\n`) };
      default:
        // memory_max_show() via seq_puts_memcg_tunable(): "max" for PAGE_COUNTER_MAX, else bytes
        return {
          mode: 0o644, ino,
          text: live(() => (m.max === this.memory.pageCounterMax ? 'max\n' : `${BigInt(m.max) * BigInt(ps)}\n`)),
          write: (t, proc) => this.memoryMaxWrite(cg, m, t, proc),
        };
    }
  }

  /** cgroup_control(): the controllers available to `cg` — the parent's subtree_control, or all of them at the root. */
  private control(cg: Cgroup): ReadonlySet<Controller> {
    return cg.parent === null ? new Set(this.controllers) : cg.parent.subtreeControl;
  }

  /**
   * Writing cgroup.subtree_control: space-separated `+<controller>` / `-<controller>` tokens
   * (for each controller the last token wins); a name the kernel does not have or a token
   * without +/- → EINVAL; a removed cgroup → ENODEV; then per controller in subsystem order:
   * enabling one the cgroup does not have → ENOENT; disabling one a child still enables for its
   * own children → EBUSY; enabling anything on a non-root cgroup with processes in it → EBUSY
   * (the no-internal-process rule). Enabling creates a fresh css (memcg, dmem css) in every
   * child; disabling takes the children's css offline (charges stay until uncharged; dmem
   * limits are reset).
   * @kernel kernel/cgroup/cgroup.c cgroup_subtree_control_write, cgroup_vet_subtree_control_enable, cgroup_apply_control
   */
  private subtreeControlWrite(cg: Cgroup, text: string): number {
    const enable = new Set<Controller>();
    const disable = new Set<Controller>();
    for (const tok of strstrip(text).split(' ')) {
      if (tok === '') continue;
      const ss = this.controllers.find((c) => c === tok.slice(1));
      if (ss === undefined) return -E.EINVAL;
      if (tok[0] === '+') {
        enable.add(ss);
        disable.delete(ss);
      } else if (tok[0] === '-') {
        disable.add(ss);
        enable.delete(ss);
      } else {
        return -E.EINVAL;
      }
    }
    if (cg.dead) return -E.ENODEV;
    for (const ss of this.controllers) {
      if (enable.has(ss)) {
        if (cg.subtreeControl.has(ss)) enable.delete(ss);
        else if (!this.control(cg).has(ss)) return -E.ENOENT;
      } else if (disable.has(ss)) {
        if (!cg.subtreeControl.has(ss)) disable.delete(ss);
        else for (const c of cg.children.values()) if (c.subtreeControl.has(ss)) return -E.EBUSY;
      }
    }
    if (enable.size === 0 && disable.size === 0) return 0;
    if (enable.size > 0 && !cg.isRoot && cg.procs.size > 0) return -E.EBUSY;
    for (const ss of this.controllers) {
      if (enable.has(ss)) {
        cg.subtreeControl.add(ss);
        for (const c of cg.children.values()) this.createCss(c, cg, ss);
      } else if (disable.has(ss)) {
        cg.subtreeControl.delete(ss);
        for (const c of cg.children.values()) this.killCss(c, ss);
      }
    }
    return 0;
  }

  /** css_create() of controller `ss` for `c`, a child of `parent`. */
  private createCss(c: Cgroup, parent: Cgroup, ss: Controller): void {
    if (ss === MEMORY_CONTROLLER) c.memcg = this.memory.create(this.memcgOfCgroup(parent));
    else c.dmemCss = this.dmem!.createCss(this.dmemCssOfCgroup(parent));
  }

  /** kill_css() of controller `ss` on `c`: offline, charges stay where they are. */
  private killCss(c: Cgroup, ss: Controller): void {
    if (ss === MEMORY_CONTROLLER) {
      if (c.memcg !== null) this.memory.setOffline(c.memcg);
      c.memcg = null;
    } else {
      if (c.dmemCss !== null) this.dmem!.offline(c.dmemCss);
      c.dmemCss = null;
    }
  }

  /** The effective dmem css of a cgroup (its own or the nearest ancestor's). */
  private dmemCssOfCgroup(cg: Cgroup): DmemCss {
    for (let c: Cgroup | null = cg; c !== null; c = c.parent) if (c.dmemCss !== null) return c.dmemCss;
    return this.dmem!.root;
  }

  /** The effective memcg of a cgroup (its own css or the nearest ancestor's). */
  private memcgOfCgroup(cg: Cgroup): Memcg {
    for (let c: Cgroup | null = cg; c !== null; c = c.parent) if (c.memcg !== null) return c.memcg;
    return this.memory.root;
  }

  /**
   * Writing cgroup.procs: a pid (kstrtoint base 0 after stripping white space; negative or
   * garbage → EINVAL; 0 is the writer) moves that process here. A removed cgroup → ENODEV; no
   * such process → ESRCH; a non-root cgroup that enables a controller for its children cannot
   * take processes → EBUSY. Charges already made stay with the old memcg (cgroup v2 does not
   * move them).
   * @kernel kernel/cgroup/cgroup.c __cgroup_procs_write, cgroup_procs_write_start, cgroup_migrate_vet_dst
   */
  private procsWrite(cg: Cgroup, text: string, writer: Process): number {
    const pid = kstrtoint(strstrip(text));
    if (pid === null || pid < 0) return -E.EINVAL;
    if (cg.dead) return -E.ENODEV;
    const p = pid === 0 ? writer : this.host.findProcess(pid);
    if (p === null || !p.alive) return -E.ESRCH;
    if (!cg.isRoot && cg.subtreeControl.size > 0) return -E.EBUSY;
    if (p.cgroup !== cg) {
      p.cgroup?.procs.delete(p);
      p.cgroup = cg;
      cg.procs.add(p);
    }
    return 0;
  }

  /**
   * Writing memory.max: `max` or a size (memparse: K, M, G... suffixes), rounded down to pages.
   * While the usage is above the new limit, the memcg's OOM killer kills its tasks one by one
   * (nothing is reclaimable: no page cache, no swap), until the usage fits or no task is left
   * to kill; the write succeeds either way.
   * @kernel mm/memcontrol.c memory_max_write
   */
  private memoryMaxWrite(cg: Cgroup, m: Memcg, text: string, writer: Process): number {
    const pages = pageCounterMemparse(strstrip(text), this.host.pageSize);
    if (pages === null) return -E.EINVAL;
    if (cg.dead) return -E.ENODEV;
    m.max = pages;
    const oom = this.host.memcgOutOfMemory;
    while (oom !== undefined && m.usage > m.max && !writer.fatalSignalPending) if (!oom(m, writer)) break;
    return 0;
  }

  /**
   * mkdir in a cgroup directory (after the VFS checks): a name with a newline → EINVAL; the
   * new cgroup gets a css of every controller the parent enables.
   * @kernel kernel/cgroup/cgroup.c cgroup_mkdir, cgroup_create
   */
  mkdir(parent: Cgroup, name: string, mode: number): number {
    if (name.includes('\n')) return -E.EINVAL;
    if (parent.dead) return -E.ENODEV;
    if (parent.children.has(name) || this.fileNames(parent).includes(name)) return -E.EEXIST;
    const cg = new Cgroup(name, parent, ++this.lastId, mode & 0o7777);
    for (const ss of parent.subtreeControl) this.createCss(cg, parent, ss);
    parent.children.set(name, cg);
    return 0;
  }

  /**
   * rmdir of a cgroup (after the VFS checks): processes in it or below, or child cgroups →
   * EBUSY. Its css go offline (memcg and dmem pools live on until their last charge is
   * uncharged; dmem limits are reset).
   * @kernel kernel/cgroup/cgroup.c cgroup_rmdir, cgroup_destroy_locked
   */
  rmdir(cg: Cgroup): number {
    if (cg.parent === null) return -E.EBUSY;
    if (cg.populated) return -E.EBUSY;
    if (cg.children.size > 0) return -E.EBUSY;
    cg.dead = true;
    if (cg.memcg !== null) this.memory.setOffline(cg.memcg);
    if (cg.dmemCss !== null) this.dmem!.offline(cg.dmemCss);
    cg.parent.children.delete(cg.name);
    return 0;
  }
}

/** cgroup_print_ss_mask(): the names in subsystem order separated by spaces and a newline; nothing at all for none. */
function printSsMask(mask: ReadonlySet<Controller>): string {
  const names = SUBSYS_ORDER.filter((c) => mask.has(c));
  return names.length === 0 ? '' : `${names.join(' ')}\n`;
}

/** strstrip(): without leading and trailing white space (isspace). */
export function strstrip(s: string): string {
  return s.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, '');
}

/**
 * kstrtoint(s, 0): an optional sign, then 0x-prefixed hex, 0-prefixed octal or decimal digits,
 * optionally one trailing newline, nothing else; must fit an int. Null for -EINVAL/-ERANGE.
 * @kernel lib/kstrtox.c kstrtoint, _kstrtoull, _parse_integer_fixup_radix
 */
export function kstrtoint(s: string): number | null {
  let neg = false;
  let t = s;
  if (t[0] === '-') {
    neg = true;
    t = t.slice(1);
  } else if (t[0] === '+') {
    t = t.slice(1);
  }
  if (t.endsWith('\n')) t = t.slice(0, -1);
  let digits: string;
  let base: number;
  if (/^0[xX][0-9a-fA-F]/.test(t)) {
    digits = t.slice(2);
    base = 16;
  } else if (t[0] === '0') {
    digits = t;
    base = 8;
  } else {
    digits = t;
    base = 10;
  }
  const ok = base === 16 ? /^[0-9a-fA-F]+$/ : base === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!ok.test(digits)) return null;
  const v = BigInt(base === 16 ? `0x${digits}` : base === 8 ? `0o${digits}` : digits) * (neg ? -1n : 1n);
  if (v < -0x80000000n || v > 0x7fffffffn) return null;
  return Number(v);
}
