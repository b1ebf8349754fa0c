export { DmaHeapClient, DmaBuffer, Mapping } from './client.js';
export type { Access, AllocateOptions, HeapInfo, SyncPhase } from './client.js';
export { ErrnoError, UnmappedError } from './errors.js';
export type { ErrnoErrorJSON } from './errors.js';
export type { SyscallTarget, SysResult, IoctlArg, IoctlResult, MapHandle, MmapResult, StatResult, PollResult, TextResult, Fault } from './target.js';
export { diffHeaps } from './heap-diff.js';
export type { HeapDiff, HeapIdentity } from './heap-diff.js';
export { lintHeapNames, suggestName, RULES } from './naming.js';
export type { HeapFacts, HeapRegionFacts, RuleId, Severity, Finding, Verdict, LintOptions } from './naming.js';
