/**
 * What the sync sanitizer reports: plain data (for the CLI, tests and the dashboard) and its
 * text form. See docs/sanitizer.md for what each kind means and what to do about it.
 */

/** The stable identifier of a finding (docs/sanitizer.md has one section per kind). */
export type SanitizerKind =
  | 'cpu-access-outside-sync'
  | 'direction-mismatch'
  | 'begin-never-ended'
  | 'end-without-begin'
  | 'device-access-during-cpu-access'
  | 'use-after-release'
  | 'device-access-unmapped';

export type SanitizerSeverity = 'error' | 'warning';

/** Every kind with its severity (end-without-begin is legal in Linux: a warning). */
export const SANITIZER_KINDS: Readonly<Record<SanitizerKind, SanitizerSeverity>> = {
  'cpu-access-outside-sync': 'error',
  'direction-mismatch': 'error',
  'begin-never-ended': 'error',
  'end-without-begin': 'warning',
  'device-access-during-cpu-access': 'error',
  'use-after-release': 'error',
  'device-access-unmapped': 'error',
};

/** The buffer as tools show it (/sys/kernel/debug/dma_buf/bufinfo). */
export interface SanitizerBuffer {
  /** The dma-buf's inode number (fstat st_ino, bufinfo "ino"). */
  readonly ino: number;
  /** The name last set with DMA_BUF_SET_NAME (as of the reports() call), null when never named. */
  readonly name: string | null;
  /** exp_name: the heap (or driver) that exported it. */
  readonly exporter: string;
  /** bytes */
  readonly size: number;
}

/**
 * Who did it: a process (pid; null for a kernel-internal dma_buf_begin/end_cpu_access caller)
 * or a device (the name its driver attached with).
 */
export type SanitizerActor = { readonly pid: number | null } | { readonly device: string };

export interface SanitizerReport {
  readonly kind: SanitizerKind;
  readonly severity: SanitizerSeverity;
  /** What happened and what to do next, in plain English. */
  readonly message: string;
  readonly buffer: SanitizerBuffer;
  readonly actor: SanitizerActor;
  /**
   * Byte range in the buffer: for accesses, the span from the lowest to the highest byte touched
   * by all occurrences counted here; for sync findings the whole buffer (syncs cover it all).
   */
  readonly offset: number;
  readonly length: number;
  /** The accesses counted (CPU accesses: one per page touched), or unended BEGINs. */
  readonly count: number;
  /** For accesses: 'read', 'write' or 'read-write' (both were seen); null for sync findings. */
  readonly access: 'read' | 'write' | 'read-write' | null;
  /** Where the buffer was exported (allocated), user frames first; [] when not captured. */
  readonly allocStack: readonly string[];
  /**
   * Where the first occurrence happened (the access, the END, or for begin-never-ended the
   * BEGIN), user frames first; [] when not captured.
   */
  readonly accessStack: readonly string[];
}

/** "pid 42", "the kernel" (pid null) or `device "isp0"`. */
export function actorText(a: SanitizerActor): string {
  if ('device' in a) return `device "${a.device}"`;
  return a.pid === null ? 'the kernel' : `pid ${a.pid}`;
}

/** `dma-buf 7 "frame-0" (system, 16384 bytes)` */
export function bufferText(b: SanitizerBuffer): string {
  return `dma-buf ${b.ino}${b.name === null ? '' : ` "${b.name}"`} (${b.exporter}, ${b.size} bytes)`;
}

/**
 * A report as text, for CLIs and logs:
 *
 *     error: cpu-access-outside-sync (4 times)
 *       pid 2 wrote 16384 bytes at offset 0 of dma-buf 1 … Wrap CPU writes in …
 *       buffer  ino 1 "frame-0", exporter system, 16384 bytes
 *       by      pid 2
 *       range   offset 0, length 16384
 *       access stack
 *         at fill (file:///app/fill.js:10:3)
 *       allocation stack
 *         at alloc (file:///app/alloc.js:5:9)
 */
export function formatReport(r: SanitizerReport): string {
  const b = r.buffer;
  let s = `${r.severity}: ${r.kind}${r.count > 1 ? ` (${r.count} times)` : ''}\n`;
  s += `  ${r.message}\n`;
  s += `  buffer  ino ${b.ino}${b.name === null ? '' : ` "${b.name}"`}, exporter ${b.exporter}, ${b.size} bytes\n`;
  s += `  by      ${actorText(r.actor)}\n`;
  s += `  range   offset ${r.offset}, length ${r.length}${r.access === null ? '' : ` (${r.access})`}\n`;
  if (r.accessStack.length > 0) s += `  ${r.kind === 'begin-never-ended' ? 'begin' : 'access'} stack\n${r.accessStack.map((f) => `    ${f}\n`).join('')}`;
  if (r.allocStack.length > 0) s += `  allocation stack\n${r.allocStack.map((f) => `    ${f}\n`).join('')}`;
  return s;
}
