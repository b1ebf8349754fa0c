/**
 * A Linux kernel instance with DMA-BUF heaps: boot from a config (version profile, heaps built
 * in, page size, RAM, command line), processes, and the mounted file systems (/dev, /proc, /sys,
 * debugfs, cgroup2; src/kernel/fs). No globals: many kernels may coexist, each with its own memory and numbering.
 */
import { Errno } from '../uapi/errno.js';
import { fcntlConstants } from '../uapi/fcntl.js';
import type { Arch, FcntlConstants } from '../uapi/fcntl.js';
import { bytesStr } from './bytes.js';
import { KernelConfigError } from './config-error.js';
import { Kconfig, builtIn, intValue, kconfigMachine, kconfigValueProblem, maxCmaAreas, resolveBuild } from './kconfig.js';
import type { KconfigInput, KernelBuild } from './kconfig.js';
import { CgroupFs } from './cgroup/cgroup.js';
import type { Cgroup } from './cgroup/cgroup.js';
import { ANON_INODE_DEV, ANON_INODE_MNT_ID, DMABUF_DEV, DMABUF_MNT_ID, DmaBufCore } from './dma-buf/dma-buf.js';
import type { CacheCostConfig } from './dev/cache.js';
import { deviceConfigProblem } from './dev/device.js';
import type { DeviceConfig } from './dev/device.js';
import { DeviceRegistry } from './dev/registry.js';
import { parseSwiotlbParam, swiotlbReserve } from './dev/swiotlb.js';
import { UdmabufDevice } from './dma-buf/udmabuf.js';
import { SyncSanitizer } from './sanitizer/sanitizer.js';
import type { SanitizerOptions } from './sanitizer/sanitizer.js';
import { DEVTMPFS_MNT_ID, DMA_HEAP_MAJOR, DmaHeapCore } from './dma-heap/dma-heap.js';
import type { DmaHeap } from './dma-heap/dma-heap.js';
import { FMODE_READ } from './fs/file.js';
import type { File, FileOperations, Inode } from './fs/file.js';
import { UnixNet } from './fs/af-unix.js';
import { EP_ITEM_COST, EpollWatches } from './fs/eventpoll.js';
import { Cgroup2Fs } from './fs/cgroupfs/cgroupfs.js';
import { Debugfs } from './fs/debugfs/debugfs.js';
import { Devtmpfs } from './fs/devtmpfs/devtmpfs.js';
import type { DevNodeAttrs } from './fs/devtmpfs/devtmpfs.js';
import { internalSb } from './fs/libfs.js';
import { MountTable } from './fs/mount.js';
import { doFilpOpen, doMkdirat, doReaddir, doReadlinkat, doRmdir } from './fs/namei.js';
import { pagemapFops } from './fs/pagemap.js';
import { Procfs } from './fs/procfs/root.js';
import { Rootfs } from './fs/rootfs.js';
import { kernfsSignedChar, Sysfs } from './fs/sysfs/sysfs.js';
import { AnonPage } from './fs/mm-user.js';
import type { MmFeatures } from './fs/mm-syscalls.js';
import type { MmStats, UserPager } from './fs/mm-user.js';
import type { Memcg } from './cgroup/memcontrol.js';
import { dumpTasks, invokedLine, killedLine, memcgMeminfoLines, NO_KILLABLE_LINE, oomScore, selectBadProcess, summaryLine } from './mm/oom-kill.js';
import type { OomGfp, OomTask } from './mm/oom-kill.js';
import { PIDFS_DEV, PIDFS_MNT_ID, Process, pidfdProcess } from './fs/process.js';
import type { Credentials, ProcessHost } from './fs/process.js';
import type { UserMemoryPort } from './fs/mm-remote.js';
import { HEAP_MODULE_BY_NAME } from './heaps/index.js';
import type { HeapModuleName } from './heaps/index.js';
import type { DmemAccounting, KernelFeatures, KernelServices, TeePool, KmemAccounting } from './kapi.js';
import type { DmemRegion } from './cgroup/dmem.js';
import type { DmabufMemcgCharging } from './dma-heap/dma-heap.js';
import { BackingStats } from './mm/backing.js';
import type { HostMemory } from './mm/backing.js';
import { BuddyAllocator } from './mm/buddy.js';
import { CMA_ALIGNMENT_DEFAULT, CmaArea, cmaMinAlignmentBytes } from './mm/cma.js';
import { parseCmdline } from './mm/cmdline.js';
import { archMaxPageOrder } from './mm/page.js';
import { CoherentPool } from './mm/coherent-pool.js';
import { qemuPcRam, resolveLoader } from './of/boot-layout.js';
import type { LoaderConfig } from './of/boot-layout.js';
import { writeFdt } from './of/fdt.js';
import { planMemory } from './of/reserved-mem.js';
import type { MemoryPlan, ReservedRegion } from './of/reserved-mem.js';
import { isAvailable, propCells, propString, propStrings } from './of/tree.js';
import type { DeviceTree } from './of/tree.js';
import { TEE_HEAP_USE_CASES } from './heaps/tee-heap.js';
import { SHMEM_DEV, SHMEM_MNT_ID, ShmemFs } from './mm/shmem.js';
import { DEFAULT_PROFILE, PROFILES, before, isProfileName } from './profile.js';
import { ANDROID_BRANCH_NAMES, androidBranch, androidRelease } from './android.js';
import type { AndroidBranch } from './android.js';
import { FaultInjector } from './fault-inject.js';
import type { AllocFaultRule, MemoryFaultSpec } from './fault-inject.js';
import type { Profile, ProfileName } from './profile.js';

