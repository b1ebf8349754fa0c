/**
 * sysfs, mounted on /sys: the dma_heap class and its devices, the dma-buf sysfs statistics
 * (profiles with CONFIG_DMABUF_SYSFS_STATS), the CMA area counters, the dma_heap module's
 * parameter (profiles that have it), the booted device tree (with a board), and the directories
 * debugfs (/sys/kernel/debug) and cgroup2 (/sys/fs/cgroup) are mounted on. What exists on which
 * profile is data the attribute groups consult; everything else about directories is kernfs's
 * (kdir.ts).
 *
 * @kernel fs/sysfs/mount.c, fs/sysfs/dir.c, kernel/ksysfs.c (/sys/kernel), kernel/params.c (/sys/module), fs/debugfs/inode.c and kernel/cgroup/cgroup.c (sysfs_create_mount_point)
 */
import type { Arch } from '../../../uapi/fcntl.js';
import type { DmaBufCore } from '../../dma-buf/dma-buf.js';
import type { CmaArea } from '../../mm/cma.js';
import type { DeviceTree } from '../../of/tree.js';
import { before } from '../../profile.js';
import type { Profile } from '../../profile.js';
import { textInode } from '../libfs.js';
import { Dentry } from '../vfs.js';
import type { SuperBlock } from '../vfs.js';
import { cmaSysfs } from './cma.js';
import { dmaBufSysfsStats } from './dma-buf-stats.js';
import { dmaHeapSysfs, kernfsNoStore } from './dma-heap.js';
import type { DmaHeapSysfsHost } from './dma-heap.js';
import { deviceTreeSysfs } from './devicetree.js';
import { kernfsDir, kernfsSubdir } from './kdir.js';

/** st_dev of sysfs (0:14, the 6.1 oracle's). */
export const SYSFS_DEV = 14;

/** What sysfs needs from the kernel. */
export interface SysfsHost extends DmaHeapSysfsHost {
  readonly profile: Profile;
  readonly arch: Arch;
  readonly dmaBuf: DmaBufCore;
  readonly cmaAreas: readonly CmaArea[];
  /** dma_heap.mem_accounting exists (0444) and its value. */
  readonly memAccountingParam: boolean;
  readonly memAccounting: boolean;
  readonly board: DeviceTree | null;
  /** CONFIG_DMABUF_HEAPS: /sys/class/dma_heap and /sys/devices/virtual/dma_heap exist. */
  readonly heapsFramework: boolean;
  /** CONFIG_DMABUF_SYSFS_STATS: /sys/kernel/dmabuf/buffers exists. */
  readonly sysfsStats: boolean;
  /** CONFIG_CMA_SYSFS: /sys/kernel/mm/cma exists. */
  readonly cmaSysfs: boolean;
  readonly pageSize: number;
}

/** kernfs hashes names as C chars: signed on x86 before 6.2 (-funsigned-char from 6.2 on), unsigned on arm64. */
export function kernfsSignedChar(profile: Profile, arch: Arch): boolean {
  return arch === 'x86_64' && before(profile.name, '6.2');
}

export class Sysfs implements SuperBlock {
  readonly type = 'sysfs';
  readonly dev = SYSFS_DEV;
  readonly root: Dentry;
  /** An attribute's st_size is PAGE_SIZE (4096 on the referees) @kernel fs/sysfs/file.c sysfs_add_file_mode_ns */
  readonly attrSize: number;
  readonly textPoll = 'kernfs';
  /** The mount points: /sys/kernel/debug and /sys/fs/cgroup. */
  readonly dirs: { readonly debug: Dentry; readonly cgroup: Dentry };

  constructor(host: SysfsHost) {
    this.attrSize = host.pageSize;
    const sc = kernfsSignedChar(host.profile, host.arch);
    let ino = 1;
    const root = kernfsDir('/', null, { sb: this, ino: ino++, mode: 0o555, signedChar: sc });
    this.root = root.dentry;
    const sub = (parent: typeof root, name: string) => kernfsSubdir(parent, name, ino++, sc);

    const classDir = sub(root, 'class');
    const devices = sub(root, 'devices');
    const virtual = sub(devices, 'virtual');
    if (host.heapsFramework) dmaHeapSysfs(this, host, classDir, virtual, sc);

    const kernel = sub(root, 'kernel');
    if (host.sysfsStats) dmaBufSysfsStats(this, host.dmaBuf, kernel, sc);
    const mm = sub(kernel, 'mm');
    if (host.cmaSysfs) cmaSysfs(this, host.profile, host.cmaAreas, mm, sc);
    const debug = sub(kernel, 'debug');

    const fs = sub(root, 'fs');
    const cgroup = sub(fs, 'cgroup');

    const module = sub(root, 'module');
    if (host.memAccountingParam) {
      const params = sub(sub(module, 'dma_heap'), 'parameters');
      params.add(new Dentry('mem_accounting', params.dentry, textInode(this, { mode: 0o444, ino: 0x90000, show: () => (host.memAccounting ? 'Y\n' : 'N\n'), mayOpen: kernfsNoStore })));
    }

    const devicetree = sub(sub(root, 'firmware'), 'devicetree');
    if (host.board !== null) deviceTreeSysfs(this, host.board.root, devicetree, sc);

    this.dirs = { debug: debug.dentry, cgroup: cgroup.dentry };
  }
}
