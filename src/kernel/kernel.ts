/**
 * A Linux kernel instance with DMA-BUF heaps: boot from a config (version profile, heaps built
 * in, page size, RAM, command line), processes, and the virtual files of /dev, /proc, /sys and
 * debugfs. No globals: many kernels may coexist, each with its own memory and numbering.
 */
import { Errno } from '../uapi/errno.js';
import { fcntlConstants, SEEK_CUR, SEEK_SET } from '../uapi/fcntl.js';
import type { Arch, FcntlConstants } from '../uapi/fcntl.js';
import { bytesStr, strBytes } from './bytes.js';
import { KernelConfigError } from './config-error.js';
import { gzipStored } from './gzip.js';
import { CgroupFs, kstrtoint, strstrip } from './cgroup/cgroup.js';
import type { Cgroup } from './cgroup/cgroup.js';
import { DmaBufCore } from './dma-buf/dma-buf.js';
import type { CacheCostConfig } from './dev/cache.js';
import { deviceConfigProblem } from './dev/device.js';
import type { DeviceConfig } from './dev/device.js';
import { DeviceRegistry } from './dev/registry.js';
import { parseSwiotlbParam, swiotlbReserve } from './dev/swiotlb.js';
import { UdmabufDevice } from './dma-buf/udmabuf.js';
import { SyncSanitizer } from './sanitizer/sanitizer.js';
import type { SanitizerOptions } from './sanitizer/sanitizer.js';
import { DMA_HEAP_MAJOR, DmaHeapCore } from './dma-heap/dma-heap.js';
import type { DmaHeap } from './dma-heap/dma-heap.js';
import { File, FMODE_CAN_ODIRECT, FMODE_CAN_READ, FMODE_CAN_WRITE, FMODE_LSEEK, FMODE_OPENED, FMODE_PATH, FMODE_READ, PATH_FOPS, devMajor, devMinor, openFmode } from './fs/file.js';
import type { FileOperations, Inode } from './fs/file.js';
import { pagemapFops } from './fs/pagemap.js';
import type { PagemapFile } from './fs/pagemap.js';
import { AnonPage, mapsText } from './fs/mm-user.js';
import type { MmFeatures } from './fs/mm-syscalls.js';
import type { MmStats, UserPager } from './fs/mm-user.js';
import type { Memcg } from './cgroup/memcontrol.js';
import { dumpTasks, invokedLine, killedLine, memcgMeminfoLines, NO_KILLABLE_LINE, oomScore, selectBadProcess, summaryLine } from './mm/oom-kill.js';
import type { OomGfp, OomTask } from './mm/oom-kill.js';
import { O_TMPFILE_BIT, Process, pidfdProcess } from './fs/process.js';
import type { Credentials, ProcessHost } from './fs/process.js';
import { HEAP_MODULE_BY_NAME } from './heaps/index.js';
import type { HeapModuleName } from './heaps/index.js';
import type { DmemAccounting, KernelFeatures, KernelServices, TeePool, KmemAccounting } from './kapi.js';
import type { DmemRegion } from './cgroup/dmem.js';
import type { DmabufMemcgCharging } from './dma-heap/dma-heap.js';
import { BackingStats } from './mm/backing.js';
import { BuddyAllocator } from './mm/buddy.js';
import { CMA_ALIGNMENT_DEFAULT, CmaArea } from './mm/cma.js';
import { parseCmdline } from './mm/cmdline.js';
import { CoherentPool } from './mm/coherent-pool.js';
import { planMemory } from './of/reserved-mem.js';
import type { MemoryPlan, ReservedRegion } from './of/reserved-mem.js';
import { baseName, isAvailable, propCells, propString, propStrings } from './of/tree.js';
import type { DeviceTree, DtNode } from './of/tree.js';
import { TEE_HEAP_USE_CASES } from './heaps/tee-heap.js';
import { ShmemFs, ShmemInode } from './mm/shmem.js';
import { DEFAULT_PROFILE, PROFILES, isProfileName } from './profile.js';
import type { Profile, ProfileName } from './profile.js';

const E = Errno;
/** Where the kernel shows the device tree it booted with. */
const DT_BASE = '/sys/firmware/devicetree/base';

export interface KernelConfig {
  /** Kernel version profile (default 7.0). */
  profile?: ProfileName;
  arch?: Arch;
  /** 4096 (default), 16384 or 65536 (arm64 only). */
  pageSize?: number;
  /** RAM in bytes (default 2 GiB, as the oracle VM). */
  ramBytes?: number;
  /** Kernel command line, e.g. `cma=64M` (default: empty). */
  cmdline?: string;
  /** Heap modules built in (the Kconfig analogue; default: system and cma). */
  heaps?: readonly HeapModuleName[];
  /** CONFIG_CMA_SIZE_MBYTES: the default CMA area when `cma=` is absent (default 0: none). */
  cmaSizeMbytes?: number;
  /** CONFIG_CMA_ALIGNMENT (2..12, default 8). */
  cmaAlignment?: number;
  /** CONFIG_UDMABUF: /dev/udmabuf exists (default true, as on the oracle). */
  udmabuf?: boolean;
  /**
   * The board's device tree. Its /memory nodes give the RAM (ramBytes is then ignored), its
   * /reserved-memory the carve-outs and CMA regions, /chosen/bootargs the command line when
   * `cmdline` is not given, and /firmware/optee the TEE's protected memory.
   */
  board?: DeviceTree | null;
  /** Proposed heaps switched on (default: none). */
  features?: Partial<KernelFeatures>;
  /**
   * DMA devices beyond (or overriding the flags of) the board's (src/kernel/dev/device.ts); they
   * are `kernel.devices`.
   */
  devices?: readonly DeviceConfig[];
  /** Simulated cost of CPU reads of cached vs uncached/write-combined buffers (default: off). */
  cacheCost?: CacheCostConfig;
  /** The sync sanitizer (docs/sanitizer.md): true or its options switch it on (default off). */
  sanitizer?: boolean | SanitizerOptions;
}

export { KernelConfigError };

/** PIDFD_SELF_THREAD / PIDFD_SELF_THREAD_GROUP (include/uapi/linux/pidfd.h, v6.15). */
const PIDFD_SELF_THREAD = -10000;
const PIDFD_SELF_THREAD_GROUP = -20000;

/** Pages the per-CPU free list keeps before merging frees back into the buddy lists. */
const PCP_HIGH = 512;

/** Memory the emulated firmware and kernel image keep for themselves at the start of RAM. */
const KERNEL_RESERVED_BYTES = 16 * 1024 * 1024;
const RAM_BASE: Readonly<Record<Arch, number>> = { x86_64: 0, arm64: 0x40000000 };

/** A device node's attributes (devtmpfs creates 0600 root:root; udev may change them). */
interface DevNodeAttrs {
  mode: number;
  uid: number;
  gid: number;
}

interface VirtualFile {
  /** permissions (0444 for sysfs/procfs text, 0400 for debugfs, which root alone can enter) */
  readonly mode: number;
  readonly ino: number;
  /** The whole text, or a negated errno (a file of a removed cgroup: ENODEV). */
  readonly text: () => string | number;
  /**
   * Only cgroupfs files have one: the written bytes (up to the first NUL) as a string; returns 0
   * or a negated errno. Every other virtual file is read-only.
   */
  readonly write?: (text: string, proc: Process) => number;
  /**
   * A binary file (/proc/<pid>/pagemap): opened with its own file operations and private data
   * (made for the opener) instead of the text, and owned by `uid`/`gid`. `text` is unused.
   */
  readonly binary?: { readonly fops: FileOperations; readonly uid: number; readonly gid: number; readonly priv: (opener: Process) => unknown };
  /** The owner of a text file (a /proc/<pid> file belongs to the task's uid; default root). */
  readonly owner?: { readonly uid: number; readonly gid: number };
  /**
   * The task a /proc/<pid> file reads, when opening it needs ptrace read access to it
   * (PTRACE_MODE_READ_FSCREDS): fdinfo, maps and pagemap. Another user without CAP_SYS_PTRACE
   * gets EACCES.
   */
  readonly ptraceTask?: Process;
}

/** The cgroup v2 mount point. */
const CGROUP_MNT = '/sys/fs/cgroup';
/** Permission masks (include/linux/fs.h). */
const MAY_EXEC = 0x1;
const MAY_WRITE = 0x2;
const MAY_READ = 0x4;

/** The most Kernel.readFile() reads of one file (a tool's helper, not a syscall). */
export const READ_FILE_MAX = 64 * 1024 * 1024;

