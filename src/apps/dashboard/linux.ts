/**
 * The dashboard's view of this machine's real kernel, READ-ONLY and through files only: the heaps
 * /dev/dma_heap lists (the directory, never a node opened), the CMA areas of /sys/kernel/mm/cma
 * with their page maps from debugfs (/sys/kernel/debug/cma/<area>/{base_pfn,count,order_per_bit,bitmap},
 * root only), and the buffers, refs and processes as dmabuf_dump computes them (readDmabufInfo over
 * /proc and debugfs or sysfs). What it cannot read is said in `source.cannotRead`. It has no
 * controls: the server refuses every one (403 read-only).
 */
import { cmaAreaDirs } from '../../api/heap-knowledge.js';
import { release } from 'node:os';
import type { DmabufFs, SystemDmabuf } from '../../api/dmabuf-info.js';
import { readDmabufInfo } from '../../api/dmabuf-info.js';
import type { FilesTarget } from '../common/backend.js';
import type { DashArea, DashBuffer, DashHeap, DashProcess, DashSource } from './model.js';
import type { DashboardSource, DashState } from './sources.js';
import { areaRuns } from './sources.js';

/** The most CMA pages a map is read for (a 64-bit bitmap of 16 GiB of 4 KiB pages is 512 KiB of text). */
const MAX_MAP_PAGES = 1 << 24;
/** The most lines of `cannotRead`. */
const MAX_CANNOT = 20;

/**
 * debugfs cma/<area>/bitmap: the area's bitmap as a u32 array (debugfs_create_u32_array() over
 * cma->bitmap), printed as decimal words separated by spaces; bit i of the bitmap is bit i % 32
 * of word i / 32 (a little-endian unsigned long bitmap read 32 bits at a time). Bit i covers pages
 * [i << order_per_bit, (i + 1) << order_per_bit). Returns the allocated runs `{first, count}` in
 * pages, or null when the text is not such an array.
 * @kernel mm/cma_debug.c cma_debugfs_add_one (debugfs_create_u32_array "bitmap"); fs/debugfs/file.c u32_array_read
 */
/** The devices bufinfo lists as attached (whether each mapped the buffer, bufinfo does not say). */
function importersOf(b: SystemDmabuf | undefined): DashBuffer['importers'] {
  return (b?.attached ?? []).map((device) => ({ device, mapped: null }));
}

export function parseCmaBitmap(text: string, pages: number, orderPerBit: number): { first: number; count: number }[] | null {
  const words = text.trim() === '' ? [] : text.trim().split(/\s+/);
  if (!words.every((w) => /^\d{1,10}$/.test(w) && Number(w) <= 0xffffffff)) return null;
  const bits = Math.floor(pages / 2 ** orderPerBit);
  const per = 2 ** orderPerBit;
  const out: { first: number; count: number }[] = [];
  let runStart = -1;
  for (let i = 0; i <= bits; i++) {
    const set = i < bits && ((Number(words[i >>> 5] ?? '0') >>> (i & 31)) & 1) === 1;
    if (set && runStart < 0) runStart = i;
    if (!set && runStart >= 0) {
      out.push({ first: runStart * per, count: (i - runStart) * per });
      runStart = -1;
    }
  }
  return out;
}

function num(text: string | null): number | null {
  if (text === null) return null;
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : null;
}

export interface LinuxSourceOptions {
  readonly fs: DmabufFs;
  readonly files: FilesTarget;
  readonly label?: string;
  readonly pageSize?: number;
}

