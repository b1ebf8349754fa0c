/**
 * `dmaheap dump`: per-process DMA-BUF accounting as Android's `dmabuf_dump` prints it, read from
 * the emulated kernel's /proc and debugfs (or sysfs) — or this machine's (`--backend linux`) —
 * through one parser (src/api/dmabuf-info.ts). `--demo-workload` (emulated) first runs a small
 * scene: two processes sharing buffers passed with SCM_RIGHTS, and one buffer only the kernel
 * holds. On this machine, what could not be read (other users' processes without root, debugfs
 * root-only or not mounted) is said under the report.
 *
 * The report model (src/api/dmabuf-info.ts) and its text formatter (src/api/dmabuf-dump.ts) are
 * the library's: this command boots, reads and prints. Text formats follow dmabuf_dump's
 * RawOutput: default = per process, `-a` = buffer × process table, `-b` = per-buffer and
 * per-exporter stats; see docs/accounting.md.
 */
import { DmaHeapClient } from '../../api/client.js';
import { dmabufFsOf, readDmabufInfo } from '../../api/dmabuf-info.js';
import { formatDmabufDump } from '../../api/dmabuf-dump.js';
import type { DmabufReport } from '../../api/dmabuf-info.js';
import type { DmabufFs } from '../../api/dmabuf-info.js';
import { MAP_SHARED, PROT_READ, PROT_WRITE } from '../../uapi/fcntl.js';
import type { ErrnoName } from '../../uapi/errno.js';
import type { FilesTarget } from '../common/backend.js';
import { createEmulatedTarget, describeHeaps, EmulatedTarget } from '../../backends/emulated/index.js';
import type { EmulatedOptions, Kernel } from '../../backends/emulated/index.js';

const KiB = 1024;
const MiB = 1024 * 1024;

/** What the demo workload did, for the report. */
export interface DemoWorkload {
  readonly processes: readonly { readonly pid: number; readonly comm: string }[];
  readonly steps: readonly string[];
}

/**
 * The demo scene on a booted kernel. `camera` allocates a 1 MiB frame from the system heap,
 * maps it, dup()s its fd and passes it to `display` (SCM_RIGHTS), which maps it too; it
 * allocates a 256 KiB overlay (from a CMA heap when there is one), passes it and closes its own
 * fd, and `display` maps it; it allocates a 512 KiB firmware log that a driver takes a kernel
 * reference to (dma_buf_get) before `camera` closes the fd — a buffer no process holds.
 */
export function runDemoWorkload(kernel: Kernel): DemoWorkload {
  const root = { uid: 0, gid: 0, groups: [] };
  const camera = kernel.spawn(root, 'camera');
  const display = kernel.spawn(root, 'display');
  const cam = new DmaHeapClient(new EmulatedTarget(kernel, camera));
  const disp = new EmulatedTarget(kernel, display);
  const cma = describeHeaps(kernel).find((h) => h.kind === 'cma')?.name ?? 'system';
  const steps: string[] = [];

  const frame = cam.allocate('system', 1 * MiB, { name: 'camera-frame' });
  frame.map();
  const dup = cam.target.dup(frame.fd).ret;
  const frameInDisplay = camera.sendFd(frame.fd, display);
  disp.mmap(frame.size, PROT_READ | PROT_WRITE, MAP_SHARED, frameInDisplay, 0);
  steps.push(`camera (pid ${camera.pid}): 1 MiB "camera-frame" from system, mapped, fd ${frame.fd} and dup ${dup}; passed to display (pid ${display.pid}) as fd ${frameInDisplay}, mapped there`);

  const overlay = cam.allocate(cma, 256 * KiB, { name: 'overlay' });
  const overlayInDisplay = camera.sendFd(overlay.fd, display);
  overlay.close();
  disp.mmap(overlay.size, PROT_READ | PROT_WRITE, MAP_SHARED, overlayInDisplay, 0);
  steps.push(`camera: 256 KiB "overlay" from ${cma}, passed to display as fd ${overlayInDisplay} and closed in camera; display maps it`);

  const fw = cam.allocate('system', 512 * KiB, { name: 'fw-log' });
  const kref = kernel.dmaBuf.get(camera, fw.fd);
  fw.close();
  steps.push(`camera: 512 KiB "fw-log" from system; a driver holds it with dma_buf_get() (${typeof kref === 'number' ? `failed: ${kref}` : 'kernel reference'}) and camera closes its fd`);

  return { processes: [{ pid: camera.pid, comm: camera.comm }, { pid: display.pid, comm: display.comm }], steps };
}

