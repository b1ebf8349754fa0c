/**
 * The software IO TLB: bounce buffers in low memory for devices that cannot reach a buffer's
 * pages. The default pool is carved from memblock at boot when RAM reaches beyond what a 32-bit
 * device can address (or with `swiotlb=force`); a `restricted-dma-pool` region is a per-device
 * pool that always bounces. Slots are 2 KiB (IO_TLB_SIZE); one mapping takes at most
 * IO_TLB_SEGSIZE (128) contiguous slots, so a single bounced sg entry is at most 256 KiB.
 *
 * Simplifications: one area (the kernel has one per possible CPU; the search within an area is
 * the kernel's), no dynamic pools (CONFIG_SWIOTLB_DYNAMIC), no min_align_mask, no segment
 * boundary check (the pool lies below 4 GiB).
 *
 * @kernel kernel/dma/swiotlb.c (setup_io_tlb_npages, swiotlb_init_remap, swiotlb_memblock_alloc,
 *   swiotlb_print_info, swiotlb_area_find_slots, swiotlb_release_slots, swiotlb_bounce,
 *   rmem_swiotlb_device_init); include/linux/swiotlb.h (IO_TLB_SHIFT, IO_TLB_SEGSIZE)
 */
import { formatPa } from '../mm/cmdline.js';
import type { Arch } from '../mm/page.js';
import { Memblock } from '../of/memblock.js';
import type { PhysRange } from '../of/memblock.js';

/** include/linux/swiotlb.h */
export const IO_TLB_SHIFT = 11;
export const IO_TLB_SIZE = 1 << IO_TLB_SHIFT;
export const IO_TLB_SEGSIZE = 128;
/** IO_TLB_DEFAULT_SIZE: 64 MiB. */
export const IO_TLB_DEFAULT_SIZE = 64 * 1024 * 1024;
/** IO_TLB_MIN_SLABS: 1 MiB worth of slabs (below this, boot gives up). */
export const IO_TLB_MIN_SLABS = (1 << 20) >> IO_TLB_SHIFT;
const INVALID_PHYS_ADDR = -1;

const alignUp = (x: number, a: number): number => Math.ceil(x / a) * a;
const U64 = (1n << 64n) - 1n;

/** What `swiotlb=` asked for. */
export interface SwiotlbParam {
  /** default_nslabs (aligned up to IO_TLB_SEGSIZE). */
  readonly nslabs: number;
  /** swiotlb=...,force: every dma-direct mapping bounces (swiotlb_force_bounce). */
  readonly force: boolean;
  /** swiotlb=noforce: no swiotlb at all (swiotlb_force_disable). */
  readonly noforce: boolean;
}

/**
 * setup_io_tlb_npages(): `swiotlb=<slabs>[,<areas>][,force|noforce]`. The slab count is aligned
 * up to IO_TLB_SEGSIZE "to avoid a tail segment"; the area count is accepted and ignored (one
 * area here).
 */