export class Kernel implements ProcessHost, KernelServices {
  readonly profile: Profile;
  readonly arch: Arch;
  readonly pageSize: number;
  /** RAM in bytes (the board's /memory banks when booted from a board). */
  readonly ramBytes: number;
  readonly ramBase: number;
  readonly cmdline: string;
  readonly fc: FcntlConstants;
  readonly statLayout: Arch;
  readonly zeroPage: Uint8Array;
  readonly backing = new BackingStats();
  readonly buddy: BuddyAllocator;
  readonly defaultCma: CmaArea | null;
  readonly cmaAreas: CmaArea[] = [];
  readonly coherentPools: CoherentPool[] = [];
  readonly teePools: TeePool[] = [];
  readonly features: KernelFeatures;
  /** The boot memory layout (RAM, reserved regions, CMA areas, pools) and its log. */
  readonly memoryPlan: MemoryPlan;
  /** The reserved-memory region behind each CMA area or pool, by area/pool name. */
  readonly regionByName = new Map<string, ReservedRegion>();
  readonly board: DeviceTree | null;
  /** The heap modules built in (the Kconfig analogue), for /proc/config.gz. */
  heapModules: readonly HeapModuleName[] = [];
  /** CONFIG_CMA_SIZE_MBYTES */
  readonly cmaSizeMbytes: number;
  readonly cmaAlignment: number;
  readonly dmaBuf: DmaBufCore;
  /** DMA devices, the swiotlb pools and the CPU cache model (src/kernel/dev). */
  readonly devices: DeviceRegistry;
  /** The sync sanitizer, when KernelConfig.sanitizer asked for one. */
  readonly sanitizer: SyncSanitizer | null;
  readonly dmaHeap: DmaHeapCore;
  /** The internal tmpfs mount (shm_mnt) holding memfds. */
  readonly shmem: ShmemFs;
  /** /dev/udmabuf, or null without CONFIG_UDMABUF. */
  readonly udmabuf: UdmabufDevice | null;
  /** dma_heap.mem_accounting (7.0; read-only module parameter). */
  readonly memAccounting: boolean;
  /**
   * The dma_heap.mem_accounting parameter exists: 7.0, or an older profile with a proposal that
   * is based on it (dmemCharging, chargePidFd), which brings the parameter along.
   */
  readonly memAccountingParam: boolean;
  /** The proposed dmem charging of the CMA/coherent heaps (null: off or no dmem controller). */
  readonly dmem: DmemAccounting | null;
  /** v6.9: pidfd_open() accepts PIDFD_THREAD. */
  readonly pidfdThread: boolean;
  /** What the mm system calls do in this version (fs/mm-syscalls.ts). */
  readonly mmFeatures: MmFeatures;
  /** The cgroup v2 hierarchy (/sys/fs/cgroup) and its memory controller. */
  readonly cgroups: CgroupFs;
  readonly kmem: KmemAccounting;
  /** The kernel log (dmesg). */
  readonly dmesg: string[] = [];
  readonly processes = new Map<number, Process>();
  /** Page work counters of every address space (copy-on-write copies). */
  readonly mmStats: MmStats = { cowCopies: 0 };
  /** Anonymous pages allocated (/proc/meminfo AnonPages: private anonymous memory and private copies of file pages). */
  anonPages = 0;
  /** Pages of shared anonymous memory (shmem pages, counted in /proc/meminfo Shmem with the memfds'). */
  shmemAnonPages = 0;
  private lastPid = 0;
  private readonly devNodes = new Map<string, DevNodeAttrs>();
  private readonly virtualFops: FileOperations;
  /** /proc/<pid>/pagemap (made on first use) */
  private pagemapOps: FileOperations | null = null;
  /** generic_read_dir(): read() on a directory is EISDIR */
  private readonly dirFops: FileOperations = { read: () => -E.EISDIR, llseek: () => 0 };
  /** First process (pid 1, root). */
  readonly init: Process;

  constructor(config: KernelConfig = {}) {
    const profileName = config.profile ?? DEFAULT_PROFILE;
    if (!isProfileName(profileName)) throw new KernelConfigError(`unknown kernel profile '${String(profileName)}' (known: ${Object.keys(PROFILES).join(', ')})`);
    this.profile = PROFILES[profileName];
    this.arch = config.arch ?? 'x86_64';
    if (this.arch !== 'x86_64' && this.arch !== 'arm64') throw new KernelConfigError(`unknown architecture '${String(this.arch)}' (known: x86_64, arm64)`);
    this.pageSize = config.pageSize ?? 4096;
    const okSizes = this.arch === 'arm64' ? [4096, 16384, 65536] : [4096];
    if (!okSizes.includes(this.pageSize)) throw new KernelConfigError(`page size ${this.pageSize} is not supported on ${this.arch} (use ${okSizes.join(', ')})`);
    this.ramBytes = config.ramBytes ?? 2 * 1024 ** 3; // replaced by the board's /memory when there is one
    if (!Number.isSafeInteger(this.ramBytes) || this.ramBytes < 64 * 1024 * 1024 || this.ramBytes % this.pageSize !== 0) {
      throw new KernelConfigError(`RAM size ${this.ramBytes} must be a whole number of pages and at least 64 MiB`);
    }
    this.cmaAlignment = config.cmaAlignment ?? CMA_ALIGNMENT_DEFAULT;
    if (!Number.isInteger(this.cmaAlignment) || this.cmaAlignment < 2 || this.cmaAlignment > 12) throw new KernelConfigError(`CONFIG_CMA_ALIGNMENT must be 2..12, not ${this.cmaAlignment}`);
    this.ramBase = RAM_BASE[this.arch];
    this.cmaSizeMbytes = config.cmaSizeMbytes ?? 0;
    this.board = config.board ?? null;
    const chosen = this.board?.find('/chosen') ?? null;
    this.cmdline = config.cmdline ?? (chosen !== null ? propString(chosen, 'bootargs') : null) ?? '';
    this.fc = fcntlConstants(this.arch);
    this.statLayout = this.arch;
    this.zeroPage = new Uint8Array(this.pageSize);
    this.features = {
      coherentHeap: config.features?.coherentHeap ?? false,
      dmemCharging: config.features?.dmemCharging ?? false,
      chargePidFd: config.features?.chargePidFd ?? false,
    };
    this.pidfdThread = this.profile.pidfdThread;
    this.mmFeatures = { mapDroppable: this.profile.mapDroppable, guardRegions: this.profile.guardRegions, mremapMultiVma: this.profile.mremapMultiVma };
    const ps = this.pageSize;
    const params = parseCmdline(this.cmdline);
    this.log(`Linux version ${this.profile.release} (dmaheap emulated kernel)`);
    this.log(`Command line: ${this.cmdline}`);

    // RAM, /memreserve/, reserved-memory regions, their handlers and the default CMA area, in the
    // kernel's boot order (drivers/of/fdt.c, drivers/of/of_reserved_mem.c,
    // kernel/dma/contiguous.c dma_contiguous_reserve). Without a board the kernel image sits at
    // the start of RAM; with one, the bootloader placed it around the firmware's carve-outs and
    // it is not modelled (docs/fidelity.md, ram-layout).
    const plan = planMemory({
      tree: this.board,
      params,
      arch: this.arch,
      pageSize: ps,
      ramFallback: [{ base: this.ramBase, size: this.ramBytes }],
      cmaSizeMbytes: this.cmaSizeMbytes,
      kernelImage: { base: this.ramBase, size: this.board === null ? KERNEL_RESERVED_BYTES : 0 },
      profile: this.profile.name,
    });
    this.memoryPlan = plan;
    if (plan.ram.length === 0) {
      // every byte of RAM was beyond the architecture's limits (of/memory.ts clampPhysMemory):
      // Linux would have no memory for its first allocation and panic
      throw new KernelConfigError(`no usable RAM: ${plan.diagnostics.at(-1) ?? 'the device tree describes none'}; Linux cannot boot without memory: describe RAM the ${this.arch} kernel maps (docs/device-tree.md, physical address limits)`);
    }
    for (const l of plan.log) this.log(l);
    if (this.board !== null) this.ramBytes = plan.ram.reduce((n, r) => n + r.size, 0);
    for (const r of plan.regions) this.regionByName.set(r.name, r);
    let def: CmaArea | null = null;
    for (const a of plan.cmaAreas) {
      const area = new CmaArea(a.name, a.base / ps, a.size / ps);
      this.cmaAreas.push(area);
      if (a.name === plan.defaultCma) def = area;
    }
    this.defaultCma = def;
    for (const c of plan.coherentPools) this.coherentPools.push(new CoherentPool(c.name, c.base, Math.floor(c.size / ps), ps, c.base, c.nomap));
    this.teePools.push(...teePoolsOf(this.board, plan.regions, ps));

    // The page allocator gets RAM minus every reservation and no-map range (mm/memblock.c
    // memblock_free_all); CMA areas are reserved there and managed by their own allocators.
    for (const c of config.devices ?? []) {
      const problem = deviceConfigProblem(c);
      if (problem !== null) throw new KernelConfigError(problem);
    }
    // mem_init(): the swiotlb bounce pool comes out of low memory before the rest is freed
    // (kernel/dma/swiotlb.c swiotlb_init_remap; src/kernel/dev/swiotlb.ts). arm64 selects
    // DMA_BOUNCE_UNALIGNED_KMALLOC since 6.5: a small pool even without a 32-bit limit.
    const kmallocBounce = this.arch === 'arm64' && this.profile.name !== '6.1';
    const swiotlb = swiotlbReserve({ param: parseSwiotlbParam(params.get('swiotlb')), arch: this.arch, pageSize: ps, memblock: plan.memblock, kmallocBounce });
    for (const l of swiotlb?.log ?? []) this.log(l);
    const swiotlbHole = swiotlb !== null && swiotlb.nslabs > 0 ? [{ base: swiotlb.base, size: Math.ceil((swiotlb.nslabs * 2048) / ps) * ps }] : [];
    // ZONE_DMA32 below 4 GiB, ZONE_NORMAL above: user pages come from ZONE_NORMAL first
    // (mm/page_alloc.c zonelist fallback), so a 32-bit device meets high memory as on hardware
    const fourG = 0x100000000;
    const highRam = plan.memblock.memory.some((r) => r.base + r.size > fourG);
    this.buddy = new BuddyAllocator(undefined, PCP_HIGH, highRam ? fourG / ps : 0);
    for (const r of subtractRanges(plan.memblock.memory, [...plan.memblock.reserved, ...plan.memblock.nomap, ...swiotlbHole])) {
      const first = Math.ceil(r.base / ps);
      const last = Math.floor((r.base + r.size) / ps);
      if (last > first) this.buddy.addFreeRange(first, last - first);
    }

    const acct = params.get('dma_heap.mem_accounting');
    this.memAccountingParam = this.profile.memAccountingParam || this.features.dmemCharging || this.features.chargePidFd;
    // read once: the parameter is read-only (0444), which the dmem series relies on
    this.memAccounting = this.memAccountingParam && acct !== undefined && /^(1|y|Y|on)$/.test(acct === '' ? 'y' : acct);

    this.cgroups = new CgroupFs({
      pageSize: ps,
      findProcess: (pid) => this.processes.get(pid) ?? null,
      dmem: this.profile.dmemCgroup,
      memcgOutOfMemory: (m, writer) => this.outOfMemory(writer, m, 'memcg') !== 'none',
    });
    this.dmem = this.features.dmemCharging ? this.dmemAccounting() : null;
    const memcgs = this.cgroups.memory;
    this.kmem = {
      memcgOf: (proc) => this.cgroups.memcgOf(proc),
      tryCharge: (m, pages) => memcgs.tryCharge(m, pages),
      uncharge: (m, pages) => memcgs.uncharge(m, pages),
    };

    this.dmaBuf = new DmaBufCore({
      pageSize: ps,
      fc: this.fc,
      sysfsStats: this.profile.sysfsStats,
      setNameBusyWhenAttached: this.profile.setNameBusyWhenAttached,
      // ≤6.14 dma_buf_dynamic_attach() pre-maps for mismatched importer/exporter (dropped in 6.15)
      mapOnDynamicAttach: ['6.1', '6.6', '6.12'].includes(this.profile.name),
      noexec: this.profile.pseudoFsNoexec,
    });
    this.devices = new DeviceRegistry({
      arch: this.arch,
      pageSize: ps,
      dmaBuf: this.dmaBuf,
      board: this.board,
      regions: plan.regions,
      swiotlb,
      configDevices: config.devices ?? [],
      cacheCost: config.cacheCost ?? null,
      log: (l) => this.log(l),
    });
    this.sanitizer = config.sanitizer ? new SyncSanitizer(this.dmaBuf.events, config.sanitizer === true ? {} : config.sanitizer) : null;
    this.dmaHeap = new DmaHeapCore({
      pageSize: ps,
      fc: this.fc,
      duplicateNameErrno: this.profile.duplicateNameErrno,
      heapFdAfterCopyOut: this.profile.heapFdAfterCopyOut,
      dmaBuf: this.dmaBuf,
      log: (l) => this.log(l),
      dmabufCharging: this.features.chargePidFd ? this.dmabufMemcgCharging() : null,
    });
    this.shmem = new ShmemFs({
      pageSize: ps, fc: this.fc, buddy: this.buddy, backing: this.backing, zeroPage: this.zeroPage,
      writeBeginBeforeFault: this.profile.writeBeginBeforeFault, shmemDirectIo: this.profile.shmemDirectIo,
    });
    this.udmabuf = config.udmabuf === false ? null : new UdmabufDevice({ pageSize: ps, fc: this.fc, dmaBuf: this.dmaBuf, shmem: this.shmem });
    this.virtualFops = {
      read: (f, out) => {
        let data = f.priv as Uint8Array | null;
        if (data === null || f.pos === 0) {
          const text = (f.inode as VirtualInode).text();
          if (typeof text === 'number') return text;
          data = strBytes(text);
          f.priv = data;
        }
        const n = Math.max(0, Math.min(out.length, data.length - f.pos));
        out.set(data.subarray(f.pos, f.pos + n));
        f.pos += n;
        return n;
      },
      /**
       * A write to a cgroup file: more than a page at once → E2BIG (atomic_write_len); the
       * whole buffer is copied in at once (any fault → EFAULT); the handler sees the bytes as a
       * C string; success returns the whole count.
       * @kernel fs/kernfs/file.c kernfs_fop_write_iter, kernel/cgroup/cgroup.c cgroup_file_write
       */
      write: (f, src, proc) => {
        const w = (f.inode as VirtualInode).write;
        if (w === undefined) return -E.EINVAL;
        if (src.length > ps) return -E.E2BIG;
        const data = new Uint8Array(src.length);
        if (src.copy(0, data) !== data.length) return -E.EFAULT;
        const nul = data.indexOf(0);
        const r = w(bytesStr(nul < 0 ? data : data.subarray(0, nul)), proc);
        if (r < 0) return r;
        f.pos += data.length;
        return data.length;
      },
      // seq_lseek(): SEEK_SET and SEEK_CUR only
      llseek: (f, off, whence) => {
        const pos = whence === SEEK_SET ? off : whence === SEEK_CUR ? f.pos + off : -1;
        if (whence !== SEEK_SET && whence !== SEEK_CUR) return -E.EINVAL;
        if (pos < 0) return -E.EINVAL;
        f.pos = pos;
        return pos;
      },
    };

    // initcalls: heap modules in link order (drivers/dma-buf/heaps/Makefile)
    const wanted = new Set<HeapModuleName>(config.heaps ?? ['system', 'cma', 'coherent', 'tee']);
    this.heapModules = [...wanted];
    for (const name of wanted) if (!(name in HEAP_MODULE_BY_NAME)) throw new KernelConfigError(`unknown heap module '${name}' (known: ${Object.keys(HEAP_MODULE_BY_NAME).join(', ')})`);
    for (const [name, mod] of Object.entries(HEAP_MODULE_BY_NAME) as [HeapModuleName, (typeof HEAP_MODULE_BY_NAME)[HeapModuleName]][]) {
      if (!wanted.has(name)) continue;
      const r = mod.init(this);
      if (r < 0) this.log(`initcall ${mod.name}_init returned ${r}`);
    }

    this.init = this.spawn({ uid: 0, gid: 0, groups: [] }, 'init');
  }

