/**
 * `dmaheap run`: unmodified native programs on the emulated kernel (docs/run.md).
 */
export { runProgram, launcherPath, RunError } from './supervisor.js';
export type { RunOptions, RunResult } from './supervisor.js';
export { RunBridge, normalizePath, encodeStatx } from './bridge.js';
export type { TraceRecord } from './bridge.js';
export { buildFilter } from './filter.js';
export { RUN_SYSCALLS, X86_64, AARCH64, hostSyscallArch } from './syscalls.js';
export { choosePreload, classifyProgram, hostGlibcVersion, isGlibcLoader, programKind, resolveProgram, shippedPreload } from './preload.js';
export type { PreloadChoice, ProgramKind } from './preload.js';
