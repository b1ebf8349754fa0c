/**
 * `dmaheap demo`: the main job on the emulated kernel. Boots the default machine, lists its
 * heaps, then allocates, maps, syncs, names and frees a buffer, printing each step and what the
 * kernel shows for it (fdinfo, debugfs).
 */
import { DmaHeapClient } from '../../api/client.js';
import type { DmaBuffer } from '../../api/client.js';
import { ErrnoError } from '../../api/errors.js';
import { allocError } from './alloc.js';
import { createEmulatedTarget, describeHeaps } from '../../backends/emulated/index.js';
import type { EmulatedOptions } from '../../backends/emulated/index.js';
import { clientTraceOptions } from '../common/client-trace.js';
import { fmtBytes, table } from '../common/format.js';

export interface DemoStep {
  readonly step: string;
  readonly detail: string;
}

export interface DemoMachine {
  readonly arch: string;
  readonly pageSize: number;
  readonly ramBytes: number;
  readonly cmdline: string;
  readonly board: string | null;
}

export function runDemo(machine: EmulatedOptions, heapName: string | undefined, size: number, boardPath: string | null = null): { heaps: ReturnType<typeof describeHeaps>; steps: DemoStep[]; kernel: string; machine: DemoMachine } {
  const target = createEmulatedTarget(machine);
  const k = target.kernel;
  const heaps = describeHeaps(k);
  const steps: DemoStep[] = [];
  const booted: DemoMachine = { arch: k.arch, pageSize: k.pageSize, ramBytes: k.ramBytes, cmdline: k.cmdline, board: boardPath };
  const client = new DmaHeapClient(target, clientTraceOptions());
  try {
    const heap = heapName ?? heaps.find((h) => h.kind === 'cma')?.name ?? heaps[0]?.name;
    if (heap === undefined) {
      steps.push({ step: 'allocate', detail: 'no heap: /dev/dma_heap does not exist on this machine' });
      return { heaps, steps, kernel: k.profile.release, machine: booted };
    }
    let buf: DmaBuffer;
    try {
      buf = client.allocate(heap, size, { name: 'dmaheap-demo' });
    } catch (e) {
      if (e instanceof ErrnoError) throw allocError(e, size, k.faults.injected > 0);
      throw e;
    }
    steps.push({ step: 'allocate', detail: `${fmtBytes(size)} from heap "${heap}": fd ${buf.fd}, ${buf.size} bytes (page aligned)` });
    const fdinfo = target.readFile(`/proc/self/fdinfo/${buf.fd}`).text ?? '';
    steps.push({ step: 'fdinfo', detail: fdinfo.trimEnd().split('\n').join(' | ').replaceAll('\t', ' ') });
    const m = buf.map();
    steps.push({ step: 'mmap', detail: `${buf.size} bytes, PROT_READ|PROT_WRITE, MAP_SHARED at 0x${target.readFile('/proc/self/maps').text?.split('\n').find((l) => l.includes('/dmabuf:'))?.split('-')[0] ?? '?'}` });
    const zero = buf.cpuAccess('read', () => m.read()).every((b) => b === 0);
    steps.push({ step: 'read', detail: `new buffer reads ${zero ? 'all zero' : 'NOT ZERO (bug)'} (inside SYNC START|READ .. END|READ)` });
    buf.cpuAccess('write', () => m.fill(0xa5));
    steps.push({ step: 'sync', detail: 'DMA_BUF_IOCTL_SYNC START|WRITE; fill 0xa5; SYNC END|WRITE' });
    const back = buf.cpuAccess('read', () => m.read());
    steps.push({ step: 'read back', detail: `${back.every((b) => b === 0xa5) ? 'all' : 'NOT all'} ${back.length} bytes are 0xa5 (inside SYNC START|READ .. END|READ)` });
    const bi = target.readFile('/sys/kernel/debug/dma_buf/bufinfo').text ?? '';
    const line = bi.split('\n').find((l) => l.includes('dmaheap-demo')) ?? '';
    steps.push({ step: 'debugfs', detail: `bufinfo: ${line.replaceAll('\t', ' ')}` });
    buf.close();
    const still = k.dmaBuf.list.size;
    steps.push({ step: 'close', detail: `fd closed; the mapping still holds the buffer (${still} buffer${still === 1 ? '' : 's'} alive)` });
    m.unmap();
    const after = describeHeaps(k).find((h) => h.name === heap);
    steps.push({ step: 'munmap', detail: `last reference gone: buffer freed (${k.dmaBuf.list.size} alive; heap "${heap}" free: ${fmtBytes(after?.free ?? 0)})` });
    const san = k.sanitizer;
    if (san !== null) {
      const reports = [...san.check(), ...san.reports()];
      steps.push({ step: 'sanitizer', detail: reports.length === 0 ? 'no findings: every CPU access was inside a SYNC bracket' : `${reports.length} finding(s): ${reports.map((r) => r.kind).join(', ')}` });
    }
    return { heaps, steps, kernel: k.profile.release, machine: booted };
  } finally {
    client.close();
  }
}

export function printDemo(r: ReturnType<typeof runDemo>): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(`dmaheap demo: emulated Linux ${r.kernel}${m.board !== null ? ` on board ${m.board}` : ''} (${m.arch}, ${fmtBytes(m.pageSize)} pages, ${fmtBytes(m.ramBytes)} RAM, command line "${m.cmdline}")`);
  out.push('');
  out.push('Heaps in /dev/dma_heap:');
  out.push(table([['  name', 'dev', 'kind', 'contiguous', 'capacity', 'free'], ...r.heaps.map((h) => [`  ${h.name}`, h.dev, h.kind, h.contiguous ? 'yes' : 'no', fmtBytes(h.capacity), fmtBytes(h.free)])]));
  out.push('');
  for (const s of r.steps) out.push(`${s.step.padEnd(10)} ${s.detail}`);
  out.push('');
  out.push(`Next: \`dmaheap heaps${m.board !== null ? ` --board ${m.board}` : ''}\` (what backs each heap, naming verdicts), \`dmaheap heaps${m.board !== null ? ` --board ${m.board}` : ''} --diff 6.12 7.0\`, or \`dmaheap conformance run test/conformance/cases --profile 6.1\`.`);
  return out.join('\n');
}
