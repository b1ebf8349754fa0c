/**
 * mulberry32: a small deterministic pseudo-random generator over 32 bits of state, uniform in
 * [0, 1). The one generator of the project: fault injection's `fraction`, the simulation's
 * seeds, the benchmarks' layouts and the tests' random sequences all draw from it, so a seed
 * means the same thing everywhere.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x100000000;
  };
}