export function parseSwiotlbParam(v: string | undefined): SwiotlbParam {
  let nslabs = IO_TLB_DEFAULT_SIZE >> IO_TLB_SHIFT;
  let force = false;
  let noforce = false;
  if (v !== undefined) {
    let s = v;
    const num = /^(0x[0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(s);
    if (num !== null) {
      // simple_strtoul() and ALIGN() on an unsigned long: a count past 2^64 wraps, as in the kernel
      const t = num[1]!;
      const raw = t.startsWith('0x') ? BigInt(t) : t.length > 1 && t.startsWith('0') ? BigInt(`0o${t.slice(1)}`) : BigInt(t);
      const seg = BigInt(IO_TLB_SEGSIZE);
      nslabs = Number((((raw & U64) + seg - 1n) & ~(seg - 1n)) & U64);
      s = s.slice(t.length);
    }
    if (s.startsWith(',')) s = s.slice(1);
    const areas = /^[0-9]+/.exec(s);
    if (areas !== null) s = s.slice(areas[0].length);
    if (s.startsWith(',')) s = s.slice(1);
    if (s === 'force') force = true;
    else if (s === 'noforce') noforce = true;
  }
  return { nslabs, force, noforce };
}

/** The default pool as boot placed it. */
export interface SwiotlbReservation {
  readonly base: number;
  readonly nslabs: number;
  readonly force: boolean;
  /** printk lines (prefix "software IO TLB: " included). */
  readonly log: readonly string[];
}

export interface SwiotlbBootInput {
  readonly param: SwiotlbParam;
  readonly arch: Arch;
  readonly pageSize: number;
  /** memblock at the end of the memory plan (CMA and reserved-memory already reserved). */
  readonly memblock: { readonly memory: readonly PhysRange[]; readonly reserved: readonly PhysRange[]; readonly nomap: readonly PhysRange[] };
  /**
   * arm64 CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC (selected with SWIOTLB since 6.5): a pool is made
   * even when no device needs it, for bouncing small unaligned kmalloc() buffers of
   * non-coherent devices, sized 1 MiB per GiB of RAM (at most the default 64 MiB).
   */
  readonly kmallocBounce?: boolean;
}

/**
 * The boot decision and placement of the default pool.
 *
 * Whether it is needed ("addressing_limit"): on arm64 mem_init() asks for it when RAM ends above
 * arm64_dma_phys_limit (the top of ZONE_DMA: 4 GiB, or all of RAM when RAM starts above 4 GiB),
 * and since 6.5 always (DMA_BOUNCE_UNALIGNED_KMALLOC), then sized 1 MiB per GiB of RAM; on
 * x86-64 pci_swiotlb_detect() when max_possible_pfn is above MAX_DMA32_PFN (4 GiB).
 * `swiotlb=force` allocates it regardless; `swiotlb=noforce` never.
 *
 * Placement: swiotlb_memblock_alloc() → memblock_alloc_low(PAGE_ALIGN(bytes), PAGE_SIZE), i.e.
 * top-down below ARCH_LOW_ADDRESS_LIMIT (arm64: arm64_dma_phys_limit - 1; x86: 0xffffffff, used
 * as the exclusive end of the search as memblock does, which is why pools end at 0x...fffff000).
 * A failure halves the slab count down to IO_TLB_MIN_SLABS, then boot goes on without a pool.
 * @kernel arch/arm64/mm/init.c mem_init; arch/arm64/Kconfig (select DMA_BOUNCE_UNALIGNED_KMALLOC);
 *   arch/x86/kernel/pci-dma.c pci_swiotlb_detect; kernel/dma/swiotlb.c swiotlb_adjust_size,
 *   swiotlb_init_remap, swiotlb_memblock_alloc, swiotlb_print_info; include/linux/memblock.h
 *   ARCH_LOW_ADDRESS_LIMIT
 */
export function swiotlbReserve(input: SwiotlbBootInput): SwiotlbReservation | null {
  const { param, arch, pageSize: ps } = input;
  const mb = new Memblock(ps);
  for (const r of input.memblock.memory) mb.addMemory(r.base, r.size);
  for (const r of input.memblock.nomap) mb.markNomap(r.base, r.size);
  for (const r of input.memblock.reserved) mb.reserve(r.base, r.size);
  const end = mb.endOfDram();
  if (end === 0) return null;
  let dmaLimit: number; // exclusive
  if (arch === 'arm64') {
    const zoneMask = mb.startOfDram() > 0xffffffff ? Number.MAX_SAFE_INTEGER : 0xffffffff;
    dmaLimit = Math.min(zoneMask, end - 1) + 1;
  } else dmaLimit = 0x100000000;
  let addressingLimit = end > dmaLimit;
  const log: string[] = [];
  let wanted = param.nslabs;
  if (input.kmallocBounce === true && !addressingLimit) {
    // swiotlb_adjust_size(min(swiotlb_size_or_default(), RAM / 1024)): only when swiotlb= gave no size
    const ram = input.memblock.memory.reduce((n, r) => n + r.size, 0);
    if (param.nslabs === IO_TLB_DEFAULT_SIZE >> IO_TLB_SHIFT) {
      const size = alignUp(Math.min(param.nslabs * IO_TLB_SIZE, Math.ceil(ram / 1024)), IO_TLB_SIZE);
      wanted = alignUp(size / IO_TLB_SIZE, IO_TLB_SEGSIZE);
      log.push(`software IO TLB: SWIOTLB bounce buffer size adjusted to ${Math.floor(size / (1024 * 1024))}MB`);
    }
    addressingLimit = true;
  }
  if (!addressingLimit && !param.force) return null;
  if (param.noforce) return null;
  const lowLimit = arch === 'arm64' ? dmaLimit - 1 : 0xffffffff;
  let nslabs = wanted;
  let base = 0;
  for (;;) {
    // nslabs << IO_TLB_SHIFT on a 64-bit size: multiplied here, so a count above 2^21 is not cut to 32 bits
    const bytes = alignUp(nslabs * IO_TLB_SIZE, ps);
    base = mb.allocRange(bytes, ps, 0, lowLimit);
    if (base !== 0) break;
    log.push(`software IO TLB: swiotlb_memblock_alloc: Failed to allocate ${bytes} bytes tlb structure`);
    if (nslabs <= IO_TLB_MIN_SLABS) return { base: 0, nslabs: 0, force: param.force, log };
    nslabs = alignUp(Math.floor(nslabs / 2), IO_TLB_SEGSIZE);
  }
  if (nslabs !== wanted) log.push(`software IO TLB: SWIOTLB bounce buffer size adjusted ${wanted} -> ${nslabs} slabs`);
  const bytes = nslabs * IO_TLB_SIZE;
  log.push(`software IO TLB: mapped [mem ${formatPa(base)}-${formatPa(base + bytes)}] (${Math.floor(bytes / (1024 * 1024))}MB)`);
  return { base, nslabs, force: param.force, log };
}

export interface SwiotlbStats {
  /** Slots in use now, and the most ever in use (io_tlb_used, io_tlb_used_hiwater). */
  used: number;
  hiwater: number;
  /** Mappings refused because no run of free slots was long enough ("swiotlb buffer is full"). */
  full: number;
}

/** The slot state of one 128-slot segment that has been used (untouched segments have none). */
interface SlotSegment {
  /** Free slots from each slot to the end of the segment (0: in use). */
  readonly list: Int32Array;
  /** Original address of each slot's mapping (INVALID_PHYS_ADDR when free). */
  readonly orig: Float64Array;
  /** Bytes left of the mapping from each slot on (0 when free). */
  readonly allocSize: Int32Array;
  /** Slots of this segment in use. */
  used: number;
}

/**
 * One pool (struct io_tlb_pool + io_tlb_mem): the slot free-list counts of the kernel (`list[i]`
 * = free slots from i to the end of its 128-slot segment), original addresses, and the bytes,
 * kept per slot and allocated on first write.
 *
 * The kernel allocates the slot array for the whole pool at boot (memblock_alloc() in
 * swiotlb_init_remap(), kcalloc() in rmem_swiotlb_device_init()); here a segment's slot state
 * exists only while one of its slots is in use, and an untouched segment reads as entirely free
 * (list[i] = 128 - i mod 128), so a pool of any size (a restricted-dma-pool region can be
 * terabytes) costs nothing until it is used.
 */
export class SwiotlbPool {
  readonly end: number;
  private readonly segs = new Map<number, SlotSegment>();
  private index = 0;
  private readonly data = new Map<number, Uint8Array>();
  readonly stats: SwiotlbStats = { used: 0, hiwater: 0, full: 0 };

  constructor(
    /** `default` or the restricted pool's region name. */
    readonly name: string,
    /** Physical start (bytes). */
    readonly start: number,
    readonly nslabs: number,
    readonly pageSize: number,
    /** io_tlb_mem.force_bounce: every mapping of a device using this pool bounces. */
    readonly forceBounce: boolean,
  ) {
    this.end = start + nslabs * IO_TLB_SIZE;
  }

  /** list[i] (swiotlb_init_io_tlb_pool() sets IO_TLB_SEGSIZE - i mod IO_TLB_SEGSIZE). */
  private listAt(i: number): number {
    const seg = this.segs.get(Math.floor(i / IO_TLB_SEGSIZE));
    return seg === undefined ? IO_TLB_SEGSIZE - (i % IO_TLB_SEGSIZE) : seg.list[i % IO_TLB_SEGSIZE]!;
  }

  /** The slot state of slot i's segment, made (all free) on first use. */
  private segOf(i: number): SlotSegment {
    const n = Math.floor(i / IO_TLB_SEGSIZE);
    let seg = this.segs.get(n);
    if (seg === undefined) {
      const list = new Int32Array(IO_TLB_SEGSIZE);
      for (let j = 0; j < IO_TLB_SEGSIZE; j++) list[j] = IO_TLB_SEGSIZE - j;
      seg = { list, orig: new Float64Array(IO_TLB_SEGSIZE).fill(INVALID_PHYS_ADDR), allocSize: new Int32Array(IO_TLB_SEGSIZE), used: 0 };
      this.segs.set(n, seg);
    }
    return seg;
  }

  /** Slot state kept (test helper: segments with a slot in use). */
  get segmentsInUse(): number {
    return this.segs.size;
  }

  /** is_swiotlb_buffer() */
  contains(phys: number): boolean {
    return phys >= this.start && phys < this.end;
  }

  /** swiotlb_max_mapping_size(): IO_TLB_SIZE × IO_TLB_SEGSIZE (no min_align_mask). */
  get maxMappingSize(): number {
    return IO_TLB_SIZE * IO_TLB_SEGSIZE;
  }

  /**
   * swiotlb_area_find_slots() for one area: from the area's saved index, look for a slot whose
   * free count covers `allocSize`; a mapping of a page or more must start on a page boundary with
   * the same in-page offset as the original. Returns the first slot or -1 ("swiotlb buffer is full").
   */
  findSlots(origAddr: number, allocSize: number): number {
    const nslots = Math.ceil(allocSize / IO_TLB_SIZE);
    if (nslots === 0) return -1;
    let alignMask = 0;
    if (allocSize >= this.pageSize) alignMask |= this.pageSize - 1;
    alignMask &= ~(IO_TLB_SIZE - 1);
    const stride = (alignMask >> IO_TLB_SHIFT) + 1;
    const wrap = (i: number): number => (i >= this.nslabs ? 0 : i);
    if (nslots > this.nslabs - this.stats.used) {
      this.stats.full++;
      return -1;
    }
    let index = this.index;
    for (let checked = 0; checked < this.nslabs; ) {
      const slotAddr = this.start + index * IO_TLB_SIZE;
      if (origAddr !== 0 && (slotAddr & alignMask) !== (origAddr & alignMask)) {
        index = wrap(index + 1);
        checked++;
        continue;
      }
      if (this.listAt(index) >= nslots) return this.take(index, nslots, origAddr, allocSize);
      index = wrap(index + stride);
      checked += stride;
    }
    this.stats.full++;
    return -1;
  }

  private take(slot: number, nslots: number, origAddr: number, allocSize: number): number {
    // a run never crosses a segment: list[] counts only to the end of the slot's segment
    const seg = this.segOf(slot);
    const s0 = slot % IO_TLB_SEGSIZE;
    for (let k = 0; k < nslots; k++) {
      seg.list[s0 + k] = 0;
      seg.allocSize[s0 + k] = allocSize - k * IO_TLB_SIZE;
      seg.orig[s0 + k] = origAddr + k * IO_TLB_SIZE;
    }
    seg.used += nslots;
    let count = 0;
    for (let j = s0 - 1; j >= 0 && seg.list[j] !== 0; j--) seg.list[j] = ++count;
    this.index = slot + nslots >= this.nslabs ? 0 : slot + nslots;
    this.stats.used += nslots;
    if (this.stats.used > this.stats.hiwater) this.stats.hiwater = this.stats.used;
    return slot;
  }

  /** swiotlb_release_slots(): give the slots back, merging the free counts with the neighbours. */
  release(slot: number): void {
    const seg = this.segs.get(Math.floor(slot / IO_TLB_SEGSIZE));
    if (seg === undefined) return;
    const s0 = slot % IO_TLB_SEGSIZE;
    const nslots = Math.ceil(seg.allocSize[s0]! / IO_TLB_SIZE);
    if (nslots === 0) return;
    let count = s0 + nslots < IO_TLB_SEGSIZE ? seg.list[s0 + nslots]! : 0;
    for (let j = s0 + nslots - 1; j >= s0; j--) {
      seg.list[j] = ++count;
      seg.orig[j] = INVALID_PHYS_ADDR;
      seg.allocSize[j] = 0;
      this.data.delete(slot - s0 + j);
    }
    for (let j = s0 - 1; j >= 0 && seg.list[j] !== 0; j--) seg.list[j] = ++count;
    seg.used -= nslots;
    // a segment with nothing in use is entirely free again: its state is the untouched one
    if (seg.used === 0) this.segs.delete(Math.floor(slot / IO_TLB_SEGSIZE));
    this.stats.used -= nslots;
  }

  /** Physical address of a slot. */
  slotAddr(slot: number): number {
    return this.start + slot * IO_TLB_SIZE;
  }

  /**
   * Walks `n` pool bytes from physical `phys` slot by slot (2 KiB each; bytes live per slot and
   * are allocated on first write): `visit(slot bytes or undefined, offset in slot, length, done)`.
   */
  private walk(phys: number, n: number, visit: (d: Uint8Array | undefined, slot: number, inSlot: number, k: number, done: number) => void): void {
    let off = phys - this.start;
    let done = 0;
    while (done < n) {
      const slot = Math.floor(off / IO_TLB_SIZE);
      const inSlot = off - slot * IO_TLB_SIZE;
      const k = Math.min(n - done, IO_TLB_SIZE - inSlot);
      visit(this.data.get(slot), slot, inSlot, k, done);
      done += k;
      off += k;
    }
  }

  /** Copies `n` pool bytes at physical `phys` into `out[outOff..]` (never-written slots read as zero). */
  read(phys: number, out: Uint8Array, outOff: number, n: number): void {
    this.walk(phys, n, (d, _slot, inSlot, k, done) => {
      if (d === undefined) out.fill(0, outOff + done, outOff + done + k);
      else out.set(d.subarray(inSlot, inSlot + k), outOff + done);
    });
  }

  /** Copies `n` bytes from `src[srcOff..]` into the pool at physical `phys`. */
  write(phys: number, src: Uint8Array, srcOff: number, n: number): void {
    this.walk(phys, n, (d, slot, inSlot, k, done) => {
      let bytes = d;
      if (bytes === undefined) {
        bytes = new Uint8Array(IO_TLB_SIZE);
        this.data.set(slot, bytes);
      }
      bytes.set(src.subarray(srcOff + done, srcOff + done + k), inSlot);
    });
  }
}
