/**
 * /proc/<pid>/maps's text (its pagemap is ../pagemap.ts).
 * @kernel fs/proc/task_mmu.c show_map_vma, show_vma_header_prefix
 */
import { devMajor, devMinor } from '../file.js';
import { VM_EXEC, VM_MAYSHARE, VM_READ, VM_WRITE } from '../mm-user.js';
import type { Process } from '../process.js';
import { seqEscape, seqPad } from '../seq-file.js';

/**
 * One line per VMA, lowest address first: range, permissions, offset, device, inode, and for a
 * file mapping the file's name after the header padded to 25 + 6 * sizeof(void *) - 1 columns.
 */
export function mapsText(p: Process, pageSize: number): string {
  let s = '';
  const vmas = [...p.mm.vmas].reverse();
  for (const v of vmas) {
    const f = v.file;
    const perms = `${v.vmFlags & VM_READ ? 'r' : '-'}${v.vmFlags & VM_WRITE ? 'w' : '-'}${v.vmFlags & VM_EXEC ? 'x' : '-'}${v.vmFlags & VM_MAYSHARE ? 's' : 'p'}`;
    const dev = f === null ? '00:00' : `${hex2(devMajor(f.inode.dev))}:${hex2(devMinor(f.inode.dev))}`;
    const off = f === null ? 0 : (v.mapsPgoff ?? v.pgoff) * pageSize;
    let line = `${v.start.toString(16).padStart(8, '0')}-${v.end.toString(16).padStart(8, '0')} ${perms} ${off.toString(16).padStart(8, '0')} ${dev} ${f === null ? 0 : f.inode.ino} `;
    // seq_file_path(m, file, "\n"): only a newline is escaped (\012); spaces, tabs and backslashes stay (the referees')
    if (f !== null) line = seqPad(line, 72) + seqEscape(f.pathName, '\n');
    s += line + '\n';
  }
  return s;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
