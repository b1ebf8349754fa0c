/**
 * A bitmap of any length that costs memory only where set and clear bits meet: the bits are kept
 * in chunks of 2^20 bits (128 KiB); a chunk whose bits are all clear is absent, runs of chunks
 * whose bits are all set are kept as intervals, and only the chunks in between hold words. The
 * CMA areas and coherent pools use it for their allocation bitmaps (the kernel's are flat arrays
 * of unsigned long, lib/bitmap.c), so a multi-terabyte area boots in constant time and a
 * multi-terabyte allocation costs one interval, not a billion words.
 *
 * Bit indexes are JS numbers (exact below 2^53); nothing here applies a 32-bit operator to a bit
 * index, only to the bits of one 32-bit word. Scans skip absent chunks and full runs whole, so a
 * search costs O(log n) per run it crosses plus the words it reads inside partial chunks.
 */

/** Bits per chunk (2^20) and 32-bit words per chunk. */
const CHUNK_BITS = 2 ** 20;
const CHUNK_WORDS = CHUNK_BITS / 32;
const ONES = 0xffffffff;

/** What word() reads for an all-clear and an all-set chunk (shared, never written). */
const CLEAR_WORDS = new Uint32Array(CHUNK_WORDS);
const SET_WORDS = new Uint32Array(CHUNK_WORDS).fill(ONES);

/** A partial chunk: its words and how many of its bits are set. */
interface Words {
  readonly w: Uint32Array;
  count: number;
}

/** Index of the lowest set bit of a non-zero 32-bit value. */
export function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

