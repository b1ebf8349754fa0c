import { mulberry32 } from '../../kernel/prng.js';

/**
 * The simulation's only source of chance (mulberry32, src/kernel/prng.ts), so a run is the same
 * for the same seed on every machine.
 */
export class Rng {
  private readonly draw: () => number;
  constructor(seed: number) {
    this.draw = mulberry32(seed);
  }

  /** A float in [0, 1). */
  next(): number {
    return this.draw();
  }

  /** A whole number in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** A binary min-heap of timed events (ties in insertion order): the simulation's clock. */
export class EventQueue<T> {
  private readonly t: number[] = [];
  private readonly seq: number[] = [];
  private readonly v: T[] = [];
  private n = 0;
  private counter = 0;

  get size(): number {
    return this.n;
  }

  push(time: number, value: T): void {
    let i = this.n++;
    const s = this.counter++;
    this.t[i] = time;
    this.seq[i] = s;
    this.v[i] = value;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  /** Time of the earliest event (Infinity when empty). */
  peekTime(): number {
    return this.n === 0 ? Infinity : this.t[0]!;
  }

  pop(): { time: number; value: T } | null {
    if (this.n === 0) return null;
    const out = { time: this.t[0]!, value: this.v[0]! };
    this.n--;
    if (this.n > 0) {
      this.t[0] = this.t[this.n]!;
      this.seq[0] = this.seq[this.n]!;
      this.v[0] = this.v[this.n]!;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.n && this.less(l, m)) m = l;
        if (r < this.n && this.less(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    this.v.length = this.n;
    this.t.length = this.n;
    this.seq.length = this.n;
    return out;
  }

  private less(a: number, b: number): boolean {
    const ta = this.t[a]!;
    const tb = this.t[b]!;
    return ta < tb || (ta === tb && this.seq[a]! < this.seq[b]!);
  }

  private swap(a: number, b: number): void {
    const t = this.t[a]!;
    this.t[a] = this.t[b]!;
    this.t[b] = t;
    const s = this.seq[a]!;
    this.seq[a] = this.seq[b]!;
    this.seq[b] = s;
    const v = this.v[a]!;
    this.v[a] = this.v[b]!;
    this.v[b] = v;
  }
}
