/**
 * The sync sanitizer: watches a kernel's dma-buf events and reports, as data, CPU and device
 * accesses that break the DMA_BUF_IOCTL_SYNC discipline a cached buffer needs (spec §3.0, §4.3):
 * CPU loads and stores outside a START … END bracket, writes under a READ sync, END with another
 * direction than START, BEGINs never ended, ENDs without BEGIN, device DMA while the CPU owns the
 * buffer, and use after release. Linux checks none of this (no pairing, no state machine): real
 * hardware shows stale data or stripes instead, intermittently. Off by default; a kernel made
 * with `KernelConfig.sanitizer` has one (Kernel.sanitizer). See docs/sanitizer.md.
 *
 * Bracket state is per process and per buffer: each BEGIN opens a bracket (BEGINs nest: every
 * BEGIN needs its own END), an END closes the most recent open bracket with the same direction.
 */
import type { DmaBuf, DmaBufAttachment, DmaDirection } from '../dma-buf/dma-buf.js';
import type { CpuAccessEvent, DeviceAccessEvent, KernelEvents, SyncEvent } from '../events.js';
import { SANITIZER_KINDS, actorText, bufferText } from './report.js';
import type { SanitizerActor, SanitizerKind, SanitizerReport } from './report.js';
import { captureStack, formatStack } from './stack.js';

export type { SanitizerActor, SanitizerBuffer, SanitizerKind, SanitizerReport, SanitizerSeverity } from './report.js';
export { SANITIZER_KINDS, formatReport } from './report.js';

export interface SanitizerOptions {
  /** Distinct reports kept (default 1000); later ones are only counted ({@link SyncSanitizer.dropped}). */
  readonly maxReports?: number;
  /** Capture allocation and access stack traces (default true). */
  readonly captureStacks?: boolean;
}

/** The uapi flag word of a direction: DMA_FROM_DEVICE is a READ sync, DMA_TO_DEVICE a WRITE sync. */
export function syncFlagsText(dir: DmaDirection): 'READ' | 'WRITE' | 'RW' {
  return dir === 2 ? 'READ' : dir === 1 ? 'WRITE' : 'RW';
}

/** An open BEGIN. */
interface Bracket {
  readonly dir: DmaDirection;
  readonly stack: Error | null;
  /**
   * The begin-never-ended entry this bracket was counted in (by check()), and the clear()
   * generation it was counted in: a bracket is counted once per generation.
   */
  entry: Entry | null;
  gen: number;
}

type Where = 'release' | 'exit' | 'check';

/** What a message needs beyond the entry's own fields. */
type Detail =
  | { readonly t: 'none' }
  | { readonly t: 'dirs'; readonly begun: DmaDirection; readonly ended: DmaDirection }
  | { readonly t: 'dir'; readonly dir: DmaDirection; readonly where?: Where }
  | { readonly t: 'holders'; readonly holders: string };

/** A report being accumulated (deduplicated by kind, buffer, actor and variant). */
interface Entry {
  readonly key: string;
  readonly kind: SanitizerKind;
  readonly variant: string;
  readonly buf: DmaBuf;
  readonly actor: SanitizerActor;
  readonly detail: Detail;
  lo: number;
  hi: number;
  count: number;
  read: boolean;
  write: boolean;
  /** false for sync findings (no access). */
  readonly isAccess: boolean;
  readonly allocErr: Error | null;
  readonly accessErr: Error | null;
  allocStack: string[] | null;
  accessStack: string[] | null;
}

interface AttState {
  maps: number;
  detached: boolean;
}

export class SyncSanitizer {
  private readonly maxReports: number;
  private readonly captureStacks: boolean;
  private readonly entries = new Map<string, Entry>();
  private droppedCount = 0;
  /** Bumped by clear(): brackets counted before it may be reported again. */
  private generation = 1;
  /** Open brackets: buffer → pid (null: in-kernel caller) → BEGINs, oldest first. */
  private readonly open = new Map<DmaBuf, Map<number | null, Bracket[]>>();
  private readonly released = new WeakSet<DmaBuf>();
  private readonly allocStacks = new WeakMap<DmaBuf, Error>();
  /** Attachments seen through 'attach' (others are not judged for device-access-unmapped). */
  private readonly atts = new WeakMap<DmaBufAttachment, AttState>();
  private readonly unsubscribe: (() => void)[];

