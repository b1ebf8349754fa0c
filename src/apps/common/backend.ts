/**
 * `--backend emulated|linux|auto`: which kernel a command talks to. Shared by every command
 * that can run against the real kernel (alloc, doctor, top, heaps, dump) as well as the emulated one.
 *
 * - `emulated`: a fresh emulated kernel booted from the machine options (--profile, --board, ...).
 * - `linux`: this machine's kernel. Commands that make syscalls (alloc) or use the client
 *   library's discovery (heaps) need the Linux backend (src/backends/linux, loaded on demand so
 *   the build does not depend on it); commands that only read files (top, dump, and most of
 *   doctor) read /proc, /sys and /dev with node:fs.
 * - `auto` (the default): `linux` when it is available, else `emulated` with a note saying why.
 *
 * Also here: the "host facts" doctor needs besides a syscall target (who the user is, group
 * names, container markers, stat(2), binary files), for this machine and for an emulated one.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { arch as osArch, release as osRelease } from 'node:os';
import type { DmabufFs } from '../../api/dmabuf-info.js';
import { dmabufFsOf } from '../../api/dmabuf-info.js';
import type { DmaHeapClient } from '../../api/client.js';
import type { IoctlResult, SyscallTarget, SysResult, TextResult } from '../../api/target.js';
import { createEmulatedTarget, EmulatedTarget } from '../../backends/emulated/index.js';
import type { EmulatedOptions, Kernel } from '../../backends/emulated/index.js';
import { Errno } from '../../uapi/errno.js';
import type { ErrnoName } from '../../uapi/errno.js';
import type { Arch } from '../../uapi/fcntl.js';
import { UsageError } from './args.js';

export type BackendChoice = 'emulated' | 'linux' | 'auto';

/** The option every backend-aware command takes. */
export const BACKEND_OPTION = { backend: { type: 'string' } } as const;

/** `--backend` → its value (default `auto`); a UsageError for anything else. */
export function parseBackend(v: unknown): BackendChoice {
  if (v === undefined) return 'auto';
  if (v === 'emulated' || v === 'linux' || v === 'auto') return v;
  throw new UsageError(`--backend: '${String(v)}' is not emulated, linux or auto`);
}

/** A backend that cannot be used (exit status 1). */
export class BackendError extends Error {
  override readonly name = 'BackendError';
}

// ---- the Linux backend, loaded on demand ----------------------------------------------------

/** What src/backends/linux/index.ts exports as `linuxBackend`. */
export interface LinuxBackend {
  readonly name: 'linux';
  isAvailable(): { ok: true } | { ok: false; reason: string };
  createTarget(): SyscallTarget;
  createClient(): DmaHeapClient;
}

export type LinuxLoad = { readonly ok: true; readonly backend: LinuxBackend } | { readonly ok: false; readonly reason: string };
export type LinuxLoader = () => Promise<LinuxLoad>;

/**
 * Imports dist/src/backends/linux/index.js. The path is computed, so neither the compiler nor the
 * import-cycle check depends on the module: when it is not built the answer is "linux backend
 * not built".
 */
export const loadLinuxBackend: LinuxLoader = async () => {
  const url = new URL(['..', '..', 'backends', 'linux', 'index.js'].join('/'), import.meta.url);
  let mod: { linuxBackend?: unknown };
  try {
    mod = (await import(url.href)) as { linuxBackend?: unknown };
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (err.code === 'ERR_MODULE_NOT_FOUND' && (err.message ?? '').includes(url.pathname)) return { ok: false, reason: 'linux backend not built' };
    return { ok: false, reason: `linux backend failed to load: ${err.message ?? String(e)}` };
  }
  const b = mod.linuxBackend as Partial<LinuxBackend> | undefined;
  if (b === undefined || typeof b.isAvailable !== 'function' || typeof b.createTarget !== 'function') return { ok: false, reason: 'linux backend not built (no linuxBackend export)' };
  return { ok: true, backend: b as LinuxBackend };
};

