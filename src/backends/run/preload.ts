/**
 * Which programs get the fast path's LD_PRELOAD shim (native/preload/dmaheap-preload.c, shipped
 * prebuilt as native/prebuilt/linux-<arch>/dmaheap-preload.so; docs/run.md "The fast path").
 *
 * `--preload auto` (the default) puts the shipped shim in the environment when the program is a
 * dynamically linked ELF of this machine whose interpreter is glibc's (`ld-linux*`), or a script
 * whose `#!` interpreter is one, and the host's glibc has the symbol versions the shim needs. A
 * static program, a musl or other loader, another architecture, or anything unreadable runs
 * without it (the slow path is always correct). `--preload off` never uses it; a path uses that
 * shared object for whatever program it is.
 *
 * The program file is data: at most {@link HEAD_BYTES} of it are read, the program headers must
 * lie in them, and the interpreter's name is at most {@link INTERP_BYTES}.
 */
import { closeSync, constants as fsc, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadLibc } from '../linux/libc.js';

/** Bytes of a program read to classify it (the ELF header and program headers, or a `#!` line). */
export const HEAD_BYTES = 4096;
/** Longest PT_INTERP (a path) read; Linux's own limit for it is PATH_MAX (fs/binfmt_elf.c). */
export const INTERP_BYTES = 4096;
/** The oldest glibc whose dlsym the shipped shim binds to at the same version (GLIBC_2.34 keeps the old one too). */
export const SHIM_MIN_GLIBC: readonly [number, number] = [2, 34];

export type ProgramKind =
  | { kind: 'static' }
  | { kind: 'dynamic'; interp: string }
  | { kind: 'script'; interp: string }
  | { kind: 'other'; why: string };

const PT_INTERP = 3;
const ET_EXEC = 2;
const ET_DYN = 3;
/** e_machine of the architectures dmaheap run serves (include/uapi/linux/elf-em.h). */
const MACHINE: Readonly<Record<string, number>> = { x64: 62, arm64: 183 };

/**
 * Reads up to `n` bytes of `file` at `pos`; null when it is not a regular file or cannot be read
 * (a FIFO or a device is never opened: its open or read could block).
 */
function readHead(file: string, n: number, pos = 0): Buffer | null {
  let fd = -1;
  try {
    if (!statSync(file).isFile()) return null;
    fd = openSync(file, fsc.O_RDONLY | fsc.O_NONBLOCK | fsc.O_NOCTTY);
    if (!fstatSync(fd).isFile()) return null;
    const b = Buffer.alloc(n);
    const got = readSync(fd, b, 0, n, pos);
    return b.subarray(0, got);
  } catch {
    return null;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/**
 * What `head` (a file's first bytes; `file` to read the interpreter's name from) is: a static or
 * dynamic ELF64 little-endian executable for `arch`, a `#!` script, or something else (why).
 */
export function classifyProgram(head: Uint8Array, arch: string, readAt: (pos: number, n: number) => Uint8Array | null): ProgramKind {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length >= 2 && b[0] === 0x23 && b[1] === 0x21) {
    // fs/binfmt_script.c: the interpreter is the first word after #!, spaces and tabs skipped
    const nl = b.indexOf(0x0a);
    const line = b.subarray(2, nl < 0 ? b.length : nl).toString('latin1');
    const interp = line.replace(/^[ \t]+/, '').split(/[ \t]/)[0] ?? '';
    return interp === '' ? { kind: 'other', why: 'a #! line without an interpreter' } : { kind: 'script', interp };
  }
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46) return { kind: 'other', why: 'not an ELF file or a script' };
  if (b[4] !== 2 || b[5] !== 1) return { kind: 'other', why: 'not a 64-bit little-endian ELF' };
  const type = b.readUInt16LE(16);
  if (type !== ET_EXEC && type !== ET_DYN) return { kind: 'other', why: `ELF type ${type} is not an executable` };
  const machine = MACHINE[arch];
  if (machine === undefined || b.readUInt16LE(18) !== machine) return { kind: 'other', why: `an ELF for machine ${b.readUInt16LE(18)}, not this ${arch} host` };
  const phoff = Number(b.readBigUInt64LE(32));
  const phentsize = b.readUInt16LE(54);
  const phnum = b.readUInt16LE(56);
  if (phentsize < 56 || phoff + phnum * phentsize > b.length) return { kind: 'other', why: 'program headers beyond the first 4 KiB' };
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (b.readUInt32LE(p) !== PT_INTERP) continue;
    const off = Number(b.readBigUInt64LE(p + 8));
    const size = Number(b.readBigUInt64LE(p + 32));
    if (size < 2 || size > INTERP_BYTES) return { kind: 'other', why: `a PT_INTERP of ${size} bytes` };
    // the name is usually inside the head already (just after the program headers)
    const raw = off + size <= b.length ? b.subarray(off, off + size) : readAt(off, size);
    if (raw === null || raw.length !== size) return { kind: 'other', why: 'an unreadable PT_INTERP' };
    const s = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    const nul = s.indexOf(0);
    return { kind: 'dynamic', interp: s.subarray(0, nul < 0 ? s.length : nul).toString('latin1') };
  }
  return { kind: 'static' };
}