  constructor(events: KernelEvents, opts: SanitizerOptions = {}) {
    this.maxReports = opts.maxReports ?? 1000;
    this.captureStacks = opts.captureStacks ?? true;
    this.unsubscribe = [
      events.on('export', (e) => {
        if (this.captureStacks) this.allocStacks.set(e.buf, captureStack());
      }),
      events.on('release', (e) => this.onRelease(e.buf)),
      events.on('sync', (e) => this.onSync(e)),
      events.on('cpuAccess', (e) => this.onCpuAccess(e)),
      events.on('deviceAccess', (e) => this.onDeviceAccess(e)),
      events.on('attach', (e) => void this.atts.set(e.att, { maps: 0, detached: false })),
      events.on('detach', (e) => {
        const a = this.atts.get(e.att);
        if (a !== undefined) a.detached = true;
      }),
      events.on('map', (e) => {
        const a = this.atts.get(e.att);
        if (a !== undefined) a.maps++;
      }),
      events.on('unmap', (e) => {
        const a = this.atts.get(e.att);
        if (a !== undefined && a.maps > 0) a.maps--;
      }),
    ];
  }

  /** The findings so far (snapshots, oldest first). */
  reports(): readonly SanitizerReport[] {
    return [...this.entries.values()].map((e) => this.snapshot(e));
  }

  /** Distinct findings not kept because maxReports was reached. */
  get dropped(): number {
    return this.droppedCount;
  }

  /**
   * begin-never-ended for every bracket open now: recorded in reports() (each bracket counted
   * once: a later check, release or exit does not count it again) and returned.
   */
  check(): SanitizerReport[] {
    const touched = new Set<Entry>();
    for (const [buf, byPid] of this.open) {
      for (const [pid, list] of byPid) for (const b of list) this.reportUnended(buf, pid, b, 'check', touched);
    }
    return [...touched].map((e) => this.snapshot(e));
  }

  /** Forgets the findings (and the dropped count); the bracket state stays. */
  clear(): void {
    this.entries.clear();
    this.droppedCount = 0;
    this.generation++;
  }

  /** Stops watching and forgets everything. */
  dispose(): void {
    for (const u of this.unsubscribe) u();
    this.unsubscribe.length = 0;
    this.open.clear();
    this.clear();
  }

  /**
   * A process exited: its brackets still open are begin-never-ended (the kernel calls this from
   * process exit, after the process closed its fds and mappings).
   */
  processExited(pid: number): void {
    for (const [buf, byPid] of this.open) {
      const list = byPid.get(pid);
      if (list === undefined) continue;
      for (const b of list) this.reportUnended(buf, pid, b, 'exit');
      byPid.delete(pid);
      if (byPid.size === 0) this.open.delete(buf);
    }
  }

  // ---- events ------------------------------------------------------------------------------

  private onRelease(buf: DmaBuf): void {
    const byPid = this.open.get(buf);
    if (byPid !== undefined) {
      for (const [pid, list] of byPid) for (const b of list) this.reportUnended(buf, pid, b, 'release');
      this.open.delete(buf);
    }
    this.released.add(buf);
  }

  private onSync(e: SyncEvent): void {
    const { buf, pid, dir } = e;
    if (this.released.has(buf)) return;
    let byPid = this.open.get(buf);
    if (!e.end) {
      if (byPid === undefined) this.open.set(buf, (byPid = new Map()));
      let list = byPid.get(pid);
      if (list === undefined) byPid.set(pid, (list = []));
      list.push({ dir, stack: this.captureStacks ? captureStack() : null, entry: null, gen: 0 });
      return;
    }
    const list = byPid?.get(pid);
    const actor = { pid };
    if (list === undefined || list.length === 0) {
      this.add('end-without-begin', `${dir}`, buf, actor, { t: 'dir', dir }, 0, buf.size, false, false);
      return;
    }
    let i = list.length - 1;
    while (i >= 0 && list[i]!.dir !== dir) i--;
    if (i < 0) {
      // END with another direction: Linux syncs for END's direction and carries on
      i = list.length - 1;
      const begun = list[i]!.dir;
      this.add('direction-mismatch', `end:${begun}>${dir}`, buf, actor, { t: 'dirs', begun, ended: dir }, 0, buf.size, false, false);
    }
    list.splice(i, 1);
    if (list.length === 0) {
      byPid!.delete(pid);
      if (byPid!.size === 0) this.open.delete(buf);
    }
  }

