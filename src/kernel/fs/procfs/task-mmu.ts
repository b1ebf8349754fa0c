/**
 * /proc/<pid>/maps's text (its pagemap is ../pagemap.ts).
 * @kernel fs/proc/task_mmu.c show_map_vma, show_vma_header_prefix
 */
import { devMajor, devMinor } from '../file.js';
import {
  VM_ACCOUNT, VM_DONTCOPY, VM_DONTDUMP, VM_DONTEXPAND, VM_DROPPABLE, VM_EXEC, VM_GROWSDOWN, VM_IO, VM_LOCKED, VM_LOCKONFAULT, VM_MAYEXEC,
  VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE, VM_MIXEDMAP, VM_NORESERVE, VM_PFNMAP, VM_RAND_READ, VM_READ, VM_SEQ_READ, VM_SHARED, VM_SYNC,
  VM_WIPEONFORK, VM_WRITE,
} from '../mm-user.js';
import type { Vma } from '../mm-user.js';
import type { Process } from '../process.js';
import { seqEscape, seqPad } from '../seq-file.js';

/** The device a shared anonymous mapping shows: its shmem file on the internal tmpfs mount (00:01). */
const SHMEM_MAPS_DEV = '00:01';

/**
 * One line per VMA, lowest address first: `start-end perms offset major:minor inode` and, for a
 * file, its path after the header padded to 25 + 6 * sizeof(void *) - 1 columns (then a space).
 * perms are r/w/x and `s` for VM_MAYSHARE, else `p`; the offset is vm_pgoff in bytes (the first
 * PFN of a copy-on-write PFN map, 0 for private anonymous memory). Shared anonymous memory is its
 * shmem file, `/dev/zero (deleted)`.
 * @kernel fs/proc/task_mmu.c show_map_vma, show_vma_header_prefix; fs/seq_file.c seq_file_path, mangle_path
 */
export function mapsText(p: Process, pageSize: number): string {
  let s = '';
  const vmas = p.mm.vmas;
  // a mirrored process (`dmaheap run`): the real mappings the emulator does not model, in order
  const foreign = p.mm.foreignMapLines();
  let fi = 0;
  for (let i = vmas.length - 1; i >= 0; i--) {
    const v = vmas[i]!;
    while (fi < foreign.length && foreign[fi]!.start < v.start) s += foreign[fi++]!.line + '\n';
    s += mapsLine(v, pageSize) + '\n';
  }
  while (fi < foreign.length) s += foreign[fi++]!.line + '\n';
  return s;
}

/** show_map_vma()'s line of one VMA (without the newline). */
function mapsLine(v: Vma, pageSize: number): string {
  const f = v.file;
  const fl = v.vmFlags;
  const perms = `${fl & VM_READ ? 'r' : '-'}${fl & VM_WRITE ? 'w' : '-'}${fl & VM_EXEC ? 'x' : '-'}${fl & VM_MAYSHARE ? 's' : 'p'}`;
  let dev = '00:00';
  let ino = 0;
  let name: string | null = null;
  let off = 0;
  if (f !== null) {
    dev = `${hex2(devMajor(f.inode.dev))}:${hex2(devMinor(f.inode.dev))}`;
    ino = f.inode.ino;
    // seq_file_path(m, file, "\n"): only a newline is escaped (\012); spaces, tabs and backslashes stay (the referees')
    name = seqEscape(f.pathName, '\n');
    off = (v.mapsPgoff ?? v.pgoff) * pageSize;
  } else if (v.shm !== null) {
    dev = SHMEM_MAPS_DEV;
    ino = v.shm.ino;
    name = '/dev/zero (deleted)';
    off = v.pgoff * pageSize;
  }
  let line = `${v.start.toString(16).padStart(8, '0')}-${v.end.toString(16).padStart(8, '0')} ${perms} ${off.toString(16).padStart(8, '0')} ${dev} ${ino} `;
  if (name !== null) line = seqPad(line, 72) + name;
  return line;
}

