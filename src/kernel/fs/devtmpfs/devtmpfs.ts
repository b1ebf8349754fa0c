/**
 * devtmpfs, mounted on /dev: the device nodes the drivers register — /dev/dma_heap/<name> for
 * every heap (0600 root:root as devtmpfs creates them; udev rules may change owner and mode) and
 * /dev/udmabuf with CONFIG_UDMABUF. /dev/dma_heap exists while at least one heap does (devtmpfs
 * removes a directory its last node left). Names are looked up as tmpfs does (simple_lookup: a
 * name longer than NAME_MAX is ENAMETOOLONG). The mount is read-only here: devtmpfs would let
 * root create files and directories (docs/fidelity.md, read-only-paths).
 *
 * @kernel drivers/base/devtmpfs.c, drivers/dma-buf/dma-heap.c (dma_heap_devnode: "dma_heap/<name>"), drivers/char/misc.c
 */
import type { DmaHeap, DmaHeapCore } from '../../dma-heap/dma-heap.js';
import { DEVTMPFS_DEV } from '../../dma-heap/dma-heap.js';
import type { UdmabufDevice } from '../../dma-buf/udmabuf.js';
import { TableDir } from '../libfs.js';
import { Dentry, S_IFCHR } from '../vfs.js';
import type { SuperBlock, VfsInode } from '../vfs.js';

/** A device node's attributes (devtmpfs creates 0600 root:root; udev may change them). */
export interface DevNodeAttrs {
  mode: number;
  uid: number;
  gid: number;
}

/** What devtmpfs needs from the kernel. */
export interface DevtmpfsHost {
  readonly dmaHeap: DmaHeapCore;
  /** The heaps /dev/dma_heap lists (registered and not being removed), in registration order. */
  heaps(): readonly DmaHeap[];
  readonly udmabuf: UdmabufDevice | null;
}

/** Inode numbers: the root is 1; /dev/dma_heap 600 (as on the 6.1 oracle); a node has its driver's inode number. */
const DMA_HEAP_DIR_INO = 600;

export class Devtmpfs implements SuperBlock {
  readonly type = 'devtmpfs';
  readonly dev = DEVTMPFS_DEV;
  readonly root: Dentry;
  /** /dev/dma_heap's node of each heap, kept while the heap exists (its attributes change with udev rules). */
  private readonly nodes = new WeakMap<DmaHeap, Dentry>();
  private readonly attrs = new Map<string, DevNodeAttrs>();
  private readonly heapDir: TableDir;

  constructor(private readonly host: DevtmpfsHost) {
    // dcache_readdir(): the newest entry first, so /dev lists udmabuf (registered after the heaps' class) before dma_heap
    const root = new TableDir('/', null, {
      sb: this, ino: 1, mode: 0o755, missing: 'simple',
      lookupDynamic: (_dir, name) => (name === 'dma_heap' && this.host.heaps().length > 0 ? this.heapDir.dentry : null),
      listDynamic: () => (this.host.heaps().length > 0 ? ['dma_heap'] : []),
      subdirNlink: true,
      dynamicSubdirs: () => (this.host.heaps().length > 0 ? 1 : 0),
    });
    this.root = root.dentry;
    if (host.udmabuf !== null) {
      const u = host.udmabuf;
      const inode: VfsInode = { ...u.inode, op: { open: (_path, flags) => u.open(flags) } };
      root.add(new Dentry('udmabuf', root.dentry, inode));
    }
    // dcache_readdir() lists the newest node first: `reserved system` on the 6.1 and 6.12
    // referees, `reserved default_cma_region system` on 7.3 (the kselftest's order)
    this.heapDir = new TableDir('dma_heap', root.dentry, {
      sb: this, ino: DMA_HEAP_DIR_INO, mode: 0o755, missing: 'simple',
      lookupDynamic: (_dir, name) => {
        const heap = this.host.dmaHeap.byDevName(name);
        return heap === null || heap.dying ? null : this.node(heap);
      },
      listDynamic: () => this.host.heaps().map((h) => h.devName).reverse(),
      subdirNlink: true,
      // 80 bytes with two heaps on 6.1 and 6.12, 100 with three on 7.3 (test/oracle/issue-12/run-vfs.c)
      direntSize: 20,
      dynamicEntries: () => this.host.heaps().length,
    });
  }

  /** The current owner and mode of a heap's node. */
  nodeAttrs(heap: DmaHeap): DevNodeAttrs {
    return this.attrs.get(heap.devName) ?? { mode: 0o600, uid: 0, gid: 0 };
  }

  /** Changes a heap node's owner and mode, as a udev or ueventd rule would. */
  setNodeAttrs(heap: DmaHeap, attrs: Partial<DevNodeAttrs>): void {
    const cur = this.nodeAttrs(heap);
    const next = { ...cur, ...attrs, mode: (attrs.mode ?? cur.mode) & 0o7777 };
    this.attrs.set(heap.devName, next);
    const d = this.nodes.get(heap);
    if (d !== undefined) Object.assign(d.inode!, { mode: S_IFCHR | next.mode, uid: next.uid, gid: next.gid });
  }

  /**
   * /dev/dma_heap/<name>: a character device whose open is the heap's (dma_heap_open: ENODEV once
   * the heap is being removed); the open file shows the node's current owner and mode.
   */
  private node(heap: DmaHeap): Dentry {
    let d = this.nodes.get(heap);
    if (d === undefined) {
      const a = this.nodeAttrs(heap);
      const inode: VfsInode = {
        ino: heap.inode.ino, mode: S_IFCHR | a.mode, uid: a.uid, gid: a.gid, rdev: heap.inode.rdev, dev: DEVTMPFS_DEV, size: 0,
        op: {
          open: (_path, flags) => {
            const f = this.host.dmaHeap.open(heap, flags);
            if (typeof f !== 'number') Object.assign(f.inode, { mode: inode.mode, uid: inode.uid, gid: inode.gid });
            return f;
          },
        },
      };
      d = new Dentry(heap.devName, this.heapDir.dentry, inode);
      this.nodes.set(heap, d);
    }
    return d;
  }
}