  private onCpuAccess(e: CpuAccessEvent): void {
    const { buf, pid, offset, length, write } = e;
    const actor = { pid };
    if (this.released.has(buf)) {
      this.add('use-after-release', 'released', buf, actor, { t: 'none' }, offset, length, true, write);
      return;
    }
    const list = this.open.get(buf)?.get(pid);
    if (list === undefined || list.length === 0) {
      this.add('cpu-access-outside-sync', '', buf, actor, { t: 'none' }, offset, length, true, write);
      return;
    }
    if (write && list.every((b) => b.dir === 2)) {
      this.add('direction-mismatch', 'write-under-read', buf, actor, { t: 'none' }, offset, length, true, write);
    }
  }

  private onDeviceAccess(e: DeviceAccessEvent): void {
    const { buf, device, offset, length, write, attachment } = e;
    const actor = { device };
    if (this.released.has(buf)) {
      this.add('use-after-release', 'released', buf, actor, { t: 'none' }, offset, length, true, write);
      return;
    }
    if (attachment === null) {
      this.add('use-after-release', 'stale', buf, actor, { t: 'none' }, offset, length, true, write);
      return;
    }
    const att = this.atts.get(attachment);
    if (att !== undefined && (att.detached || att.maps === 0)) {
      this.add('device-access-unmapped', att.detached ? 'detached' : 'unmapped', buf, actor, { t: 'none' }, offset, length, true, write);
    }
    const byPid = this.open.get(buf);
    if (byPid !== undefined && byPid.size > 0) {
      const holders: string[] = [];
      for (const [pid, list] of byPid) holders.push(`${actorText({ pid })} (START|${list.map((b) => syncFlagsText(b.dir)).join(', START|')})`);
      this.add('device-access-during-cpu-access', '', buf, actor, { t: 'holders', holders: holders.join(' and ') }, offset, length, true, write);
    }
  }

  // ---- reports -----------------------------------------------------------------------------

  private reportUnended(buf: DmaBuf, pid: number | null, b: Bracket, where: Where, touched?: Set<Entry>): void {
    if (b.gen === this.generation) {
      if (b.entry !== null && this.entries.get(b.entry.key) === b.entry) touched?.add(b.entry);
      return;
    }
    b.gen = this.generation;
    b.entry = this.add('begin-never-ended', `${b.dir}`, buf, { pid }, { t: 'dir', dir: b.dir, where }, 0, buf.size, false, false, b.stack);
    if (b.entry !== null) touched?.add(b.entry);
  }

  private add(
    kind: SanitizerKind,
    variant: string,
    buf: DmaBuf,
    actor: SanitizerActor,
    detail: Detail,
    offset: number,
    length: number,
    isAccess: boolean,
    write: boolean,
    accessErr?: Error | null,
  ): Entry | null {
    const key = `${kind}|${buf.ino}|${'device' in actor ? `d:${actor.device}` : `p:${actor.pid}`}|${variant}`;
    let e = this.entries.get(key);
    if (e === undefined) {
      if (this.entries.size >= this.maxReports) {
        this.droppedCount++;
        return null;
      }
      e = {
        key, kind, variant, buf, actor, detail, lo: offset, hi: offset + length, count: 0, read: false, write: false, isAccess,
        allocErr: this.allocStacks.get(buf) ?? null,
        accessErr: accessErr !== undefined ? accessErr : this.captureStacks ? captureStack() : null,
        allocStack: null,
        accessStack: null,
      };
      this.entries.set(key, e);
    } else {
      e.lo = Math.min(e.lo, offset);
      e.hi = Math.max(e.hi, offset + length);
    }
    e.count++;
    if (isAccess) {
      if (write) e.write = true;
      else e.read = true;
    }
    return e;
  }

  private snapshot(e: Entry): SanitizerReport {
    e.allocStack ??= formatStack(e.allocErr);
    e.accessStack ??= formatStack(e.accessErr);
    const b = e.buf;
    return {
      kind: e.kind,
      severity: SANITIZER_KINDS[e.kind],
      message: message(e),
      buffer: { ino: b.ino, name: b.name, exporter: b.expName, size: b.size },
      actor: e.actor,
      offset: e.lo,
      length: e.hi - e.lo,
      count: e.count,
      access: !e.isAccess ? null : e.read && e.write ? 'read-write' : e.write ? 'write' : 'read',
      allocStack: e.allocStack,
      accessStack: e.accessStack,
    };
  }
}

