/**
 * What sits in memory before the kernel places its CMA areas, besides the device tree's
 * reserved memory (docs/device-tree.md, "Boot-time reservations"; docs/kconfig.md, "The boot loader"):
 *
 * - what the boot loader put there: the kernel image, the initrd and the DTB, each reserved by
 *   the kernel at boot (arm64 arm64_memblock_init(), early_init_fdt_reserve_self()). Where they
 *   are depends on the loader: {@link LoaderConfig}, with a preset for QEMU's arm64 `-machine
 *   virt` loader, the arm64 referee's;
 * - the kernel's own early memblock allocations on arm64, all top-down: the page tables of the
 *   linear map (paging_init() → map_mem(), page-granular as with rodata=full, the default), the
 *   reserved_mem array (v6.12+, fdt_scan_reserved_mem_late()) and the unflattened device tree
 *   (unflatten_device_tree()). They push the default CMA area down: on the arm64 referee with
 *   1 GiB of RAM, 2 MiB of page tables and 41 KiB of tree put it at 0x7bc00000, not 0x7c000000.
 *
 * Every number here was checked on the arm64 referee (Linux 7.3-rc7 under qemu-system-aarch64
 * -machine virt, memblock=debug; test/oracle/arm64-7.3/): the page-table count for 512 MiB to
 * 3 GiB of RAM, the structure sizes behind the unflattened tree's size, QEMU's placements.
 *
 * @kernel arch/arm64/kernel/setup.c setup_arch(), arch/arm64/mm/init.c arm64_memblock_init(),
 *         arch/arm64/mm/mmu.c paging_init(), map_mem(), early_pgtable_alloc(),
 *         drivers/of/fdt.c unflatten_device_tree(), populate_node(), populate_properties(),
 *         drivers/of/of_reserved_mem.c fdt_scan_reserved_mem_late()
 */
import type { PhysRange } from './memblock.js';
import type { DeviceTree, DtNode } from './tree.js';

const SZ_2M = 2 * 1024 * 1024;
const SZ_128M = 128 * 1024 * 1024;

/** A loader's placement: `size` bytes, at `base` (or where the preset puts it when absent). */
export interface LoaderItem {
  readonly size: number;
  readonly base?: number;
}

/**
 * How the boot loader laid the kernel, initrd and DTB out in RAM (KernelConfig.loader, CLI
 * `--loader`).
 *
 * - `qemu-virt`: QEMU's arm64 loader for `-machine virt -kernel Image -initrd … -dtb …`
 *   (hw/arm/boot.c): the image at the start of RAM + its text_offset (0 since Linux 5.8) + 2 MiB,
 *   the initrd at the start of RAM + min(RAM / 2, 128 MiB), the DTB at the next 2 MiB boundary
 *   after the initrd, (file size + 10000) × 2 bytes long (load_device_tree()'s buffer, never
 *   packed); QEMU also replaces the tree's /memory nodes with one `memory@<base>` and sets
 *   /chosen bootargs, linux,initrd-start and linux,initrd-end. Sizes default to the arm64
 *   referee's: a 0x470000-byte image and a 1297142-byte initrd.
 * - `qemu-pc`: the x86-64 referees' QEMU `-machine pc` with SeaBIOS and no board: RAM as its e820
 *   map describes it ({@link qemuPcRam}: holes below 1 MiB, the firmware's top 128 KiB of low
 *   RAM, the PCI hole), and the kernel's first early allocation that moves placements (the
 *   first 2 MiB of init_mem_mapping()'s page tables). The kernel image keeps the first 16 MiB.
 *   The default of an x86-64 machine without a board (KernelConfig.loader absent).
 * - `none` (the default with a board): no loader reservations; give `image`, `initrd` and `dtb`
 *   with their addresses to describe another loader (U-Boot's kernel_addr_r, …). Without a board
 *   and without `image`, RAM is one bank whose first 16 MiB the kernel image keeps.
 */
export interface LoaderConfig {
  readonly preset?: 'qemu-virt' | 'qemu-pc' | 'none';
  /** The kernel image: its size is _end - _text (the arm64 Image header's image_size). */
  readonly image?: LoaderItem;
  /** The initrd (its file size; 0: none). */
  readonly initrd?: LoaderItem;
  /** The flattened device tree as the kernel finds it (its totalsize). */
  readonly dtb?: LoaderItem;
}

export const LOADER_PRESETS = ['qemu-virt', 'qemu-pc', 'none'] as const;

/** The arm64 referee's kernel image (images-arm64-7.3/Image.gz header: image_size 0x470000). */
export const QEMU_VIRT_IMAGE_SIZE = 0x470000;
/** The arm64 referee's initramfs (images-arm64-7.3/initramfs.cpio.gz). */
export const QEMU_VIRT_INITRD_SIZE = 1_297_142;