/** This machine (or a fake tree in a test), read-only. */
export function linuxSource(opts: LinuxSourceOptions): DashboardSource {
  const { fs } = opts;
  const pageSize = opts.pageSize ?? 4096;
  const label = opts.label ?? `this machine: Linux ${release()}`;
  return {
    kind: 'linux',
    snapshot(): DashState {
      const cannot: string[] = [];
      const why = (path: string): string => {
        const r = opts.files.readdir(path);
        return r.errno === 'EACCES' || r.errno === 'EPERM' ? 'root only' : r.errno === 'ENOENT' ? 'not there (not mounted, or the kernel lacks it)' : (r.errno ?? 'unreadable');
      };
      const heapNames = fs.readdir('/dev/dma_heap');
      if (heapNames === null) cannot.push(`/dev/dma_heap: ${why('/dev/dma_heap')}`);
      const report = readDmabufInfo(fs);
      if (report.system === null) cannot.push('the system-wide buffer list (/sys/kernel/debug/dma_buf/bufinfo, /sys/kernel/dmabuf/buffers): root only, or not in this kernel; buffers only the kernel holds are missing');
      else if (report.system.source === 'sysfs') cannot.push('/sys/kernel/debug/dma_buf/bufinfo: root only (the sysfs stats have no names and counts)');
      for (const w of report.warnings) if (cannot.length < MAX_CANNOT) cannot.push(w);

      // CMA areas: /sys/kernel/mm/cma lists them; their geometry and maps are in debugfs
      const areas: DashArea[] = [];
      const dirs = cmaAreaDirs(fs.readdir('/sys/kernel/mm/cma'), fs.readdir('/sys/kernel/debug/cma'), release()) ?? [];
      let debugfsSaid = false;
      for (const { name, debugfsDir } of [...dirs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
        if (!/^[\w.,@-]{1,64}$/.test(name) || !/^[\w.,@-]{1,64}$/.test(debugfsDir)) continue;
        const d = `/sys/kernel/debug/cma/${debugfsDir}`;
        const base = num(fs.readFile(`${d}/base_pfn`));
        const count = num(fs.readFile(`${d}/count`));
        const opb = num(fs.readFile(`${d}/order_per_bit`)) ?? 0;
        if (base === null || count === null || count > MAX_MAP_PAGES || opb > 20) {
          if (!debugfsSaid) cannot.push(`/sys/kernel/debug/cma: ${why('/sys/kernel/debug/cma')}; the CMA page maps need it`);
          debugfsSaid = true;
          continue;
        }
        const bitmap = fs.readFile(`${d}/bitmap`);
        const used = bitmap === null ? null : parseCmaBitmap(bitmap, count, opb);
        if (used === null) {
          cannot.push(`${d}/bitmap: ${bitmap === null ? 'unreadable' : 'not a u32 array'}`);
          continue;
        }
        const alloc = used.map((r) => ({ ...r, owner: -1 }));
        const usedPages = used.reduce((n, r) => n + r.count, 0);
        let largest = 0;
        let at = 0;
        for (const r of used) {
          largest = Math.max(largest, r.first - at);
          at = r.first + r.count;
        }
        largest = Math.max(largest, count - at);
        areas.push({ name, basePfn: base, pages: count, pageSize, freePages: count - usedPages, largestFreeRun: largest, runs: areaRuns(count, [alloc, [{ first: 0, count, owner: 0 }]]) });
      }

      const sysByIno = new Map((report.system?.buffers ?? []).map((b) => [b.inode, b]));
      const buffers: DashBuffer[] = report.buffers.map((b) => ({
        ino: b.inode,
        size: b.size,
        name: b.name === '<unknown>' ? (sysByIno.get(b.inode)?.name ?? null) : b.name,
        exporter: b.exporter,
        count: b.count ?? sysByIno.get(b.inode)?.count ?? null,
        refs: b.refs,
        importers: importersOf(sysByIno.get(b.inode)),
        cma: null,
      }));
      for (const k of report.kernelOnly ?? []) buffers.push({ ino: k.inode, size: k.size, name: k.name, exporter: k.exporter, count: k.count, refs: [], importers: importersOf(k), cma: null });
      const usedBy = new Map<string, number>();
      for (const b of buffers) usedBy.set(b.exporter, (usedBy.get(b.exporter) ?? 0) + b.size);
      const heaps: DashHeap[] = (heapNames ?? []).filter((n) => /^[\w.,@-]{1,255}$/.test(n)).sort().map((n) => {
        const area = areas.find((a) => a.name === n) ?? null;
        const system = n === 'system' || n === 'system_cc';
        return { name: n, kind: system ? 'system' : area !== null ? 'cma' : null, contiguous: system ? false : area !== null ? true : null, cached: null, protected: system ? false : null, capacity: area !== null ? area.pages * pageSize : null, used: report.system !== null ? (usedBy.get(n) ?? 0) : null, area: area?.name ?? null };
      });
      const processes: DashProcess[] = report.processes.map((p) => ({ pid: p.pid, comm: p.comm, rss: p.rss, pss: p.pss, buffers: p.inodes }));
      const source: DashSource = { kind: 'linux', label, readOnly: true, cannotRead: cannot };
      return { source, heaps, areas, buffers, processes, findings: [], workload: null };
    },
  };
}
