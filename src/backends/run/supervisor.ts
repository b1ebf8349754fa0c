/**
 * `dmaheap run`: starts a native program under the seccomp filter and serves its calls on an
 * emulated kernel until it and its children are gone.
 *
 * 1. The launcher (native/launch/dmaheap-launch.c, shipped prebuilt) is spawned with a control
 *    socket as fd 3. It reads the filter (filter.ts), installs it with
 *    SECCOMP_FILTER_FLAG_NEW_LISTENER and reports the listener's fd number.
 * 2. The supervisor takes the listener out of the launcher with pidfd_getfd(2), asks for
 *    synchronous wake-ups (SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, v6.6; ignored where missing: the
 *    round trip is then slower), and tells the launcher to exec the program.
 * 3. Each notification (SECCOMP_IOCTL_NOTIF_RECV) goes to the bridge (bridge.ts), whose answer
 *    goes back with SECCOMP_IOCTL_NOTIF_SEND. The listener reports POLLHUP when no process of
 *    the program is left.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants as fsc, writeSync, openSync, closeSync, realpathSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { constants as osc } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import type { Duplex } from 'node:stream';
import { bootKernel } from '../emulated/index.js';
import type { EmulatedOptions } from '../emulated/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import { loadLibc } from '../linux/libc.js';
import type { Libc } from '../linux/libc.js';
import { errnoName } from '../../uapi/errno.js';
import { buildFilter } from './filter.js';
import type { PreloadGate } from './filter.js';
import { NR_PIDFD_GETFD, NR_PIDFD_OPEN, hostSyscallArch } from './syscalls.js';
import { RunBridge } from './bridge.js';
import type { Answer, Notification, TraceRecord } from './bridge.js';
import { MemfdBuffers, ProcessMemory } from './memory.js';
import { HELPER_ARGS, HELPER_EV_INTS, HELPER_EXIT, HELPER_LIFECYCLE, HELPER_REGISTER, HELPER_SERVE, loadHelper, nativeBuffer } from './helper.js';
import { prebuiltFile } from './preload.js';
import type { NativeBuffer, NotifyHelper } from './helper.js';

const SECCOMP_IOCTL_NOTIF_RECV = 0xc0502100;
const SECCOMP_IOCTL_NOTIF_SEND = 0xc0182101;
const SECCOMP_IOCTL_NOTIF_SET_FLAGS = 0x40082104;
const SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP = 1;
const SECCOMP_USER_NOTIF_FLAG_CONTINUE = 1;
const POLLIN = 0x1;
const POLLHUP = 0x10;
const EINTR = 4;
const ENOSYS = 38;
/** How long a poll waits before the event loop gets a turn (ms). */
const POLL_MS = 50;
/**
 * While notifications keep coming, the event loop (the launcher's exit, signals, attached tools)
 * still gets a turn this often (ms). A turn costs 50–120 µs here, so a turn every 64 calls (the
 * first version) added 1–2 µs to every call; one every 10 ms adds about 1%.
 */
const YIELD_MS = 10;

/** A problem that stops `dmaheap run` before the program starts, with what to do. */
export class RunError extends Error {
  constructor(message: string, readonly hint: string) {
    super(message);
    this.name = 'RunError';
  }
}

export interface RunOptions {
  /** The emulated machine (profile, board, command line, ...). Its arch must be the host's. */
  readonly machine: EmulatedOptions;
  readonly program: string;
  readonly args: readonly string[];
  /**
   * The preload shim (native/preload/dmaheap-preload.c built as a shared object): put in the
   * program's LD_PRELOAD with DMAHEAP_RUN_COOKIE, so a dynamically linked program's calls that
   * cannot touch the emulated machine skip the supervisor. Opt-in; absent: nothing changes.
   */
  readonly preload?: string;
  /** Write every emulated call as a JSON line to this file. */
  readonly trace?: string;
  /** A line for the user (stderr). */
  readonly warn: (line: string) => void;
  /** Told the kernel and bridge once the program runs (for attach servers and tests). */
  readonly onStart?: (run: { kernel: Kernel; bridge: RunBridge }) => void;
  /**
   * The notification helper (helper.ts): the shipped one (the default; DMAHEAP_RUN_HELPER=off
   * turns it off), false for none (every notification decided in JavaScript), or a path.
   */
  readonly helper?: boolean | string;
}