/** Where the loader put things, as the kernel reserves them (null: not modelled). */
export interface BootLayout {
  readonly image: PhysRange | null;
  readonly initrd: PhysRange | null;
  readonly dtb: PhysRange | null;
  /** QEMU rewrote /memory and /chosen (for the unflattened tree's size). */
  readonly qemuTree: boolean;
}

/** Inputs of {@link resolveLoader}. */
export interface LoaderContext {
  readonly arch: 'x86_64' | 'arm64';
  /** RAM as memblock has it before anything is reserved (the start of RAM is QEMU's loader_start). */
  readonly ram: readonly PhysRange[];
  /** Size of the DTB as a file (for the qemu-virt preset's (size + 10000) × 2), or null without a tree. */
  readonly dtbFileSize: number | null;
}

const alignUp = (v: number, a: number): number => Math.ceil(v / a) * a;

/**
 * The placements of a loader configuration, or `{ error }` saying what is wrong (a preset for
 * another architecture, an item without an address and no preset to place it, a size or address
 * that is not a whole non-negative number).
 */
export function resolveLoader(cfg: LoaderConfig, ctx: LoaderContext): BootLayout | { error: string } {
  for (const [what, item] of [['image', cfg.image], ['initrd', cfg.initrd], ['dtb', cfg.dtb]] as const) {
    if (item === undefined) continue;
    if (!Number.isSafeInteger(item.size) || item.size < 0) return { error: `loader ${what}: size ${String(item.size)} is not a whole number of bytes` };
    if (item.base !== undefined && (!Number.isSafeInteger(item.base) || item.base < 0)) return { error: `loader ${what}: address ${String(item.base)} is not a whole number` };
  }
  const preset = cfg.preset ?? 'none';
  if (preset === 'none') {
    const place = (what: string, item: LoaderItem | undefined): PhysRange | null | { error: string } => {
      if (item === undefined || item.size === 0) return null;
      if (item.base === undefined) return { error: `loader ${what}=${item.size}: give its address (${what}=SIZE@ADDR), or use a preset (qemu-virt) that places it` };
      return { base: item.base, size: item.size };
    };
    const image = place('image', cfg.image);
    const initrd = place('initrd', cfg.initrd);
    const dtb = place('dtb', cfg.dtb);
    for (const x of [image, initrd, dtb]) if (x !== null && 'error' in x) return x;
    return { image: image as PhysRange | null, initrd: initrd as PhysRange | null, dtb: dtb as PhysRange | null, qemuTree: false };
  }
  if (preset === 'qemu-pc') {
    if (ctx.arch !== 'x86_64') return { error: 'loader qemu-pc: QEMU\'s -machine pc is x86-64 (the machine is arm64): use qemu-virt' };
    if (ctx.dtbFileSize !== null) return { error: 'loader qemu-pc: the QEMU pc machine describes its RAM with e820, not a device tree: drop --board, or use none' };
    if (cfg.image !== undefined || cfg.initrd !== undefined || cfg.dtb !== undefined) return { error: 'loader qemu-pc: takes no image, initrd or dtb items (the kernel image keeps the first 16 MiB)' };
    return { image: null, initrd: null, dtb: null, qemuTree: false };
  }
  if (ctx.arch !== 'arm64') return { error: 'loader qemu-virt: QEMU\'s -machine virt loader is for arm64 (the machine is x86_64): use qemu-pc' };
  const start = ctx.ram[0]?.base ?? 0;
  const ramSize = ctx.ram.reduce((n, r) => n + r.size, 0);
  // hw/arm/boot.c load_aarch64_image(): text_offset 0 (< BOOTLOADER_MAX_SIZE) → + 2 MiB
  const imageSize = cfg.image?.size ?? QEMU_VIRT_IMAGE_SIZE;
  const image = imageSize === 0 ? null : { base: cfg.image?.base ?? start + SZ_2M, size: imageSize };
  // arm_setup_direct_kernel_boot(): initrd at loader_start + MIN(ram_size / 2, 128 MiB), above the image
  const initrdSize = cfg.initrd?.size ?? QEMU_VIRT_INITRD_SIZE;
  let initrdStart = cfg.initrd?.base ?? start + Math.min(Math.floor(ramSize / 2), SZ_128M);
  if (cfg.initrd?.base === undefined && image !== null) initrdStart = Math.max(initrdStart, image.base + image.size);
  const initrd = initrdSize === 0 ? null : { base: initrdStart, size: initrdSize };
  // arm_load_dtb(): after the initrd, 2 MiB aligned; load_device_tree(): (file + 10000) * 2 bytes
  const dtbSize = cfg.dtb?.size ?? (ctx.dtbFileSize === null ? 0 : (ctx.dtbFileSize + 10000) * 2);
  const dtb = dtbSize === 0 ? null : { base: cfg.dtb?.base ?? alignUp(initrdStart + initrdSize, SZ_2M), size: dtbSize };
  return { image, initrd, dtb, qemuTree: ctx.dtbFileSize !== null };
}