export interface DumpResult {
  readonly kernel: string;
  readonly profile: string;
  readonly board: string | null;
  readonly workload: DemoWorkload | null;
  readonly report: DmabufReport;
}

/** Boots the machine, optionally runs the demo workload, and reads the accounting as root. */
export function runDump(machine: EmulatedOptions, opts: { demoWorkload: boolean; pids?: readonly number[]; board?: string | null }): DumpResult {
  return dumpOn(createEmulatedTarget(machine), opts);
}

/** {@link runDump} on a booted machine, read by its process `t`. */
export function dumpOn(t: EmulatedTarget, opts: { demoWorkload: boolean; pids?: readonly number[]; board?: string | null }): DumpResult {
  const k = t.kernel;
  const workload = opts.demoWorkload ? runDemoWorkload(k) : null;
  const report = readDmabufInfo(dmabufFsOf(t), opts.pids !== undefined ? { pids: opts.pids } : {});
  return { kernel: k.profile.release, profile: k.profile.name, board: opts.board ?? null, workload, report };
}

/** The text output for dmabuf_dump's option combinations: -b alone, -a (with -b first), or the default. */
export function printDump(d: DumpResult, opts: { all: boolean; perBuffer: boolean }): string {
  let head = `Emulated Linux ${d.kernel} (profile ${d.profile})${d.board !== null ? `, board ${d.board}` : ''}\n`;
  if (d.workload !== null) head += d.workload.steps.map((x) => `  ${x}\n`).join('');
  return `${head}\n${formatDmabufDump(d.report, opts)}`.replace(/\n$/, '');
}

// ---- this machine (--backend linux) ------------------------------------------------------------

const BUFINFO = '/sys/kernel/debug/dma_buf/bufinfo';
const SYSFS_BUFFERS = '/sys/kernel/dmabuf/buffers';

/** What one reading of this machine could see. */
export interface DumpAccess {
  /** debugfs bufinfo: `ok`, or why it could not be read (`unparsable`: not the bufinfo format). */
  readonly bufinfo: 'ok' | 'unparsable' | ErrnoName;
  /** The sysfs stats directory: `ok` or the errno (ENOENT: CONFIG_DMABUF_SYSFS_STATS off, or 7.0+). */
  readonly sysfs: 'ok' | ErrnoName;
  /** Processes looked at. */
  readonly processes: number;
  /** Those whose fdinfo or maps could not be read (another user's, without root), by pid. */
  readonly unreadable: readonly { readonly pid: number; readonly comm: string }[];
  /** Pids with no /proc entry (--pid of a process that is not running, or one that exited meanwhile). */
  readonly missing: readonly number[];
  /** What that means, one line each (printed under the report). */
  readonly notes: readonly string[];
  /** What to do about it. */
  readonly next: readonly string[];
}

export interface LinuxDumpResult {
  /** "Linux 6.1.0 (this machine)" */
  readonly machine: string;
  readonly backend: 'linux';
  /** The reader's uid: what it may see of other processes. */
  readonly uid: number;
  readonly access: DumpAccess;
  readonly report: DmabufReport;
}

function bufinfoWhy(e: DumpAccess['bufinfo']): string {
  if (e === 'EACCES' || e === 'EPERM') return `${e} (debugfs is root-only)`;
  if (e === 'ENOENT') return 'ENOENT (debugfs not mounted, or CONFIG_DEBUG_FS off)';
  if (e === 'unparsable') return 'not in the bufinfo format';
  return e;
}

function sysfsWhy(e: DumpAccess['sysfs']): string {
  return e === 'ENOENT' ? 'ENOENT (CONFIG_DMABUF_SYSFS_STATS off; removed in 7.0)' : e;
}

/**
 * Reads this machine's accounting: the same parser as the emulated path over `fs`, and through
 * `files` (the same files, with errnos) why parts could not be read.
 */
