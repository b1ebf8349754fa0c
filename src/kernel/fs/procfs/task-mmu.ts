/**
 * /proc/<pid>/maps's text (its pagemap is ../pagemap.ts).
 * @kernel fs/proc/task_mmu.c show_map_vma, show_vma_header_prefix
 */
import { devMajor, devMinor } from '../file.js';
import { VM_EXEC, VM_MAYSHARE, VM_READ, VM_WRITE } from '../mm-user.js';
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
    s += line + '\n';
  }
  while (fi < foreign.length) s += foreign[fi++]!.line + '\n';
  return s;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