const E = Errno;

export interface KernelConfig {
  /** Kernel version profile (default 7.0; with `android`, the branch's mainline base). */
  profile?: ProfileName;
  /**
   * An Android GKI branch (`android14-6.1`, src/kernel/android.ts): the mainline profile it is
   * based on plus the branch's facts the emulator models (docs/android.md). `profile`, when
   * given too, must be that base.
   */
  android?: string;
  arch?: Arch;
  /** 4096 (default), 16384 or 65536 (arm64 only). */
  pageSize?: number;
  /** RAM in bytes (default 2 GiB, as the oracle VM). */
  ramBytes?: number;
  /** Kernel command line, e.g. `cma=64M` (default: empty). */
  cmdline?: string;
  /**
   * The kernel's build configuration (docs/kconfig.md): a whole `.config` as text (a modelled
   * symbol it lacks takes its Kconfig default), options on top of the emulated build's
   * configuration as a map or record (`{ CMA_SIZE_MBYTES: 64, DMABUF_HEAPS_CMA: false }`), or
   * a Kconfig. Heaps, CMA areas, /proc/config.gz and the architecture and page size (when not
   * given) follow it. A bad line or value throws a KconfigError (a KernelConfigError) with
   * `source:line`. The fields `heaps`, `cmaSizeMbytes`, `cmaAlignment` and `udmabuf` are options
   * set on top of it.
   */
  kconfig?: KconfigInput;
  /**
   * How the boot loader laid out the kernel image, initrd and DTB (of/boot-layout.ts
   * LoaderConfig; `{ preset: 'qemu-virt' }` is the arm64 referee's). Default: with a board,
   * none; an x86-64 machine without a board, qemu-pc (the x86 referees' QEMU pc: its e820 map);
   * an arm64 one without a board, the kernel image in the first 16 MiB of one bank of RAM.
   * `{ preset: 'none' }` keeps the single bank on x86-64 too.
   */
  loader?: LoaderConfig;
  /** Heap modules built in (CONFIG_DMABUF_HEAPS_SYSTEM, _CMA, TEE_DMABUF_HEAPS; default: all the config builds). */
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
  /**
   * Host memory that every exported heap buffer's bytes are bound to, so that a native program
   * can map them for real (`dmaheap run`, src/backends/run). Default: none.
   */
  hostMemory?: HostMemory;
  /**
   * The ABI of the programs that make the system calls when it is not the machine's own
   * (`dmaheap run` runs the host's programs on an emulated machine of another architecture):
   * struct stat, the O_* values and the address-space layout follow it. Default: `arch`.
   */
  abi?: Arch;
  /**
   * Allocation-failure rules in force from boot (`kernel.faults.add()` each; src/kernel/fault-inject.ts,
   * docs/faults.md). A bad rule, or one whose `heap` the booted machine does not have, throws a
   * KernelConfigError saying what is allowed.
   */
  faults?: readonly AllocFaultRule[];
  /**
   * Memory faults applied once the kernel has booted, before any process runs (the CLI's
   * `--fault shrink-cma:`, `pin:`, `take-memory:`): a CMA area shrunk or pinned, RAM taken.
   * One that cannot be applied throws a KernelConfigError saying why.
   */
  memoryFaults?: readonly MemoryFaultSpec[];
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

/** The most Kernel.readFile() reads of one file (a tool's helper, not a syscall). */
export const READ_FILE_MAX = 64 * 1024 * 1024;

export class Kernel implements ProcessHost, KernelServices {
  /**
   * get_next_ino() (fs/inode.c): the counter pseudo inodes share, where this model draws from it
   * (dma-buf inodes before they had their own counter, Profile.dmabufOwnIno). It starts where the
   * 5.10 referee's boot left it when its first program ran (divergence boot-ino).
   */
  private lastPseudoIno = PSEUDO_INO_AT_FIRST_PROGRAM;
  readonly profile: Profile;
  /** The Android GKI branch the kernel stands for (KernelConfig.android), or null for mainline. */
  readonly android: AndroidBranch | null;
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
  /** KernelConfig.hostMemory (`dmaheap run`), or null. */
  readonly hostMemory: HostMemory | null;
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
  /** The heap modules built in (CONFIG_DMABUF_HEAPS_*), in link order. */
  heapModules: readonly HeapModuleName[] = [];
  /** The build configuration (kconfig.ts): every modelled symbol's value and the .config text. */
  readonly build: KernelBuild;
  /** CONFIG_CMA_SIZE_MBYTES (0 without CONFIG_DMA_CMA) */
  readonly cmaSizeMbytes: number;
  readonly cmaAlignment: number;
  /** CONFIG_DMABUF_HEAPS_CMA_LEGACY (6.17–6.18) */
  readonly cmaLegacyHeap: boolean;
  /** CONFIG_DMABUF_SYSFS_STATS: /sys/kernel/dmabuf/buffers */
  readonly sysfsStats: boolean;
  /** CONFIG_DMABUF_HEAPS: /sys/class/dma_heap exists */
  readonly heapsFramework: boolean;
  /** CONFIG_CMA_SYSFS and CONFIG_CMA_DEBUGFS: /sys/kernel/mm/cma and /sys/kernel/debug/cma */
  readonly cmaSysfs: boolean;
  readonly cmaDebugfs: boolean;
  readonly dmaBuf: DmaBufCore;
  /** DMA devices, the swiotlb pools and the CPU cache model (src/kernel/dev). */
  readonly devices: DeviceRegistry;
  /** The sync sanitizer, when KernelConfig.sanitizer asked for one. */
  readonly sanitizer: SyncSanitizer | null;
  readonly dmaHeap: DmaHeapCore;
  /**
   * Fault injection (src/kernel/fault-inject.ts): allocation-failure rules at the dma-heap
   * allocate step, and memory faults (a CMA area shrunk or pinned, RAM taken away).
   */
  readonly faults: FaultInjector;
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
  /** The mount table: every path walk starts at its root (src/kernel/fs/namei.ts). */
  readonly mnts = new MountTable();
  /** /dev (its device nodes' owners and modes change with udev rules: setDevNode). */
  private readonly devtmpfs: Devtmpfs;
  /** /proc/<pid>/pagemap (made on first use) */
  private pagemapOps: FileOperations | null = null;
  /** First process (pid 1, root). */
  readonly init: Process;

