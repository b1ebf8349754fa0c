/**
 * `dmaheap alloc <heap> <size>`: allocates one buffer through the client library and says what it
 * got — the fd, the size the kernel gave (whole pages), the dma-buf's inode and exporter as
 * /proc/self/fdinfo shows them — and what the heap is: on the emulated backend the kernel's own
 * facts (the memory behind it, contiguous, cached, capacity and free space), on Linux what its
 * name tells and /proc/meminfo's CMA totals.
 */
import { DmaHeapClient } from '../../api/client.js';
import type { DmaBuffer } from '../../api/client.js';
import { parseFdinfo } from '../../api/dmabuf-info.js';
import { ErrnoError } from '../../api/errors.js';
import { inferHeapProperties, readSystemFacts } from '../../api/heap-knowledge.js';
import { EmulatedTarget } from '../../backends/emulated/index.js';
import { CliError } from '../common/args.js';
import { clientTraceOptions } from '../common/client-trace.js';
import type { OpenedTarget } from '../common/backend.js';
import { fmtBytes } from '../common/format.js';

export interface HeapAbout {
  /** system, cma, coherent, carveout, protected, other; null when nothing tells */
  readonly kind: string | null;
  /** null when unknown */
  readonly contiguous: boolean | null;
  readonly cacheable: boolean | null;
  readonly protected: boolean | null;
  /** The memory behind it, in words. */
  readonly backing: string;
  /** Bytes; null when unknown. */
  readonly capacity: number | null;
  readonly free: number | null;
  /** Where the kind comes from: `exact` (the emulated kernel), `device-tree`, `sysfs`, `meminfo` or `name`. */
  readonly source: string | null;
  /** Other heaps over the same memory. */
  readonly sameMemoryAs: readonly string[];
}

export interface AllocResult {
  readonly machine: string;
  readonly backend: 'emulated' | 'linux';
  readonly note: string | null;
  readonly heap: string;
  readonly path: string;
  readonly requested: number;
  readonly size: number;
  readonly pageSize: number;
  readonly fd: number;
  readonly inode: number | null;
  readonly exporter: string | null;
  readonly name: string | null;
  readonly pid: number;
  readonly about: HeapAbout;
}

/** What is known about `heap` (src/api/heap-knowledge.ts): exact on the emulated backend, inferred on Linux. */
function describe(o: OpenedTarget, heap: string): HeapAbout {
  const t = o.target;
  const p = inferHeapProperties(heap, readSystemFacts(t), t.listHeaps());
  const r = p.region?.value ?? null;
  const kind = p.kind?.value ?? null;
  let backing = kind === 'system' ? 'page allocator' : kind === 'protected' ? 'protected memory (the CPU cannot map it)' : 'unknown';
  if (r !== null) {
    const where = r.path ?? (kind === 'cma' ? 'the cma= area' : 'a reserved region');
    backing = `${where}${r.base !== null ? ` @0x${r.base.toString(16)}` : ''}${r.size !== null ? ` ${fmtBytes(r.size)}` : ''}${r.reusable === true ? ' reusable' : ''}${r.nomap === true ? ' no-map' : ''}`;
  } else if (kind === 'cma') backing = 'a CMA area';
  return {
    kind,
    contiguous: p.contiguous?.value ?? null,
    cacheable: p.cacheable?.value ?? null,
    protected: p.protected?.value ?? null,
    backing,
    capacity: p.capacity?.value ?? null,
    free: p.free?.value ?? null,
    source: p.kind?.source ?? null,
    sameMemoryAs: p.sameMemoryAs?.value ?? [],
  };
}

/**
 * What to do about a failed allocation from `heap` on a machine whose heaps are `names`: the
 * heaps that exist (and what the default CMA heap is called here), doctor for permissions.
 */
function allocHint(size: number, code: string): string | null {
  if (code === 'EACCES' || code === 'EPERM') return 'run dmaheap doctor: it shows the node\'s owner and mode and the udev rule that opens it to a group';
  if (code === 'ENOMEM') return 'the heap has no room for that size';
  if (code === 'EINVAL' && size === 0) return 'a heap refuses an empty buffer: give a size of at least 1 byte';
  if (code === 'ENOTTY') return 'not a dma-heap node: run dmaheap doctor';
  return null;
}

