/**
 * dmabuf_dump's text output for a {@link DmabufReport} (src/api/dmabuf-info.ts), as Android's
 * tool prints it (RawOutput in libdmabufinfo/tools/include/dmabuf_output_helper.h): the default
 * per-process report, `-a` the buffer × process table, `-b` the per-buffer and per-exporter
 * stats. Sizes in kB are rounded down, as the tool does. Pure: the same text for a report read
 * from the emulated kernel, a real one, or a fake tree. `dmaheap dump` prints these.
 */
import type { DmabufReport } from './dmabuf-info.js';

/** Which of dmabuf_dump's reports: `-a` (all: the buffer × process table) and/or `-b` (per buffer). */
export interface DmabufDumpFormat {
  /** dmabuf_dump -a: the buffer × process table. */
  readonly all?: boolean;
  /** dmabuf_dump -b: every buffer of the system-wide list, then per-exporter and overall totals. */
  readonly perBuffer?: boolean;
}

const NOT_FOUND = 'dmabuf info not found ¯\\_(ツ)_/¯';

function kb(bytes: number): string {
  return String(Math.floor(bytes / 1024));
}

function procLabel(comm: string, pid: number): string {
  return `${comm.padStart(16)}:${String(pid).padEnd(5)}`;
}

/**
 * The default report (PrintDmaBufPerProcess): per process a table of Name, Rss, Pss, nr_procs,
 * Inode, Exporter and a PROCESS TOTAL line, then the grand totals; then (dmaheap's addition) the
 * buffers only the kernel holds.
 */
export function formatDmabufPerProcess(r: DmabufReport): string {
  if (r.buffers.length === 0) return `${NOT_FOUND}\n`;
  const byIno = new Map(r.buffers.map((b) => [b.inode, b]));
  let s = '';
  for (const p of r.processes) {
    s += `${procLabel(p.comm, p.pid)}\n`;
    s += `${'Name'.padStart(22)} ${'Rss'.padStart(16)} ${'Pss'.padStart(16)} ${'nr_procs'.padStart(16)} ${'Inode'.padStart(16)} ${'Exporter'.padStart(22)}\n`;
    for (const ino of p.inodes) {
      const b = byIno.get(ino)!;
      s += `${(b.name === '' ? '<unknown>' : b.name).padStart(22)} ${kb(b.size).padStart(13)} kB ${kb(b.pss).padStart(13)} kB ${String(b.refs.length).padStart(16)} ${String(b.inode).padStart(16)}  ${(b.exporter === '' ? '<unknown>' : b.exporter).padStart(22)}\n`;
    }
    s += `${'PROCESS TOTAL'.padStart(22)} ${kb(p.rss).padStart(13)} kB ${kb(p.pss).padStart(13)} kB ${''.padStart(16)}\n`;
    s += '----------------------\n';
  }
  const t = r.totals;
  if (t.kernelRss === null) s += 'Unable to read DMA-BUF per-buffer stats from device\n';
  for (const w of r.warnings) if (w.startsWith('Total dmabufs')) s += `Warning: ${w}\n`;
  s += `dmabuf total: ${kb(t.dmabufTotal ?? t.userspaceSize)} kB kernel_rss: ${t.kernelRss === null ? 'n/a' : `${kb(t.kernelRss)}`} kB userspace_rss: ${kb(t.userspaceRss)} kB userspace_pss: ${kb(t.userspacePss)} kB\n`;
  if (r.kernelOnly !== null && r.kernelOnly.length > 0) {
    s += `kernel only (held by no process): ${r.kernelOnly.map((b) => `${b.inode} ${kb(b.size)} kB ${b.exporter}${b.name !== null ? ` "${b.name}"` : ''}`).join(', ')}\n`;
  }
  return s;
}

