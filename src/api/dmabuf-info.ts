/**
 * Per-process DMA-BUF accounting as Android's libdmabufinfo and `dmabuf_dump` compute it, from
 * the files a Linux system exposes: `/proc/<pid>/fdinfo/<fd>` (exp_name, size, ino, count, name),
 * the `/proc/<pid>/fd/<fd>` links (`/dmabuf:<name>`), `/proc/<pid>/maps` (mappings whose path
 * starts with `/dmabuf`, matched by inode), `/proc/<pid>/comm`, and one system-wide list of
 * every buffer: debugfs `/sys/kernel/debug/dma_buf/bufinfo`, or the sysfs stats
 * `/sys/kernel/dmabuf/buffers/<ino>/{exporter_name,size}` (v5.13 to v6.19) when debugfs cannot
 * be read. The parser sees only a three-call file-system interface, so the same code reads the
 * emulated kernel, a real kernel, or a fake tree in a test.
 *
 * Definitions (libdmabufinfo `DmaBuffer`, dmabuf_dump `PrintDmaBufPerProcess`):
 * - a process *holds* a buffer when one of its fds refers to it (fdinfo has `exp_name:`) or one
 *   of its mappings does; buffers are identified by inode;
 * - a buffer's Rss is its size; its Pss is size / (number of processes holding it), rounded down;
 * - a process's Rss and Pss are the sums over the distinct buffers it holds;
 * - userspace size is the sum of the sizes of the distinct buffers any process holds;
 * - kernel_rss is the system-wide total minus the userspace size: buffers only the kernel
 *   holds (importers, drivers), which appear in the system-wide list and in no process.
 *
 * Pure: no Node, no kernel. Errors (unreadable files, vanished processes) become warnings.
 */
import type { SyscallTarget } from './target.js';

/** What the parser reads: whole files, directory listings and symbolic links, or null when they cannot be read. */
export interface DmabufFs {
  readdir(path: string): readonly string[] | null;
  readFile(path: string): string | null;
  readlink(path: string): string | null;
}

/** A {@link DmabufFs} over a syscall target (the emulated kernel, later the real one). */
export function dmabufFsOf(t: Pick<SyscallTarget, 'readdir' | 'readFile' | 'readlink'>): DmabufFs {
  return {
    readdir: (p) => t.readdir(p).names,
    readFile: (p) => t.readFile(p).text,
    readlink: (p) => t.readlink(p).text,
  };
}

/** One process's references to a buffer: its fds and its mappings (VMAs). */
export interface DmabufRef {
  readonly pid: number;
  readonly fds: number;
  readonly maps: number;
}

/** A buffer some process holds (libdmabufinfo DmaBuffer). */
export interface DmabufBuffer {
  readonly inode: number;
  /** Bytes: fdinfo `size:`, else the system-wide list's, else the mapping's length. */
  readonly size: number;
  /** fdinfo `count:` (file references: fds, mappings, kernel references); null if only mapped. */
  readonly count: number | null;
  /** fdinfo `exp_name:`, else the system-wide list's; `<unknown>` when neither says. */
  readonly exporter: string;
  /** fdinfo `name:` (or the fd link's `/dmabuf:<name>`); `<unknown>` when unnamed. */
  readonly name: string;
  /** Per process, in pid order. */
  readonly refs: readonly DmabufRef[];
  /** size / refs.length, rounded down (DmaBuffer::Pss). */
  readonly pss: number;
}

/** A process holding at least one buffer. */
export interface DmabufProcess {
  readonly pid: number;
  /** /proc/<pid>/comm without the newline; `N/A` when it cannot be read. */
  readonly comm: string;
  /** The buffers it holds, by inode. */
  readonly inodes: readonly number[];
  /** Bytes: the sum of the sizes of the buffers it holds. */
  readonly rss: number;
  /** Bytes: the sum of their Pss. */
  readonly pss: number;
}

/** A buffer of the system-wide list. */
export interface SystemDmabuf {
  readonly inode: number;
  readonly size: number;
  readonly exporter: string;
  /** debugfs only (sysfs has no name); null when unnamed or unknown. */
  readonly name: string | null;
  /** debugfs only: the file reference count. */
  readonly count: number | null;
  /** debugfs only: the devices attached (dev_name, bufinfo's "Attached Devices"); absent from sysfs. */
  readonly attached?: readonly string[];
}

export interface ExporterTotal {
  readonly exporter: string;
  readonly count: number;
  /** Bytes */
  readonly size: number;
}