/** Where execvp would find `program` (a name with a slash as is; else the first executable file on PATH). */
export function resolveProgram(program: string, path = process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin'): string | null {
  if (program.includes('/')) return resolve(program);
  for (const dir of path.split(delimiter).slice(0, 256)) {
    const f = join(dir === '' ? '.' : dir, program);
    try {
      if (statSync(f).isFile()) return isAbsolute(f) ? f : resolve(f);
    } catch {
      // not there
    }
  }
  return null;
}

/** The program file's kind, following one `#!` to its interpreter. */
export function programKind(file: string, arch: string = process.arch): ProgramKind {
  const kindOf = (f: string): ProgramKind => {
    const head = readHead(f, HEAD_BYTES);
    if (head === null) return { kind: 'other', why: `cannot read ${f}` };
    return classifyProgram(head, arch, (pos, n) => readHead(f, n, pos));
  };
  const k = kindOf(file);
  if (k.kind !== 'script') return k;
  const i = kindOf(k.interp);
  return i.kind === 'dynamic' ? { kind: 'script', interp: i.interp } : i.kind === 'script' ? { kind: 'other', why: `${k.interp} is a script itself` } : i;
}

/** glibc's dynamic loaders are ld-linux-x86-64.so.2 and ld-linux-aarch64.so.1 (and lib64 links to them). */
export const isGlibcLoader = (interp: string): boolean => /(^|\/)ld-linux[-a-z0-9_]*\.so\.\d+$/.test(interp);

/** A native part shipped in native/prebuilt/linux-<arch>/ (`name`: dmaheap-launch, dmaheap-preload.so, dmaheap-notify.so). */
export function prebuiltFile(name: string, arch: string = process.arch): string {
  const dir = arch === 'x64' ? 'linux-x64' : 'linux-arm64';
  return fileURLToPath(new URL(`../../../../native/prebuilt/${dir}/${name}`, import.meta.url));
}

/** The shipped preload shim for `arch`. */
export function shippedPreload(arch: string = process.arch): string {
  return prebuiltFile('dmaheap-preload.so', arch);
}

/** "2.36" → [2, 36]; null when it is not a version. */
function glibcVersion(v: string | null): [number, number] | null {
  const m = v === null ? null : /^(\d+)\.(\d+)/.exec(v);
  return m === null ? null : [Number(m[1]), Number(m[2])];
}

export interface PreloadChoice {
  /** The shared object to put in LD_PRELOAD, or null: the slow path only. */
  readonly shim: string | null;
  /** Why, for --stats and the docs ("auto: a static program", ...). */
  readonly why: string;
}

/**
 * The shim for `setting` (`auto`, `off` or a path; '' is auto) and `program` (as the user gave
 * it), given the host's glibc version (gnu_get_libc_version, null when unknown).
 */
export function choosePreload(setting: string, program: string, hostGlibc: string | null, arch: string = process.arch, path?: string): PreloadChoice {
  if (setting === 'off') return { shim: null, why: 'off (--preload off)' };
  if (setting !== '' && setting !== 'auto') return { shim: setting, why: `the shared object given (${setting})` };
  const g = glibcVersion(hostGlibc);
  if (g === null) return { shim: null, why: 'auto: this host has no glibc' };
  if (g[0] < SHIM_MIN_GLIBC[0] || (g[0] === SHIM_MIN_GLIBC[0] && g[1] < SHIM_MIN_GLIBC[1])) return { shim: null, why: `auto: glibc ${hostGlibc} is older than ${SHIM_MIN_GLIBC.join('.')}` };
  const file = resolveProgram(program, path);
  if (file === null) return { shim: null, why: `auto: ${program} is not on PATH` };
  const k = programKind(file, arch);
  switch (k.kind) {
    case 'static':
      return { shim: null, why: 'auto: a statically linked program' };
    case 'other':
      return { shim: null, why: `auto: ${k.why}` };
    case 'dynamic':
    case 'script':
      if (!isGlibcLoader(k.interp)) return { shim: null, why: `auto: its loader ${k.interp} is not glibc's` };
      return { shim: shippedPreload(arch), why: `auto: linked dynamically against glibc (${k.interp})` };
  }
}

/** The host's glibc version (gnu_get_libc_version through koffi), or null without glibc or koffi. */
export function hostGlibcVersion(): string | null {
  const l = loadLibc();
  if (l instanceof Error) return null;
  try {
    return l.gnuGetLibcVersion();
  } catch {
    return null;
  }
}