/**
 * Parses the CLI form of a loader: a preset name and/or `image=SIZE[@ADDR]`, `initrd=SIZE[@ADDR]`,
 * `dtb=SIZE[@ADDR]`, comma-separated (`qemu-virt`, `qemu-virt,initrd=0`,
 * `image=0x470000@0x40200000`). `size` reads a size (the caller's parser, with its units).
 */
export function parseLoaderSpec(spec: string, size: (text: string, what: string) => number): LoaderConfig | { error: string } {
  const out: { -readonly [K in keyof LoaderConfig]: LoaderConfig[K] } = {};
  const parts = spec.split(',').map((p) => p.trim());
  if (parts.length > 4) return { error: `'${spec}' has more than a preset and three items` };
  for (const p of parts) {
    if ((LOADER_PRESETS as readonly string[]).includes(p)) {
      if (out.preset !== undefined) return { error: `'${spec}' names two presets` };
      out.preset = p as LoaderConfig['preset'];
      continue;
    }
    const m = /^(image|initrd|dtb)=([^@]+)(?:@(.+))?$/.exec(p);
    if (m === null) return { error: `'${p}' is not a loader preset (${LOADER_PRESETS.join(', ')}) or an item (image=SIZE[@ADDR], initrd=SIZE[@ADDR], dtb=SIZE[@ADDR])` };
    const what = m[1] as 'image' | 'initrd' | 'dtb';
    if (out[what] !== undefined) return { error: `'${spec}' gives ${what} twice` };
    const item: LoaderItem = m[3] === undefined ? { size: size(m[2]!, `${what} size`) } : { size: size(m[2]!, `${what} size`), base: size(m[3], `${what} address`) };
    out[what] = item;
  }
  return out;
}

// ---- the kernel's own early allocations (arm64) ---------------------------------------------

/**
 * Page-table pages paging_init() → map_mem() allocates for the linear map of `ranges` (memory
 * without NOMAP), page-granular (rodata=full, the arm64 default, on a CPU without BBML2): one
 * table per distinct span of each level below the statically allocated top level. The linear
 * map address is PA - memstart_addr + PAGE_OFFSET, and PAGE_OFFSET is aligned far beyond any
 * table span. Levels: CONFIG_PGTABLE_LEVELS for a 48-bit VA (4 KiB and 16 KiB pages: 4, 64 KiB: 3).
 * Checked on the referee: 512 MiB → 258 pages, 1 GiB → 514, 1.5 GiB → 771, 2 GiB → 1027, 3 GiB
 * → 1540 (create_idmap() allocates none there).
 */
export function arm64LinearMapTables(ranges: readonly PhysRange[], pageSize: number, memstart: number, vaBits = 48): number {
  const shift = Math.log2(pageSize);
  const bitsPerLevel = shift - 3;
  const levels = Math.ceil((vaBits - shift) / bitsPerLevel);
  let tables = 0;
  // levels - 1 table levels are allocated: PTE tables (level 0) up to the one below the PGD
  for (let l = 0; l < levels - 1; l++) {
    const span = 2 ** (shift + bitsPerLevel * (l + 1));
    let last = -1;
    for (const r of [...ranges].filter((x) => x.size > 0).sort((a, b) => a.base - b.base)) {
      const first = Math.floor((r.base - memstart) / span);
      const end = Math.floor((r.base + r.size - 1 - memstart) / span);
      tables += end - Math.max(first, last + 1) + 1 > 0 ? end - Math.max(first, last + 1) + 1 : 0;
      last = Math.max(last, end);
    }
  }
  return tables;
}

/**
 * sizeof(struct device_node) and sizeof(struct property) on arm64, solved from the arm64
 * referee's two unflatten allocations (virt.dtb: 42276 bytes, virt-cma.dtb: 44460): 208 and 104
 * (CONFIG_OF_KOBJ adds a bin_attribute to every property). Other configs differ by a few words.
 */
export const ARM64_DEVICE_NODE_SIZE = 208;
export const ARM64_PROPERTY_SIZE = 104;

/** The shape of a node as the kernel sees it: name, property names, children. */
interface NodeShape {
  readonly name: string;
  props: string[];
  children: NodeShape[];
}