  log(line: string): void {
    this.dmesg.push(line);
  }

  /**
   * The proposed dmem charging (KernelFeatures.dmemCharging), on a kernel with the dmem
   * controller: one region `cma/<area name>` of the area's size per CMA area, registered at
   * boot whatever mem_accounting says (charging is what mem_accounting gates), so both heaps of
   * the 6.17-6.18 default area (default_cma_region and its legacy duplicate) share one region.
   * @kernel mm/cma.c cma_activate_area, cma_get_dmem_cgroup_region (2026 dmem series v2, "cma: Register dmem region for each cma region")
   */
  private dmemAccounting(): DmemAccounting | null {
    const core = this.cgroups.dmem;
    if (core === null) return null;
    const byArea = new Map<CmaArea, DmemRegion>();
    for (const a of this.cmaAreas) {
      const r = core.registerRegion(a.count * this.pageSize, `cma/${a.name}`);
      if (r !== null) byArea.set(a, r);
    }
    return {
      regionOfCma: (area) => byArea.get(area) ?? null,
      registerRegion: (size, name) => core.registerRegion(size, name),
      unregisterRegion: (region) => core.unregisterRegion(region),
      tryCharge: (region, size, proc) => core.tryCharge(this.cgroups.dmemCssOf(proc) ?? core.root, region, size),
      uncharge: (pool, size) => core.uncharge(pool, size),
    };
  }

  /**
   * The proposed memcg "dmabuf" charging (KernelFeatures.chargePidFd): charge_pid_fd resolved
   * with pidfd_get_task() — the PIDFD_SELF sentinels (v6.15) mean the caller, any other value
   * must be an open pidfd (EBADF) of a live process (ESRCH) — and PAGE_ALIGN(size)/PAGE_SIZE
   * pages charged with try_charge() to that process's memcg, or to the caller's with
   * mem_accounting (the root memcg is never charged).
   * @kernel kernel/pid.c pidfd_get_task, pidfd_get_pid; fs/pidfs.c pidfd_pid; mm/memcontrol.c __mem_cgroup_charge_dmabuf (2026 RFC)
   */
  private dmabufMemcgCharging(): DmabufMemcgCharging {
    const memcgs = this.cgroups.memory;
    return {
      pidfdTask: (proc, pidfd) => {
        if (this.profile.pidfdSelf && (pidfd === PIDFD_SELF_THREAD || pidfd === PIDFD_SELF_THREAD_GROUP)) return proc;
        const f = proc.file(pidfd >>> 0);
        if (f === null) return -E.EBADF;
        const target = pidfdProcess(f);
        if (target === null) return -E.EBADF;
        return target.alive ? target : -E.ESRCH;
      },
      charge: (proc, target, pages) => {
        if (target === null && !this.memAccounting) return null;
        const m = this.cgroups.memcgOf(target ?? proc);
        if (!memcgs.tryCharge(m, pages)) return -E.ENOMEM;
        return () => memcgs.uncharge(m, pages);
      },
    };
  }

  /** find_get_pid() for pidfd_open(): a live process. */
  findProcess(pid: number): Process | null {
    const p = this.processes.get(pid);
    return p !== undefined && p.alive ? p : null;
  }

  // ---- processes ---------------------------------------------------------------------------

  newPid(): number {
    return ++this.lastPid;
  }
  registerProcess(p: Process, parent: Process | null): void {
    this.processes.set(p.pid, p);
    this.cgroups.fork(p, parent);
  }
  unregisterProcess(p: Process): void {
    this.processes.delete(p.pid);
    this.cgroups.exit(p);
    this.sanitizer?.processExited(p.pid);
  }

  /** Where the address space of `p` gets its pages: the page allocator, charged to the memcg of `p`, with the OOM killer behind both. */
  userPager(p: Process): UserPager {
    return { alloc: (shmem) => this.allocUserPage(p, shmem), free: (pg) => this.freeUserPage(pg), stats: this.mmStats };
  }

  /** totalram_pages(): the pages the page allocator manages, CMA areas included (MemTotal). */
  totalRamPages(): number {
    return this.buddy.totalPages + this.cmaAreas.reduce((n, a) => n + a.count, 0);
  }

  /**
   * __vm_enough_memory() under the default overcommit policy (vm.overcommit_memory = 0,
   * OVERCOMMIT_GUESS): only a single mapping larger than RAM + swap (no swap here) is refused.
   * @kernel mm/util.c __vm_enough_memory
   */
  vmEnoughMemory(pages: number): boolean {
    return pages <= this.totalRamPages();
  }

