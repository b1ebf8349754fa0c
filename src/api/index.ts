export { DmaHeapClient, DmaBuffer, Mapping } from './client.js';
export type { Access, AllocateOptions, HeapInfo, SyncPhase } from './client.js';
export { ErrnoError, UnmappedError } from './errors.js';
export type { ErrnoErrorJSON } from './errors.js';
export type { SyscallTarget, SysResult, IoctlArg, IoctlResult, MapHandle, MmapResult, StatResult, PollResult, TextResult, Fault } from './target.js';
