export { DmaHeapClient, DmaBuffer, Mapping, ImageBuffer, PlaneView, AllocationError } from './client.js';
export type {
  Access, AllocateOptions, AllocateForOptions, AllocateImageOptions, AllocationAttempt, AllocationRecord, BufferHandoff, ClientTraceEvent, DmaBufferInfo,
  DmaHeapClientOptions, HeapInfo, SyncPhase,
} from './client.js';
export { chooseHeap, describeRequirements, udmabufVerdict, UDMABUF_DEFAULT_SIZE_LIMIT } from './choose.js';
export type { HeapChoice, HeapRequirements, Refusal, UdmabufVerdict } from './choose.js';
export { KNOWN_HEAPS, lookupHeapName, inferHeapProperties, kernelVersion, parseMeminfo, readSystemFacts, readReservedMemory } from './heap-knowledge.js';
export type {
  CmaAreaFact, DeviceTreeFs, HeapKind, HeapProperties, HeapRegion, Inferred, KnownHeap, Platform, PropertySource, ReservedRegionFact, SystemFacts,
} from './heap-knowledge.js';
export { imageLayout, PIXEL_FORMATS } from './layout.js';
export type { ImageLayout, ImageLayoutOptions, PixelFormat, PlaneLayout } from './layout.js';
export { LeakGuard, formatLeak, stackText, stackMissing, DEFAULT_STACK_SAMPLING } from './leak-guard.js';
export type { CapturedStack, LeakGuardOptions, LeakReport, LeakSource, StackMissing } from './leak-guard.js';
export { ErrnoError, UnmappedError } from './errors.js';
export type { ErrnoErrorJSON } from './errors.js';
export type {
  SyscallTarget, SysResult, IoctlArg, IoctlResult, MapHandle, MmapResult, StatResult, PollResult, TextResult, PagemapResult, Fault, ExactHeapFacts,
  DmaDir, DmaEntry, AttachResult, MapAttachmentResult, DeviceStatsResult, SanitizerFinding, SanitizerResult,
} from './target.js';
export { diffHeaps } from './heap-diff.js';
export type { HeapDiff, HeapIdentity } from './heap-diff.js';
export { kernelChanges, caseRunsOn, KERNEL_FACTS, KERNEL_FACT_INFO, CHANGE_GROUPS } from './kernel-changes.js';
export type { CaseRef, ChangeGroup, KernelChange, KernelFact, KernelFactInfo, KernelFactValue, KernelFacts } from './kernel-changes.js';
export { lintHeapNames, suggestName, RULES } from './naming.js';
export type { HeapFacts, HeapRegionFacts, RuleId, Severity, Finding, Verdict, LintOptions } from './naming.js';
export { readDmabufInfo, dmabufFsOf, parseFdinfo, parseBufinfo } from './dmabuf-info.js';
export type { DmabufBuffer, DmabufFs, DmabufProcess, DmabufReadOptions, DmabufRef, DmabufReport, ExporterTotal, SystemDmabuf } from './dmabuf-info.js';
export { formatDmabufDump, formatDmabufPerBuffer, formatDmabufPerProcess, formatDmabufTable } from './dmabuf-dump.js';
export type { DmabufDumpFormat } from './dmabuf-dump.js';
export { defaultCmaHeapNames, deviceTreeFsOf, explainMissingHeap, heapOpenError, readHeapNamingFacts, LIVE_DEVICE_TREE } from './missing-heap.js';
export type { HeapNamingFacts, MissingHeapExplanation } from './missing-heap.js';