  /**
   * A zeroed page for a fault of `p`, taken from the page allocator and charged to the memcg of
   * `p`. When no page is free the OOM killer runs and the allocation is retried, as long as it
   * killed another process; when the memcg (or an ancestor) is at memory.max, that memcg's OOM
   * killer runs and the charge is retried likewise. Null when `p` itself was chosen (or is
   * dying already) or nothing could be killed: the fault fails.
   * @kernel mm/page_alloc.c __alloc_pages_slowpath (__alloc_pages_may_oom); mm/memcontrol.c __mem_cgroup_charge, try_charge_memcg (mem_cgroup_oom)
   */
  private allocUserPage(p: Process, shmem: boolean): AnonPage | null {
    let pfn = this.buddy.alloc(0);
    while (pfn < 0) {
      if (this.outOfMemory(p, null, shmem ? 'shmem' : 'anon') !== 'other') return null;
      pfn = this.buddy.alloc(0);
    }
    const memcgs = this.cgroups.memory;
    const m = this.cgroups.memcgOf(p);
    for (;;) {
      const over = memcgs.tryChargeOver(m, 1);
      if (over === null) break;
      if (this.outOfMemory(p, over, 'memcg') !== 'other') {
        this.buddy.free(pfn, 0);
        return null;
      }
    }
    const ps = this.pageSize;
    this.backing.anonBytes += ps;
    if (shmem) this.shmemAnonPages++;
    else this.anonPages++;
    return new AnonPage(pfn, ps, m.id, shmem);
  }

  /** A user page's last mapping went: uncharged from the memcg it was charged to, and freed. */
  private freeUserPage(pg: AnonPage): void {
    this.cgroups.memory.unchargeId(pg.memcg, 1);
    this.buddy.free(pg.pfn, 0);
    this.backing.anonBytes -= this.pageSize;
    if (pg.shmem) this.shmemAnonPages--;
    else this.anonPages--;
  }

  /** What the OOM killer sees of a process. */
  private oomTask(p: Process): OomTask {
    return {
      pid: p.pid,
      uid: p.cred.uid,
      comm: p.comm,
      oomScoreAdj: p.oomScoreAdj,
      rss: p.mm.rss(),
      totalVm: p.mm.totalVm,
      pgtablesBytes: 0,
      unkillable: p === this.init,
    };
  }

  /**
   * out_of_memory() for a fault of `current`: global (`memcg` null: no free page) or in the
   * memcg that is at its memory.max (mem_cgroup_out_of_memory: only its tasks are candidates,
   * and its limit is the memory oom_score_adj is a share of). Logs what dump_header() and
   * __oom_kill_process() log (without the stack dump, Mem-Info and memory.stat), picks the
   * victim and kills it with SIGKILL. Returns 'other' when another process was killed (the
   * caller retries), 'self' when `current` was (or, already dying, just gives its memory back:
   * task_will_free_mem), 'none' when no process could be killed (Linux then panics for a
   * global OOM, and retries the fault forever for a memcg one).
   * @kernel mm/oom_kill.c out_of_memory, select_bad_process, oom_kill_process; mm/memcontrol.c mem_cgroup_out_of_memory
   */
  private outOfMemory(current: Process, memcg: Memcg | null, gfp: OomGfp): 'self' | 'other' | 'none' {
    if (current.fatalSignalPending) {
      current.oomKill(true);
      return 'self';
    }
    const ps = this.pageSize;
    const memcgs = this.cgroups.memory;
    const procs = [...this.processes.values()].filter((q) => q.alive && (memcg === null || this.cgroups.memcgOf(q).isDescendantOf(memcg)));
    const tasks = procs.map((q) => this.oomTask(q));
    const totalPages = memcg !== null ? memcg.max : this.totalRamPages();
    this.log(invokedLine(this.oomTask(current), gfp));
    if (memcg !== null) for (const l of memcgMeminfoLines(memcg.usage, memcg.max, memcg.failcnt, memcgs.pageCounterMax, ps)) this.log(l);
    // dump_task() breaks the RSS down from 6.8 (seen on the 6.12 and 7.3 oracles; 6.1 has the short form)
    for (const l of dumpTasks(tasks, this.profile.name !== '6.1' && this.profile.name !== '6.6')) this.log(l);
    const chosen = selectBadProcess(tasks, totalPages, ps);
    if (chosen === null) {
      this.log(NO_KILLABLE_LINE);
      return 'none';
    }
    const victim = procs[tasks.indexOf(chosen)]!;
    this.log(summaryLine(chosen, memcg !== null ? this.memcgPath(memcg) : null, this.memcgPath(this.cgroups.memcgOf(victim))));
    this.log(killedLine(memcg !== null, chosen, ps));
    victim.oomKill(victim === current);
    return victim === current ? 'self' : 'other';
  }

  /** The cgroup path of a memcg (pr_cont_cgroup_path): `/` for the root. */
  private memcgPath(m: Memcg): string {
    const walk = (c: Cgroup, path: string): string | null => {
      if (c.memcg === m) return path === '' ? '/' : path;
      for (const [name, child] of c.children) {
        const r = walk(child, `${path}/${name}`);
        if (r !== null) return r;
      }
      return null;
    };
    return walk(this.cgroups.root, '') ?? '/';
  }

  /** Creates a process (as if forked from init and exec'ed) with the given credentials. */
  spawn(cred: Credentials = { uid: 0, gid: 0, groups: [] }, comm = 'task'): Process {
    const p = new Process(this, this.newPid(), { ...cred, groups: [...cred.groups] }, comm);
    // the first process is init itself; the others are its children and start in its cgroup
    this.registerProcess(p, (this.init as Process | undefined) ?? null);
    return p;
  }

  // ---- heaps and device nodes --------------------------------------------------------------

  /** The heaps as /dev/dma_heap lists them (registration order). */
  heaps(): DmaHeap[] {
    return this.dmaHeap.heaps.filter((h) => !h.dying);
  }

  /** Changes a heap node's owner and mode, as a udev or ueventd rule would. */
  setDevNode(name: string, attrs: Partial<DevNodeAttrs>): number {
    const heap = this.dmaHeap.byDevName(name);
    if (heap === null) return -E.ENOENT;
    const cur = this.nodeAttrs(heap);
    this.devNodes.set(heap.devName, { ...cur, ...attrs, mode: (attrs.mode ?? cur.mode) & 0o7777 });
    return 0;
  }

  private nodeAttrs(heap: DmaHeap): DevNodeAttrs {
    return this.devNodes.get(heap.devName) ?? { mode: 0o600, uid: 0, gid: 0 };
  }

  // ---- VFS ---------------------------------------------------------------------------------

  /**
   * ptrace_may_access(task, PTRACE_MODE_READ_FSCREDS) as far as the model goes: the caller is the
   * task, or has CAP_SYS_PTRACE (root), or has the task's uid and gid (__ptrace_may_access,
   * kernel/ptrace.c; every task here is dumpable and there is no LSM).
   */
  private ptraceMayRead(caller: Process, task: Process): boolean {
    if (caller === task || caller.cred.uid === 0) return true;
    return caller.cred.uid === task.cred.uid && caller.cred.gid === task.cred.gid;
  }

  /** generic_permission() for an open's access mode (O_RDONLY, O_WRONLY, O_RDWR). */
  private permission(attrs: DevNodeAttrs, cred: Credentials, accmode: number): boolean {
    return this.mayAccess(attrs, cred, accmode === 0 ? MAY_READ : accmode === 1 ? MAY_WRITE : MAY_READ | MAY_WRITE);
  }

  /**
   * generic_permission(): root passes (CAP_DAC_OVERRIDE; CAP_DAC_READ_SEARCH for directories),
   * else the owner, group or other bits must grant every bit of `mask` (MAY_READ, MAY_WRITE,
   * MAY_EXEC).
   * @kernel fs/namei.c generic_permission, acl_permission_check
   */
  private mayAccess(attrs: DevNodeAttrs, cred: Credentials, mask: number): boolean {
    if (cred.uid === 0) return true;
    let bits = attrs.mode & 7;
    if (cred.uid === attrs.uid) bits = (attrs.mode >> 6) & 7;
    else if (cred.gid === attrs.gid || cred.groups.includes(attrs.gid)) bits = (attrs.mode >> 3) & 7;
    return (bits & mask) === mask;
  }

  /**
   * Owner and mode of a directory (`path` normalized): a cgroup's, a /proc/<pid> directory's (the
   * task's uid and gid, as task_dump_owner() gives a dumpable task: /proc/<pid> 0555, fd/ 0500,
   * fdinfo/ 0555), else 0755 root.
   * @kernel fs/proc/base.c tgid_base_stuff, task_dump_owner; fs/proc/fd.c
   */
  private dirAttrs(path: string): DevNodeAttrs {
    const cg = this.cgroupAt(path);
    if (cg !== null) return { mode: cg.mode, uid: 0, gid: 0 };
    const m = /^\/proc\/(\d+)(?:\/(fd|fdinfo))?$/.exec(path);
    const task = m === null ? undefined : this.processes.get(Number(m[1]));
    if (m === null || task === undefined) return { mode: 0o755, uid: 0, gid: 0 };
    return { mode: m[2] === 'fd' ? 0o500 : 0o555, uid: task.cred.uid, gid: task.cred.gid };
  }

  /**
   * May `proc` use directory `path` (normalized) for `mask` (MAY_READ to list it, MAY_EXEC to
   * look a name up in it)? Only /proc/<pid>/fd and /proc/<pid>/fdinfo refuse anyone: fd/ by its
   * 0500 mode, which the task itself passes whatever its uid (proc_fd_permission); fdinfo/ by
   * ptrace read access to the task first (proc_fdinfo_permission, 5.14), then its mode. Returns
   * 0 or -EACCES.
   * @kernel fs/proc/fd.c proc_fd_permission, proc_fdinfo_permission, proc_fdinfo_access_allowed
   */
  private procDirAccess(proc: Process, path: string, mask: number): number {
    const m = /^\/proc\/(\d+)\/(fd|fdinfo)$/.exec(path);
    const task = m === null ? undefined : this.processes.get(Number(m[1]));
    if (m === null || task === undefined) return 0;
    if (m[2] === 'fd' && proc === task) return 0;
    if (m[2] === 'fdinfo' && !this.ptraceMayRead(proc, task)) return -E.EACCES;
    return this.mayAccess(this.dirAttrs(path), proc.cred, mask) ? 0 : -E.EACCES;
  }