/** `-a` (PrintDmaBufTable): the buffer × process grid, cells "fd-refs(map-refs) refs", then per-process totals. */
export function formatDmabufTable(r: DmabufReport): string {
  if (r.buffers.length === 0) return `${NOT_FOUND}\n`;
  const pids = [...new Set(r.buffers.flatMap((b) => b.refs.map((x) => x.pid)))].sort((a, b) => a - b);
  const comm = new Map(r.processes.map((p) => [p.pid, p.comm]));
  let s = '\n----------------------- DMA-BUF Table buffer x process --------------------------\n';
  s += '    Dmabuf Inode |            Size |   Fd Ref Counts |  Map Ref Counts |';
  for (const pid of pids) s += `${procLabel(comm.get(pid) ?? 'N/A', pid)} |`;
  s += '\n';
  const perPid = new Map<number, number>();
  let total = 0;
  for (const b of r.buffers) {
    const fdPids = b.refs.filter((x) => x.fds > 0).length;
    const mapPids = b.refs.filter((x) => x.maps > 0).length;
    s += `${String(b.inode).padStart(16)} |${kb(b.size).padStart(13)} kB |${String(fdPids).padStart(16)} |${String(mapPids).padStart(16)} |`;
    for (const pid of pids) {
      const ref = b.refs.find((x) => x.pid === pid);
      if (ref !== undefined && (ref.fds > 0 || ref.maps > 0)) {
        s += `${String(ref.fds).padStart(9)}(${String(ref.maps).padStart(6)}) refs |`;
        perPid.set(pid, (perPid.get(pid) ?? 0) + Math.floor(b.size / 1024));
      } else {
        s += `${'--'.padStart(22)} |`;
      }
    }
    total += Math.floor(b.size / 1024);
    s += '\n';
  }
  s += '------------------------------------\n';
  s += `${'TOTALS'.padEnd(16)}  ${String(total).padStart(13)} kB |${'n/a'.padStart(16)} |${'n/a'.padStart(16)} |`;
  for (const pid of pids) s += `${String(perPid.get(pid) ?? 0).padStart(19)} kB |`;
  return `${s}\n`;
}

/** `-b` (DumpDmabufPerBufferStats): every buffer of the system-wide list, per-exporter totals, the overall total. */
export function formatDmabufPerBuffer(r: DmabufReport): string {
  const sep = '-----------------------';
  if (r.system === null) return 'Unable to read DMA-BUF per-buffer stats from device\n';
  let s = `\n\n${sep} DMA-BUF per-buffer stats ${sep}\n`;
  s += '    Dmabuf Inode |     Size(bytes) |    Exporter Name                    |\n';
  for (const b of r.system.buffers) s += `${String(b.inode).padStart(16)} |${String(b.size).padStart(16)} | ${b.exporter.padStart(16)} \n`;
  s += `\n\n${sep} DMA-BUF exporter stats ${sep}\n`;
  s += '      Exporter Name              | Total Count |     Total Size(bytes)   |\n';
  for (const e of r.exporters) s += `${e.exporter.padStart(32)} | ${String(e.count).padStart(12)}| ${e.size}\n`;
  s += `\n\n${sep} DMA-BUF total stats ${sep}\n`;
  s += `Total DMA-BUF count: ${r.system.buffers.length}, Total DMA-BUF size(bytes): ${r.system.buffers.reduce((n, b) => n + b.size, 0)}\n`;
  return s;
}

/**
 * The text of dmabuf_dump's option combinations: `-b` alone ({@link formatDmabufPerBuffer}), `-a`
 * ({@link formatDmabufTable}, after the `-b` text when both), or neither (the default per-process
 * report, {@link formatDmabufPerProcess}). Ends with a newline.
 */
export function formatDmabufDump(r: DmabufReport, opts: DmabufDumpFormat = {}): string {
  const all = opts.all === true;
  const perBuffer = opts.perBuffer === true;
  let body = '';
  if (perBuffer) body += formatDmabufPerBuffer(r);
  if (all) body += `${perBuffer ? '\n\n' : ''}${formatDmabufTable(r)}`;
  if (!all && !perBuffer) body += formatDmabufPerProcess(r);
  return body;
}
