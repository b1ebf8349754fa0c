/**
 * `dmaheap top`: a live per-process view of DMA-BUF memory — Rss, Pss, buffer count, exporters and
 * buffer names per process, sorted by Rss — refreshed in place, with a footer of totals and the
 * kernel-only share (buffers no process holds). Each refresh is one pass of the dmabuf_dump
 * parser (src/api/dmabuf-info.ts) over /proc, debugfs or sysfs.
 */
import { readDmabufInfo } from '../../api/dmabuf-info.js';
import type { DmabufFs } from '../../api/dmabuf-info.js';
import { fmtBytes } from '../common/format.js';

export interface TopRow {
  readonly pid: number;
  readonly comm: string;
  /** Bytes */
  readonly rss: number;
  readonly pss: number;
  /** Distinct buffers the process holds (by fd or mapping). */
  readonly buffers: number;
  /** Exporters of those buffers, sorted. */
  readonly exporters: readonly string[];
  /** Their names (DMA_BUF_SET_NAME), sorted; unnamed buffers left out. */
  readonly names: readonly string[];
}

export interface TopSnapshot {
  /** ISO time of the reading. */
  readonly time: string;
  readonly machine: string;
  readonly backend: 'emulated' | 'linux';
  readonly note: string | null;
  /** By Rss, largest first (then by pid). */
  readonly processes: readonly TopRow[];
  readonly totals: {
    readonly processes: number;
    /** Distinct buffers held by processes. */
    readonly buffers: number;
    /** Bytes of those buffers (each once). */
    readonly userspaceSize: number;
    readonly userspaceRss: number;
    readonly userspacePss: number;
    /** Every buffer of the system-wide list; null without one. */
    readonly dmabufTotal: number | null;
    /** Bytes only the kernel holds; null without a system-wide list. */
    readonly kernelOnly: number | null;
    readonly kernelOnlyBuffers: number | null;
    /** kernelOnly / dmabufTotal in percent (one decimal); null when unknown or no buffers. */
    readonly kernelOnlyPercent: number | null;
  };
  /** Where the system-wide list came from. */
  readonly source: 'debugfs' | 'sysfs' | null;
  /** Processes whose fdinfo or maps could not be read (another user's, without root). */
  readonly unreadable: number;
  readonly warnings: readonly string[];
}

