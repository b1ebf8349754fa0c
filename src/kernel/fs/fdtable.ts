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

/** Index of the lowest set bit of a non-zero 32-bit value. */
function ctz(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** Entries per chunk of the table. */
const CHUNK = 1024;

/** One chunk: its files (fdt->fd[]) and how many are set. */
interface Chunk {
  readonly files: (File | undefined)[];
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
  /** close_on_exec: FD_CLOEXEC, a bit per fd as in open_fds. */
  private cloexec = new Uint32Array(1);
  /** next_fd: no free fd below it. */
  nextFd = 0;

  get size(): number {
    return this.count;
  }

  /** The file of `fd`; undefined for any number that is not an open fd (a fraction, NaN, negative, huge). */
  get(fd: number): File | undefined {
    if (!(fd >= 0 && fd < 0x80000000)) return undefined;
    return this.chunks[Math.floor(fd / CHUNK)]?.files[fd % CHUNK];
  }

  /** FD_CLOEXEC of an open fd (false for one that is not open). */
  isCloexec(fd: number): boolean {
    return this.get(fd) !== undefined && (this.cloexec[fd >>> 5]! & (1 << (fd & 31))) !== 0;
  }

  /** Sets or clears FD_CLOEXEC of an open fd. */
  setCloexec(fd: number, on: boolean): void {
    const w = fd >>> 5;
    this.cloexec[w] = on ? (this.cloexec[w]! | (1 << (fd & 31))) >>> 0 : (this.cloexec[w]! & ~(1 << (fd & 31))) >>> 0;
  }

  /** The open fds, ascending. */
  fds(): number[] {
    const out: number[] = [];
    this.chunks.forEach((c, i) => {
      if (c !== undefined) c.files.forEach((f, j) => {
        if (f !== undefined) out.push(i * CHUNK + j);
      });
    });
    return out;
  }

  /** Installs `file` at `fd` (an integer ≥ 0 below fs.nr_open) where nothing is open: the caller removed what was there. */
  set(fd: number, file: File, cloexec: boolean): void {
    const ci = Math.floor(fd / CHUNK);
    const c = (this.chunks[ci] ??= { files: new Array<File | undefined>(CHUNK).fill(undefined), used: 0 });
    if (c.files[fd % CHUNK] === undefined) {
      c.used++;
      this.count++;
    }
    c.files[fd % CHUNK] = file;
    const w = fd >>> 5;
    if (w >= this.words.length) this.grow(w + 1);
    const v = (this.words[w]! | (1 << (fd & 31))) >>> 0;
    this.words[w] = v;
    if (v === 0xffffffff) this.full[w >>> 5] = (this.full[w >>> 5]! | (1 << (w & 31))) >>> 0;
    this.setCloexec(fd, cloexec);
  }

  /** Removes `fd`: its file, or undefined when it was not open. */
  delete(fd: number): File | undefined {
    const file = this.get(fd);
    if (file === undefined) return undefined;
    const ci = Math.floor(fd / CHUNK);
    const c = this.chunks[ci]!;
    c.files[fd % CHUNK] = undefined;
    this.count--;
    if (--c.used === 0) this.chunks[ci] = undefined;
    const w = fd >>> 5;
    this.words[w] = (this.words[w]! & ~(1 << (fd & 31))) >>> 0;
    this.full[w >>> 5] = (this.full[w >>> 5]! & ~(1 << (w & 31))) >>> 0;
    this.setCloexec(fd, false);
    if (fd < this.nextFd) this.nextFd = fd;
    return file;
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
    t.chunks = this.chunks.map((c) => (c === undefined ? undefined : { files: c.files.map((f) => f?.get()), used: c.used }));
    t.count = this.count;
    t.words = this.words.slice();
    t.full = this.full.slice();
    t.cloexec = this.cloexec.slice();
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
    const cloexec = new Uint32Array(words.length);
    cloexec.set(this.cloexec);
    this.cloexec = cloexec;
  }
}
