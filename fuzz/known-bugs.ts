/**
 * Known bugs: calls the fuzzer does not make while the fix for a bug it would hit is being written
 * elsewhere (a parallel branch), so that it can look for everything else meanwhile. A skipped
 * call is counted under the bug's id and printed in every report; `npm run fuzz --
 * --no-known-bugs` runs with the filter off. An entry hides only the call that triggers its bug:
 * the sequences around it still run. Remove an entry when its fix lands; the list is empty when
 * every known bug is fixed (docs/reliability.md keeps the history).
 */
import type { Kernel } from '../src/kernel/index.js';
import type { Process } from '../src/kernel/fs/process.js';

/** One call about to be made: the syscall's name, its arguments as passed, and its caller. */
export interface PendingCall {
  readonly name: string;
  readonly args: readonly unknown[];
  readonly proc: Process | null;
  readonly kernel: Kernel;
}

export interface KnownBug {
  /** Short id, used in skip counts and in docs/reliability.md. */
  readonly id: string;
  /** Where the fix is being made (a branch, or `unassigned`). */
  readonly fixedBy: string;
  /** What goes wrong. */
  readonly summary: string;
  /** True when `call` would hit the bug. */
  readonly hits: (call: PendingCall) => boolean;
}

export const KNOWN_BUGS: readonly KnownBug[] = [];

/** The known bug `call` would hit, or null (always null when the filter is off). */
export function knownBugHit(call: PendingCall, enabled: boolean): KnownBug | null {
  if (!enabled) return null;
  for (const b of KNOWN_BUGS) if (b.hits(call)) return b;
  return null;
}