function shapeOf(n: DtNode): NodeShape {
  return { name: n.name, props: n.props.map((p) => p.name), children: n.children.map(shapeOf) };
}

/** Adjustments to the tree before the kernel unflattens it. */
export interface UnflattenInput {
  /** The kernel command line is non-empty: /chosen/bootargs exists (the loader set it). */
  readonly bootargs: boolean;
  /** The loader set linux,initrd-start and linux,initrd-end. */
  readonly initrd: boolean;
  /** QEMU replaced the /memory nodes with `memory@<ramBase>` (device_type, reg). */
  readonly qemuMemory: { readonly ramBase: number } | null;
}

/**
 * The size unflatten_device_tree() → __unflatten_device_tree() allocates (align 8): a dry run of
 * unflatten_dt_nodes() over every node (CONFIG_OF_KOBJ keeps disabled ones), each
 * populate_node() taking sizeof(device_node) + strlen(full name) + 1, each property
 * sizeof(property) (values stay in the blob), and, for a node without a `name` property (dtc
 * v17+ trees have none), a made-up one of sizeof(property) + strlen(base name) + 1; each
 * allocation 8-aligned; the total rounded up to 4, plus the 4-byte end marker. Before that, the
 * kernel has wiped /chosen/rng-seed (early_init_dt_scan_chosen()) and the loader has set
 * /chosen's bootargs and initrd properties.
 */
export function unflattenSize(tree: DeviceTree, input: UnflattenInput, nodeSize = ARM64_DEVICE_NODE_SIZE, propSize = ARM64_PROPERTY_SIZE): number {
  const root = shapeOf(tree.root);
  if (input.qemuMemory !== null) {
    // qemu_fdt_nop_node() of every /memory node, then qemu_fdt_add_subnode("/memory@<base>")
    root.children = root.children.filter((c) => c.name !== 'memory' && !c.name.startsWith('memory@'));
    root.children.unshift({ name: `memory@${input.qemuMemory.ramBase.toString(16)}`, props: ['device_type', 'reg'], children: [] });
  }
  let chosen = root.children.find((c) => c.name === 'chosen');
  if (chosen === undefined && (input.bootargs || input.initrd)) {
    chosen = { name: 'chosen', props: [], children: [] };
    root.children.unshift(chosen);
  }
  if (chosen !== undefined) {
    const add = (p: string) => {
      if (!chosen!.props.includes(p)) chosen!.props.push(p);
    };
    if (input.bootargs) add('bootargs');
    if (input.initrd) {
      add('linux,initrd-start');
      add('linux,initrd-end');
    }
    chosen.props = chosen.props.filter((p) => p !== 'rng-seed');
  }
  let mem = 0;
  const alloc = (size: number) => {
    mem = alignUp(mem, 8) + size;
  };
  const stack: NodeShape[] = [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    alloc(nodeSize + n.name.length + 1);
    for (let i = 0; i < n.props.length; i++) alloc(propSize);
    if (!n.props.includes('name')) {
      const at = n.name.indexOf('@');
      alloc(propSize + (at < 0 ? n.name.length : at) + 1);
    }
    for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!);
  }
  return alignUp(mem, 4) + 4;
}

/** The firmware's last 128 KiB below the end of low RAM (SeaBIOS's tables: e820 `reserved`). */
const QEMU_PC_TOP_RESERVED = 0x20000;

/**
 * The RAM an x86-64 machine without a board has: the e820 map of the referees' QEMU `pc`
 * machine with SeaBIOS for `ram` bytes (checked with 1, 2, 3 and 4 GiB on the 6.1 referee).
 * Usable: [0, 0x9fc00) and [1 MiB, low - 128 KiB), where low RAM is all of it below 3.5 GiB and
 * 3 GiB from there on (hw/i386/pc_piix.c: the PCI hole), then the rest from 4 GiB. So cma=64M
 * lands at 0x7bc00000 with 2 GiB, and with 4 GiB at 0x100000000 (mm/cma.c puts an area
 * bottom-up from 4 GiB when memory reaches past 4 GiB + its size).
 */
export function qemuPcRam(ram: number): PhysRange[] {
  const SZ_1M = 0x100000;
  const SZ_4G = 0x100000000;
  const low = ram >= 0xe0000000 ? 0xc0000000 : ram;
  const out: PhysRange[] = [];
  if (low > 0x9fc00) out.push({ base: 0, size: Math.min(low, 0x9fc00) });
  if (low - QEMU_PC_TOP_RESERVED > SZ_1M) out.push({ base: SZ_1M, size: low - QEMU_PC_TOP_RESERVED - SZ_1M });
  if (ram > low) out.push({ base: SZ_4G, size: ram - low });
  return out;
}
