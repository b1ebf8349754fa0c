/**
 * Same binary, same answers (issue 12, item 3): the static binaries of ../shared/peer-tests/bin,
 * which no one here wrote, print under `dmaheap run --profile <v>` exactly what they printed on
 * the real Linux <v> of ../shared/oracle (5.10.262, 6.1.192, 6.12.118, 7.3-rc7):
 * - the kernel's own selftest: ../shared/peer-tests/kselftest-dmabuf-heap.<v>.tap, identical;
 * - the oracle's probe: ../shared/oracle/probe-<v>.out, every line with the `~` fields masked,
 *   except the cases the real run skipped itself (scripts/peer-compare.ts); on 5.10 the dma-buf
 *   inode numbers, which depend on the boot, compare by rank (--boot-ino).
 * Both exit 0, as on the real kernels, and print nothing on stderr.
 * `npm run test:kernel` compares the same binaries live against each referee.
 *
 * Skips, with the reason: not Linux on x86-64 or arm64; `dmaheap run -- /bin/true` fails as
 * dmaheap run's own failure (exit status 125: no seccomp user notification, no launcher); the
 * peer tests or the oracle's recordings are not beside the repository.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { comparePeerOutputs } from '../../scripts/peer-compare.js';
import type { PeerMode } from '../../scripts/peer-compare.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(ROOT, 'dist/src/apps/cli/main.js');
const PEER = join(ROOT, '../shared/peer-tests');
const ORACLE = join(ROOT, '../shared/oracle');
const PROFILES = ['5.10', '6.1', '6.12', '7.3'] as const;
/** Profiles whose dma-buf inode numbers come from get_next_ino(): compared by rank (peer-compare --boot-ino). */
const BOOT_INO: readonly string[] = ['5.10'];
/** How many `dmaheap run`s at a time (the machine has 2 CPUs). */
const CONCURRENCY = 2;
/** A run that takes longer has hung: it is killed and fails (each takes 0.5-4 s). */
const KILL_AFTER_MS = 120_000;