/** The plain-English message of an entry: what happened, why it matters, what to do. */
function message(e: Entry): string {
  const who = actorText(e.actor);
  const buf = bufferText({ ino: e.buf.ino, name: e.buf.name, exporter: e.buf.expName, size: e.buf.size });
  const verb = e.read && e.write ? 'read and wrote' : e.write ? 'wrote' : 'read';
  const range = `${e.hi - e.lo} bytes at offset ${e.lo} of ${buf}`;
  const d = e.detail;
  switch (e.kind) {
    case 'cpu-access-outside-sync': {
      const why = e.write && e.read
        ? 'On a cached heap the CPU can read stale cache lines, and its writes can stay in the cache where a device does not see them.'
        : e.write
          ? 'On a cached heap the writes can stay in the CPU cache, and a device then reads stale memory.'
          : 'On a cached heap the CPU can read stale cache lines instead of what a device wrote.';
      const fix = e.write && e.read
        ? 'Wrap the CPU access in DMA_BUF_IOCTL_SYNC START|RW … END|RW.'
        : e.write
          ? 'Wrap CPU writes in DMA_BUF_IOCTL_SYNC START|WRITE … END|WRITE.'
          : 'Wrap CPU reads in DMA_BUF_IOCTL_SYNC START|READ … END|READ.';
      return `${who} ${verb} ${range} with no DMA_BUF_IOCTL_SYNC START open. ${why} ${fix}`;
    }
    case 'direction-mismatch':
      if (d.t === 'dirs') {
        const b = syncFlagsText(d.begun);
        const x = syncFlagsText(d.ended);
        return `${who} ended with END|${x} the CPU access it began with START|${b} on ${buf}. Linux does not check the pairing: it does the cache maintenance for END's direction and returns 0, so the maintenance may not match what the CPU did. Use the same flags for START and END (START|${b} … END|${b}).`;
      }
      return `${who} wrote ${range} while its only open sync is START|READ (DMA_FROM_DEVICE). A READ sync does not flush CPU writes for the device, which may then read stale memory. Begin with START|WRITE, or START|RW when the CPU reads and writes, and end with the same flags.`;
    case 'begin-never-ended': {
      if (d.t !== 'dir') return `${who} never ended a CPU access to ${buf}.`;
      const f = syncFlagsText(d.dir);
      const when = d.where === 'release'
        ? `the buffer was released with no END|${f}`
        : d.where === 'exit'
          ? `exited with no END|${f}`
          : `has not ended it (no END|${f} yet)`;
      const why = d.dir === 2
        ? 'The CPU still owns the buffer: a device access meanwhile races with it.'
        : 'Without END the CPU\'s writes may never be flushed for the device.';
      return `${who} began CPU access to ${buf} with START|${f} and ${when}. ${why} Issue DMA_BUF_IOCTL_SYNC END|${f} when the CPU is done, before a device uses the buffer.`;
    }
    case 'end-without-begin': {
      const f = d.t === 'dir' ? syncFlagsText(d.dir) : 'RW';
      return `${who} issued DMA_BUF_IOCTL_SYNC END|${f} on ${buf} with no START open. Linux accepts this (no pairing check) and does the cache maintenance anyway, but it usually means a forgotten START or a doubled END. Issue START|${f} before the CPU access and one END|${f} after it.`;
    }
    case 'device-access-during-cpu-access': {
      const holders = d.t === 'holders' ? d.holders : 'a process';
      return `${who} ${verb} ${range} while ${holders} holds it with DMA_BUF_IOCTL_SYNC START. The CPU owns the buffer until END: its cached data can hide or overwrite the device's. Issue END (same flags as START) before starting the device, and START again after the device is done.`;
    }
    case 'use-after-release':
      if (e.variant === 'stale') {
        return `${who} ${verb} ${range} through a stale DMA address (no attachment: detached or never attached), so the address may point at memory that is no longer this buffer. Attach and map the buffer (dma_buf_attach, dma_buf_map_attachment) and use that mapping's addresses until it is unmapped.`;
      }
      return `${who} ${verb} ${range} after the buffer was released: its memory is freed and may belong to someone else now. Keep a reference (the fd, or dma_buf_get) for as long as a device or the CPU uses the buffer.`;
    case 'device-access-unmapped':
      if (e.variant === 'detached') {
        return `${who} ${verb} ${range} through an attachment that was detached (dma_buf_detach). Keep the attachment and its mapping until the device is done with the buffer.`;
      }
      return `${who} ${verb} ${range} through an attachment that is not mapped (no dma_buf_map_attachment, or it was unmapped). Map the attachment before DMA and unmap it only after the device is done.`;
  }
}