export interface DmabufReport {
  /** Buffers held by processes, in the order they were found (pid order, fds before maps). */
  readonly buffers: readonly DmabufBuffer[];
  /** Processes holding buffers, in pid order. */
  readonly processes: readonly DmabufProcess[];
  /** The system-wide list, or null when neither debugfs nor sysfs could be read. */
  readonly system: { readonly source: 'debugfs' | 'sysfs'; readonly buffers: readonly SystemDmabuf[] } | null;
  /** Per exporter (sorted by name): from the system-wide list, else from the held buffers. */
  readonly exporters: readonly ExporterTotal[];
  /**
   * Buffers in the system-wide list that no process holds, by inode; null when only some
   * processes were read (`pids`), since the others may hold them.
   */
  readonly kernelOnly: readonly SystemDmabuf[] | null;
  readonly totals: {
    /** Bytes: userspace + kernel_rss (dmabuf_dump's "dmabuf total"); null without a system-wide list. */
    readonly dmabufTotal: number | null;
    /** Bytes: system-wide total − userspace size; null without a system-wide list. */
    readonly kernelRss: number | null;
    /** Bytes: the distinct buffers processes hold. */
    readonly userspaceSize: number;
    /** Bytes: the sum of every process's Rss (a shared buffer counts once per process). */
    readonly userspaceRss: number;
    /** Bytes: the sum of every process's Pss. */
    readonly userspacePss: number;
  };
  readonly warnings: readonly string[];
}

export interface DmabufReadOptions {
  /** The procfs mount (default `/proc`). */
  readonly procfs?: string;
  /** Only these processes (dmabuf_dump <PID>); default: every numeric entry of /proc. */
  readonly pids?: readonly number[];
  readonly debugfsBufinfo?: string;
  readonly sysfsBuffers?: string;
}

interface MutableBuffer {
  inode: number;
  size: number;
  count: number | null;
  exporter: string;
  name: string;
  fds: Map<number, number>;
  maps: Map<number, number>;
}

const UNKNOWN = '<unknown>';

/**
 * Reads every process's buffers and the system-wide list, and computes the dmabuf_dump
 * reports. For each pid (ascending): fd references from fdinfo, then map references from maps
 * (ReadDmaBufFdRefs, ReadDmaBufMapRefs, ReadProcfsDmaBufs).
 */
export function readDmabufInfo(fs: DmabufFs, opts: DmabufReadOptions = {}): DmabufReport {
  const procfs = opts.procfs ?? '/proc';
  const warnings: string[] = [];
  const system = readSystemBuffers(fs, opts.debugfsBufinfo ?? '/sys/kernel/debug/dma_buf/bufinfo', opts.sysfsBuffers ?? '/sys/kernel/dmabuf/buffers');
  const sysByIno = new Map<number, SystemDmabuf>();
  for (const b of system?.buffers ?? []) sysByIno.set(b.inode, b);

  let pids: number[];
  if (opts.pids !== undefined) {
    pids = [...opts.pids];
  } else {
    const entries = fs.readdir(procfs);
    if (entries === null) warnings.push(`cannot list ${procfs}`);
    pids = (entries ?? []).filter((e) => /^[1-9]\d*$/.test(e)).map(Number);
  }
  pids.sort((a, b) => a - b);

  const bufs: MutableBuffer[] = [];
  const byIno = new Map<number, MutableBuffer>();
  const comms = new Map<number, string>();
  for (const pid of pids) {
    readFdRefs(fs, procfs, pid, bufs, byIno, warnings);
    readMapRefs(fs, procfs, pid, bufs, byIno, sysByIno, warnings);
    const comm = fs.readFile(`${procfs}/${pid}/comm`);
    comms.set(pid, comm === null ? 'N/A' : (comm.split('\n')[0] ?? ''));
  }

  const buffers: DmabufBuffer[] = bufs.map((b) => {
    const refPids = [...new Set([...b.fds.keys(), ...b.maps.keys()])].sort((x, y) => x - y);
    return {
      inode: b.inode,
      size: b.size,
      count: b.count,
      exporter: b.exporter,
      name: b.name,
      refs: refPids.map((pid) => ({ pid, fds: b.fds.get(pid) ?? 0, maps: b.maps.get(pid) ?? 0 })),
      pss: refPids.length === 0 ? 0 : Math.floor(b.size / refPids.length),
    };
  });

  const processes: DmabufProcess[] = [];
  for (const pid of pids) {
    const held = buffers.filter((b) => b.refs.some((r) => r.pid === pid)).sort((a, b) => a.inode - b.inode);
    if (held.length === 0) continue;
    processes.push({
      pid,
      comm: comms.get(pid) ?? 'N/A',
      inodes: held.map((b) => b.inode),
      rss: held.reduce((n, b) => n + b.size, 0),
      pss: held.reduce((n, b) => n + b.pss, 0),
    });
  }

  const userspaceSize = buffers.reduce((n, b) => n + b.size, 0);
  let kernelRss: number | null = null;
  let dmabufTotal: number | null = null;
  if (system !== null) {
    const total = system.buffers.reduce((n, b) => n + b.size, 0);
    kernelRss = total;
    if (total >= userspaceSize) kernelRss = total - userspaceSize;
    else warnings.push('Total dmabufs < userspace dmabufs');
    dmabufTotal = userspaceSize + kernelRss;
  }
  const held = new Set(buffers.map((b) => b.inode));
  const kernelOnly = opts.pids !== undefined ? null : (system?.buffers ?? []).filter((b) => !held.has(b.inode)).sort((a, b) => a.inode - b.inode);

  const exporterSource: readonly { exporter: string; size: number }[] = system?.buffers ?? buffers;
  const exp = new Map<string, { count: number; size: number }>();
  for (const b of exporterSource) {
    const e = exp.get(b.exporter) ?? { count: 0, size: 0 };
    e.count++;
    e.size += b.size;
    exp.set(b.exporter, e);
  }
  const exporters = [...exp.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([exporter, e]) => ({ exporter, count: e.count, size: e.size }));

  return {
    buffers,
    processes,
    system,
    exporters,
    kernelOnly,
    totals: {
      dmabufTotal,
      kernelRss,
      userspaceSize,
      userspaceRss: processes.reduce((n, p) => n + p.rss, 0),
      userspacePss: processes.reduce((n, p) => n + p.pss, 0),
    },
    warnings,
  };
}