/** The Linux backend when it is built and says it is available, else why not. */
async function linuxIfAvailable(load: LinuxLoader): Promise<LinuxLoad> {
  const l = await load();
  if (!l.ok) return l;
  const a = l.backend.isAvailable();
  return a.ok ? l : { ok: false, reason: `linux backend not available: ${a.reason}` };
}

// ---- a syscall target (alloc) ---------------------------------------------------------------

export interface OpenedTarget {
  readonly kind: 'emulated' | 'linux';
  readonly target: SyscallTarget;
  /** The emulated kernel (null on Linux). */
  readonly kernel: Kernel | null;
  /** Why `auto` chose the emulated backend, or null. */
  readonly note: string | null;
  /** "emulated Linux 7.0.0 (profile 7.0)" or "Linux 6.18.0 (this machine)" */
  readonly label: string;
}

export function emulatedLabel(k: Kernel): string {
  return `emulated Linux ${k.profile.release} (profile ${k.android?.name ?? k.profile.name})`;
}

/** A process in the chosen kernel, for commands that make syscalls. */
export async function openTarget(choice: BackendChoice, machine: EmulatedOptions, load: LinuxLoader = loadLinuxBackend): Promise<OpenedTarget> {
  let note: string | null = null;
  if (choice !== 'emulated') {
    const l = choice === 'linux' ? await load() : await linuxIfAvailable(load);
    if (l.ok) {
      let target: SyscallTarget;
      try {
        target = l.backend.createTarget();
      } catch (e) {
        if (choice === 'linux') throw new BackendError(`--backend linux: ${(e as Error).message}`);
        return emulatedTarget(machine, `linux backend failed: ${(e as Error).message}; using the emulated backend`);
      }
      return { kind: 'linux', target, kernel: null, note: null, label: `Linux ${target.release} (this machine)` };
    }
    if (choice === 'linux') throw new BackendError(`--backend linux: ${l.reason}`);
    note = `${l.reason}; using the emulated backend`;
  }
  return emulatedTarget(machine, note);
}

function emulatedTarget(machine: EmulatedOptions, note: string | null): OpenedTarget {
  const t = createEmulatedTarget(machine);
  return { kind: 'emulated', target: t, kernel: t.kernel, note, label: emulatedLabel(t.kernel) };
}

// ---- a client for discovery (heaps) --------------------------------------------------------

/** What `heaps` looks at: this machine through the client library, or an emulated machine (the caller boots it). */
export type OpenedClient =
  | { readonly kind: 'linux'; readonly client: DmaHeapClient; readonly note: null; readonly label: string }
  | { readonly kind: 'emulated'; readonly note: string | null };

/**
 * For commands that describe the heaps without allocating (heaps): `linux` is a client over this
 * machine through the Linux backend, even with no heap or no permission (the report says so);
 * `auto` is that when the backend loads and /dev/dma_heap lists a heap (one this user may not
 * open counts: the report explains the permission), else the emulated machine with a note.
 */
export async function openClient(choice: BackendChoice, load: LinuxLoader = loadLinuxBackend, platform: string = process.platform): Promise<OpenedClient> {
  if (choice === 'emulated') return { kind: 'emulated', note: null };
  if (platform !== 'linux') {
    if (choice === 'linux') throw new BackendError(`--backend linux: this is ${platform}, not Linux`);
    return { kind: 'emulated', note: `this is ${platform}, not Linux; using the emulated backend` };
  }
  const l = await load();
  if (!l.ok) {
    if (choice === 'linux') throw new BackendError(`--backend linux: ${l.reason}`);
    return { kind: 'emulated', note: `${l.reason}; using the emulated backend` };
  }
  const a = choice === 'auto' ? l.backend.isAvailable() : ({ ok: true } as const);
  let client: DmaHeapClient;
  try {
    client = l.backend.createClient();
  } catch (e) {
    if (choice === 'linux') throw new BackendError(`--backend linux: ${(e as Error).message}`);
    return { kind: 'emulated', note: `linux backend failed: ${(e as Error).message}; using the emulated backend` };
  }
  if (!a.ok && client.target.listHeaps().length === 0) {
    client.close();
    return { kind: 'emulated', note: `linux backend not available: ${a.reason}; using the emulated backend` };
  }
  return { kind: 'linux', client, note: null, label: `Linux ${client.target.release} (this machine)` };
}