  /**
   * The path walk's search permission (MAY_EXEC) on a /proc/<pid>/fd or fdinfo directory above
   * `path`: another user's /proc/<pid>/fd/<n> is EACCES before the name is looked up, so even a
   * closed fd's entry is EACCES, not ENOENT. Returns 0 or -EACCES.
   * @kernel fs/namei.c link_path_walk, may_lookup
   */
  private procWalk(proc: Process, path: string): number {
    const m = /^(\/proc\/\d+\/(?:fd|fdinfo))\/./.exec(path);
    return m === null ? 0 : this.procDirAccess(proc, m[1]!, MAY_EXEC);
  }

  /**
   * The VFS half of open(2), after the fd was reserved; `flags` are open(2)'s, already masked to
   * VALID_OPEN_FLAGS (O_PATH ones to O_PATH_FLAGS). In the kernel's order: the path walk
   * (EACCES), debugfs's 0700 directory (EACCES for users), O_TMPFILE (ENOENT, ENOTDIR, then
   * EOPNOTSUPP on procfs and sysfs, EROFS elsewhere: docs/fidelity.md, read-only-paths), O_CREAT
   * (an existing name: EEXIST with O_EXCL, EISDIR for a directory; a new one: ENOENT on procfs
   * and sysfs, EROFS elsewhere), O_NOFOLLOW on a symbolic link (/proc/self, /proc/<pid>/fd/<n>:
   * ELOOP), O_PATH (an fd for the place only), O_DIRECTORY (ENOTDIR), then the file's own open,
   * and O_DIRECT on a file that cannot do it (EINVAL; every emulated file but a reopened memfd
   * from 6.6). The file keeps the flags but O_CREAT, O_EXCL, O_NOCTTY and O_TRUNC.
   * @kernel fs/namei.c path_openat, open_last_lookups, do_open, do_tmpfile, may_open; fs/open.c do_dentry_open
   */
  openPath(proc: Process, rawPath: string, flags: number): File | number {
    const fc = this.fc;
    const path = normalize(rawPath, proc.pid);
    if (path === null) return -E.ENOENT;
    const walk = this.procWalk(proc, path);
    if (walk < 0) return walk;
    // debugfs is mounted 0700 root: nothing below it can be looked up by anyone else
    if (path.startsWith('/sys/kernel/debug/') && proc.cred.uid !== 0) return -E.EACCES;
    const fileFlags = flags & ~(fc.O_CREAT | fc.O_EXCL | fc.O_NOCTTY | fc.O_TRUNC);
    const exists = this.pathExists(path);
    if ((flags & O_TMPFILE_BIT) !== 0) {
      if (!exists) return -E.ENOENT;
      if (!this.isDir(path)) return -E.ENOTDIR;
      return isPseudoFs(path) ? -E.EOPNOTSUPP : -E.EROFS;
    }
    if ((flags & fc.O_CREAT) !== 0) {
      if (!exists) {
        const parent = path.slice(0, path.lastIndexOf('/')) || '/';
        return isPseudoFs(path) || !this.isDir(parent) ? -E.ENOENT : -E.EROFS;
      }
      if ((flags & fc.O_EXCL) !== 0) return -E.EEXIST;
      if (this.isDir(path)) return -E.EISDIR;
    }
    const fdLink = /^\/proc\/\d+\/fd\/\d+$/.test(path);
    const link = fdLink || (path === `/proc/${proc.pid}` && rawPath.split('/').filter((c) => c !== '' && c !== '.').pop() === 'self');
    if (link && exists && (flags & fc.O_NOFOLLOW) !== 0 && (flags & fc.O_PATH) === 0) return -E.ELOOP;
    if ((flags & fc.O_PATH) !== 0) return this.openPlace(proc, path, fileFlags, link && (flags & fc.O_NOFOLLOW) !== 0);
    if ((flags & fc.O_DIRECTORY) !== 0 && exists && !fdLink && !this.isDir(path)) return -E.ENOTDIR;
    const f = this.openResolved(proc, path, fileFlags);
    if (typeof f === 'number') return f;
    if ((fileFlags & fc.O_DIRECT) !== 0 && (f.mode & FMODE_CAN_ODIRECT) === 0) {
      f.put();
      return -E.EINVAL;
    }
    return f;
  }

  /**
   * open(O_PATH): an fd for the place in the tree, with no permission check on the file itself
   * and no operations (do_dentry_open with FMODE_PATH: read, write, ioctl, mmap are EBADF;
   * fstat, fcntl F_GETFL, dup and a reopen through /proc/<pid>/fd work). Following an fd link
   * still needs ptrace access to its task; with O_NOFOLLOW the fd is for the link itself.
   * @kernel fs/open.c do_dentry_open (O_PATH), fs/namei.c path_openat
   */
  private openPlace(proc: Process, path: string, flags: number, theLink: boolean): File | number {
    if (!this.pathExists(path)) return -E.ENOENT;
    let inode: Inode;
    let name: string;
    let mnt: number;
    const m = /^\/proc\/(\d+)\/fd\/(\d+)$/.exec(path);
    if (theLink) {
      // the link itself: lrwxrwxrwx for /proc/self, an fd link as its file's f_mode shows it
      inode = { ino: 0x110, mode: 0o120777, uid: proc.cred.uid, gid: proc.cred.gid, rdev: 0, dev: 0, size: 0 };
      name = path;
      mnt = 0;
    } else if (m !== null) {
      const task = this.processes.get(Number(m[1]))!;
      const f = task.fileRaw(Number(m[2]))!;
      if (!this.ptraceMayRead(proc, task)) return -E.EACCES;
      if ((flags & this.fc.O_DIRECTORY) !== 0) return -E.ENOTDIR;
      inode = f.inode;
      name = f.pathName;
      mnt = f.mntId;
    } else {
      if ((flags & this.fc.O_DIRECTORY) !== 0 && !this.isDir(path)) return -E.ENOTDIR;
      // the inode the path names: what an open by init finds there (closed again at once)
      const f = this.openResolved(this.init, path, this.fc.O_RDONLY);
      if (typeof f === 'number') return f;
      inode = f.inode;
      name = f.pathName;
      mnt = f.mntId;
      f.put();
    }
    return new File(PATH_FOPS, inode, flags, FMODE_PATH | FMODE_OPENED, name, mnt, null);
  }

  /** The open of `path` (normalized, walked) with its permission checks; `flags` are the file's f_flags. */
  private openResolved(proc: Process, path: string, flags: number): File | number {
    const acc = flags & this.fc.O_ACCMODE;
    if (path.startsWith('/dev/dma_heap/')) {
      const heap = this.dmaHeap.byDevName(path.slice('/dev/dma_heap/'.length));
      if (heap === null || heap.dying) return -E.ENOENT;
      const attrs = this.nodeAttrs(heap);
      if (!this.permission(attrs, proc.cred, acc)) return -E.EACCES;
      const f = this.dmaHeap.open(heap, flags);
      if (typeof f !== 'number') {
        // the node's current owner and mode, as stat shows them
        Object.assign(f.inode, { mode: 0o020000 | attrs.mode, uid: attrs.uid, gid: attrs.gid });
      }
      return f;
    }
    if (path === '/dev/udmabuf' && this.udmabuf !== null) {
      // a misc device node: devtmpfs creates it 0600 root:root
      if (!this.permission({ mode: 0o600, uid: 0, gid: 0 }, proc.cred, acc)) return -E.EACCES;
      return this.udmabuf.open(flags);
    }
    // /proc/<pid>/fd/<n> reopens the file: a device node opens again, a memfd (a tmpfs file)
    // gets a new open file on its inode; anonymous files (dma-bufs, sync_files) cannot be
    // reopened (6.1 oracle: ENXIO). Following the link needs ptrace read access to the task
    // (proc_pid_get_link -> proc_fd_access_allowed: EACCES), then the file's own permission.
    const link = /^\/proc\/(\d+)\/fd\/(\d+)$/.exec(path);
    if (link !== null) {
      const task = this.processes.get(Number(link[1]));
      const f = task?.fileRaw(Number(link[2])) ?? null;
      if (task === undefined || f === null) return -E.ENOENT;
      if (!this.ptraceMayRead(proc, task)) return -E.EACCES;
      if ((flags & this.fc.O_DIRECTORY) !== 0) return -E.ENOTDIR;
      // an O_PATH fd reopens what it names (the "O_PATH reopen")
      if (f.fop === this.dmaHeap.fops || f.fop === this.udmabuf?.fops || (f.fop === PATH_FOPS && !(f.inode instanceof ShmemInode))) return this.openPath(proc, f.pathName, flags);
      if (this.shmem.isShmemFile(f) || f.inode instanceof ShmemInode) {
        const i = f.inode;
        if (!this.permission({ mode: i.mode & 0o7777, uid: i.uid, gid: i.gid }, proc.cred, acc)) return -E.EACCES;
        return this.shmem.reopen(f, flags);
      }
      return -E.ENXIO;
    }
    const vf = this.virtualFile(path);
    if (vf === null) {
      if (!this.isDir(path)) return -E.ENOENT;
      // a directory opens read-only (readdir is not a syscall here); writing it is EISDIR, then
      // reading it needs its read permission (may_open -> inode_permission)
      if (acc !== this.fc.O_RDONLY) return -E.EISDIR;
      const access = this.procDirAccess(proc, path, MAY_READ);
      if (access < 0) return access;
      const d = this.dirAttrs(path);
      const dinode: Inode = { ino: 0x100, mode: 0o040000 | d.mode, uid: d.uid, gid: d.gid, rdev: 0, dev: 0, size: 0 };
      return new File(this.dirFops, dinode, flags, openFmode(flags) | FMODE_LSEEK | FMODE_OPENED | FMODE_CAN_READ, path, 0, null);
    }
    // kernfs_fop_open(): a sysfs attribute without a store cannot be opened for writing, not even
    // by root. cgroupfs files all share cgroup_file_write (which fails a read-only file's write
    // with EINVAL), and procfs and debugfs files open too: there root (CAP_DAC_OVERRIDE) gets an
    // fd whose write is EINVAL (observed on the 6.1 oracle)
    const sysfsAttr = path.startsWith('/sys/') && !path.startsWith('/sys/fs/cgroup/') && !path.startsWith('/sys/kernel/debug/');
    if (acc !== this.fc.O_RDONLY && vf.write === undefined && sysfsAttr) return -E.EACCES;
    if (!this.permission({ mode: vf.mode, uid: vf.binary?.uid ?? vf.owner?.uid ?? 0, gid: vf.binary?.gid ?? vf.owner?.gid ?? 0 }, proc.cred, acc)) return -E.EACCES;
    // proc_fdinfo_access_allowed (fs/proc/fd.c) and proc_maps_open -> proc_mem_open -> mm_access
    // (fs/proc/task_mmu.c, kernel/fork.c): ptrace_may_access(PTRACE_MODE_READ_FSCREDS), which
    // here is root or the task's own uid (every task is dumpable, no LSM)
    if (vf.ptraceTask !== undefined && !this.ptraceMayRead(proc, vf.ptraceTask)) return -E.EACCES;
    if (vf.binary !== undefined) {
      const b = vf.binary;
      const bnode: Inode = { ino: vf.ino, mode: 0o100000 | vf.mode, uid: b.uid, gid: b.gid, rdev: 0, dev: 0, size: 0 };
      return new File(b.fops, bnode, flags, openFmode(flags) | FMODE_LSEEK | FMODE_OPENED | FMODE_CAN_READ, path, 0, b.priv(proc));
    }
    const inode: VirtualInode = { ino: vf.ino, mode: 0o100000 | vf.mode, uid: vf.owner?.uid ?? 0, gid: vf.owner?.gid ?? 0, rdev: 0, dev: 0, size: 0, text: vf.text };
    let fmode = openFmode(flags) | FMODE_LSEEK | FMODE_OPENED | FMODE_CAN_READ;
    if (vf.write !== undefined) {
      inode.write = vf.write;
      fmode |= FMODE_CAN_WRITE;
    }
    return new File(this.virtualFops, inode, flags, fmode, path, 0, null);
  }

