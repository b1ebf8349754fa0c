/**
 * The OOM killer's arithmetic and its kernel log: which task is the victim when no page can be
 * found (or a memory cgroup is at memory.max), and the lines Linux prints about it.
 *
 * The victim is the eligible task with the highest badness: its RSS (anonymous, file and shmem
 * pages mapped) plus swap entries plus page tables, plus oom_score_adj thousandths of the
 * memory the OOM is about (RAM + swap, or the memcg's limit). A task with oom_score_adj -1000
 * and the init process are never chosen; on a tie the task met last wins. Memory a task holds
 * only through file descriptors (a dma-buf fd, a memfd it has not mapped) is not in its RSS and
 * counts for nothing: the accounting gap that lets a process holding gigabytes of dma-bufs
 * survive while a smaller one is killed.
 *
 * @kernel mm/oom_kill.c oom_badness, oom_evaluate_task, select_bad_process, dump_header,
 *   dump_task, dump_oom_summary, __oom_kill_process; fs/proc/base.c proc_oom_score
 */

/** OOM_SCORE_ADJ_MIN / OOM_SCORE_ADJ_MAX (include/uapi/linux/oom.h). */
export const OOM_SCORE_ADJ_MIN = -1000;
export const OOM_SCORE_ADJ_MAX = 1000;

/** What the OOM killer looks at in a task. */
export interface OomTask {
  readonly pid: number;
  readonly uid: number;
  /** task->comm (at most 15 bytes). */
  readonly comm: string;
  readonly oomScoreAdj: number;
  /** RSS counters in pages. */
  readonly rss: { readonly anon: number; readonly file: number; readonly shmem: number };
  /** mm->total_vm in pages. */
  readonly totalVm: number;
  /** mm_pgtables_bytes() (page tables are not modelled: 0). */
  readonly pgtablesBytes: number;
  /** is_global_init() or a kernel thread: never a victim, not listed. */
  readonly unkillable: boolean;
}

/**
 * oom_badness(): null for a task that may not be killed (LONG_MIN: oom_score_adj -1000);
 * else RSS + swap (none) + page-table pages, plus oom_score_adj × (totalpages / 1000), the
 * division first, as C's integer arithmetic does.
 */
export function oomBadness(t: OomTask, totalPages: number, pageSize: number): number | null {
  if (t.oomScoreAdj === OOM_SCORE_ADJ_MIN) return null;
  const points = t.rss.anon + t.rss.file + t.rss.shmem + Math.trunc(t.pgtablesBytes / pageSize);
  return points + t.oomScoreAdj * Math.trunc(totalPages / 1000);
}

/**
 * select_bad_process(): the eligible task (in the order given: creation order) with the highest
 * badness; a later task with equal points replaces an earlier one (oom_evaluate_task skips only
 * lower points). Null when every task is unkillable.
 */
export function selectBadProcess<T extends OomTask>(tasks: Iterable<T>, totalPages: number, pageSize: number): T | null {
  let chosen: T | null = null;
  let chosenPoints = -Infinity;
  for (const t of tasks) {
    if (t.unkillable) continue;
    const points = oomBadness(t, totalPages, pageSize);
    if (points === null || points < chosenPoints) continue;
    chosen = t;
    chosenPoints = points;
  }
  return chosen;
}

/**
 * /proc/<pid>/oom_score: the badness scaled back to 0..1333 ((1000 + badness × 1000 /
 * totalpages) × 2 / 3, in C's truncating integer arithmetic), 0 for an unkillable task.
 * @kernel fs/proc/base.c proc_oom_score
 */
export function oomScore(t: OomTask, totalPages: number, pageSize: number): number {
  const badness = oomBadness(t, totalPages, pageSize);
  if (badness === null) return 0;
  return Math.trunc(((1000 + Math.trunc((badness * 1000) / totalPages)) * 2) / 3);
}

/** The comm as the kernel prints it (TASK_COMM_LEN - 1 bytes). */
function comm(t: OomTask): string {
  return t.comm.slice(0, 15);
}

/** The gfp mask a fault's page allocation or memcg charge uses, as dump_header prints it (%#x(%pGg)). */
export type OomGfp = 'anon' | 'shmem' | 'memcg';
const GFP_TEXT: Readonly<Record<OomGfp, string>> = {
  // 6.1's do_anonymous_page: vma_alloc_zeroed_movable_folio, GFP_HIGHUSER_MOVABLE | __GFP_ZERO, a folio (__GFP_COMP)
  anon: '0x140dca(GFP_HIGHUSER_MOVABLE|__GFP_COMP|__GFP_ZERO)',
  // shmem_alloc_folio() with the mapping's gfp
  shmem: '0x100cca(GFP_HIGHUSER_MOVABLE)',
  // mem_cgroup_charge(folio, mm, GFP_KERNEL)
  memcg: '0xcc0(GFP_KERNEL)',
};

