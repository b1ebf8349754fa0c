/**
 * One cold start of the Linux backend, in a fresh Node process (run by bench/linux/run.ts):
 * the module import (which pulls in the client API and the uAPI tables), isAvailable(), and
 * createTarget() (which loads koffi and binds libc the first time). Prints one JSON line.
 */
import { performance } from 'node:perf_hooks';

const t0 = performance.now();
const mod = await import('../../src/backends/linux/index.js');
const t1 = performance.now();
const avail = mod.linuxBackend.isAvailable();
const t2 = performance.now();
let created = true;
let error: string | null = null;
try {
  const t = mod.linuxBackend.createTarget();
  t.listHeaps();
} catch (e) {
  created = false;
  error = (e as Error).message;
}
const t3 = performance.now();
process.stdout.write(`${JSON.stringify({
  importMs: t1 - t0,
  availableMs: t2 - t1,
  createMs: t3 - t2,
  totalMs: t3 - t0,
  available: avail.ok,
  reason: avail.ok ? null : avail.reason,
  created,
  error,
})}\n`);