// ---- files only (top, dump) -----------------------------------------------------------------

/** Files as a syscall target reads them, with the errno when they cannot be read. */
export type FilesTarget = Pick<SyscallTarget, 'readdir' | 'readFile' | 'readlink'>;

export interface OpenedFiles {
  readonly kind: 'emulated' | 'linux';
  /** /proc, /sys and debugfs as the accounting parser reads them. */
  readonly fs: DmabufFs;
  /** The same files with errnos (why one cannot be read). */
  readonly files: FilesTarget;
  /** The emulated process reading them (null on Linux). */
  readonly target: EmulatedTarget | null;
  readonly kernel: Kernel | null;
  readonly note: string | null;
  readonly label: string;
  /** The reader's uid (what it may see of other processes). */
  readonly uid: number;
}

/** This machine's files through node:fs (text as UTF-8), with the errno when one cannot be read. */
export const hostFiles: FilesTarget = {
  readdir(path) {
    try {
      const names = readdirSync(path);
      return { ret: names.length, errno: null, names };
    } catch (e) {
      return fail(e, { names: null });
    }
  },
  readFile(path): TextResult {
    try {
      const text = readFileSync(path, 'utf8');
      return { ret: text.length, errno: null, text };
    } catch (e) {
      return fail(e, { text: null });
    }
  },
  readlink(path): TextResult {
    try {
      const text = readlinkSync(path);
      return { ret: text.length, errno: null, text };
    } catch (e) {
      return fail(e, { text: null });
    }
  },
};

/** The host's files through node:fs, as the accounting parser reads them. */
export const hostDmabufFs: DmabufFs = dmabufFsOf(hostFiles);

/**
 * For commands that only read /proc and /sys (top, dump): `linux` is this machine's procfs and sysfs,
 * read with node:fs (no Linux backend needed, as dmabuf_dump needs no heap); `auto` is that on
 * Linux and the emulated machine elsewhere.
 */
export function openFiles(choice: BackendChoice, machine: EmulatedOptions, platform: string = process.platform): OpenedFiles {
  let note: string | null = null;
  if (choice !== 'emulated') {
    if (platform === 'linux') {
      return { kind: 'linux', fs: hostDmabufFs, files: hostFiles, target: null, kernel: null, note: null, label: `Linux ${osRelease()} (this machine)`, uid: process.getuid?.() ?? -1 };
    }
    if (choice === 'linux') throw new BackendError(`--backend linux: this is ${platform}, not Linux`);
    note = `this is ${platform}, not Linux; using the emulated backend`;
  }
  const t = createEmulatedTarget(machine);
  return { kind: 'emulated', fs: dmabufFsOf(t), files: t, target: t, kernel: t.kernel, note, label: emulatedLabel(t.kernel), uid: t.proc.cred.uid };
}

// ---- doctor: a syscall target for files, opens and ioctls, plus host facts --------------------

/** The part of a syscall target doctor uses. */
export type DoctorTarget = Pick<SyscallTarget, 'backend' | 'arch' | 'release' | 'readFile' | 'readdir' | 'open' | 'close' | 'ioctl'> & {
  /** The Android GKI branch an emulated machine stands for (--profile android14-6.1), or null/absent. */
  readonly androidBranch?: string | null;
};