  /**
   * readlink(2) of a virtual path: /proc/<pid>/fd/<n> needs search permission on the fd
   * directory (EACCES), the fd (ENOENT) and ptrace read access to the task (EACCES); anything
   * else that exists is not a link (EINVAL).
   * @kernel fs/proc/base.c proc_pid_readlink, proc_fd_access_allowed
   */
  readlinkPath(proc: Process, rawPath: string): string | number {
    const path = normalize(rawPath, proc.pid);
    if (path === null) return -E.ENOENT;
    const walk = this.procWalk(proc, path);
    if (walk < 0) return walk;
    const m = /^\/proc\/(\d+)\/fd\/(\d+)$/.exec(path);
    if (m !== null) {
      const task = this.processes.get(Number(m[1]));
      const f = task?.fileRaw(Number(m[2])) ?? null;
      if (task === undefined || f === null) return -E.ENOENT;
      return this.ptraceMayRead(proc, task) ? f.pathName : -E.EACCES;
    }
    if (rawPath === '/proc/self') return String(proc.pid);
    if (this.virtualFile(path) !== null || this.isDir(path) || (path.startsWith('/dev/dma_heap/') && this.dmaHeap.byDevName(path.slice(14)) !== null)) return -E.EINVAL;
    if (path === '/dev/udmabuf' && this.udmabuf !== null) return -E.EINVAL;
    return -E.ENOENT;
  }

  /**
   * mkdir(2). The parent is looked up first (ENOENT, ENOTDIR), then an existing name → EEXIST.
   * Only cgroupfs makes directories (root only: EACCES otherwise); procfs, sysfs and debugfs
   * have no mkdir (EPERM); everywhere else the emulator has no writable file system (EROFS).
   * @kernel fs/namei.c do_mkdirat, filename_create, vfs_mkdir; kernel/cgroup/cgroup.c cgroup_mkdir
   */
  mkdirPath(proc: Process, rawPath: string, mode: number): number {
    const path = normalize(rawPath, proc.pid);
    if (path === null) return -E.ENOENT;
    const walk = this.procWalk(proc, path);
    if (walk < 0) return walk;
    if (path === '/') return -E.EEXIST;
    const slash = path.lastIndexOf('/');
    const parent = slash === 0 ? '/' : path.slice(0, slash);
    const name = path.slice(slash + 1);
    if (strBytes(name).length > 255) return -E.ENAMETOOLONG;
    if (!this.isDir(parent)) return this.pathExists(parent) ? -E.ENOTDIR : -E.ENOENT;
    if (this.pathExists(path)) return -E.EEXIST;
    const cg = this.cgroupAt(parent);
    if (cg === null) return isPseudoFs(parent) ? -E.EPERM : -E.EROFS;
    // may_create(): write and search permission on the directory (root-owned)
    if (!this.permission({ mode: cg.mode, uid: 0, gid: 0 }, proc.cred, this.fc.O_WRONLY)) return -E.EACCES;
    // do_mkdirat() applies the umask (0022 here) and vfs_mkdir() keeps the permission bits
    return this.cgroups.mkdir(cg, name, mode & 0o1777 & ~0o022);
  }

  /**
   * rmdir(2). `.` → EINVAL, `..` → ENOTEMPTY, `/` → EBUSY; the parent is looked up (ENOENT,
   * ENOTDIR); outside procfs, sysfs and cgroupfs the emulator has no writable file system
   * (EROFS, checked before the name); a missing name → ENOENT; non-root → EACCES; not a
   * directory → ENOTDIR; a mount point (/sys/fs/cgroup, /sys/kernel/debug) → EBUSY; other
   * procfs/sysfs directories → EPERM; a cgroup → cgroup_rmdir (EBUSY while it has processes or
   * children).
   * @kernel fs/namei.c do_rmdir, may_delete, vfs_rmdir; fs/kernfs/dir.c kernfs_iop_rmdir; kernel/cgroup/cgroup.c cgroup_rmdir
   */
  rmdirPath(proc: Process, rawPath: string): number {
    const lastRaw = rawPath.split('/').filter((c) => c !== '').pop();
    if (lastRaw === '.') return -E.EINVAL;
    if (lastRaw === '..') return -E.ENOTEMPTY;
    const path = normalize(rawPath, proc.pid);
    if (path === null) return -E.ENOENT;
    const walk = this.procWalk(proc, path);
    if (walk < 0) return walk;
    if (path === '/') return -E.EBUSY;
    const slash = path.lastIndexOf('/');
    const parent = slash === 0 ? '/' : path.slice(0, slash);
    if (!this.isDir(parent)) return this.pathExists(parent) ? -E.ENOTDIR : -E.ENOENT;
    if (!isPseudoFs(parent)) return -E.EROFS;
    if (!this.pathExists(path)) return -E.ENOENT;
    if (proc.cred.uid !== 0) return -E.EACCES;
    if (!this.isDir(path)) return -E.ENOTDIR;
    if (path === CGROUP_MNT || path === '/sys/kernel/debug') return -E.EBUSY;
    const cg = this.cgroupAt(path);
    if (cg === null) return -E.EPERM;
    return this.cgroups.rmdir(cg);
  }

  /** The cgroup whose directory is `path` (normalized), or null. */
  private cgroupAt(path: string): Cgroup | null {
    if (path !== CGROUP_MNT && !path.startsWith(`${CGROUP_MNT}/`)) return null;
    return this.cgroups.lookup(path.slice(CGROUP_MNT.length).split('/').filter((c) => c !== ''));
  }

  /** Whether `path` (normalized) names anything: a directory, a virtual file, a device node or an fd link. */
  private pathExists(path: string): boolean {
    if (this.isDir(path) || this.virtualFile(path) !== null) return true;
    if (path.startsWith('/dev/dma_heap/')) {
      const heap = this.dmaHeap.byDevName(path.slice('/dev/dma_heap/'.length));
      return heap !== null && !heap.dying;
    }
    if (path === '/dev/udmabuf') return this.udmabuf !== null;
    const link = /^\/proc\/(\d+)\/fd\/(\d+)$/.exec(path);
    if (link !== null) return (this.processes.get(Number(link[1]))?.fileRaw(Number(link[2])) ?? null) !== null;
    return false;
  }

  /**
   * Reads a whole virtual file as `proc` would (open, read, close), at most READ_FILE_MAX bytes.
   * A longer file (a memfd reopened through /proc/<pid>/fd can be 2^40 bytes of holes) is EFBIG:
   * the text must fit in memory, and nothing is read past the limit.
   */
  readFile(proc: Process, path: string): string | number {
    const f = this.openPath(proc, path, this.fc.O_RDONLY);
    if (typeof f === 'number') return f;
    if (f.inode.size > READ_FILE_MAX) {
      f.put();
      return -E.EFBIG;
    }
    // a binary file is not text (and pagemap would read for 2^36 entries): read(2) it instead
    if (f.fop === this.pagemapOps) {
      f.put();
      return -E.EINVAL;
    }
    try {
      if ((f.mode & FMODE_READ) === 0 || f.fop.read === undefined) return -E.EINVAL;
      const chunks: Uint8Array[] = [];
      let total = 0;
      for (;;) {
        const b = new Uint8Array(65536);
        const n = f.fop.read(f, b);
        if (n < 0) return n;
        if (n === 0) break;
        total += n;
        if (total > READ_FILE_MAX) return -E.EFBIG;
        chunks.push(b.subarray(0, n));
      }
      let s = '';
      for (const c of chunks) s += bytesStr(c);
      return s;
    } finally {
      f.put();
    }
  }

  /** Names in a virtual directory as `proc` would list them, or null when it cannot (see {@link readdirAt}). */
  readdir(rawPath: string, proc: Process = this.init): string[] | null {
    const r = this.readdirAt(rawPath, proc);
    return typeof r === 'number' ? null : r;
  }

  /**
   * Names in a virtual directory as `proc` lists them (open + getdents): the names, or a negated
   * errno: ENOENT (no such directory), EACCES (a /proc/<pid> directory `proc` may not enter or
   * read: another user's fd/ and fdinfo/, see {@link procDirAccess}).
   */
  readdirAt(rawPath: string, proc: Process = this.init): string[] | number {
    const path = normalize(rawPath, proc.pid);
    if (path === null) return -E.ENOENT;
    const walk = this.procWalk(proc, path);
    if (walk < 0) return walk;
    const names = this.listDir(path);
    if (names === null) return -E.ENOENT;
    const access = this.procDirAccess(proc, path, MAY_READ);
    return access < 0 ? access : names;
  }

