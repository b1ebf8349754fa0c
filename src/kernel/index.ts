/**
 * The emulated kernel (`dmaheap/kernel`): no Node, no DOM, so it also runs in a browser. The
 * kernel and its configuration (profiles, heap modules, features, devices, the sanitizer), the
 * device and DMA direction types, and the device-tree readers and writer with the
 * file-system-free board loaders (text and bytes; paths and shipped boards are `dmaheap/boards`).
 */
export { Kernel, KernelConfigError } from './kernel.js';
export type { KernelConfig } from './kernel.js';
export { DEFAULT_PROFILE, PROFILES, PROFILE_NAMES, isProfileName } from './profile.js';
export type { Profile, ProfileName } from './profile.js';
export { ANDROID_BRANCHES, ANDROID_BRANCH_NAMES, ANDROID_FACT_LABELS, androidBranch, androidFact, androidRelease, parseGkiRelease, resolveAndroidProfile } from './android.js';
export type { AndroidBranch, AndroidBranchName, AndroidEmulation, AndroidFact, AndroidFactKey, AndroidFactValue, AndroidMainline } from './android.js';
export type { HeapModuleName } from './heaps/index.js';
export type { KernelFeatures } from './kapi.js';
export type { Arch } from './mm/page.js';

// fault injection (kernel.faults)
export { FaultInjector, allocFaultRuleProblem } from './fault-inject.js';
export type { AllocFaultInfo, AllocFaultRule, FaultHandle, FaultInjection, FaultRange, MemoryFaultKind, MemoryFaultSpec, PinPlacement } from './fault-inject.js';

// the build configuration (.config) and the boot loader's layout
export { Kconfig, KconfigError, KCONFIG_LIMITS, KCONFIG_SYMBOLS, configGz, defaultKconfigText, parseKconfigOptions, parseKconfigText, resolveBuild } from './kconfig.js';
export type { BuildContext, KconfigEntry, KconfigInput, KconfigSymbol, KconfigText, KconfigType, KernelBuild } from './kconfig.js';
export { LOADER_PRESETS, parseLoaderSpec } from './of/boot-layout.js';
export type { LoaderConfig, LoaderItem } from './of/boot-layout.js';

// devices and DMA
export { DMA_BIDIRECTIONAL, DMA_TO_DEVICE, DMA_FROM_DEVICE } from './dma-buf/dma-buf.js';
export type { DmaDirection } from './dma-buf/dma-buf.js';
export { DEVICE_MODEL_KINDS, deviceConfigProblem, devicesFromTree } from './dev/device.js';
export type { Device, DeviceConfig, DeviceModelKind, DeviceStats, DtDeviceInfo } from './dev/device.js';
export type { AttachmentHandle, AttachOptions, DeviceRegistry, DeviceRegistryStats } from './dev/registry.js';
export type { CacheCostConfig } from './dev/cache.js';

// the sync sanitizer
export { SANITIZER_KINDS, formatReport as formatSanitizerReport } from './sanitizer/report.js';
export type { SanitizerActor, SanitizerBuffer, SanitizerKind, SanitizerReport, SanitizerSeverity } from './sanitizer/report.js';
export type { SanitizerOptions } from './sanitizer/sanitizer.js';

// device trees and boards (text and bytes)
export {
  BOARD_BYTES_FILE, BOARD_FILE_MAX_BYTES, BOARD_FORMS, BOARD_STRING_FORMS, BOARD_TEXT_FILE, BOARD_TOTAL_MAX_BYTES, BoardError, SHIPPED_BOARD_NAMES, boardArch, classifyBoardString, isDeviceTree, isDtsText, isShippedBoardName,
  loadBoardBytes, loadBoardText,
} from './of/board.js';
export type { BoardResult, BoardSource, BoardStringKind, BoardTextOptions, ShippedBoardName } from './of/board.js';
export { DeviceTree } from './of/tree.js';
export type { DtNode, DtProperty, MemReserve, SourceLoc } from './of/tree.js';
export { formatDtsError, parseDts } from './of/dts.js';
export type { DtsError, DtsReadFile, DtsResult } from './of/dts.js';
export { isFdt, readFdt, writeFdt } from './of/fdt.js';
export type { FdtWriteOptions } from './of/fdt.js';
export { LIVE_TREE_LIMITS, LIVE_TREE_ROOT_PROPERTIES, readLiveTree } from './of/livetree.js';
export type { LiveTreeEntry, LiveTreeFs, LiveTreeLimits } from './of/livetree.js';