export interface NodeStat {
  /** st_mode: file type and permission bits */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/** What doctor needs to know besides the files: who runs it, where, and how to stat. */
export interface HostFacts {
  /** "this machine" or "the emulated machine" */
  readonly label: string;
  /** process.platform; 'linux' for an emulated machine */
  readonly platform: string;
  readonly uid: number;
  readonly gid: number;
  /** Supplementary groups of this process (`id -G` without the primary group). */
  readonly groups: readonly number[];
  userName(uid: number): string | null;
  groupName(gid: number): string | null;
  /** Group ids /etc/group gives the user (to tell "added but not logged in again"), or null when unknown. */
  readonly configuredGroups: readonly number[] | null;
  /** Evidence of a container (marker files, the `container` variable, cgroup paths); empty when none. */
  readonly container: readonly string[];
  /** stat(2): no permission on the file itself needed. */
  stat(path: string): NodeStat | null;
  /** A whole file as bytes (/proc/config.gz, /boot/config-*), or null. */
  readBytes(path: string): Uint8Array | null;
  /** Why the ioctl self-test cannot run, or null when the target's ioctl reaches the kernel. */
  readonly ioctlUnavailable: string | null;
}

export interface DoctorSetup {
  readonly target: DoctorTarget;
  readonly host: HostFacts;
  readonly note: string | null;
  dispose(): void;
}

function errnoOf(e: unknown): ErrnoName {
  const c = (e as { code?: string }).code;
  return c !== undefined && c in Errno ? (c as ErrnoName) : 'EIO';
}

function fail<T extends object>(e: unknown, extra: T): SysResult & T {
  return { ret: -1, errno: errnoOf(e), ...extra };
}

function nodeArch(): Arch {
  return osArch() === 'arm64' ? 'arm64' : 'x86_64';
}

/** /etc/passwd or /etc/group as name:x:id:... lines. */
function idTable(path: string): { byId: Map<number, string>; members: Map<number, string[]>; primary: Map<string, number> } {
  const byId = new Map<number, string>();
  const members = new Map<number, string[]>();
  const primary = new Map<string, number>();
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    // no such file: names stay unknown
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 4 || !/^\d+$/.test(f[2]!)) continue;
    const id = Number(f[2]);
    if (!byId.has(id)) byId.set(id, f[0]!);
    members.set(id, (f[3] ?? '').split(',').filter((x) => x !== ''));
    if (/^\d+$/.test(f[3]!)) primary.set(f[0]!, Number(f[3]));
  }
  return { byId, members, primary };
}

/** Container evidence on this machine. */
function containerEvidence(): string[] {
  const out: string[] = [];
  for (const p of ['/.dockerenv', '/run/.containerenv']) if (existsSync(p)) out.push(p);
  const env = process.env.container;
  if (env !== undefined && env !== '') out.push(`container=${env}`);
  for (const p of ['/proc/1/cgroup', '/proc/self/cgroup']) {
    let text = '';
    try {
      text = readFileSync(p, 'utf8');
    } catch {
      continue;
    }
    const m = /(docker|kubepods|containerd|libpod|lxc)[^\n]*/.exec(text);
    if (m !== null) {
      out.push(`${p}: ${m[0].slice(0, 60)}`);
      break;
    }
  }
  return out;
}

/**
 * This machine: files through node:fs, open() and ioctl() through the Linux backend when it is
 * built and available (else open() through node:fs, enough to test permissions, and no ioctl).
 */