export function readLinuxDump(files: FilesTarget, fs: DmabufFs, meta: { machine: string; uid: number }, opts: { pids?: readonly number[] } = {}): LinuxDumpResult {
  const report = readDmabufInfo(fs, opts.pids !== undefined ? { pids: opts.pids } : {});
  const b = files.readFile(BUFINFO);
  const bufinfo: DumpAccess['bufinfo'] = b.errno ?? (report.system?.source === 'debugfs' ? 'ok' : 'unparsable');
  const sysfs: DumpAccess['sysfs'] = files.readdir(SYSFS_BUFFERS).errno ?? 'ok';
  const pids = opts.pids !== undefined ? [...opts.pids] : (files.readdir('/proc').names ?? []).filter((n) => /^[1-9]\d*$/.test(n)).map(Number);
  const processes = pids.length;
  // the parser says which fdinfo directories and maps it could not read; an fdinfo directory
  // that lists but whose entries refuse (EACCES) it skips quietly, as libdmabufinfo does
  const denied = (e: ErrnoName | null) => e === 'EACCES' || e === 'EPERM';
  const refused = pids.filter((pid) => {
    const first = (files.readdir(`/proc/${pid}/fdinfo`).names ?? []).find((f) => /^\d+$/.test(f));
    return first !== undefined && denied(files.readFile(`/proc/${pid}/fdinfo/${first}`).errno);
  });
  const fromWarnings = report.warnings.map((w) => /^cannot (?:list|read) \/proc\/(\d+)\//.exec(w)?.[1]).filter((x) => x !== undefined).map(Number);
  const gone = (pid: number) => files.readdir(`/proc/${pid}`).errno === 'ENOENT';
  const flagged = [...new Set([...fromWarnings, ...refused])].sort((x, y) => x - y);
  const missing = flagged.filter(gone);
  const unreadablePids = flagged.filter((pid) => !missing.includes(pid));
  const unreadable = unreadablePids.map((pid) => ({ pid, comm: (files.readFile(`/proc/${pid}/comm`).text ?? '?\n').split('\n')[0]! }));

  const notes: string[] = [];
  const next: string[] = [];
  const root = meta.uid === 0;
  const list = report.system === null
    ? 'no system-wide buffer list'
    : report.system.source === 'debugfs' ? `system-wide list from debugfs ${BUFINFO}` : `system-wide list from sysfs ${SYSFS_BUFFERS} (debugfs bufinfo: ${bufinfoWhy(bufinfo)}; sysfs has no buffer names)`;
  notes.push(`read as uid ${meta.uid}${root ? ' (root)' : ''}: /proc/<pid>/fdinfo and maps of ${processes - unreadable.length - missing.length} of ${processes} process${processes === 1 ? '' : 'es'}; ${list}`);
  if (missing.length > 0) notes.push(`no process ${missing.join(', ')} (not running, or it exited while being read)`);
  if (unreadable.length > 0) {
    const one = unreadable.length === 1;
    const shown = unreadable.slice(0, 5).map((p) => `${p.pid} (${p.comm})`).join(', ');
    notes.push(`${unreadable.length} process${one ? '' : 'es'} could not be read: ${shown}${unreadable.length > 5 ? `, and ${unreadable.length - 5} more` : ''}; what ${one ? 'it holds is' : 'they hold is'} missing above, or shown only through mappings`);
    next.push(root ? 'root without CAP_SYS_PTRACE (in a container) cannot read every process: run dmaheap dump on the host' : 'another user\'s /proc/<pid>/fdinfo and maps need root (PTRACE_MODE_READ): sudo dmaheap dump --backend linux');
  }
  if (report.system === null) {
    notes.push(`${BUFINFO}: ${bufinfoWhy(bufinfo)}; ${SYSFS_BUFFERS}: ${sysfsWhy(sysfs)}`);
    notes.push('so dmabuf total and kernel_rss are unknown, and buffers only the kernel holds (drivers, importers) cannot be seen');
    if (!root && next.length > 0) next[0] = 'another user\'s /proc/<pid>/fdinfo and maps need root (PTRACE_MODE_READ), and so does debugfs: sudo dmaheap dump --backend linux';
    else if (!root) next.push('run as root to read debugfs: sudo dmaheap dump --backend linux');
    else if (bufinfo === 'ENOENT') next.push('mount debugfs: sudo mount -t debugfs none /sys/kernel/debug');
  }
  // the per-process report prints the total mismatch itself
  for (const w of report.warnings) if (!/^cannot (?:list|read) \/proc\/\d+\//.test(w) && !w.startsWith('Total dmabufs')) notes.push(`warning: ${w}`);
  return { machine: meta.machine, backend: 'linux', uid: meta.uid, access: { bufinfo, sysfs, processes, unreadable, missing, notes, next }, report };
}

/** The text output for this machine: a header, dmabuf_dump's report as for the emulated machine, then what the reading could not see. */
export function printLinuxDump(d: LinuxDumpResult, opts: { all: boolean; perBuffer: boolean }): string {
  const body = formatDmabufDump(d.report, opts);
  const next = d.access.next.map((x, i) => `${i === 0 ? 'next: ' : '      '}${x}`);
  return `${d.machine}\n\n${body}\n${[...d.access.notes, ...next].join('\n')}`;
}
