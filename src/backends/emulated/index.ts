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
   * the client's own options (app name, facts, leak guard). `board` takes a shipped board's
   * name (`'imx8mp'`), a path, DTS text, DTB bytes or a DeviceTree (see {@link EmulatedOptions.board}).
   * @throws BoardError for a board that cannot be loaded; KernelConfigError for another bad option
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

// The package's main entry: the client library and the emulated backend together, with the
// kernel's public types (dmaheap/kernel) and the board loaders (dmaheap/boards).
export * from '../../api/index.js';
export {
  Kernel, KernelConfigError, DEFAULT_PROFILE, PROFILES, PROFILE_NAMES, isProfileName,
  DMA_BIDIRECTIONAL, DMA_TO_DEVICE, DMA_FROM_DEVICE, DEVICE_MODEL_KINDS, deviceConfigProblem, devicesFromTree,
  SANITIZER_KINDS, formatSanitizerReport, Kconfig, KconfigError, allocFaultRuleProblem,
} from '../../kernel/index.js';
export type {
  KernelConfig, Profile, ProfileName, HeapModuleName, KernelFeatures, Arch, DmaDirection, Device, DeviceConfig, DeviceModelKind, DeviceStats, DtDeviceInfo,
  AttachmentHandle, AttachOptions, DeviceRegistry, DeviceRegistryStats, CacheCostConfig,
  SanitizerActor, SanitizerBuffer, SanitizerKind, SanitizerReport, SanitizerSeverity, SanitizerOptions,
  KconfigInput, LoaderConfig, LoaderItem,
  AllocFaultInfo, AllocFaultRule, FaultHandle, FaultInjection, FaultRange, MemoryFaultKind, MemoryFaultSpec, PinPlacement,
} from '../../kernel/index.js';
export * from '../../boards/index.js';