export async function hostDoctor(load: LinuxLoader = loadLinuxBackend): Promise<DoctorSetup> {
  // the backend's availability check wants an openable heap; doctor wants the syscalls anyway
  const l = await load();
  let sys: SyscallTarget | null = null;
  let why: string | null = null;
  if (l.ok && process.platform === 'linux') {
    try {
      sys = l.backend.createTarget();
    } catch (e) {
      why = `linux backend failed: ${(e as Error).message}`;
    }
  } else why = l.ok ? `not Linux (${process.platform})` : l.reason;
  const passwd = idTable('/etc/passwd');
  const group = idTable('/etc/group');
  const uid = process.getuid?.() ?? -1;
  const gid = process.getgid?.() ?? -1;
  const user = passwd.byId.get(uid) ?? null;
  const configured = user === null ? null : [...new Set([...(passwd.primary.has(user) ? [passwd.primary.get(user)!] : []), ...[...group.members].filter(([, m]) => m.includes(user)).map(([g]) => g)])];
  const target: DoctorTarget = {
    backend: 'linux',
    arch: sys?.arch ?? nodeArch(),
    release: sys?.release ?? osRelease(),
    readFile(path): TextResult {
      try {
        const text = readFileSync(path, 'latin1');
        return { ret: text.length, errno: null, text };
      } catch (e) {
        return fail(e, { text: null });
      }
    },
    readdir: (path) => hostFiles.readdir(path),
    open(path, flags, mode) {
      if (sys !== null) return sys.open(path, flags, mode);
      try {
        return { ret: openSync(path, flags, mode), errno: null };
      } catch (e) {
        return fail(e, {});
      }
    },
    close(fd) {
      if (sys !== null) return sys.close(fd);
      try {
        closeSync(fd);
        return { ret: 0, errno: null };
      } catch (e) {
        return fail(e, {});
      }
    },
    ioctl(fd, cmd, arg): IoctlResult {
      if (sys !== null) return sys.ioctl(fd, cmd, arg);
      return { ret: -1, errno: 'ENOSYS', out: null };
    },
  };
  const host: HostFacts = {
    label: 'this machine',
    platform: process.platform,
    uid,
    gid,
    groups: (process.getgroups?.() ?? []).filter((g) => g !== gid),
    userName: (id) => passwd.byId.get(id) ?? null,
    groupName: (id) => group.byId.get(id) ?? null,
    configuredGroups: configured,
    container: containerEvidence(),
    stat(path) {
      try {
        const s = statSync(path);
        return { mode: s.mode, uid: s.uid, gid: s.gid };
      } catch {
        return null;
      }
    },
    readBytes(path) {
      try {
        return new Uint8Array(readFileSync(path));
      } catch {
        return null;
      }
    },
    ioctlUnavailable: sys === null ? why : null,
  };
  return { target, host, note: null, dispose: () => sys?.dispose() };
}

/** Names an emulated machine's /etc/passwd and /etc/group would have (Debian's numbering). */
const EMULATED_USERS = new Map([[0, 'root']]);
const EMULATED_GROUPS = new Map([[0, 'root'], [44, 'video'], [109, 'render']]);

/**
 * The kernel configuration the emulated kernel was built with (its `--kconfig`, or the emulated
 * build's): what its /proc/config.gz holds when the configuration has CONFIG_IKCONFIG_PROC.
 */
export function emulatedKconfig(k: Kernel): string {
  return k.kconfigText();
}

/**
 * Files a real kernel has that the emulated kernel does not expose (yet): /proc/cmdline and the
 * device tree under /sys/firmware/devicetree/base, made from the machine's configuration. Used
 * only where the emulated kernel answers ENOENT. (/proc/config.gz is the kernel's own: absent
 * when its configuration has no CONFIG_IKCONFIG_PROC, as on a real kernel.)
 */