  /** Names in a virtual directory (`path` normalized), or null when it is not one. */
  private listDir(path: string): string[] | null {
    const heaps = this.heaps();
    switch (path) {
      case '/dev/dma_heap':
        return heaps.length === 0 ? null : heaps.map((h) => h.devName);
      case '/sys/class/dma_heap':
        return heaps.map((h) => h.devName);
      case '/sys/kernel/dmabuf/buffers':
        return this.profile.sysfsStats ? [...this.dmaBuf.list].map((b) => String(b.ino)) : null;
      case '/sys/kernel/mm/cma':
      case '/sys/kernel/debug/cma':
        return this.cmaAreas.map((a) => a.name);
      case '/sys/fs':
        return ['cgroup'];
      case '/proc':
        // proc_root_readdir(): the fixed entries, then one directory per process (pid order)
        return ['meminfo', 'self', 'sys', ...[...this.processes.keys()].sort((a, b) => a - b).map(String)];
    }
    const cg = this.cgroupAt(path);
    if (cg !== null) return this.cgroups.readdir(cg);
    if (this.board !== null && (path === DT_BASE || path.startsWith(DT_BASE + '/'))) {
      const found = this.dtLookup(path.slice(DT_BASE.length));
      if (found !== null && 'node' in found) return ['name', ...found.node.props.map((p) => p.name).filter((n) => n !== 'name'), ...found.node.children.map((c) => c.name)];
      return null;
    }
    const sb = /^\/sys\/kernel\/dmabuf\/buffers\/(\d+)$/.exec(path);
    if (sb !== null) return this.profile.sysfsStats && this.dmaBuf.byIno(Number(sb[1])) !== null ? ['exporter_name', 'size'] : null;
    const pd = /^\/proc\/(\d+)$/.exec(path);
    // the /proc/<pid> entries the emulator has (fs/proc/base.c tgid_base_stuff has many more)
    if (pd !== null) return this.processes.has(Number(pd[1])) ? ['comm', 'fd', 'fdinfo', 'maps', 'oom_score', 'oom_score_adj', 'pagemap', 'status'] : null;
    const pm = /^\/proc\/(\d+)\/(fd|fdinfo)$/.exec(path);
    if (pm !== null) {
      const p = this.processes.get(Number(pm[1]));
      return p === undefined ? null : p.openFds().map(String);
    }
    return null;
  }

  private isDir(path: string): boolean {
    return this.listDir(path) !== null || ['/', '/dev', '/proc', '/sys', '/sys/kernel', '/sys/kernel/debug', '/sys/kernel/debug/dma_buf', '/sys/class', '/sys/firmware', '/sys/firmware/devicetree'].includes(path);
  }

  /** The virtual text files (procfs, sysfs, debugfs, cgroupfs). */
  private virtualFile(path: string): VirtualFile | null {
    let m: RegExpExecArray | null;
    if (path.startsWith(`${CGROUP_MNT}/`)) {
      const slash = path.lastIndexOf('/');
      const cg = this.cgroupAt(path.slice(0, slash));
      return cg === null ? null : this.cgroups.file(cg, path.slice(slash + 1));
    }
    if ((m = /^\/proc\/(\d+)\/fdinfo\/(\d+)$/.exec(path)) !== null) {
      const p = this.processes.get(Number(m[1]));
      const fd = Number(m[2]);
      const f = p?.fileRaw(fd) ?? null;
      if (p === undefined || f === null) return null;
      // 0444 since the fdinfo directory itself needs ptrace access (5.14; 0400 before)
      return { mode: 0o444, ino: 0x10000 + fd, text: () => this.fdinfo(p, fd, f), owner: { uid: p.cred.uid, gid: p.cred.gid }, ptraceTask: p };
    }
    if ((m = /^\/proc\/(\d+)\/maps$/.exec(path)) !== null) {
      const p = this.processes.get(Number(m[1]));
      if (p === undefined) return null;
      return { mode: 0o444, ino: 0x20000 + p.pid, text: () => this.maps(p), owner: { uid: p.cred.uid, gid: p.cred.gid }, ptraceTask: p };
    }
    if ((m = /^\/proc\/(\d+)\/pagemap$/.exec(path)) !== null) {
      const p = this.processes.get(Number(m[1]));
      if (p === undefined) return null;
      // 0400, owned by the task, opened through mm_access() (ptrace read access); PFNs only for
      // an opener with CAP_SYS_ADMIN (fs/proc/base.c, task_mmu.c pagemap_open, pagemap_read)
      const priv = (opener: Process): PagemapFile => ({ proc: p, showPfn: opener.cred.uid === 0 });
      this.pagemapOps ??= pagemapFops({ pageSize: this.pageSize, arch: this.arch, dmaBufFops: this.dmaBuf.fops, shmemFops: this.shmem.fops, processes: () => this.processes.values() });
      return { mode: 0o400, ino: 0xa0000 + p.pid, text: () => '', binary: { fops: this.pagemapOps, uid: p.cred.uid, gid: p.cred.gid, priv }, ptraceTask: p };
    }
    if ((m = /^\/proc\/(\d+)\/comm$/.exec(path)) !== null) {
      const p = this.processes.get(Number(m[1]));
      if (p === undefined) return null;
      // comm_show(): the task name (at most TASK_COMM_LEN - 1 = 15 bytes) and a newline; 0644, written by the task itself
      return { mode: 0o644, ino: 0x38000 + p.pid, text: () => `${p.comm.slice(0, 15)}\n`, owner: { uid: p.cred.uid, gid: p.cred.gid } };
    }
    if ((m = /^\/proc\/(\d+)\/(status|oom_score|oom_score_adj)$/.exec(path)) !== null) {
      const p = this.processes.get(Number(m[1]));
      if (p === undefined) return null;
      return this.procMemFile(p, m[2]!);
    }
    if (path === '/proc/sys/kernel/osrelease') return { mode: 0o444, ino: 0x30001, text: () => `${this.profile.release}\n` };
    if (path === '/proc/meminfo') return { mode: 0o444, ino: 0x30002, text: () => this.meminfo() };
    if (path === '/proc/cmdline') return { mode: 0o444, ino: 0x30003, text: () => `${this.cmdline}\n` };
    // kernel/configs.c (CONFIG_IKCONFIG_PROC): the build's .config, gzip-compressed
    if (path === '/proc/config.gz') return { mode: 0o444, ino: 0x30004, text: () => bytesStr(gzipStored(strBytes(this.kconfigText()))) };
    if (this.board !== null && path.startsWith(DT_BASE + '/')) {
      // drivers/of/kobj.c: a property is a read-only file of its raw bytes
      const found = this.dtLookup(path.slice(DT_BASE.length));
      if (found !== null && 'prop' in found) return { mode: 0o444, ino: 0xa0000, text: () => bytesStr(found.prop) };
    }
    if ((m = /^\/sys\/class\/dma_heap\/([^/]+)\/(dev|uevent)$/.exec(path)) !== null) {
      const heap = this.dmaHeap.byDevName(m[1]!);
      if (heap === null || heap.dying) return null;
      const major = devMajor(heap.inode.rdev);
      const minor = devMinor(heap.inode.rdev);
      return m[2] === 'dev'
        ? { mode: 0o444, ino: 0x40000 + heap.minor * 2, text: () => `${major}:${minor}\n` }
        : { mode: 0o644, ino: 0x40001 + heap.minor * 2, text: () => `MAJOR=${major}\nMINOR=${minor}\nDEVNAME=dma_heap/${heap.devName}\n` };
    }
    if (path === '/sys/kernel/debug/dma_buf/bufinfo') return { mode: 0o444, ino: 0x50000, text: () => this.dmaBuf.bufinfo() };
    if (this.profile.sysfsStats && (m = /^\/sys\/kernel\/dmabuf\/buffers\/(\d+)\/(exporter_name|size)$/.exec(path)) !== null) {
      const buf = this.dmaBuf.byIno(Number(m[1]));
      if (buf === null) return null;
      return { mode: 0o444, ino: 0x60000 + buf.ino, text: () => (m![2] === 'size' ? `${buf.size}\n` : `${buf.expName}\n`) };
    }
    if ((m = /^\/sys\/kernel\/mm\/cma\/([^/]+)\/(alloc_pages_success|alloc_pages_fail|release_pages_success)$/.exec(path)) !== null) {
      const a = this.cmaAreas.find((x) => x.name === m![1]);
      if (a === undefined) return null;
      // release_pages_success appeared in 6.10 (mm/cma_sysfs.c)
      if (m[2] === 'release_pages_success' && this.profile.name === '6.1') return null;
      const v = () => (m![2] === 'alloc_pages_success' ? a.allocPagesSuccess : m![2] === 'alloc_pages_fail' ? a.allocPagesFail : a.releasePagesSuccess);
      return { mode: 0o444, ino: 0x70000, text: () => `${v()}\n` };
    }
    if ((m = /^\/sys\/kernel\/debug\/cma\/([^/]+)\/(base_pfn|count|order_per_bit|used|maxchunk)$/.exec(path)) !== null) {
      const a = this.cmaAreas.find((x) => x.name === m![1]);
      if (a === undefined) return null;
      const key = m[2]!;
      const v = () => ({ base_pfn: a.basePfn, count: a.count, order_per_bit: a.orderPerBit, used: a.used, maxchunk: a.maxchunk })[key];
      return { mode: 0o444, ino: 0x80000, text: () => `${v()}\n` };
    }
    if (this.memAccountingParam && path === '/sys/module/dma_heap/parameters/mem_accounting') {
      return { mode: 0o444, ino: 0x90000, text: () => (this.memAccounting ? 'Y\n' : 'N\n') };
    }
    return null;
  }