/**
 * fd references: every numeric entry of /proc/<pid>/fdinfo whose text has an `exp_name:` line
 * is a dma-buf; `ino:` identifies it (kernels before ~5.14 lack that line: libdmabufinfo then
 * stat()s the fd, which this interface cannot, so the fd is skipped with a warning).
 */
function readFdRefs(fs: DmabufFs, procfs: string, pid: number, bufs: MutableBuffer[], byIno: Map<number, MutableBuffer>, warnings: string[]): void {
  const fds = fs.readdir(`${procfs}/${pid}/fdinfo`);
  if (fds === null) {
    warnings.push(`cannot list ${procfs}/${pid}/fdinfo`);
    return;
  }
  for (const fd of fds.filter((e) => /^\d+$/.test(e)).sort((a, b) => Number(a) - Number(b))) {
    const text = fs.readFile(`${procfs}/${pid}/fdinfo/${fd}`);
    if (text === null) continue; // closed meanwhile (ENOENT), or no permission
    const info = parseFdinfo(text);
    if (info.exporter === null) continue;
    if (info.inode === null) {
      warnings.push(`${procfs}/${pid}/fdinfo/${fd}: a dma-buf without an ino: line (kernel before 5.14?), skipped`);
      continue;
    }
    let name = info.name;
    if (name === null) {
      const link = fs.readlink(`${procfs}/${pid}/fd/${fd}`);
      if (link !== null && link.startsWith('/dmabuf:') && link.length > 8) name = link.slice(8);
    }
    const b = byIno.get(info.inode);
    if (b !== undefined) {
      if (b.name === '' || b.name === UNKNOWN) b.name = name ?? UNKNOWN;
      if (b.exporter === '' || b.exporter === UNKNOWN) b.exporter = info.exporter;
      if (b.count === null || b.count === 0) b.count = info.count;
      b.fds.set(pid, (b.fds.get(pid) ?? 0) + 1);
      continue;
    }
    const nb: MutableBuffer = { inode: info.inode, size: info.size ?? 0, count: info.count, exporter: info.exporter, name: name ?? UNKNOWN, fds: new Map([[pid, 1]]), maps: new Map() };
    bufs.push(nb);
    byIno.set(nb.inode, nb);
  }
}

/**
 * map references: every line of /proc/<pid>/maps whose path starts with `/dmabuf`, matched by
 * its inode; a buffer first seen here takes its size and exporter from the system-wide list
 * (the mapping's length as a last resort: a partial mapping understates it).
 */
function readMapRefs(fs: DmabufFs, procfs: string, pid: number, bufs: MutableBuffer[], byIno: Map<number, MutableBuffer>, sysByIno: Map<number, SystemDmabuf>, warnings: string[]): void {
  const maps = fs.readFile(`${procfs}/${pid}/maps`);
  if (maps === null) {
    warnings.push(`cannot read ${procfs}/${pid}/maps`);
    return;
  }
  for (const line of maps.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+)\s+\S+\s+[0-9a-f]+\s+\S+\s+(\d+)\s*(.*)$/.exec(line);
    if (m === null || !m[4]!.startsWith('/dmabuf')) continue;
    const inode = Number(m[3]);
    const b = byIno.get(inode);
    if (b !== undefined) {
      b.maps.set(pid, (b.maps.get(pid) ?? 0) + 1);
      continue;
    }
    const sys = sysByIno.get(inode);
    const nb: MutableBuffer = {
      inode,
      size: sys?.size ?? parseInt(m[2]!, 16) - parseInt(m[1]!, 16),
      count: null,
      exporter: sys?.exporter ?? UNKNOWN,
      name: UNKNOWN,
      fds: new Map(),
      maps: new Map([[pid, 1]]),
    };
    bufs.push(nb);
    byIno.set(inode, nb);
  }
}