function popcount32(w: number): number {
  let v = w - ((w >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** First index of a sorted number list whose value is ≥ x. */
function lowerBound(list: readonly number[], x: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class SparseBitmap {
  /** Chunks with some bits set and some clear, by chunk index. */
  private readonly partial = new Map<number, Words>();
  /** Indexes of the partial chunks, ascending. */
  private readonly present: number[] = [];
  /** Runs of all-set chunks as [first, end) chunk indexes, ascending, disjoint and not touching. */
  private readonly full: [number, number][] = [];
  /** The chunk last looked up: its index and state (words, 'full' or 'clear'). */
  private lastIdx = -1;
  private lastState: Words | 'full' | 'clear' = 'clear';
  /** word()'s cache: the first word index of the last chunk it read, and its words (shared ones for a uniform chunk). */
  private wBase = -Infinity;
  private wWords: Uint32Array = CLEAR_WORDS;

  /** @param nbits number of bits; all clear. */
  constructor(readonly nbits: number) {}

  /** Chunks that hold words (those with both set and clear bits). */
  get chunksInUse(): number {
    return this.partial.size;
  }

  /** Position in `full` of the first run ending after chunk c. */
  private fullIndex(c: number): number {
    let lo = 0;
    let hi = this.full.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.full[mid]![1] <= c) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Forgets the cached chunk states (after a chunk changed kind). */
  private invalidate(): void {
    this.lastIdx = -1;
    this.wBase = -Infinity;
  }

  private state(c: number): Words | 'full' | 'clear' {
    if (c !== this.lastIdx) {
      this.lastIdx = c;
      const w = this.partial.get(c);
      if (w !== undefined) this.lastState = w;
      else {
        const r = this.full[this.fullIndex(c)];
        this.lastState = r !== undefined && r[0] <= c ? 'full' : 'clear';
      }
    }
    return this.lastState;
  }

  /** Marks chunks [a, b) all set (on) or all clear, dropping their words. */
  private setRun(a: number, b: number, on: boolean): void {
    if (b <= a) return;
    this.invalidate();
    // partial chunks in [a, b) are replaced
    const p0 = lowerBound(this.present, a);
    const p1 = lowerBound(this.present, b);
    for (let k = p0; k < p1; k++) this.partial.delete(this.present[k]!);
    this.present.splice(p0, p1 - p0);
    // the full runs: take out [a, b), then (on) put it back merged with its neighbours
    const f = this.full;
    const i = this.fullIndex(on ? a - 1 : a);
    const keep: [number, number][] = [];
    let lo = a;
    let hi = b;
    let j = i;
    while (j < f.length && f[j]![0] <= (on ? b : b - 1)) {
      const [s, e] = f[j]!;
      if (on) {
        lo = Math.min(lo, s);
        hi = Math.max(hi, e);
      } else {
        if (s < a) keep.push([s, a]);
        if (e > b) keep.push([b, e]);
      }
      j++;
    }
    if (on) keep.push([lo, hi]);
    f.splice(i, j - i, ...keep);
  }

  /** Turns chunk c, which must be all set or all clear, into words so that single bits can change. */
  private materialize(c: number): Words {
    const st = this.state(c);
    if (st !== 'clear' && st !== 'full') return st;
    const w = new Uint32Array(CHUNK_WORDS);
    if (st === 'full') {
      // take c out of its full run
      const f = this.full;
      const i = this.fullIndex(c);
      const [s, e] = f[i]!;
      const parts: [number, number][] = [];
      if (s < c) parts.push([s, c]);
      if (c + 1 < e) parts.push([c + 1, e]);
      f.splice(i, 1, ...parts);
      w.fill(ONES, 0, Math.ceil(this.chunkBits(c) / 32));
    }
    const words: Words = { w, count: st === 'full' ? this.chunkBits(c) : 0 };
    this.partial.set(c, words);
    this.present.splice(lowerBound(this.present, c), 0, c);
    this.invalidate();
    return words;
  }

  /** The 32-bit word `w` (bits 32w .. 32w+31), as an unsigned number. */
  word(w: number): number {
    const off = w - this.wBase;
    if (off >= 0 && off < CHUNK_WORDS) return this.wWords[off]!;
    const c = Math.floor(w / CHUNK_WORDS);
    const st = this.state(c);
    this.wBase = c * CHUNK_WORDS;
    this.wWords = st === 'clear' ? CLEAR_WORDS : st === 'full' ? SET_WORDS : st.w;
    return this.wWords[w - this.wBase]!;
  }

  /** Bit i. */
  get(i: number): boolean {
    if (!(i >= 0 && i < this.nbits)) return false;
    const w = Math.floor(i / 32);
    return ((this.word(w) >>> (i - w * 32)) & 1) === 1;
  }

  /** lib/bitmap.c bitmap_set(): sets bits [start, start + nr) (clipped to the bitmap). */
  set(start: number, nr: number): void {
    this.fill(start, nr, true);
  }

  /** lib/bitmap.c bitmap_clear(). */
  clear(start: number, nr: number): void {
    this.fill(start, nr, false);
  }

  private fill(start: number, nr: number, on: boolean): void {
    const end = Math.min(start + nr, this.nbits);
    const from = Math.max(0, start);
    if (!(end > from)) return;
    // the common case: a few bits inside one chunk that already has words
    const c = Math.floor(from / CHUNK_BITS);
    const cStart = c * CHUNK_BITS;
    if (end - cStart < CHUNK_BITS) {
      const st = this.state(c);
      if (typeof st !== 'string') {
        st.count += fillWords(st.w, from - cStart, end - cStart, on);
        if (st.count === 0 || st.count === CHUNK_BITS) this.setRun(c, c + 1, st.count !== 0);
        return;
      }
    }
    // whole chunks in the middle at once, partial ones at the ends bit by bit
    const firstWhole = Math.ceil(from / CHUNK_BITS);
    const endWhole = Math.floor(end / CHUNK_BITS);
    if (firstWhole < endWhole) {
      this.fillPartial(from, firstWhole * CHUNK_BITS, on);
      this.setRun(firstWhole, endWhole, on);
      this.fillPartial(endWhole * CHUNK_BITS, end, on);
    } else {
      // within one chunk, or across one chunk boundary without a whole chunk between
      const mid = Math.min(end, (Math.floor(from / CHUNK_BITS) + 1) * CHUNK_BITS);
      this.fillPartial(from, mid, on);
      this.fillPartial(mid, end, on);
    }
  }

  /** Sets or clears bits [from, to), which lie in one chunk. */
  private fillPartial(from: number, to: number, on: boolean): void {
    if (to <= from) return;
    const c = Math.floor(from / CHUNK_BITS);
    const st = this.state(c);
    if (st === (on ? 'full' : 'clear')) return;
    const cStart = c * CHUNK_BITS;
    if (from === cStart && to - cStart === CHUNK_BITS) {
      this.setRun(c, c + 1, on);
      return;
    }
    const words = this.materialize(c);
    words.count += fillWords(words.w, from - cStart, to - cStart, on);
    // a chunk that became all clear or all set is stored as such
    if (words.count === 0) this.setRun(c, c + 1, false);
    else if (words.count === CHUNK_BITS) this.setRun(c, c + 1, true);
  }

  /** Bits of chunk c that lie inside the bitmap. */
  private chunkBits(c: number): number {
    return Math.min(CHUNK_BITS, this.nbits - c * CHUNK_BITS);
  }

  /** lib/find_bit.c find_next_zero_bit(): first clear bit in [start, size), or size. */
  nextZero(start: number, size: number): number {
    let i = Math.max(0, start);
    while (i < size) {
      const c = Math.floor(i / CHUNK_BITS);
      const st = this.state(c);
      if (st === 'clear') return i;
      const cStart = c * CHUNK_BITS;
      if (st === 'full') {
        // to the end of the run: the chunk after it is clear or partial
        i = this.full[this.fullIndex(c)]![1] * CHUNK_BITS;
        continue;
      }
      const r = scanWords(st.w, i - cStart, Math.min(size, cStart + CHUNK_BITS) - cStart, false);
      if (r >= 0) return Math.min(cStart + r, size);
      i = cStart + CHUNK_BITS;
    }
    return size;
  }

  /** lib/find_bit.c find_next_bit(): first set bit in [start, size), or size. */
  nextSet(start: number, size: number): number {
    let i = Math.max(0, start);
    while (i < size) {
      const c = Math.floor(i / CHUNK_BITS);
      const st = this.state(c);
      if (st === 'full') return i;
      const cStart = c * CHUNK_BITS;
      if (st !== 'clear') {
        const r = scanWords(st.w, i - cStart, Math.min(size, cStart + CHUNK_BITS) - cStart, true);
        if (r >= 0) return Math.min(cStart + r, size);
      }
      // nothing set in the rest of this chunk: jump to the next partial chunk or full run
      const p = this.present[lowerBound(this.present, c + 1)];
      const f = this.full[this.fullIndex(c + 1)];
      const nextChunk = Math.min(p ?? Infinity, f === undefined ? Infinity : Math.max(f[0], c + 1));
      if (nextChunk === Infinity) return size;
      i = nextChunk * CHUNK_BITS;
    }
    return size;
  }

  /** Number of set bits. */
  popcount(): number {
    let n = 0;
    for (const p of this.partial.values()) n += p.count;
    for (const [a, b] of this.full) n += (b - a) * CHUNK_BITS;
    return n;
  }
}

/** Sets or clears bits [from, to) of a chunk; returns the change in the number of set bits. */
function fillWords(ch: Uint32Array, from: number, to: number, on: boolean): number {
  let delta = 0;
  let i = from;
  while (i < to) {
    const w = i >>> 5;
    const lo = i & 31;
    const hi = Math.min(32, lo + (to - i));
    const m = hi === 32 ? ~0 << lo : ((1 << (hi - lo)) - 1) << lo;
    const old = ch[w]!;
    if (on) {
      const add = m & ~old;
      if (add !== 0) {
        delta += popcount32(add);
        ch[w] = old | m;
      }
    } else {
      const drop = m & old;
      if (drop !== 0) {
        delta -= popcount32(drop);
        ch[w] = old & ~m;
      }
    }
    i += hi - lo;
  }
  return delta;
}

/** First bit in [from, to) of a chunk that is set (set = true) or clear; -1 when none. */
function scanWords(ch: Uint32Array, from: number, to: number, set: boolean): number {
  if (from >= to) return -1;
  let w = from >>> 5;
  const last = (to - 1) >>> 5;
  let word = (set ? ch[w]! : ~ch[w]!) & (~0 << (from & 31));
  while (word === 0) {
    w++;
    if (w > last) return -1;
    word = set ? ch[w]! : ~ch[w]!;
  }
  const r = w * 32 + ctz32(word);
  return r < to ? r : -1;
}