/** dump_header()'s first line: `<comm> invoked oom-killer: gfp_mask=…, order=0, oom_score_adj=<adj>`. */
export function invokedLine(current: OomTask, gfp: OomGfp): string {
  return `${comm(current)} invoked oom-killer: gfp_mask=${GFP_TEXT[gfp]}, order=0, oom_score_adj=${current.oomScoreAdj}`;
}

/**
 * dump_tasks(): the header lines and one line per eligible task (dump_task's columns). From 6.8
 * the RSS is also broken down into rss_anon, rss_file and rss_shmem (`rssColumns`).
 */
export function dumpTasks(tasks: Iterable<OomTask>, rssColumns: boolean): string[] {
  const head = rssColumns ? 'rss rss_anon rss_file rss_shmem' : 'rss';
  const out = ['Tasks state (memory values in pages):', `[  pid  ]   uid  tgid total_vm      ${head} pgtables_bytes swapents oom_score_adj name`];
  for (const t of tasks) {
    if (t.unkillable) continue;
    const rss = t.rss.anon + t.rss.file + t.rss.shmem;
    const split = rssColumns ? ` ${pad(t.rss.anon, 8)} ${pad(t.rss.file, 8)} ${pad(t.rss.shmem, 9)}` : '';
    out.push(`[${pad(t.pid, 7)}] ${pad(t.uid, 5)} ${pad(t.pid, 5)} ${pad(t.totalVm, 8)} ${pad(rss, 8)}${split} ${pad(t.pgtablesBytes, 8)} ${pad(0, 8)}         ${pad(t.oomScoreAdj, 5)} ${comm(t)}`);
  }
  return out;
}

/**
 * dump_oom_summary(): `oom-kill:constraint=…` with the memcg context (mem_cgroup_print_oom_context:
 * `oom_memcg=` for a memcg OOM, `global_oom` otherwise, then `task_memcg=`) and the victim.
 */
export function summaryLine(victim: OomTask, oomMemcg: string | null, taskMemcg: string): string {
  const constraint = oomMemcg !== null ? 'CONSTRAINT_MEMCG' : 'CONSTRAINT_NONE';
  const ctx = oomMemcg !== null ? `oom_memcg=${oomMemcg}` : 'global_oom';
  return `oom-kill:constraint=${constraint},nodemask=(null),${ctx},task_memcg=${taskMemcg},task=${comm(victim)},pid=${victim.pid},uid=${victim.uid}`;
}

/** __oom_kill_process(): `<message>: Killed process <pid> (<comm>) total-vm:…kB, anon-rss:…kB, …`. */
export function killedLine(memcgOom: boolean, victim: OomTask, pageSize: number): string {
  const kb = (pages: number): string => `${(pages * pageSize) / 1024}kB`;
  const message = memcgOom ? 'Memory cgroup out of memory' : 'Out of memory';
  return `${message}: Killed process ${victim.pid} (${comm(victim)}) total-vm:${kb(victim.totalVm)}, anon-rss:${kb(victim.rss.anon)}, ` +
    `file-rss:${kb(victim.rss.file)}, shmem-rss:${kb(victim.rss.shmem)}, UID:${victim.uid} pgtables:${victim.pgtablesBytes / 1024}kB oom_score_adj:${victim.oomScoreAdj}`;
}

/** out_of_memory() with no victim. */
export const NO_KILLABLE_LINE = 'Out of memory and no killable processes...';

/**
 * mem_cgroup_print_oom_meminfo()'s first two lines: the memcg's usage, limit and failcnt, and
 * its swap counter (no swap: usage 0, limit PAGE_COUNTER_MAX).
 */
export function memcgMeminfoLines(usagePages: number, maxPages: number, failcnt: number, pageCounterMax: number, pageSize: number): string[] {
  const kb = (pages: number): string => String((BigInt(pages) * BigInt(pageSize)) / 1024n);
  return [`memory: usage ${kb(usagePages)}kB, limit ${kb(maxPages)}kB, failcnt ${failcnt}`, `swap: usage 0kB, limit ${kb(pageCounterMax)}kB, failcnt 0`];
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, ' ');
}