interface Fdinfo {
  exporter: string | null;
  name: string | null;
  size: number | null;
  count: number | null;
  inode: number | null;
}

/** The fdinfo keys libdmabufinfo reads (ReadDmaBufFdInfo): `count:`, `exp_name:`, `name:`, `size:`, `ino:`. */
export function parseFdinfo(text: string): Fdinfo {
  const out: Fdinfo = { exporter: null, name: null, size: null, count: null, inode: null };
  for (const line of text.split('\n')) {
    const c = line.indexOf(':');
    if (c < 0) continue;
    const key = line.slice(0, c);
    const value = line.slice(c + 1).trim();
    switch (key) {
      case 'count':
        out.count = Number.parseInt(value, 10);
        break;
      case 'exp_name':
        out.exporter = value;
        break;
      case 'name':
        out.name = value;
        break;
      case 'size':
        out.size = Number.parseInt(value, 10);
        break;
      case 'ino':
        out.inode = Number.parseInt(value, 10);
        break;
    }
  }
  return out;
}

/** The system-wide list: debugfs bufinfo first (it has names and counts), else the sysfs stats. */
function readSystemBuffers(fs: DmabufFs, bufinfoPath: string, sysfsPath: string): DmabufReport['system'] {
  const text = fs.readFile(bufinfoPath);
  if (text !== null) {
    const buffers = parseBufinfo(text);
    if (buffers !== null) return { source: 'debugfs', buffers };
  }
  const dirs = fs.readdir(sysfsPath);
  if (dirs === null) return null;
  const buffers: SystemDmabuf[] = [];
  for (const d of dirs.filter((e) => /^\d+$/.test(e)).sort((a, b) => Number(a) - Number(b))) {
    const size = fs.readFile(`${sysfsPath}/${d}/size`);
    const exporter = fs.readFile(`${sysfsPath}/${d}/exporter_name`);
    if (size === null || exporter === null) continue; // released meanwhile
    buffers.push({ inode: Number(d), size: Number.parseInt(size, 10), exporter: exporter.trim(), name: null, count: null });
  }
  return { source: 'sysfs', buffers };
}

/**
 * /sys/kernel/debug/dma_buf/bufinfo: after the `Dma-buf Objects:` header, one tab-separated
 * line per buffer — size, flags, mode, count, exp_name, ino, name (`<none>` when unnamed) —
 * followed by tab-indented fence lines, then `\tAttached Devices:`, one `\t<dev_name>` line per
 * attachment and `Total <n> devices attached`. Before 6.0 the heading has no `name` and an
 * unnamed buffer prints an empty name (5.10 and 5.15): read as no name. Null when the text is
 * not bufinfo.
 * @kernel drivers/dma-buf/dma-buf.c dma_buf_debug_show
 */
export function parseBufinfo(text: string): SystemDmabuf[] | null {
  if (!text.includes('Dma-buf Objects:')) return null;
  // the heading of 6.0+ ends in `name`; before, "" is an unnamed buffer
  const headed = /\tino {5}\tname\n/.test(text);
  const out: SystemDmabuf[] = [];
  let devices: string[] | null = null;
  for (const line of text.split('\n')) {
    if (devices !== null) {
      if (/^Total \d+ devices attached$/.test(line)) devices = null;
      else if (line.startsWith('\t') && line.length > 1 && devices.length < 256) devices.push(line.slice(1));
      continue;
    }
    if (line === '\tAttached Devices:' && out.length > 0) {
      devices = [];
      const last = out[out.length - 1]!;
      out[out.length - 1] = { ...last, attached: devices };
      continue;
    }
    const f = line.split('\t');
    if (f.length < 7 || !/^\d+$/.test(f[0]!) || !/^\d+$/.test(f[3]!) || !/^\d+$/.test(f[5]!)) continue;
    const name = f.slice(6).join('\t');
    out.push({ inode: Number(f[5]), size: Number(f[0]), exporter: f[4]!, name: name === '<none>' || (!headed && name === '') ? null : name, count: Number(f[3]) });
  }
  return out;
}
