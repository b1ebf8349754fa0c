/**
 * The address space of a mirrored process (`dmaheap run`): a native program runs on the host and
 * its system calls on DMA-BUF files are served here, so every copy_from_user()/copy_to_user() of
 * those calls must reach the real process's memory. The host gives that access as a
 * {@link UserMemoryPort} (process_vm_readv/process_vm_writev there); the kernel stays free of it.
 *
 * The VMAs of this address space are the mirrors of the real mappings of emulated files (a
 * dma-buf the program mapped), kept so that references, /proc/<pid>/maps and the fdinfo counts
 * follow the real mappings. User accesses never go through them: the bytes are the real ones.
 */
import { AddressSpace } from './mm-user.js';
import type { FaultKind, MmLayout, UserPager } from './mm-user.js';

/** Access to the memory of a real process, by pid. */
export interface UserMemoryPort {
  /** Copies up to `into.length` bytes from `addr` of process `pid`: how many arrived (fewer at a fault). */
  read(pid: number, addr: number, into: Uint8Array): number;
  /** Copies `data` to `addr` of process `pid`: how many bytes arrived (fewer at a fault). */
  write(pid: number, addr: number, data: Uint8Array): number;
  /** The real process's /proc/<pid>/maps lines the emulator does not model (its own mappings of emulated files left out). */
  maps?(pid: number): { start: number; line: string }[];
  /** The real process's /proc/<pid>/smaps blocks, each marked when it is the real side of a mirrored buffer mapping. */
  smaps?(pid: number): { start: number; text: string; mirror: boolean; rss: number }[];
  /** The real process's /proc/<pid>/pagemap entry for `addr`, or null when it cannot be read. */
  pagemapEntry?(pid: number, addr: number): bigint | null;
}

export class RemoteAddressSpace extends AddressSpace {
  constructor(pageSize: number, zeroPage: Uint8Array, layout: MmLayout, pager: UserPager, readonly port: UserMemoryPort) {
    super(pageSize, zeroPage, layout, pager);
  }

  override foreignMapLines(): readonly { start: number; line: string }[] {
    return this.port.maps?.(this.ownerPid) ?? [];
  }

  override foreignPagemapEntry(addr: number): bigint | null {
    return this.port.pagemapEntry?.(this.ownerPid, addr) ?? null;
  }

  override foreignSmaps(): readonly { start: number; text: string; mirror: boolean; rss: number }[] {
    return this.port.smaps?.(this.ownerPid) ?? [];
  }

  private valid(addr: number, len: number): boolean {
    return Number.isSafeInteger(addr) && addr >= 0 && Number.isSafeInteger(len) && len >= 0 && addr + len <= this.layout.taskSize;
  }

  /**
   * Reads go out in one piece (what arrived before a fault is visited); writes go page by page, so
   * a fault stops them at the page that faulted, as the kernel's copy_to_user() does (a copy that
   * counts what it visited may count the faulting page's share of the last piece).
   */
  override access(addr: number, len: number, write: boolean, visit: (data: Uint8Array, off: number, n: number, done: number) => void): FaultKind | null {
    if (len === 0) return null;
    if (!this.valid(addr, len)) return 'SIGSEGV';
    const buf = new Uint8Array(len);
    if (!write) {
      const n = this.port.read(this.ownerPid, addr, buf);
      if (n > 0) visit(buf, 0, n, 0);
      return n < len ? 'SIGSEGV' : null;
    }
    const ps = this.pageSize;
    let done = 0;
    while (done < len) {
      const a = addr + done;
      const n = Math.min(len - done, ps - (a % ps));
      visit(buf, done, n, done);
      if (this.port.write(this.ownerPid, a, buf.subarray(done, done + n)) < n) return 'SIGSEGV';
      done += n;
    }
    return null;
  }

  override copyFromUser(addr: number, len: number, into?: Uint8Array): Uint8Array | null {
    if (len === 0) return into ?? new Uint8Array(0);
    if (!this.valid(addr, len)) return null;
    const out = into ?? new Uint8Array(len);
    return this.port.read(this.ownerPid, addr, out.subarray(0, len)) === len ? out : null;
  }

  override copyToUser(addr: number, data: Uint8Array): boolean {
    if (data.length === 0) return true;
    if (!this.valid(addr, data.length)) return false;
    return this.port.write(this.ownerPid, addr, data) === data.length;
  }

  /** strncpy_from_user(): reads up to each page end, so a string that ends before a bad page is read. */
  override strncpyFromUser(addr: number, max: number): { bytes: Uint8Array; terminated: boolean } | null {
    if (!this.valid(addr, 0)) return null;
    const out: Uint8Array[] = [];
    let got = 0;
    let a = addr;
    while (got < max) {
      const n = Math.min(max - got, this.pageSize - (a % this.pageSize));
      const chunk = new Uint8Array(n);
      const r = this.port.read(this.ownerPid, a, chunk);
      const nul = chunk.subarray(0, Math.max(r, 0)).indexOf(0);
      if (nul >= 0) {
        out.push(chunk.subarray(0, nul));
        return { bytes: concat(out, got + nul), terminated: true };
      }
      if (r < n) return null;
      out.push(chunk);
      got += n;
      a += n;
    }
    return { bytes: concat(out, got), terminated: false };
  }
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const b = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    b.set(p, at);
    at += p.length;
  }
  return b;
}
