/**
 * A process's descriptor table (struct files_struct / struct fdtable): the open files by number,
 * and the two bitmaps Linux searches for the lowest free number, `open_fds` (a bit per fd) and
 * `full_fds_bits` (a bit per 32-fd word that is full). Entries live in chunks of 1024 made when
 * an fd in them opens and dropped when their last fd closes, so dup3(fd, 1048575) costs one
 * chunk, not a million entries; the bitmaps grow to the highest fd ever opened (at most
 * fs.nr_open bits: 128 KiB), and the search skips 1024 busy fds per step, so neither memory nor
 * time follows an fd number's size. (A Map would do the sparse part, but V8 rehashes a large Map
 * on most set-after-delete: 100 µs per close/open pair with 100,000 fds open.)
 * @kernel fs/file.c alloc_fd, find_next_fd, __set_open_fd, __clear_open_fd, dup_fd
 */
import type { File } from './file.js';

/** One open descriptor: the file and its close-on-exec bit (fdt->fd[fd], fdt->close_on_exec). */
export interface FdSlot {
  readonly file: File;
  cloexec: boolean;
}

/** Index of the lowest set bit of a non-zero 32-bit value. */
function ctz(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** Entries per chunk of the table. */
const CHUNK = 1024;

/** One chunk: its entries and how many are set. */
interface Chunk {
  readonly slots: (FdSlot | undefined)[];
  used: number;
}

export class FdTable {
  /** Chunk i holds fds [i * CHUNK, (i + 1) * CHUNK); undefined while none of them is open. */
  private chunks: (Chunk | undefined)[] = [];
  private count = 0;
  /** open_fds: bit fd % 32 of word fd / 32. */
  private words = new Uint32Array(1);
  /** full_fds_bits: bit w % 32 of word w / 32 is set when open_fds word w is full. */
  private full = new Uint32Array(1);
  /** next_fd: no free fd below it. */
  nextFd = 0;

  get size(): number {
    return this.count;
  }

  /** The entry of `fd`; undefined for any number that is not an open fd (a fraction, NaN, negative, huge). */
  get(fd: number): FdSlot | undefined {
    if (!(fd >= 0 && fd < 0x80000000)) return undefined;
    return this.chunks[Math.floor(fd / CHUNK)]?.slots[fd % CHUNK];
  }

  /** The open fds, ascending. */
  fds(): number[] {
    const out: number[] = [];
    this.chunks.forEach((c, i) => {
      if (c !== undefined) c.slots.forEach((s, j) => {
        if (s !== undefined) out.push(i * CHUNK + j);
      });
    });
    return out;
  }

  /** Installs `slot` at `fd` (an integer ≥ 0 below fs.nr_open) where nothing is open: the caller removed what was there. */
  set(fd: number, slot: FdSlot): void {
    const ci = Math.floor(fd / CHUNK);
    const c = (this.chunks[ci] ??= { slots: new Array<FdSlot | undefined>(CHUNK).fill(undefined), used: 0 });
    if (c.slots[fd % CHUNK] === undefined) {
      c.used++;
      this.count++;
    }
    c.slots[fd % CHUNK] = slot;
    const w = fd >>> 5;
    if (w >= this.words.length) this.grow(w + 1);
    const v = (this.words[w]! | (1 << (fd & 31))) >>> 0;
    this.words[w] = v;
    if (v === 0xffffffff) this.full[w >>> 5] = (this.full[w >>> 5]! | (1 << (w & 31))) >>> 0;
  }

  /** Removes `fd`: its slot, or undefined when it was not open. */
  delete(fd: number): FdSlot | undefined {
    const slot = this.get(fd);
    if (slot === undefined) return undefined;
    const ci = Math.floor(fd / CHUNK);
    const c = this.chunks[ci]!;
    c.slots[fd % CHUNK] = undefined;
    this.count--;
    if (--c.used === 0) this.chunks[ci] = undefined;
    const w = fd >>> 5;
    this.words[w] = (this.words[w]! & ~(1 << (fd & 31))) >>> 0;
    this.full[w >>> 5] = (this.full[w >>> 5]! & ~(1 << (w & 31))) >>> 0;
    if (fd < this.nextFd) this.nextFd = fd;
    return slot;
  }

  /** find_next_fd(): the lowest fd at or above `start` that is not open. */
  lowestFree(start: number): number {
    const words = this.words;
    let w = start >>> 5;
    if (w >= words.length) return start;
    // the first word, with the bits below `start` counted as busy
    const first = (words[w]! | ((1 << (start & 31)) - 1)) >>> 0;
    if (first !== 0xffffffff) return w * 32 + ctz(~first);
    w++;
    while (w < words.length) {
      // skip full words 32 at a time through full_fds_bits
      const fw = w >>> 5;
      const busy = (this.full[fw]! | ((1 << (w & 31)) - 1)) >>> 0;
      if (busy === 0xffffffff) {
        w = (fw + 1) * 32;
        continue;
      }
      w = fw * 32 + ctz(~busy);
      if (w >= words.length) break;
      return w * 32 + ctz(~words[w]!);
    }
    return words.length * 32;
  }

  /** dup_fd(): a copy of every entry (each file gets a reference), numbers and FD_CLOEXEC kept. */
  clone(): FdTable {
    const t = new FdTable();
    t.chunks = this.chunks.map((c) => (c === undefined ? undefined : { slots: c.slots.map((s) => (s === undefined ? undefined : { file: s.file.get(), cloexec: s.cloexec })), used: c.used }));
    t.count = this.count;
    t.words = this.words.slice();
    t.full = this.full.slice();
    t.nextFd = this.nextFd;
    return t;
  }

  private grow(minWords: number): void {
    const words = new Uint32Array(Math.max(minWords, this.words.length * 2));
    words.set(this.words);
    this.words = words;
    const full = new Uint32Array(Math.ceil(words.length / 32));
    full.set(this.full);
    this.full = full;
  }
}