/** One reading of `fs`. */
export function topSnapshot(fs: DmabufFs, meta: { machine: string; backend: 'emulated' | 'linux'; note?: string | null }, now: Date = new Date()): TopSnapshot {
  const r = readDmabufInfo(fs);
  const byIno = new Map(r.buffers.map((b) => [b.inode, b]));
  const rows: TopRow[] = r.processes.map((p) => {
    const held = p.inodes.map((i) => byIno.get(i)!);
    return {
      pid: p.pid,
      comm: p.comm,
      rss: p.rss,
      pss: p.pss,
      buffers: held.length,
      exporters: [...new Set(held.map((b) => b.exporter))].sort(),
      names: [...new Set(held.map((b) => b.name).filter((n) => n !== '<unknown>' && n !== ''))].sort(),
    };
  });
  rows.sort((a, b) => b.rss - a.rss || a.pid - b.pid);
  const t = r.totals;
  const unreadable = new Set(r.warnings.map((w) => /^cannot (?:list|read) \/proc\/(\d+)\//.exec(w)?.[1]).filter((x) => x !== undefined)).size;
  const kernelOnly = t.kernelRss;
  return {
    time: now.toISOString(),
    machine: meta.machine,
    backend: meta.backend,
    note: meta.note ?? null,
    processes: rows,
    totals: {
      processes: rows.length,
      buffers: r.buffers.length,
      userspaceSize: t.userspaceSize,
      userspaceRss: t.userspaceRss,
      userspacePss: t.userspacePss,
      dmabufTotal: t.dmabufTotal,
      kernelOnly,
      kernelOnlyBuffers: r.kernelOnly === null ? null : r.kernelOnly.length,
      kernelOnlyPercent: kernelOnly === null || t.dmabufTotal === null || t.dmabufTotal === 0 ? null : Math.round((kernelOnly / t.dmabufTotal) * 1000) / 10,
    },
    source: r.system?.source ?? null,
    unreadable,
    warnings: r.warnings.filter((w) => !/^cannot (?:list|read) \/proc\/\d+\//.test(w)),
  };
}

function cut(s: string, width: number | undefined): string {
  return width === undefined || s.length <= width ? s : `${s.slice(0, Math.max(0, width - 1))}…`;
}

/** The screen: a header, one line per process, and the totals. `width` cuts long lines (a terminal). */
export function formatTop(s: TopSnapshot, opts: { width?: number; interval?: number } = {}): string {
  const out: string[] = [];
  const live = opts.interval !== undefined ? `, every ${opts.interval} ms (Ctrl-C quits)` : '';
  if (s.note !== null) out.push(`note: ${s.note}`);
  out.push(`dmaheap top: ${s.machine}, ${s.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}${live}`);
  out.push('');
  if (s.processes.length === 0) out.push('no process holds a dma-buf');
  else {
    const rows = [['PID', 'COMM', 'RSS', 'PSS', 'BUFS', 'EXPORTERS', 'NAMES']];
    for (const p of s.processes) rows.push([String(p.pid), p.comm, fmtBytes(p.rss), fmtBytes(p.pss), String(p.buffers), p.exporters.join(','), p.names.join(',')]);
    const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    const right = new Set([0, 2, 3, 4]);
    for (const r of rows) out.push(cut(r.map((c, i) => (i === r.length - 1 ? c : right.has(i) ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  ').trimEnd(), opts.width));
  }
  out.push('');
  const t = s.totals;
  out.push(cut(`${t.processes} process${t.processes === 1 ? '' : 'es'}, ${t.buffers} buffer${t.buffers === 1 ? '' : 's'} held (${fmtBytes(t.userspaceSize)}); Rss ${fmtBytes(t.userspaceRss)}, Pss ${fmtBytes(t.userspacePss)}`, opts.width));
  if (t.dmabufTotal === null) out.push('dmabuf total: unknown (no debugfs bufinfo or sysfs stats readable): the kernel-only share is unknown');
  else {
    out.push(cut(`dmabuf total ${fmtBytes(t.dmabufTotal)} (${s.source}); kernel only ${fmtBytes(t.kernelOnly ?? 0)}${t.kernelOnlyBuffers !== null ? ` in ${t.kernelOnlyBuffers} buffer${t.kernelOnlyBuffers === 1 ? '' : 's'}` : ''}${t.kernelOnlyPercent !== null ? ` (${t.kernelOnlyPercent}%)` : ''}`, opts.width));
  }
  if (s.unreadable > 0) out.push(`${s.unreadable} process${s.unreadable === 1 ? '' : 'es'} could not be read (another user's fdinfo needs root): sudo dmaheap top`);
  for (const w of s.warnings) out.push(`warning: ${w}`);
  return out.join('\n');
}

/** ANSI: cursor home, clear the screen. */
export const CLEAR = '\x1b[H\x1b[2J';

/**
 * Refreshes every `interval` ms until `signal` aborts: the screen redrawn in place, or (json) one
 * JSON object per line.
 */
export async function topLoop(read: () => TopSnapshot | Promise<TopSnapshot>, opts: { interval: number; json: boolean; write: (s: string) => void; width?: () => number | undefined; signal: AbortSignal }): Promise<void> {
  while (!opts.signal.aborted) {
    const s = await read();
    if (opts.json) opts.write(`${JSON.stringify(s)}\n`);
    else {
      const width = opts.width?.();
      opts.write(`${CLEAR}${formatTop(s, { interval: opts.interval, ...(width !== undefined ? { width } : {}) })}\n`);
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, opts.interval);
      function done(): void {
        clearTimeout(timer);
        opts.signal.removeEventListener('abort', done);
        resolve();
      }
      opts.signal.addEventListener('abort', done, { once: true });
    });
  }
}
