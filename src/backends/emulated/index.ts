/**
 * The emulated backend: the embedded default. Works on any machine, no kernel support needed.
 */
import { DmaHeapClient } from '../../api/client.js';
import type { DmaHeapClientOptions } from '../../api/client.js';
import { createEmulatedTarget } from './target.js';
import type { EmulatedOptions } from './target.js';

export { createEmulatedTarget, bootKernel, EmulatedTarget, ORACLE_MACHINE, UNMAPPED_ADDR } from './target.js';
export type { EmulatedOptions } from './target.js';

export const emulatedBackend = {
  name: 'emulated',
  /** Always available: the kernel is emulated in-process. */
  isAvailable(): { ok: true } {
    return { ok: true };
  },
  /**
   * A client in a fresh emulated kernel (default profile 7.0; command line cma=64M unless
   * `cmdline` says otherwise, or the board's /chosen/bootargs with a `board`); `client` holds
   * the client's own options (app name, facts, leak guard).
   */
  createClient(opts: EmulatedOptions & { client?: DmaHeapClientOptions } = {}): DmaHeapClient {
    const { client, ...machine } = opts;
    // a board brings its own command line (/chosen/bootargs)
    const dflt = machine.board !== undefined && machine.board !== null ? {} : { cmdline: 'cma=64M' };
    return new DmaHeapClient(createEmulatedTarget({ ...dflt, ...machine }), client);
  },
};
export { describeHeaps, heapFacts, heapIdentity, usageOf } from './describe.js';
export type { HeapDescription, RegionDescription } from './describe.js';

// The package's main entry: the client library and the emulated backend together.
export * from '../../api/index.js';
export { Kernel, KernelConfigError } from '../../kernel/kernel.js';
export type { KernelConfig } from '../../kernel/kernel.js';
export { formatReport as formatSanitizerReport } from '../../kernel/sanitizer/report.js';
export type { SanitizerReport } from '../../kernel/sanitizer/report.js';