/**
 * An allocation's ErrnoError as the command's error: the errno name as its code, the client's
 * hint or {@link allocHint}; when a --fault rule of the emulated machine failed it (`injected`),
 * the hint says so instead.
 */
export function allocError(e: ErrnoError, size: number, injected = false): CliError {
  if (injected) return new CliError(e.code, e.summary, 'a --fault rule failed this allocation on purpose (fault injection: docs/faults.md)');
  return new CliError(e.code, e.summary, e.hint ?? allocHint(size, e.code));
}

/** Allocation failures the emulated machine's --fault rules injected so far (0 on the Linux backend). */
export function injectedFaults(target: unknown): number {
  return target instanceof EmulatedTarget ? target.kernel.faults.injected : 0;
}

/** Allocates `size` bytes from `heap` in the opened backend; the buffer stays open for the caller. */
export function runAlloc(o: OpenedTarget, heap: string, size: number, opts: { name?: string } = {}): { result: AllocResult; buffer: DmaBuffer; client: DmaHeapClient } {
  const client = new DmaHeapClient(o.target, clientTraceOptions());
  let buffer: DmaBuffer;
  const before = injectedFaults(o.target);
  try {
    buffer = client.allocate(heap, size, opts.name !== undefined ? { name: opts.name } : {});
  } catch (e) {
    if (e instanceof ErrnoError) throw allocError(e, size, injectedFaults(o.target) > before);
    throw e;
  }
  const t = o.target;
  const st = t.fstat(buffer.fd).stat;
  const info = parseFdinfo(t.readFile(`/proc/self/fdinfo/${buffer.fd}`).text ?? '');
  const result: AllocResult = {
    machine: o.label,
    backend: o.kind,
    note: o.note,
    heap,
    path: `/dev/dma_heap/${heap}`,
    requested: size,
    size: buffer.size,
    pageSize: t.pageSize,
    fd: buffer.fd,
    inode: info.inode ?? st?.ino ?? null,
    exporter: info.exporter,
    name: info.name ?? buffer.name,
    pid: t.getpid(),
    about: describe(o, heap),
  };
  return { result, buffer, client };
}

function yn(b: boolean | null, yes: string, no: string): string {
  return b === null ? `${yes}?` : b ? yes : no;
}

export function printAlloc(r: AllocResult): string {
  const a = r.about;
  const out: string[] = [];
  if (r.note !== null) out.push(`note: ${r.note}`);
  out.push(`Allocated ${fmtBytes(r.size)} from ${r.path} (${r.machine})`);
  const rows: [string, string][] = [
    ['fd', String(r.fd)],
    ['size', `${r.size} bytes${r.size !== r.requested ? ` (asked ${r.requested}: rounded up to whole ${fmtBytes(r.pageSize)} pages)` : ''}`],
    ['inode', r.inode === null ? 'unknown' : String(r.inode)],
    ['exporter', r.exporter ?? 'unknown'],
    ['name', r.name ?? '(none)'],
    ['pid', String(r.pid)],
    ['heap', `${a.kind ?? 'unknown kind'}: ${a.backing}; ${yn(a.contiguous, 'contiguous', 'not contiguous')}, ${yn(a.cacheable, 'cached', 'uncached')}, ${yn(a.protected, 'protected', 'not protected')}${a.source !== null && a.source !== 'exact' ? ` (from the ${a.source === 'name' ? 'name' : a.source})` : ''}`],
  ];
  if (a.capacity !== null) rows.push(['capacity', `${fmtBytes(a.capacity)}${a.free !== null ? `, ${fmtBytes(a.free)} free now` : ''}`]);
  if (a.sameMemoryAs.length > 0) rows.push(['same as', `${a.sameMemoryAs.join(', ')} (other names for the same memory)`]);
  for (const [k, v] of rows) out.push(`  ${k.padEnd(9)} ${v}`);
  return out.join('\n');
}