  /**
   * /proc/<pid>/status (a subset: the identity and memory lines), /proc/<pid>/oom_score (0444)
   * and /proc/<pid>/oom_score_adj (0644, owned by the task: kstrtoint of the first 12 bytes,
   * white space stripped; see Process.setOomScoreAdj).
   * @kernel fs/proc/array.c proc_pid_status, fs/proc/task_mmu.c task_mem; fs/proc/base.c proc_oom_score, oom_score_adj_write
   */
  private procMemFile(p: Process, name: string): VirtualFile {
    const owner = { uid: p.cred.uid, gid: p.cred.gid };
    const ino = 0xb0000 + p.pid * 4;
    if (name === 'oom_score') return { mode: 0o444, ino: ino + 1, owner, text: () => `${oomScore(this.oomTask(p), this.totalRamPages(), this.pageSize)}\n` };
    if (name === 'oom_score_adj') {
      return {
        mode: 0o644, ino: ino + 2, owner, text: () => `${p.oomScoreAdj}\n`,
        write: (text, writer) => {
          const v = kstrtoint(strstrip(text.slice(0, 12)));
          return v === null ? -E.EINVAL : p.setOomScoreAdj(v, writer);
        },
      };
    }
    return {
      mode: 0o444, ino, owner,
      text: () => {
        const kb = (pages: number) => `${String((pages * this.pageSize) / 1024).padStart(8, ' ')} kB\n`;
        const rss = p.mm.rss();
        const { uid, gid } = p.cred;
        return `Name:\t${p.comm.slice(0, 15)}\nTgid:\t${p.pid}\nPid:\t${p.pid}\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\nGid:\t${gid}\t${gid}\t${gid}\t${gid}\n` +
          `VmSize:\t${kb(p.mm.totalVm)}VmRSS:\t${kb(rss.anon + rss.file + rss.shmem)}RssAnon:\t${kb(rss.anon)}RssFile:\t${kb(rss.file)}RssShmem:\t${kb(rss.shmem)}`;
      },
    };
  }

  /** /proc/<pid>/fdinfo/<fd> @kernel fs/proc/fd.c seq_show */
  private fdinfo(p: Process, fd: number, f: File): string {
    const flags = f.flags | (p.isCloexec(fd) ? this.fc.O_CLOEXEC : 0);
    let s = `pos:\t${f.pos}\nflags:\t0${flags.toString(8)}\nmnt_id:\t${f.mntId}\nino:\t${f.inode.ino}\n`;
    if (f.fop.showFdinfo) s += f.fop.showFdinfo(f);
    return s;
  }

  /** /proc/<pid>/maps (mm-user.ts mapsText) */
  private maps(p: Process): string {
    return mapsText(p.mm, (f) => `${hex2(devMajor(f.inode.dev))}:${hex2(devMinor(f.inode.dev))}`);
  }

  /**
   * A node or property of the board's tree under /sys/firmware/devicetree/base (drivers/of/kobj.c:
   * a directory per node named with its full name, a file per property, and a `name` file with
   * the node's base name).
   */
  private dtLookup(rel: string): { node: DtNode } | { prop: Uint8Array } | null {
    let node = this.board!.root;
    const parts = rel.split('/').filter((x) => x !== '');
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      const child = node.children.find((c) => c.name === part);
      if (child !== undefined) {
        node = child;
        continue;
      }
      if (i !== parts.length - 1) return null;
      if (part === 'name') return { prop: strBytes(`${baseName(node.name)}\0`) };
      const p = node.props.find((x) => x.name === part);
      return p === undefined ? null : { prop: p.value };
    }
    return { node };
  }

  /** The emulated build's .config: what /proc/config.gz holds (the options this emulator models). */
  kconfigText(): string {
    const y = (on: boolean, name: string) => (on ? `${name}=y` : `# ${name} is not set`);
    const mods = new Set(this.heapModules);
    const p = this.profile;
    return [
      '#',
      '# Automatically generated file; DO NOT EDIT.',
      `# Linux/${this.arch === 'x86_64' ? 'x86' : 'arm64'} ${p.release} Kernel Configuration (dmaheap emulated kernel)`,
      '#',
      'CONFIG_CMA=y',
      `CONFIG_CMA_SIZE_MBYTES=${this.cmaSizeMbytes}`, // (the command line's cma= overrides it)
      `CONFIG_CMA_ALIGNMENT=${this.cmaAlignment}`,
      'CONFIG_DMA_CMA=y',
      'CONFIG_SWIOTLB=y',
      'CONFIG_MEMCG=y',
      'CONFIG_DMA_SHARED_BUFFER=y',
      y(p.sysfsStats, 'CONFIG_DMABUF_SYSFS_STATS'),
      'CONFIG_DMABUF_HEAPS=y',
      y(mods.has('system'), 'CONFIG_DMABUF_HEAPS_SYSTEM'),
      y(mods.has('cma'), 'CONFIG_DMABUF_HEAPS_CMA'),
      ...(p.cmaLegacyDuplicate ? [y(mods.has('cma'), 'CONFIG_DMABUF_HEAPS_CMA_LEGACY')] : []),
      y(mods.has('coherent') && this.features.coherentHeap !== false, 'CONFIG_DMABUF_HEAPS_COHERENT'),
      ...(p.teeProtectedHeaps ? [y(mods.has('tee'), 'CONFIG_TEE_DMABUF_HEAPS')] : []),
      y(this.udmabuf !== null, 'CONFIG_UDMABUF'),
      '',
    ].join('\n');
  }

  /**
   * The /proc/meminfo lines the tools read (a subset; see docs/fidelity.md), in the kernel's
   * order. MemFree counts the free pages of the page allocator and of the CMA areas; everything
   * else of MemTotal is in use (heap buffers, anonymous memory, shmem pages). MemAvailable is
   * MemFree: there are no reserves (watermarks) and nothing reclaimable (no page cache, no swap).
   * @kernel fs/proc/meminfo.c meminfo_proc_show
   */
  private meminfo(): string {
    const kb = (pages: number) => String((pages * this.pageSize) / 1024).padStart(8, ' ') + ' kB\n';
    const cmaTotal = this.cmaAreas.reduce((n, a) => n + a.count, 0);
    const cmaFree = this.cmaAreas.reduce((n, a) => n + a.availableCount, 0);
    const free = this.buddy.freePages + cmaFree;
    return `MemTotal:       ${kb(this.totalRamPages())}MemFree:        ${kb(free)}MemAvailable:   ${kb(free)}` +
      `AnonPages:      ${kb(this.anonPages)}Shmem:          ${kb(this.shmem.pages + this.shmemAnonPages)}` +
      `CmaTotal:       ${kb(cmaTotal)}CmaFree:        ${kb(cmaFree)}`;
  }
}

interface VirtualInode extends Inode {
  readonly text: () => string | number;
  write?: (text: string, proc: Process) => number;
}

/** Paths on procfs, sysfs (with debugfs and cgroupfs mounted below it): no directory can be made there except in cgroupfs. */
function isPseudoFs(path: string): boolean {
  return path === '/proc' || path.startsWith('/proc/') || path === '/sys' || path.startsWith('/sys/');
}

/** Absolute path with `/proc/self` resolved and no empty, `.` or trailing components. */
function normalize(path: string, pid: number): string | null {
  if (!path.startsWith('/')) return null;
  const parts: string[] = [];
  for (const c of path.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') parts.pop();
    else parts.push(c);
  }
  if (parts[0] === 'proc' && parts[1] === 'self') parts[1] = String(pid);
  return '/' + parts.join('/');
}

/** `ranges` minus `holes` (both lists of byte ranges), sorted. */
function subtractRanges(ranges: readonly { base: number; size: number }[], holes: readonly { base: number; size: number }[]): { base: number; size: number }[] {
  // one sweep over both lists sorted by base: linear in ranges + holes after the sort
  const rs = ranges.filter((r) => r.size > 0).sort((a, b) => a.base - b.base);
  const hs = holes.filter((h) => h.size > 0).sort((a, b) => a.base - b.base);
  const out: { base: number; size: number }[] = [];
  let h = 0;
  for (const r of rs) {
    const end = r.base + r.size;
    let s = r.base;
    while (h < hs.length && hs[h]!.base + hs[h]!.size <= s) h++;
    for (let k = h; k < hs.length && hs[k]!.base < end; k++) {
      const hEnd = hs[k]!.base + hs[k]!.size;
      if (hEnd <= s) continue;
      if (hs[k]!.base > s) out.push({ base: s, size: hs[k]!.base - s });
      s = Math.max(s, hEnd);
      if (s >= end) break;
    }
    if (s < end) out.push({ base: s, size: end - s });
  }
  return out;
}

/**
 * The TEE's protected memory: the available `/firmware/optee` node (compatible
 * "linaro,optee-tz") names it with `memory-region`, one region per use case, named by
 * `memory-region-names` or, in order, secure-video, trusted-ui, secure-video-record. (Mainline
 * 6.18 asks the secure world for the range; the DT form is this emulator's way to describe it,
 * docs/fidelity.md `tee-protected-memory`.)
 */
function teePoolsOf(board: DeviceTree | null, regions: readonly ReservedRegion[], ps: number): TeePool[] {
  const optee = board?.find('/firmware/optee') ?? null;
  if (optee === null || !isAvailable(optee) || !(propStrings(optee, 'compatible') ?? []).includes('linaro,optee-tz')) return [];
  const phandles = propCells(optee, 'memory-region') ?? [];
  const names = propStrings(optee, 'memory-region-names') ?? [];
  const pools: TeePool[] = [];
  phandles.forEach((ph, i) => {
    const region = regions.find((r) => r.phandle === ph && r.status === 'ok');
    const useCase = names[i] ?? TEE_HEAP_USE_CASES[i];
    if (region === undefined || useCase === undefined) return;
    pools.push({ useCase, regionPath: region.path, area: new CmaArea(`tee:${useCase}`, Math.ceil(region.base / ps), Math.floor(region.size / ps)) });
  });
  return pools;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

export { DMA_HEAP_MAJOR };