/** show_smap_vma_flags()'s mnemonics, in bit order (`lf` is `??` before its name was added). */
export function vmFlagsText(f: number, lockonfault: string): string {
  const names: [number, string][] = [
    [VM_READ, 'rd'], [VM_WRITE, 'wr'], [VM_EXEC, 'ex'], [VM_SHARED, 'sh'], [VM_MAYREAD, 'mr'], [VM_MAYWRITE, 'mw'], [VM_MAYEXEC, 'me'],
    [VM_MAYSHARE, 'ms'], [VM_GROWSDOWN, 'gd'], [VM_PFNMAP, 'pf'], [VM_LOCKED, 'lo'], [VM_IO, 'io'], [VM_SEQ_READ, 'sr'], [VM_RAND_READ, 'rr'],
    [VM_DONTCOPY, 'dc'], [VM_DONTEXPAND, 'de'], [VM_LOCKONFAULT, lockonfault], [VM_ACCOUNT, 'ac'], [VM_NORESERVE, 'nr'],
    [VM_SYNC, 'sf'], [VM_WIPEONFORK, 'wf'], [VM_DONTDUMP, 'dd'], [VM_MIXEDMAP, 'mm'], [VM_DROPPABLE, 'dp'],
  ];
  let s = '';
  for (const [bit, n] of names) if ((f & bit) !== 0) s += `${n} `;
  return s;
}

/**
 * /proc/<pid>/smaps: each VMA's maps line and its counters, then VmFlags. Rss counts the pages
 * mapped (none in a PFN map); the emulator keeps no dirty, referenced or shared state, so Pss is
 * Rss, the anonymous pages are private dirty and every mapped page counts as referenced. A
 * mirrored process's own mappings (`dmaheap run`) are the host's blocks; a mirrored buffer
 * mapping takes its Rss from the host's block for it when it is not a PFN map.
 * @kernel fs/proc/task_mmu.c show_smap, __show_smap, show_smap_vma_flags
 */
export function smapsText(p: Process, pageSize: number, lockonfault: string): string {
  const kb = (bytes: number): string => String(Math.floor(bytes / 1024)).padStart(8, ' ');
  const field = (label: string, bytes: number): string => `${`${label}:`.padEnd(16, ' ')}${kb(bytes)} kB\n`;
  const foreign = p.mm.foreignSmaps();
  const hostRss = new Map<number, number>();
  for (const b of foreign) if (b.mirror) hostRss.set(b.start, b.rss);
  const blocks = foreign.filter((b) => !b.mirror);
  let s = '';
  let fi = 0;
  const vmas = p.mm.vmas;
  for (let i = vmas.length - 1; i >= 0; i--) {
    const v = vmas[i]!;
    while (fi < blocks.length && blocks[fi]!.start < v.start) s += blocks[fi++]!.text;
    let anon = 0;
    for (let vpn = v.start / pageSize; vpn < v.end / pageSize; vpn++) if (p.mm.pte.has(vpn)) anon++;
    let pages = anon;
    if ((v.vmFlags & VM_PFNMAP) === 0 && v.populated !== null) pages += v.populated.size;
    let rss = pages * pageSize;
    if ((v.vmFlags & VM_PFNMAP) === 0 && hostRss.has(v.start)) rss = hostRss.get(v.start)!;
    s += mapsLine(v, pageSize) + '\n';
    s += field('Size', v.end - v.start) + field('KernelPageSize', pageSize) + field('MMUPageSize', pageSize) + field('Rss', rss) + field('Pss', rss);
    s += field('Shared_Clean', 0) + field('Shared_Dirty', 0) + field('Private_Clean', rss - anon * pageSize) + field('Private_Dirty', anon * pageSize);
    s += field('Referenced', rss) + field('Anonymous', anon * pageSize) + field('LazyFree', 0) + field('AnonHugePages', 0) + field('ShmemPmdMapped', 0);
    s += field('FilePmdMapped', 0) + field('Shared_Hugetlb', 0) + field('Private_Hugetlb', 0) + field('Swap', 0) + field('SwapPss', 0);
    s += field('Locked', (v.vmFlags & VM_LOCKED) !== 0 ? rss : 0);
    s += `THPeligible:    0\nVmFlags: ${vmFlagsText(v.vmFlags, lockonfault)}\n`;
  }
  while (fi < blocks.length) s += blocks[fi++]!.text;
  return s;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
