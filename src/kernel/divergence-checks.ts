/**
 * Which referee checked each intentional divergence (src/kernel/divergences.ts): the real
 * kernels on which the Linux side of the entry was observed, and whether it was read in the
 * kernel source (for the profiles without a referee, or behaviour no referee can show). Kept
 * apart from the list so that adding an entry there and its checks here are separate steps; a
 * test fails when an entry has no checks. Rendered per profile in docs/fidelity.md.
 */
import type { Referee } from './profile-facts.js';

export interface DivergenceCheck {
  /** The referees on which the entry's Linux behaviour was observed. */
  readonly referees: readonly Referee[];
  /** The Linux behaviour was read in the kernel source (or, for proposals, the posted series). */
  readonly source: boolean;
}

const X86: readonly Referee[] = ['6.1 x86-64', '6.12 x86-64', '7.3 x86-64'];
const SOURCE: DivergenceCheck = { referees: [], source: true };

export const DIVERGENCE_CHECKS: Readonly<Record<string, DivergenceCheck>> = {
  // the probe's PROBE_OOM run: SIGKILL on 6.1, 6.12 and 7.3
  'oom-killer': { referees: X86, source: true },
  'poll-never-blocks': SOURCE,
  // cma=64M at 0x7bc00000 on every x86 referee (e820 reserves the top 128 KiB): not modelled
  'ram-layout': { referees: X86, source: true },
  'buddy-order': SOURCE,
  'generic-ioctls': { referees: ['6.1 x86-64'], source: true },
  // the VFS cases of the suite, which pass on every x86 referee
  'virtual-file-write': { referees: X86, source: true },
  'js-numbers': SOURCE,
  'file-size-limit': { referees: X86, source: true },
  'anon-mapping-size': { referees: ['6.1 x86-64'], source: true },
  'mount-ids': { referees: ['5.10 x86-64', '6.1 x86-64', '6.12 x86-64', '7.3 x86-64'], source: false },
  // two boots of the 5.10 referee: the probe's first buffer 121, then 125
  'boot-ino': { referees: ['5.10 x86-64'], source: true },
  'meminfo-subset': SOURCE,
  'sync-file-ioctls': SOURCE,
  'vmap-at-release': SOURCE,
  'device-name-format': SOURCE,
  'address-space': { referees: ['6.1 x86-64', '7.3 x86-64'], source: true },
  'cma-migration': SOURCE,
  'fault-injection': SOURCE,
  'fatal-signal': SOURCE,
  // the probe's memcg lines on every x86 referee; dma_heap.mem_accounting=1 on 7.3
  'memcg': { referees: X86, source: true },
  // vfs-walk.c: rmdir under / and /dev on all three
  'read-only-paths': { referees: X86, source: true },
  'memfd-udmabuf': { referees: X86, source: true },
  'no-hugetlbfs': { referees: ['6.1 x86-64'], source: true },
  'seal-write-pins': SOURCE,
  'tee-protected-memory': SOURCE,
  'coherent-nomap': SOURCE,
  'proposed-heaps': SOURCE,
  'dmem-cma-null-return': SOURCE,
  'dmem-files': SOURCE,
  'accounting-proposals-backport': SOURCE,
  'dmem-coherent-v3': SOURCE,
  'charge-pidfd-scope': SOURCE,
  'pidfs': SOURCE,
  // vfs-walk2.c: the listings of /proc and /proc/self on all three
  'proc-entries': { referees: X86, source: true },
  'swiotlb-simplified': SOURCE,
  'iova-allocator': SOURCE,
  'cache-model': SOURCE,
  'dt-dma-masks': SOURCE,
  'importer-drivers': SOURCE,
  'tee-firewall': SOURCE,
  'udmabuf-cpu-sync': SOURCE,
  // the x86-64 rule on the 6.1 referee's configuration; the arm64 rule from the source
  'phys-limits': { referees: ['6.1 x86-64'], source: true },
  'fdt-size': SOURCE,
  // the ACK sources of src/kernel/android.ts; no referee runs a GKI kernel
  'android-gki': SOURCE,
  'cache-cost': SOURCE,
  // test/oracle/issue-11/mm-vma.c: `gu` on the 7.3 referee, none on 6.12
  'vm-maybe-guard': { referees: ['6.12 x86-64', '7.3 x86-64'], source: true },
  // mm-vma.c reads pagemap's present bit on all three; the PFN is the source's
  'zero-page-pfn': { referees: X86, source: true },
  // test/oracle/issue-11/fd-generic.c: F_SETLK/F_GETLK argument checks and results on all three
  'no-record-locks': { referees: X86, source: true },
  // unix-socket.c: the stream socket pair on all three; the other types from the source
  'af-unix-stream-only': { referees: X86, source: true },
  // test/oracle/issue-11/vfs-walk.c and vfs-walk2.c: the listings of /sys, /dev and debugfs on all three
  'sysfs-subset': { referees: X86, source: true },
  // vfs-walk.c: stat of /proc, /sys, /dev, debugfs and cgroup2 directories on all three
  'dir-nlink': { referees: X86, source: true },
  // dmaheap run: what the host does with a native program (no referee shows the emulator's side)
  'run-paths': SOURCE,
  'run-mapping-changes': SOURCE,
  'run-udmabuf-memfd': SOURCE,
  'run-sanitizer-timing': SOURCE,
  'run-lifetimes': SOURCE,
  'run-preload': SOURCE,
};