interface Run {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface Job {
  readonly profile: string;
  readonly binary: 'kselftest-dmabuf-heap' | 'probe';
  readonly mode: PeerMode;
  /** The real kernel's recorded output. */
  readonly expected: string;
}

/**
 * Why this machine cannot run the test, or undefined when it can. `dmaheap run -- /bin/true` with
 * any other outcome than exit 0 with nothing on stderr is not a reason to skip: the test runs, and
 * fails on it.
 */
function skipReason(): string | undefined {
  if (process.platform !== 'linux') return `dmaheap run needs Linux (this is ${process.platform})`;
  if (process.arch !== 'x64' && process.arch !== 'arm64') return `dmaheap run needs x86-64 or arm64 (this is ${process.arch})`;
  for (const f of ['bin/kselftest-dmabuf-heap', 'bin/probe']) {
    if (!existsSync(join(PEER, f))) return `no ${join(PEER, f)}: the peer tests (../shared/peer-tests) are not beside the repository`;
  }
  for (const v of PROFILES) {
    for (const f of [join(PEER, `kselftest-dmabuf-heap.${v}.tap`), join(ORACLE, `probe-${v}.out`)]) {
      if (!existsSync(f)) return `no ${f}: the real kernel's recorded output is not beside the repository`;
    }
  }
  const r = spawnSync(process.execPath, [CLI, 'run', '--', '/bin/true'], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: KILL_AFTER_MS });
  // 125: dmaheap run itself failed (no seccomp user notification, a missing launcher); 127: no /bin/true
  if (r.status === 125 || r.status === 127) return `dmaheap run -- /bin/true exited with ${r.status}: ${r.stderr.trim()}`;
  trueRun = { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
  return undefined;
}

/**
 * Closes the fds this process inherited (above 2, without FD_CLOEXEC) and returns their numbers.
 * The probe's last line counts the fds it has (`open_fds=3` on the referees, which start it with
 * 0-2 only), and spawn's stdio option does not close them: libuv leaves every fd without
 * FD_CLOEXEC open in the child, whatever `stdio` says, and `dmaheap run` passes its own to the
 * program as exec would. Node opens its own fds with O_CLOEXEC, so an fd without it was inherited
 * (a shell's or a test harness's) and is not Node's; NODE_CHANNEL_FD, an IPC channel to a parent,
 * is kept.
 */
function closeInheritedFds(): number[] {
  const keep = new Set([0, 1, 2, Number(process.env['NODE_CHANNEL_FD'] ?? -1)]);
  const closed: number[] = [];
  for (const name of readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    if (!Number.isInteger(fd) || keep.has(fd)) continue;
    let info: string;
    try {
      info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    } catch {
      continue; // the directory's own fd, closed by now
    }
    const flags = /^flags:\s+([0-7]+)$/m.exec(info)?.[1];
    // O_CLOEXEC as fdinfo shows it (include/uapi/asm-generic/fcntl.h: 02000000)
    if (flags === undefined || (parseInt(flags, 8) & 0o2000000) !== 0) continue;
    closeSync(fd);
    closed.push(fd);
  }
  return closed;
}

/** `dmaheap run --profile <v> -- <binary>`, with 0-2 only (see closeInheritedFds). */
function runUnder(profile: string, binary: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'run', '--profile', profile, '--', join(PEER, 'bin', binary)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: KILL_AFTER_MS,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (status, signal) => {
      resolve({ status, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** Runs every job, `limit` at a time; each job's promise settles when its run has finished. */
function pool(jobs: readonly Job[], limit: number): Map<Job, Promise<Run>> {
  const results = new Map<Job, Promise<Run>>();
  const starts: (() => void)[] = [];
  let running = 0;
  const next = (): void => {
    while (running < limit && starts.length > 0) {
      running++;
      starts.shift()!();
    }
  };
  for (const job of jobs) {
    results.set(
      job,
      new Promise<Run>((resolve, reject) => {
        starts.push(() => {
          runUnder(job.profile, job.binary)
            .then(resolve, reject)
            .finally(() => {
              running--;
              next();
            });
        });
      }),
    );
    // a run that fails to start is reported by its subtest, whenever that awaits it
    results.get(job)!.catch(() => undefined);
  }
  next();
  return results;
}

let trueRun: Run | undefined;
const reason = skipReason();

test('the peer-test binaries print under dmaheap run what they printed on the real kernels', { skip: reason ?? false }, async (t) => {
  const jobs: Job[] = [];
  for (const profile of PROFILES) {
    jobs.push({ profile, binary: 'kselftest-dmabuf-heap', mode: 'tap', expected: readFileSync(join(PEER, `kselftest-dmabuf-heap.${profile}.tap`), 'utf8') });
    jobs.push({ profile, binary: 'probe', mode: 'probe', expected: readFileSync(join(ORACLE, `probe-${profile}.out`), 'utf8') });
  }
  assert.deepEqual([trueRun?.status, trueRun?.signal, trueRun?.stderr], [0, null, ''], 'dmaheap run -- /bin/true');
  const closed = closeInheritedFds();
  if (closed.length > 0) t.diagnostic(`closed the fds this process inherited without FD_CLOEXEC: ${closed.join(', ')}`);
  const results = pool(jobs, CONCURRENCY);
  for (const job of jobs) {
    await t.test(`--profile ${job.profile}: ${job.binary}`, async () => {
      const r = await results.get(job)!;
      assert.deepEqual(comparePeerOutputs(job.expected, r.stdout, job.mode, { bootIno: BOOT_INO.includes(job.profile) }).differences, [], `${job.binary} under --profile ${job.profile}, stderr: ${r.stderr}`);
      assert.deepEqual([r.status, r.signal, r.stderr], [0, null, '']);
    });
  }
});
