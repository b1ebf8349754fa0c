/**
 * debugfs, mounted on /sys/kernel/debug: 0700 root, so nothing below it can be looked up by
 * anyone else (EACCES). dma_buf/bufinfo lists every buffer (drivers/dma-buf/dma-buf.c
 * dma_buf_debug_show); cma/<area>/ shows each CMA area's bitmap summary (mm/cma_debug.c). Names
 * are looked up as libfs does (simple_lookup: ENAMETOOLONG beyond NAME_MAX, else a negative
 * dentry, and no ->create: O_CREAT is EACCES); getdents lists the newest entry first
 * (dcache_readdir).
 *
 * @kernel fs/debugfs/inode.c, fs/libfs.c (simple_lookup, dcache_readdir), drivers/dma-buf/dma-buf.c (dma_buf_init_debugfs, dma_buf_debug_show), mm/cma_debug.c (cma_debugfs_add_one)
 */
import { cmaDebugfsDirName } from '../../../uapi/cma.js';
import { FMODE_VISIBLE_MASK } from '../file.js';
import type { DmaBufCore } from '../../dma-buf/dma-buf.js';
import type { CmaArea } from '../../mm/cma.js';
import { dirInode, missing, setSubdirNlink, TableDir, textInode } from '../libfs.js';
import { Dentry } from '../vfs.js';
import type { SuperBlock } from '../vfs.js';

/** st_dev of debugfs (0:5, the 6.1 oracle's). */
export const DEBUGFS_DEV = 5;

export interface DebugfsHost {
  readonly dmaBuf: DmaBufCore;
  readonly cmaAreas: readonly CmaArea[];
  /** CONFIG_CMA_DEBUGFS: cma/ exists. */
  readonly cmaDebugfs: boolean;
  /** v6.14: every debugfs file answers poll through the full proxy; v6.15: base_pfn made after maxchunk. */
  readonly profile?: { readonly debugfsPollAlways: boolean; readonly cmaDebugfsRanges?: boolean; readonly cmaDebugfsPrefix?: boolean };
}

/** The files of a CMA area's directory, in the order cma_debugfs_add_one() creates them (the emulator has these). */
const CMA_DEBUG_FILES: readonly { readonly name: string; readonly value: (a: CmaArea) => number }[] = [
  { name: 'base_pfn', value: (a) => a.basePfn },
  { name: 'count', value: (a) => a.count },
  { name: 'order_per_bit', value: (a) => a.orderPerBit },
  { name: 'used', value: (a) => a.used },
  { name: 'maxchunk', value: (a) => a.maxchunk },
];

/** Inode numbers: dma_buf/ 8 and its bufinfo; cma/; an area's directory; every CMA file shares one. */
const INO = { dmaBuf: 8, bufinfo: 0x50000, cma: 43, area: 0x88000, cmaFile: 0x80000 } as const;

/** dcache_readdir(): the newest first. */
function newestFirst(table: readonly string[], dynamic: readonly string[]): string[] {
  return [...table, ...dynamic].reverse();
}

export class Debugfs implements SuperBlock {
  readonly type = 'debugfs';
  readonly dev = DEBUGFS_DEV;
  readonly root: Dentry;
  /** Before v6.14 the proxy has a poll only when the file's own fops do (none here): epoll says EPERM. */
  readonly textPoll: 'none' | 'default';

  private readonly cmaRanges: boolean;

  constructor(host: DebugfsHost) {
    this.cmaRanges = host.profile?.cmaDebugfsRanges === true;
    this.textPoll = host.profile?.debugfsPollAlways === true ? 'default' : 'none';
    const root = new TableDir('/', null, { sb: this, ino: 1, mode: 0o700, missing: 'simple', order: newestFirst, subdirNlink: true });
    this.root = root.dentry;
    const dmaBuf = root.dir('dma_buf', { ino: INO.dmaBuf, order: newestFirst, subdirNlink: true });
    dmaBuf.file('bufinfo', { mode: 0o444, ino: INO.bufinfo, show: () => bufinfoText(host.dmaBuf) });
    const areas = host.cmaAreas;
    const prefixed = host.profile?.cmaDebugfsPrefix === true;
    if (host.cmaDebugfs) root.dir('cma', {
      ino: INO.cma, order: newestFirst,
      lookupDynamic: (dir, name) => {
        const i = areas.findIndex((a) => cmaDebugfsDirName(a.name, prefixed) === name);
        return i < 0 ? null : new Dentry(name, dir, this.areaDir(areas[i]!, i));
      },
      listDynamic: () => areas.map((a) => cmaDebugfsDirName(a.name, prefixed)),
      subdirNlink: true,
      dynamicSubdirs: () => areas.length,
    });
  }

  private areaDir(area: CmaArea, index: number): ReturnType<typeof dirInode> {
    // v6.15 makes base_pfn last (after the `ranges` directory the emulator does not have)
    const created = this.cmaRanges ? [...CMA_DEBUG_FILES.slice(1).map((f) => f.name), 'base_pfn'] : CMA_DEBUG_FILES.map((f) => f.name);
    return setSubdirNlink(dirInode(this, INO.area + index, 0o755, {
      lookup: (dir, name) => {
        const f = CMA_DEBUG_FILES.find((x) => x.name === name);
        return f === undefined ? missing('simple', dir, name) : new Dentry(name, dir, textInode(this, { mode: 0o444, ino: INO.cmaFile, show: () => `${f.value(area)}\n` }));
      },
      iterate: () => [...created].reverse(),
    }), () => 0);
  }
}

/**
 * /sys/kernel/debug/dma_buf/bufinfo: every buffer, newest first, with its size, f_flags,
 * f_mode, file count, exporter, inode and name, its fence, and the devices attached, then the
 * totals.
 * @kernel drivers/dma-buf/dma-buf.c dma_buf_debug_show
 */
export function bufinfoText(core: DmaBufCore): string {
  let s = '\nDma-buf Objects:\n';
  // the name heading and `<none>` came later: the 5.10 referee heads `ino` alone and prints ""
  const named = core.host.bufinfoNameColumn !== false;
  s += `${pad8('size')}\t${pad8('flags')}\t${pad8('mode')}\t${pad8('count')}\texp_name\t${pad8('ino')}${named ? '\tname' : ''}\n`;
  let count = 0;
  let total = 0;
  const all = [...core.list].reverse();
  for (const b of all) {
    const f = b.file;
    s += `${dec8(b.size)}\t${hex8(f.flags)}\t${hex8(f.mode & FMODE_VISIBLE_MASK)}\t${dec8(f.count)}\t${b.expName}\t${dec8(b.ino)}\t${b.name ?? (named ? '<none>' : '')}\n`;
    // dma_resv_describe() + dma_fence_describe(): no space after the colon (6.1 oracle)
    if (b.fence !== null) s += `\t${b.fence.usage} fence:stub stub seq 0 signalled\n`;
    s += '\tAttached Devices:\n';
    for (const a of b.attachments) s += `\t${a.dev}\n`;
    s += `Total ${b.attachments.length} devices attached\n\n`;
    count++;
    total += b.size;
  }
  s += `\nTotal ${count} objects, ${total} bytes\n`;
  return s;
}

function pad8(s: string): string {
  return s.padEnd(8, ' ');
}
function dec8(n: number): string {
  return String(n).padStart(8, '0');
}
function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}