function emulatedExtras(k: Kernel): { readFile(path: string): string | null; readdir(path: string): string[] | null; readBytes(path: string): Uint8Array | null } {
  const DT = '/sys/firmware/devicetree/base';
  type DtNode = NonNullable<Kernel['board']>['root'];
  /** The node at `path`, or the node and name of a property there, or null. */
  const dtLookup = (path: string): { node: DtNode } | { parent: DtNode; prop: string } | null => {
    if (k.board === null || (path !== DT && !path.startsWith(`${DT}/`))) return null;
    const parts = path.slice(DT.length).split('/').filter((p) => p !== '');
    let n = k.board.root;
    for (let i = 0; i < parts.length; i++) {
      const c = n.children.find((x) => x.name === parts[i]);
      if (c === undefined) return i === parts.length - 1 ? { parent: n, prop: parts[i]! } : null;
      n = c;
    }
    return { node: n };
  };
  const latin1 = (b: Uint8Array) => String.fromCharCode(...b);
  return {
    readFile(path) {
      if (path === '/proc/cmdline') return `${k.cmdline}\n`;
      const d = dtLookup(path);
      if (d === null || !('prop' in d)) return null;
      const p = d.parent.props.find((x) => x.name === d.prop);
      return p === undefined ? null : latin1(p.value);
    },
    readdir(path) {
      const d = dtLookup(path);
      if (d === null || !('node' in d)) return null;
      return [...d.node.props.map((p) => p.name), ...d.node.children.map((c) => c.name)];
    },
    readBytes() {
      return null;
    },
  };
}

/**
 * An emulated machine: the process `t` (its uid, gid and groups are the user's) through its
 * syscall target, with the files the emulated kernel lacks filled in (emulatedExtras) and stat(2)
 * answered by opening the node as init (stat needs no permission on the file).
 */
export function emulatedDoctor(t: EmulatedTarget, note: string | null = null): DoctorSetup {
  const k = t.kernel;
  const extras = emulatedExtras(k);
  const init = new EmulatedTarget(k, k.init);
  const target: DoctorTarget = {
    backend: t.backend,
    arch: t.arch,
    release: t.release,
    androidBranch: k.android?.name ?? null,
    readFile(path) {
      const r = t.readFile(path);
      if (r.errno !== 'ENOENT') return r;
      const text = extras.readFile(path);
      return text === null ? r : { ret: text.length, errno: null, text };
    },
    readdir(path) {
      const r = t.readdir(path);
      if (r.errno === null) return r;
      const names = extras.readdir(path);
      return names === null ? r : { ret: names.length, errno: null, names };
    },
    open: (path, flags, mode) => t.open(path, flags, mode),
    close: (fd) => t.close(fd),
    ioctl: (fd, cmd, arg) => t.ioctl(fd, cmd, arg),
  };
  const cred = t.proc.cred;
  const host: HostFacts = {
    label: 'the emulated machine',
    platform: 'linux',
    uid: cred.uid,
    gid: cred.gid,
    groups: cred.groups.filter((g) => g !== cred.gid),
    userName: (id) => EMULATED_USERS.get(id) ?? null,
    groupName: (id) => EMULATED_GROUPS.get(id) ?? null,
    configuredGroups: null,
    container: [],
    stat(path) {
      const fd = init.open(path, k.fc.O_RDONLY | k.fc.O_CLOEXEC);
      if (fd.errno !== null) return null;
      const s = init.fstat(fd.ret);
      init.close(fd.ret);
      return s.stat === null ? null : { mode: s.stat.mode, uid: s.stat.uid, gid: s.stat.gid };
    },
    readBytes(path) {
      const b = extras.readBytes(path);
      if (b !== null) return b;
      const r = t.readFile(path);
      if (r.text === null) return null;
      const out = new Uint8Array(r.text.length);
      for (let i = 0; i < out.length; i++) out[i] = r.text.charCodeAt(i) & 0xff;
      return out;
    },
    ioctlUnavailable: null,
  };
  return { target, host, note, dispose: () => t.dispose() };
}

/** doctor's backend: this machine (`linux`; `auto` on Linux) or an emulated machine. */
export async function openDoctor(choice: BackendChoice, machine: EmulatedOptions, platform: string = process.platform, load: LinuxLoader = loadLinuxBackend): Promise<DoctorSetup> {
  if (choice === 'linux' || (choice === 'auto' && platform === 'linux')) return hostDoctor(load);
  const note = choice === 'auto' ? `this is ${platform}, not Linux: checking an emulated machine instead` : null;
  return emulatedDoctor(createEmulatedTarget(machine), note);
}