  constructor(config: KernelConfig = {}) {
    const android = config.android === undefined ? null : androidBranch(config.android);
    if (config.android !== undefined && android === null) throw new KernelConfigError(`unknown Android GKI branch '${String(config.android)}' (known: ${ANDROID_BRANCH_NAMES.join(', ')})`);
    if (android !== null && config.profile !== undefined && config.profile !== android.mainline) throw new KernelConfigError(`the Android branch ${android.name} is based on Linux ${android.mainline}, not on the ${String(config.profile)} profile`);
    const profileName = config.profile ?? android?.mainline ?? DEFAULT_PROFILE;
    if (android !== null && !isProfileName(profileName)) throw new KernelConfigError(`the Android branch ${android.name} needs the ${profileName} mainline profile, which this build does not have (known: ${Object.keys(PROFILES).join(', ')})`);
    if (!isProfileName(profileName)) throw new KernelConfigError(`unknown kernel profile '${String(profileName)}' (known: ${Object.keys(PROFILES).join(', ')})`);
    this.android = android;
    // a GKI kernel's uname -r (src/kernel/android.ts androidRelease: only with a sourced KMI generation)
    this.profile = android === null ? PROFILES[profileName] : { ...PROFILES[profileName], release: androidRelease(PROFILES[profileName].release, android) };
    this.hostMemory = config.hostMemory ?? null;
    const kc = config.kconfig === undefined ? Kconfig.empty : Kconfig.from(config.kconfig);
    const kcMachine = kconfigMachine(kc);
    this.arch = config.arch ?? kcMachine.arch ?? 'x86_64';
    if (this.arch !== 'x86_64' && this.arch !== 'arm64') throw new KernelConfigError(`unknown architecture '${String(this.arch)}' (known: x86_64, arm64)`);
    if (kcMachine.arch !== null && kcMachine.arch !== this.arch) {
      throw new KernelConfigError(`the kernel configuration is for ${kcMachine.arch} (CONFIG_${kcMachine.arch === 'arm64' ? 'ARM64' : 'X86_64'}=y) but the machine is ${this.arch} (its arch or board): give a configuration for ${this.arch}, or the other architecture`);
    }
    this.pageSize = config.pageSize ?? kcMachine.pageSize ?? 4096;
    if (kcMachine.pageSize !== null && kcMachine.pageSize !== this.pageSize) {
      throw new KernelConfigError(`the kernel configuration has ${kcMachine.pageSize / 1024} KiB pages but the machine ${this.pageSize / 1024} KiB (its page size): give one page size`);
    }
    const okSizes = this.arch === 'arm64' ? [4096, 16384, 65536] : [4096];
    if (!okSizes.includes(this.pageSize)) throw new KernelConfigError(`page size ${this.pageSize} is not supported on ${this.arch} (use ${okSizes.join(', ')})`);
    this.ramBytes = config.ramBytes ?? 2 * 1024 ** 3; // replaced by the board's /memory when there is one
    if (!Number.isSafeInteger(this.ramBytes) || this.ramBytes < 64 * 1024 * 1024 || this.ramBytes % this.pageSize !== 0) {
      throw new KernelConfigError(`RAM size ${this.ramBytes} must be a whole number of pages and at least 64 MiB`);
    }
    if (config.cmaAlignment !== undefined && (!Number.isInteger(config.cmaAlignment) || config.cmaAlignment < 2 || config.cmaAlignment > 12)) throw new KernelConfigError(`CONFIG_CMA_ALIGNMENT must be 2..12, not ${config.cmaAlignment}`);
    this.ramBase = RAM_BASE[this.arch];
    this.board = config.board ?? null;
    this.features = {
      coherentHeap: config.features?.coherentHeap ?? false,
      dmemCharging: config.features?.dmemCharging ?? false,
      chargePidFd: config.features?.chargePidFd ?? false,
    };
    this.build = resolveBuild(kc.with(legacyOptions(config, this.profile)), { profile: profileName, arch: this.arch, pageSize: this.pageSize, coherentHeap: this.features.coherentHeap !== false });
    const b = this.build;
    const dmaCma = builtIn(b, 'DMA_CMA');
    this.cmaAlignment = intValue(b, 'CMA_ALIGNMENT', CMA_ALIGNMENT_DEFAULT);
    this.cmaSizeMbytes = dmaCma ? intValue(b, 'CMA_SIZE_MBYTES', 0) : 0;
    this.cmaLegacyHeap = builtIn(b, 'DMABUF_HEAPS_CMA_LEGACY');
    this.sysfsStats = builtIn(b, 'DMABUF_SYSFS_STATS');
    this.heapsFramework = builtIn(b, 'DMABUF_HEAPS');
    this.cmaSysfs = builtIn(b, 'CMA_SYSFS');
    this.cmaDebugfs = builtIn(b, 'CMA_DEBUGFS');
    if (config.loader !== undefined) {
      const bad = resolveLoader(config.loader, { arch: this.arch, ram: [], dtbFileSize: null });
      if ('error' in bad) throw new KernelConfigError(bad.error);
    }
    const chosen = this.board?.find('/chosen') ?? null;
    this.cmdline = config.cmdline ?? (chosen !== null ? propString(chosen, 'bootargs') : null) ?? '';
    // the user-space ABI: the machine's, or the host's where native programs of another
    // architecture than the machine's call it (`dmaheap run` of an arm64 board on x86-64)
    this.statLayout = config.abi ?? this.arch;
    this.fc = fcntlConstants(this.statLayout);
    this.zeroPage = new Uint8Array(this.pageSize);
    this.pidfdThread = this.profile.pidfdThread;
    this.mmFeatures = { mapDroppable: this.profile.mapDroppable, guardRegions: this.profile.guardRegions, mremapMultiVma: this.profile.mremapMultiVma, mergeIntoNoAnonVma: this.profile.mergeIntoNoAnonVma, mremapShrinkUnchecked: this.profile.mremapShrinkUnchecked };
    const ps = this.pageSize;
    const params = parseCmdline(this.cmdline);
    this.log(`Linux version ${this.profile.release} (dmaheap emulated kernel)`);
    this.log(`Command line: ${this.cmdline}`);

    // RAM, /memreserve/, reserved-memory regions, their handlers and the default CMA area, in the
    // kernel's boot order (drivers/of/fdt.c, drivers/of/of_reserved_mem.c,
    // kernel/dma/contiguous.c dma_contiguous_reserve). Without a board the kernel image keeps the
    // first 16 MiB of RAM (unless the loader places it), and x86-64 RAM is the QEMU pc's e820 map
    // unless another loader is given; with a board, where the loader put the image is
    // `config.loader` (none by default: docs/fidelity.md, ram-layout). arm64 allocates its linear map's page tables and the
    // unflattened tree before the default CMA area (of/boot-layout.ts).
    // An x86-64 machine without a board is the x86 referees' QEMU pc unless a loader is given.
    const loader: LoaderConfig | undefined = config.loader ?? (this.board === null && this.arch === 'x86_64' ? { preset: 'qemu-pc' } : undefined);
    const qemuPc = loader?.preset === 'qemu-pc';
    const sel = (['MBYTES', 'PERCENTAGE', 'MIN', 'MAX'] as const).find((x) => builtIn(b, `CMA_SIZE_SEL_${x}`)) ?? 'MBYTES';
    const hugePages = builtIn(b, 'TRANSPARENT_HUGEPAGE') || builtIn(b, 'HUGETLB_PAGE') || builtIn(b, 'HUGETLBFS');
    const plan = planMemory({
      tree: this.board,
      params,
      arch: this.arch,
      pageSize: ps,
      // qemu-pc (the x86-64 default without a board): the referees' QEMU pc (its e820 holes); else one bank
      ramFallback: qemuPc ? qemuPcRam(this.ramBytes) : [{ base: this.ramBase, size: this.ramBytes }],
      cmaSizeMbytes: this.cmaSizeMbytes,
      cmaSizeSel: sel.toLowerCase() as 'mbytes' | 'percentage' | 'min' | 'max',
      cmaSizePercentage: intValue(b, 'CMA_SIZE_PERCENTAGE', 0),
      cma: builtIn(b, 'CMA'),
      dmaCma,
      cmaMinAlign: cmaMinAlignmentBytes(ps, this.arch, { hugePages, maxOrder: intValue(b, 'PAGE_BLOCK_MAX_ORDER', archMaxPageOrder(ps, this.arch)) }),
      arm64ZoneDma: builtIn(b, 'ZONE_DMA') || builtIn(b, 'ZONE_DMA32'),
      maxCmaAreas: maxCmaAreas(b, profileName),
      kernelImage: { base: this.ramBase, size: this.board === null ? KERNEL_RESERVED_BYTES : 0 },
      ...(loader !== undefined ? { loader, dtbFileSize: this.board === null ? null : writeFdt(this.board).length } : {}),
      ...(this.arch === 'arm64' ? { earlyAllocs: { pageTables: true, unflatten: this.board === null ? null : { bootargs: this.cmdline !== '' } } } : {}),
      ...(qemuPc ? { earlyAllocs: { pageTables: false, unflatten: null, x86FirstPmd: true } } : {}),
      profile: this.profile.name,
    });
    this.memoryPlan = b.notes.length === 0 ? plan : { ...plan, diagnostics: [...b.notes.map((n) => `kconfig: ${n}`), ...plan.diagnostics] };
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
      area.oversizeCountsFail = this.profile.cmaOversizeCountsFail;
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
    const kmallocBounce = this.arch === 'arm64' && !before(this.profile.name, '6.5');
    const swiotlb = !builtIn(b, 'SWIOTLB') ? null : swiotlbReserve({ param: parseSwiotlbParam(params.get('swiotlb')), arch: this.arch, pageSize: ps, memblock: plan.memblock, kmallocBounce });
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
      dmem: builtIn(b, 'CGROUP_DMEM'),
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
      sysfsStats: this.sysfsStats,
      setNameBusyWhenAttached: this.profile.setNameBusyWhenAttached,
      // ≤6.14 dma_buf_dynamic_attach() pre-maps for mismatched importer/exporter (dropped in 6.15)
      mapOnDynamicAttach: before(this.profile.name, '6.15'),
      fmodeNoNotify: this.profile.fmodeNoNotify,
      noexec: this.profile.pseudoFsNoexec,
      syncFileIoctls: this.profile.syncFileIoctls,
      bufinfoNameColumn: this.profile.bufinfoNameColumn,
      pollWakes: this.profile.dmaBufPollWakes,
      ...(this.profile.dmabufOwnIno ? {} : { nextIno: () => this.getNextIno() }),
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
    this.faults = new FaultInjector(this);
    for (const rule of config.faults ?? []) this.faults.add(rule);
    this.sanitizer = config.sanitizer ? new SyncSanitizer(this.dmaBuf.events, config.sanitizer === true ? {} : config.sanitizer) : null;
    this.dmaHeap = new DmaHeapCore({
      pageSize: ps,
      fc: this.fc,
      duplicateNameErrno: this.profile.duplicateNameErrno,
      heapFdAfterCopyOut: this.profile.heapFdAfterCopyOut,
      dmaBuf: this.dmaBuf,
      log: (l) => this.log(l),
      dmabufCharging: this.features.chargePidFd ? this.dmabufMemcgCharging() : null,
      allocFault: (heap, proc) => this.faults.allocFault(heap.name, proc),
    });
    this.shmem = new ShmemFs({
      pageSize: ps, fc: this.fc, buddy: this.buddy, backing: this.backing, zeroPage: this.zeroPage,
      writeBeginBeforeFault: this.profile.writeBeginBeforeFault, shmemDirectIo: this.profile.shmemDirectIo,
    });
    this.udmabuf = !builtIn(b, 'UDMABUF') ? null : new UdmabufDevice({
      pageSize: ps, fc: this.fc, dmaBuf: this.dmaBuf, shmem: this.shmem,
      sizeLimitMb: this.profile.udmabufSizeLimitMb, minor: this.profile.udmabufMinor, rangeEinval: this.profile.udmabufRangeEinval,
    });
    // initcalls: heap modules in link order (drivers/dma-buf/heaps/Makefile), the ones the
    // configuration builds in (a module, =m, is not loaded)
    const wanted = new Set<HeapModuleName>(config.heaps ?? ['system', 'cma', 'coherent', 'tee']);
    for (const name of wanted) if (!(name in HEAP_MODULE_BY_NAME)) throw new KernelConfigError(`unknown heap module '${name}' (known: ${Object.keys(HEAP_MODULE_BY_NAME).join(', ')})`);
    const built: Record<HeapModuleName, boolean> = {
      system: builtIn(b, 'DMABUF_HEAPS_SYSTEM'), cma: builtIn(b, 'DMABUF_HEAPS_CMA'), coherent: this.heapsFramework, tee: builtIn(b, 'TEE_DMABUF_HEAPS'),
    };
    for (const name of [...wanted]) if (!built[name]) wanted.delete(name);
    this.heapModules = [...wanted];
    for (const [name, mod] of Object.entries(HEAP_MODULE_BY_NAME) as [HeapModuleName, (typeof HEAP_MODULE_BY_NAME)[HeapModuleName]][]) {
      if (!wanted.has(name)) continue;
      const r = mod.init(this);
      if (r < 0) this.log(`initcall ${mod.name}_init returned ${r}`);
    }

    this.devtmpfs = new Devtmpfs(this);
    this.mountFilesystems();
    this.init = this.spawn({ uid: 0, gid: 0, groups: [] }, 'init');
    // a boot-time rule for a heap this machine does not have would never fire: most likely a typo
    // or a heap another kernel version names differently
    for (const rule of config.faults ?? []) {
      if (rule.heap !== undefined && !this.heaps().some((h) => h.name === rule.heap)) {
        throw new KernelConfigError(`a fault rule names heap '${rule.heap}', which this machine does not have (its heaps: ${this.heaps().map((h) => h.name).join(', ') || 'none'})`);
      }
    }
    for (const f of config.memoryFaults ?? []) {
      const h = this.faults.apply(f);
      if (typeof h === 'number') throw new KernelConfigError(this.faults.describeRefusal(f, h));
    }
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
  /** AF_UNIX socket pairs (SCM_RIGHTS): src/kernel/fs/af-unix.ts */
  readonly unixNet = new UnixNet();
  /**
   * Every user's epoll watches; fs.epoll.max_user_watches is 4% of RAM over the cost of a watch
   * (fs/eventpoll.c eventpoll_init: all memory is low memory on 64-bit).
   */
  get epollWatches(): EpollWatches {
    this.epollWatchesOf ??= new EpollWatches(Math.floor((this.ramBytes / 25) / EP_ITEM_COST));
    return this.epollWatchesOf;
  }
  private epollWatchesOf: EpollWatches | null = null;

  /** The anon_inode mount's shared inode (epoll instances, sync_files). */
  anonInode(): { readonly inode: Inode; readonly mntId: number } {
    return { inode: this.dmaBuf.anonInode(), mntId: ANON_INODE_MNT_ID };
  }

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
  /** get_next_ino(): the next number of the shared pseudo inode counter. */
  getNextIno(): number {
    return ++this.lastPseudoIno;
  }

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
    for (const l of dumpTasks(tasks, !before(this.profile.name, '6.8'))) this.log(l);
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

  /**
   * A process that mirrors a real one (`dmaheap run`): it has the real pid, starts as a child of
   * `parent` (init when null), and its user memory is the real process's (`port`). Its fd numbers
   * are the real kernel's; the caller sets {@link Process.fdAllocator}.
   */
  adoptProcess(pid: number, comm: string, parent: Process | null, port: UserMemoryPort, cred: Credentials = { uid: 0, gid: 0, groups: [] }): Process {
    const p = new Process(this, pid, { ...cred, groups: [...cred.groups] }, comm);
    p.attachUserMemory(port);
    this.registerProcess(p, parent ?? this.init);
    return p;
  }

  /** Gives a process another pid (a mirrored fork learns the pid its real child got). */
  renumberProcess(p: Process, pid: number): void {
    if (this.processes.get(p.pid) === p) this.processes.delete(p.pid);
    p.pid = pid;
    p.mm.ownerPid = pid;
    this.processes.set(pid, p);
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
    this.devtmpfs.setNodeAttrs(heap, attrs);
    return 0;
  }

  // ---- VFS (src/kernel/fs/namei.ts walks the mounts made here) ------------------------------

  /**
   * The mount table: the read-only root with devtmpfs on /dev, procfs on /proc, sysfs on /sys,
   * debugfs on /sys/kernel/debug and cgroup2 on /sys/fs/cgroup (mount ids 21-26 in that order),
   * and the internal mounts of memfds (1), dma-bufs (8), sync_files (11) and pidfds (16).
   * @kernel init/do_mounts.c, drivers/base/devtmpfs.c devtmpfs_mount, fs/namespace.c kern_mount
   */
  private mountFilesystems(): void {
    const m = this.mnts;
    const rootfs = new Rootfs();
    const root = m.mountRoot(21, rootfs, true);
    m.mount(DEVTMPFS_MNT_ID, this.devtmpfs, { mnt: root, dentry: rootfs.dirs.dev }, true);
    m.mount(23, new Procfs(this), { mnt: root, dentry: rootfs.dirs.proc });
    const sysfs = new Sysfs(this);
    const sys = m.mount(24, sysfs, { mnt: root, dentry: rootfs.dirs.sys });
    m.mount(25, new Debugfs(this), { mnt: sys, dentry: sysfs.dirs.debug });
    m.mount(26, new Cgroup2Fs(this.cgroups, kernfsSignedChar(this.profile, this.arch)), { mnt: sys, dentry: sysfs.dirs.cgroup });
    m.kernMount(SHMEM_MNT_ID, internalSb('tmpfs', SHMEM_DEV));
    m.kernMount(DMABUF_MNT_ID, internalSb('dmabuf', DMABUF_DEV));
    m.kernMount(ANON_INODE_MNT_ID, internalSb('anon_inodefs', ANON_INODE_DEV));
    m.kernMount(PIDFS_MNT_ID, internalSb('pidfs', PIDFS_DEV));
  }

  /** The VFS half of open(2) (namei.ts doFilpOpen), after the fd was reserved. */
  openPath(proc: Process, path: string, flags: number): File | number {
    return doFilpOpen(this, proc, path, flags);
  }

  /** readlink(2) of a path (namei.ts doReadlinkat). */
  readlinkPath(proc: Process, path: string): string | number {
    return doReadlinkat(this.mnts, proc, path);
  }

  /** mkdir(2) (namei.ts doMkdirat). */
  mkdirPath(proc: Process, path: string, mode: number): number {
    return doMkdirat(this.mnts, proc, path, mode);
  }

  /** rmdir(2) (namei.ts doRmdir). */
  rmdirPath(proc: Process, path: string): number {
    return doRmdir(this.mnts, proc, path);
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

  /** Names in a directory as `proc` would list them, or null when it cannot (see {@link readdirAt}). */
  readdir(path: string, proc: Process = this.init): string[] | null {
    const r = this.readdirAt(path, proc);
    return typeof r === 'number' ? null : r;
  }

  /**
   * Names in a directory as `proc` lists them (opendir + getdents, without `.` and `..`): the
   * names, or a negated errno as the open gives it (ENOENT, ENOTDIR, EACCES: another user's
   * /proc/<pid>/fd and fdinfo, debugfs).
   */
  readdirAt(path: string, proc: Process = this.init): string[] | number {
    const r = doReaddir(this, proc, path);
    return typeof r === 'number' ? r : [...r];
  }

  /** /proc/<pid>/oom_score of `p`. */
  oomScore(p: Process): number {
    return oomScore(this.oomTask(p), this.totalRamPages(), this.pageSize);
  }

  /** The file operations of /proc/<pid>/pagemap (made on first use). */
  pagemapFops(): FileOperations {
    this.pagemapOps ??= pagemapFops({ pageSize: this.pageSize, arch: this.arch, dmaBufFops: this.dmaBuf.fops, shmemFops: this.shmem.fops, processes: () => this.processes.values() });
    return this.pagemapOps;
  }

  /** The build's .config: what /proc/config.gz holds (kconfig.ts; the given one, or the emulated build's). */
  kconfigText(): string {
    return this.build.text;
  }
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


export { DMA_HEAP_MAJOR };

/**
 * KernelConfig's older fields as Kconfig options on top of `kconfig`: `heaps` (the system, CMA
 * and TEE heap symbols), `cmaSizeMbytes`, `cmaAlignment` and `udmabuf`.
 */
/** get_next_ino() as the 5.10 referee's first program finds it (divergence boot-ino). */
const PSEUDO_INO_AT_FIRST_PROGRAM = 103;

function legacyOptions(config: KernelConfig, profile: Profile): [string, string][] {
  const opts: [string, string][] = [];
  if (config.heaps !== undefined) {
    const h = new Set(config.heaps);
    opts.push(['DMABUF_HEAPS_SYSTEM', h.has('system') ? 'y' : 'n'], ['DMABUF_HEAPS_CMA', h.has('cma') ? 'y' : 'n']);
    if (profile.teeProtectedHeaps && !h.has('tee')) opts.push(['TEE_DMABUF_HEAPS', 'n']);
  }
  if (config.cmaSizeMbytes !== undefined) {
    const v = String(config.cmaSizeMbytes);
    const problem = Number.isSafeInteger(config.cmaSizeMbytes) ? kconfigValueProblem('CMA_SIZE_MBYTES', v) : `CONFIG_CMA_SIZE_MBYTES is a whole number of MiB, not ${v}`;
    if (problem !== null) throw new KernelConfigError(problem);
    opts.push(['CMA_SIZE_MBYTES', v]);
  }
  if (config.cmaAlignment !== undefined) opts.push(['CMA_ALIGNMENT', String(config.cmaAlignment)]);
  if (config.udmabuf !== undefined) opts.push(['UDMABUF', config.udmabuf ? 'y' : 'n']);
  return opts;
}