export interface RunResult {
  /** The program's exit status (128 + signal number when a signal killed it). */
  readonly status: number;
  readonly signal: string | null;
  /** `helper`: the calls the notification helper answered itself: let the host run them, or served them (uname); counted in `continued` or `served` too. */
  readonly counts: { served: number; mirrored: number; continued: number; logged: number; fastAllocs: number; helper: number };
  /** Buffers still holding memory after every process exited (0 unless something leaked). */
  readonly leakedBuffers: number;
  readonly kernel: Kernel;
  /** The notification helper that answered plain processes' host calls, or null. */
  readonly helper: string | null;
}

/** The launcher for this machine: DMAHEAP_LAUNCHER, else the shipped prebuilt binary. */
export function launcherPath(arch: string = process.arch): string {
  const env = process.env['DMAHEAP_LAUNCHER'];
  if (env !== undefined && env !== '') return env;
  return prebuiltFile('dmaheap-launch', arch);
}

function readLine(s: Duplex): Promise<string> {
  return new Promise((resolve, reject) => {
    let acc = '';
    const onData = (d: Buffer): void => {
      acc += d.toString('latin1');
      const i = acc.indexOf('\n');
      if (i >= 0 || acc.length > 256) {
        cleanup();
        resolve(i >= 0 ? acc.slice(0, i) : acc);
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve(acc);
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    const cleanup = (): void => {
      s.off('data', onData);
      s.off('end', onEnd);
      s.off('error', onError);
    };
    s.on('data', onData);
    s.on('end', onEnd);
    s.on('error', onError);
  });
}

function checkHost(): { libc: Libc; arch: NonNullable<ReturnType<typeof hostSyscallArch>>; launcher: string } {
  if (process.platform !== 'linux') throw new RunError(`dmaheap run needs Linux (this is ${process.platform})`, 'run it on Linux 5.9 or later, x86-64 or arm64');
  const arch = hostSyscallArch();
  if (arch === null) throw new RunError(`dmaheap run needs an x86-64 or arm64 host (this is ${process.arch})`, 'run it on x86-64 or arm64 Linux');
  const libc = loadLibc();
  if (libc instanceof Error) throw new RunError(`cannot load libc through koffi: ${libc.message}`, 'reinstall with `npm ci` (koffi ships prebuilt binaries for Linux x86-64 and arm64)');
  const launcher = launcherPath();
  try {
    accessSync(launcher, fsc.X_OK);
  } catch {
    throw new RunError(`the native launcher ${launcher} is missing or not executable`, 'rebuild it with `npm run build:native` (needs gcc), or reinstall the package');
  }
  return { libc, arch, launcher };
}

/** Runs `program` on an emulated kernel; resolves with its exit status once it and its children are gone. */
export async function runProgram(o: RunOptions): Promise<RunResult> {
  const { libc, arch, launcher } = checkHost();
  const hostPage = libc.sysconf(30); // _SC_PAGESIZE
  const buffers = new MemfdBuffers(libc);
  const memory = new ProcessMemory(libc, hostPage);
  // the machine may be another architecture (an arm64 board on x86-64): the programs' ABI is the host's
  const kernel = bootKernel({ ...o.machine, abi: arch.name, hostMemory: buffers });
  if (kernel.pageSize !== hostPage) {
    throw new RunError(`the emulated machine has ${kernel.pageSize}-byte pages but this host's programs use ${hostPage}-byte pages`, `leave --page-size out, or give ${hostPage}`);
  }
  const cookie = randomBytes(8).readBigUInt64LE(0) | 1n;
  // the preload shim gets a cookie of its own (the launcher's stays out of the program's sight:
  // the shim's only tells it that it runs here), and the page its syscall stub is mapped at, from
  // which the filter lets its calls through: a page-aligned address in the middle of the user
  // address space (below 2^39, so arm64's 39-bit layouts have it too)
  const gate: PreloadGate | undefined = o.preload === undefined ? undefined : {
    cookie: randomBytes(8).readBigUInt64LE(0) | 1n,
    page: 0x40_0000_0000n + BigInt(randomBytes(4).readUInt32LE(0) & 0xfffff) * 4096n,
  };
  const filter = buildFilter(arch, cookie, gate);

  let traceFd = -1;
  if (o.trace !== undefined) {
    try {
      traceFd = openSync(o.trace, 'w');
    } catch (e) {
      throw new RunError(`cannot write the trace to ${o.trace}: ${e instanceof Error ? e.message : String(e)}`, 'give --trace a file in a directory that exists and that you may write to');
    }
  }
  const env = o.preload === undefined || gate === undefined ? undefined : preloadEnv(o.preload, gate);
  const child = spawn(launcher, ['3', o.program, ...o.args], { stdio: ['inherit', 'inherit', 'inherit', 'pipe'], ...(env !== undefined ? { env } : {}) });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const spawnError = new Promise<Error>((resolve) => child.on('error', resolve));
  const ctl = child.stdio[3] as Duplex;
  const header = Buffer.alloc(16);
  header.write('DHL1', 0, 'latin1');
  header.writeUInt32LE(filter.length / 8, 4);
  header.writeBigUInt64LE(cookie, 8);
  ctl.write(Buffer.concat([header, filter]));
  const line = await Promise.race([readLine(ctl), spawnError.then((e) => `ERR spawn ${e.message}`)]);
  const ok = /^OK (\d+)$/.exec(line);
  if (ok === null) {
    child.kill('SIGKILL');
    await exited.catch(() => undefined);
    throw new RunError(`the launcher could not start the program (${line === '' ? 'no answer' : line})`, /seccomp|prctl/.test(line) ? 'dmaheap run needs seccomp user notification (Linux 5.9 or later, not disabled in this container)' : 'check the launcher with `npm run build:native`');
  }
  const pidfd = libc.syscall3(NR_PIDFD_OPEN, child.pid ?? 0, 0, 0);
  const listener = pidfd < 0 ? -1 : libc.syscall3(NR_PIDFD_GETFD, pidfd, Number(ok[1]), 0);
  if (listener < 0) {
    child.kill('SIGKILL');
    throw new RunError(`cannot take the seccomp listener from the launcher (errno ${libc.koffi.errno()})`, 'dmaheap run needs pidfd_getfd (Linux 5.6 or later) and ptrace access to its own children');
  }
  libc.ioctlAddr(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);

  // open until the bridge has shut down: the mirrors still alive then exit into the trace
  let traceOpen = traceFd >= 0;
  const closeTrace = (): void => {
    if (traceOpen) closeSync(traceFd);
    traceOpen = false;
  };
  const trace = traceFd < 0 ? undefined : (r: TraceRecord): void => {
    if (traceOpen) writeSync(traceFd, JSON.stringify(r) + '\n');
  };
  const bridge = new RunBridge(kernel, {
    libc, listener, buffers, memory, warn: o.warn, errnoName: (e) => errnoName(e) ?? `E${e}`, ...(trace !== undefined ? { trace } : {}), preload: env !== undefined,
    ...(env !== undefined && o.preload !== undefined ? { preloadPath: realpathOr(o.preload) } : {}),
  }, arch);
  const helper = chooseHelper(libc, o);
  o.onStart?.({ kernel, bridge });
  ctl.write('g');
  ctl.end();

  // Ctrl-C reaches the program through the terminal (it decides); SIGTERM and SIGHUP sent to
  // dmaheap run are passed on to it, so the program never runs on without its supervisor
  const ignore = (): void => undefined;
  const forward = (sig: NodeJS.Signals): void => {
    child.kill(sig);
  };
  process.on('SIGINT', ignore);
  process.on('SIGTERM', forward);
  process.on('SIGHUP', forward);
  let served = false;
  try {
    // --trace records each fork, exit_group and uname as the bridge serves it: those stay the
    // bridge's; so does the shim's registration when there is no shim
    const flags = trace !== undefined ? 0 : HELPER_LIFECYCLE | HELPER_EXIT | HELPER_SERVE | (env !== undefined ? HELPER_REGISTER : 0);
    await serve(libc, listener, bridge, o.warn, helper, flags);
    served = true;
  } finally {
    process.off('SIGINT', ignore);
    process.off('SIGTERM', forward);
    process.off('SIGHUP', forward);
    if (!served) {
      closeTrace();
      // an internal error out of the loop: the program, stopped in a call no one will answer,
      // must not outlive its supervisor (nor keep this process waiting for it)
      child.kill('SIGKILL');
    }
  }
  const { code, signal } = await exited;
  bridge.shutdown();
  closeTrace();
  libc.close(listener);
  libc.close(pidfd);
  const status = code ?? 128 + (signal !== null ? (osc.signals[signal] ?? 0) : 0);
  return { status, signal, counts: { ...bridge.counts }, leakedBuffers: buffers.live, kernel, helper: helper?.path ?? null };
}

/** The helper to use: none when turned off, else the one asked for, loaded (a warning and none where it cannot be). */
function chooseHelper(libc: Libc, o: RunOptions): NotifyHelper | null {
  const want = o.helper ?? (process.env['DMAHEAP_RUN_HELPER'] === 'off' ? false : true);
  if (want === false) return null;
  const h = want === true ? loadHelper(libc) : loadHelper(libc, resolvePath(want));
  if (h instanceof Error) {
    o.warn(`dmaheap run: the notification helper cannot be used (${h.message}); every call is decided in JavaScript, which is slower (npm run build:native rebuilds it; DMAHEAP_RUN_HELPER=off silences this)`);
    return null;
  }
  return h;
}

/** `file`'s real path (as /proc/<pid>/maps shows it), or its absolute path when that fails. */
function realpathOr(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return resolvePath(file);
  }
}

/**
 * The program's environment with the preload shim: LD_PRELOAD (after any the user set) and the
 * shim's cookie and stub page (DMAHEAP_RUN_COOKIE, DMAHEAP_RUN_STUB, hex): the filter lets a
 * call through when it was made from that page; the cookie tells the shim it runs under
 * `dmaheap run` (the filter no longer reads it).
 */
export function preloadEnv(preload: string, gate: PreloadGate, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const abs = resolvePath(preload);
  try {
    accessSync(abs, fsc.R_OK);
  } catch {
    throw new RunError(`the preload shim ${abs} is missing or not readable`, 'build it with `gcc -shared -fPIC -O2 -o dmaheap-preload.so native/preload/dmaheap-preload.c -ldl` and give its path to --preload (or DMAHEAP_PRELOAD)');
  }
  if (/[\s:]/.test(abs)) throw new RunError(`the preload shim's path ${JSON.stringify(abs)} has a space or a colon, which LD_PRELOAD cannot carry`, 'put the shared object in a directory whose path has neither');
  const prev = base['LD_PRELOAD'];
  return { ...base, LD_PRELOAD: prev !== undefined && prev !== '' ? `${prev}:${abs}` : abs, DMAHEAP_RUN_COOKIE: gate.cookie.toString(16), DMAHEAP_RUN_STUB: gate.page.toString(16) };
}

/**
 * How long the helper may keep answering without a pause (µs) before it returns for the event
 * loop's turn, which it otherwise takes when the program pauses for POLL_MS, or 90 ms after
 * YIELD_MS at the latest (dmaheap-notify.c TURN_LATE_US).
 */
const HELPER_BUDGET_US = YIELD_MS * 1000;
/** The most lifecycle calls the helper logs before the bridge reads the log (more go to the bridge). */
const HELPER_EVENTS = 256;
/** The most parents with pending forks the helper is told about (the children of others go to the bridge). */
const HELPER_CLAIMS = 256;
/** The most thread ids the helper is told about (more are served by the bridge, as before). */
const HELPER_TIDS = 4096;

async function serve(libc: Libc, listener: number, bridge: RunBridge, warn: (l: string) => void, helper: NotifyHelper | null, helperFlags: number): Promise<void> {
  // the notification and the pollfds in native memory when the helper reads and writes them
  const mem: NativeBuffer[] = [];
  const buffer = (size: number): NativeBuffer => {
    if (helper === null) return { addr: 0, buf: Buffer.alloc(size) };
    const b = nativeBuffer(libc, size);
    mem.push(b);
    return b;
  };
  try {
    const req = buffer(80);
    const resp = Buffer.alloc(24);
    // struct pollfd of the listener and the mirrors' pidfds; reused while it is large enough
    let pfd = buffer(8 * 8);
    let lastYield = performance.now();
    // the helper's plain thread ids, refreshed after every call the bridge handles, and its count
    const plain = buffer(helper === null ? 0 : 4 * HELPER_TIDS);
    const plainIds = new Int32Array(plain.buf.buffer, plain.buf.byteOffset, plain.buf.length / 4);
    let nplain = 0;
    // the helper's arguments and counts (struct dh_args), its log of forks, execs and chdirs, and
    // the emulated machine's struct utsname it answers uname with
    const args = buffer(HELPER_ARGS.bytes);
    const events = buffer(helper === null ? 0 : 4 * HELPER_EV_INTS * HELPER_EVENTS);
    const eventIds = new Int32Array(events.buf.buffer, events.buf.byteOffset, events.buf.length / 4);
    const uts = buffer(helper === null ? 0 : 390);
    // the parents whose children the helper may take as plain on their first call
    const claim = buffer(helper === null ? 0 : 8 * HELPER_CLAIMS);
    const claimIds = new Int32Array(claim.buf.buffer, claim.buf.byteOffset, claim.buf.length / 4);
    if (helper !== null) {
      uts.buf.set(bridge.utsname());
      const g = args.buf;
      g.writeInt32LE(listener, HELPER_ARGS.listener);
      g.writeInt32LE(POLL_MS, HELPER_ARGS.timeoutMs);
      g.writeInt32LE(HELPER_BUDGET_US, HELPER_ARGS.budgetUs);
      g.writeUInt32LE(helperFlags, HELPER_ARGS.flags);
      g.writeInt32LE(HELPER_EVENTS, HELPER_ARGS.nevents);
      g.writeBigUInt64LE(BigInt(req.addr), HELPER_ARGS.req);
      g.writeBigUInt64LE(BigInt(plain.addr), HELPER_ARGS.plain);
      g.writeBigUInt64LE(BigInt(events.addr), HELPER_ARGS.events);
      g.writeBigUInt64LE(BigInt(uts.addr), HELPER_ARGS.uts);
      g.writeBigUInt64LE(BigInt(claim.addr), HELPER_ARGS.claim);
      const reg = bridge.shimRegistration();
      g.writeUInt32LE(reg.bytes, HELPER_ARGS.regBytes);
      g.writeUInt32LE(reg.pageSizeAt, HELPER_ARGS.regPageOff);
      g.writeUInt32LE(reg.pageSize, HELPER_ARGS.pageSize);
      g.writeUInt32LE(reg.infoAt, HELPER_ARGS.regInfoOff);
    }
    for (;;) {
      const watched = bridge.pidfds();
      const nfds = 1 + watched.length;
      if (pfd.buf.length < 8 * nfds) pfd = buffer(16 * nfds);
      const p = pfd.buf;
      p.writeInt32LE(listener, 0);
      p.writeInt32LE(POLLIN, 4); // events, and revents cleared
      for (let i = 0; i < watched.length; i++) {
        p.writeInt32LE(watched[i]!.fd, 8 * (i + 1));
        p.writeInt32LE(POLLIN, 8 * (i + 1) + 4);
      }
      // got: a notification is in req already (the helper took it)
      let got = false;
      if (helper !== null) {
        const g = args.buf;
        g.writeInt32LE(nfds, HELPER_ARGS.nfds);
        g.writeInt32LE(nplain, HELPER_ARGS.nplain);
        g.writeInt32LE(bridge.claimableForks(claimIds), HELPER_ARGS.nclaim);
        g.writeInt32LE(Math.max(0, Math.round((YIELD_MS - (performance.now() - lastYield)) * 1000)), HELPER_ARGS.turnUs);
        g.writeBigUInt64LE(BigInt(pfd.addr), HELPER_ARGS.fds);
        const r = helper.serve(args.addr);
        const n = Number(g.readBigUInt64LE(HELPER_ARGS.answered));
        if (n > 0) {
          const served = Number(g.readBigUInt64LE(HELPER_ARGS.served));
          bridge.counts.continued += n - served;
          bridge.counts.served += served;
          bridge.counts.helper += n;
          bridge.counts.mirrored += Number(g.readBigUInt64LE(HELPER_ARGS.mirrored));
          // the forks, execs and chdirs it let through, before anything else is served or looked at
          const logged = Number(g.readBigUInt64LE(HELPER_ARGS.logged));
          if (logged > 0) bridge.helperEvents(eventIds, logged);
          g.fill(0, HELPER_ARGS.answered, HELPER_ARGS.bytes);
        }
        if (r < 0) throw new Error(`poll on the seccomp listener failed (errno ${-r})`);
        got = r === 1;
      } else {
        const r = libc.poll(p, nfds, POLL_MS);
        if (r < 0 && libc.koffi.errno() !== EINTR) throw new Error(`poll on the seccomp listener failed (errno ${libc.koffi.errno()})`);
      }
      // processes that died (a signal, or exit_group already seen): their mirrors exit, and
      // their thread ids leave the helper's list before it waits again
      let died = false;
      for (let i = 0; i < watched.length; i++) {
        if ((p.readInt16LE(8 * (i + 1) + 6) & POLLIN) === 0) continue;
        bridge.exited(watched[i]!.proc);
        died = true;
      }
      if (died && helper !== null) nplain = bridge.plainTids(plainIds);
      const rev0 = p.readInt16LE(6);
      // with the helper, a notification that waits while a pidfd fired first is the helper's to
      // take (it may be a plain process's), and a death alone is no reason for the event loop's
      // turn, which the program's next call would wait for: back to the helper, which takes the
      // turn when the program pauses (or late)
      if (helper !== null && !got && (died || (rev0 & POLLIN) !== 0)) continue;
      const rev = got ? POLLIN : rev0;
      if ((rev & POLLIN) !== 0) {
        const q = req.buf;
        if (!got) q.fill(0);
        if (got || libc.ioctlPtr(listener, SECCOMP_IOCTL_NOTIF_RECV, q) === 0) {
          const n: Notification = {
            id: q.readBigUInt64LE(0),
            pid: q.readUInt32LE(8),
            nr: q.readInt32LE(16),
            args: [q.readBigUInt64LE(32), q.readBigUInt64LE(40), q.readBigUInt64LE(48), q.readBigUInt64LE(56), q.readBigUInt64LE(64), q.readBigUInt64LE(72)],
          };
          let a: Answer;
          try {
            a = bridge.handle(n);
          } catch (e) {
            warn(`dmaheap run: internal error serving call ${n.nr} of pid ${n.pid}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
            a = { ret: -ENOSYS };
          }
          resp.writeBigUInt64LE(n.id, 0);
          if ('cont' in a) {
            resp.writeBigInt64LE(0n, 8);
            resp.writeInt32LE(0, 16);
            resp.writeUInt32LE(SECCOMP_USER_NOTIF_FLAG_CONTINUE, 20);
          } else {
            resp.writeBigInt64LE(BigInt(a.ret >= 0 ? a.ret : 0), 8);
            resp.writeInt32LE(a.ret < 0 ? a.ret : 0, 16);
            resp.writeUInt32LE(0, 20);
          }
          // the process may have stopped (or started) being plain while its call was served
          if (helper !== null) nplain = bridge.plainTids(plainIds);
          // ENOENT: the caller died while we served it
          libc.ioctlPtr(listener, SECCOMP_IOCTL_NOTIF_SEND, resp);
          // what can wait until the program runs again (the memfds of freed buffers)
          bridge.afterAnswer();
        }
        // the helper takes the event loop's turn when the program pauses (or late), the
        // JavaScript loop after YIELD_MS
        if (helper !== null || performance.now() - lastYield < YIELD_MS) continue;
      } else if ((rev & POLLHUP) !== 0) return;
      if (helper !== null) nplain = bridge.plainTids(plainIds);
      // a turn for the event loop (the launcher's exit, signals, attached tools), which then see
      // what the shims' fast paths logged
      bridge.drainAll();
      await new Promise((resolve) => setImmediate(resolve));
      lastYield = performance.now();
    }
  } finally {
    for (const b of mem) libc.free(b.addr);
  }
}
