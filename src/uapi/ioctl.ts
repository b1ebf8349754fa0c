// ioctl command-number encoding.
//
// Generic layout (include/uapi/asm-generic/ioctl.h; used by x86, arm, arm64, riscv, loongarch):
//   bits  0..7   nr
//   bits  8..15  type ("magic")
//   bits 16..29  size (14 bits)
//   bits 30..31  dir  (NONE=0, WRITE=1, READ=2)
// powerpc/mips (arch/powerpc/include/uapi/asm/ioctl.h, arch/mips/include/uapi/asm/ioctl.h):
//   size is 13 bits at 16, dir is 3 bits at 29 with NONE=1, READ=2, WRITE=4.
// "WRITE" means user space writes to the kernel (IOC_IN), "READ" means it reads back (IOC_OUT).

export const _IOC_NRBITS = 8;
export const _IOC_TYPEBITS = 8;
export const _IOC_SIZEBITS = 14;
export const _IOC_DIRBITS = 2;

export const _IOC_NRMASK = (1 << _IOC_NRBITS) - 1;
export const _IOC_TYPEMASK = (1 << _IOC_TYPEBITS) - 1;
export const _IOC_SIZEMASK = (1 << _IOC_SIZEBITS) - 1;
export const _IOC_DIRMASK = (1 << _IOC_DIRBITS) - 1;

export const _IOC_NRSHIFT = 0;
export const _IOC_TYPESHIFT = _IOC_NRSHIFT + _IOC_NRBITS;
export const _IOC_SIZESHIFT = _IOC_TYPESHIFT + _IOC_TYPEBITS;
export const _IOC_DIRSHIFT = _IOC_SIZESHIFT + _IOC_SIZEBITS;

export const _IOC_NONE = 0;
export const _IOC_WRITE = 1;
export const _IOC_READ = 2;

/** `_IOC_WRITE << _IOC_DIRSHIFT` (0x40000000). */
export const IOC_IN = (_IOC_WRITE << _IOC_DIRSHIFT) >>> 0;
/** `_IOC_READ << _IOC_DIRSHIFT` (0x80000000). */
export const IOC_OUT = (_IOC_READ << _IOC_DIRSHIFT) >>> 0;
/** IOC_IN | IOC_OUT (0xc0000000). */
export const IOC_INOUT = (IOC_IN | IOC_OUT) >>> 0;

/** An ioctl "type" (magic): a number 0..255 or a one-character string such as 'H'. */
export type IoctlType = number | string;

function typeCode(type: IoctlType): number {
  if (typeof type === 'string') {
    if (type.length !== 1) throw new RangeError(`ioctl type must be one character, got '${type}'`);
    return type.charCodeAt(0);
  }
  return type;
}

function checkField(what: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`ioctl ${what} ${value} out of range 0..${max}`);
  }
}

/** Encode an ioctl number (generic encoding). Returns an unsigned 32-bit number. */
export function _IOC(dir: number, type: IoctlType, nr: number, size: number): number {
  const t = typeCode(type);
  checkField('dir', dir, _IOC_DIRMASK);
  checkField('type', t, _IOC_TYPEMASK);
  checkField('nr', nr, _IOC_NRMASK);
  checkField('size', size, _IOC_SIZEMASK);
  return ((dir << _IOC_DIRSHIFT) | (size << _IOC_SIZESHIFT) | (t << _IOC_TYPESHIFT) | (nr << _IOC_NRSHIFT)) >>> 0;
}

/** No data transfer. */
export function _IO(type: IoctlType, nr: number): number {
  return _IOC(_IOC_NONE, type, nr, 0);
}
/** Kernel writes `size` bytes back to user space. */
export function _IOR(type: IoctlType, nr: number, size: number): number {
  return _IOC(_IOC_READ, type, nr, size);
}
/** User space passes `size` bytes in. */
export function _IOW(type: IoctlType, nr: number, size: number): number {
  return _IOC(_IOC_WRITE, type, nr, size);
}
/** Both directions. */
export function _IOWR(type: IoctlType, nr: number, size: number): number {
  return _IOC(_IOC_READ | _IOC_WRITE, type, nr, size);
}

export function _IOC_DIR(cmd: number): number {
  return (cmd >>> _IOC_DIRSHIFT) & _IOC_DIRMASK;
}
export function _IOC_TYPE(cmd: number): number {
  return (cmd >>> _IOC_TYPESHIFT) & _IOC_TYPEMASK;
}
export function _IOC_NR(cmd: number): number {
  return (cmd >>> _IOC_NRSHIFT) & _IOC_NRMASK;
}
export function _IOC_SIZE(cmd: number): number {
  return (cmd >>> _IOC_SIZESHIFT) & _IOC_SIZEMASK;
}

// ---------------------------------------------------------------------------------------------
// Encoding variants

/** 'generic' = asm-generic (x86, arm, arm64, riscv ...); 'powerpc' = powerpc/mips 3-dir-bit variant. */
export type IoctlEncoding = 'generic' | 'powerpc';

/** powerpc/mips direction values (arch/powerpc/include/uapi/asm/ioctl.h). */
export const IOC_POWERPC = Object.freeze({
  NONE: 1,
  READ: 2,
  WRITE: 4,
  SIZEBITS: 13,
  DIRBITS: 3,
  SIZESHIFT: 16,
  DIRSHIFT: 29,
});

function dirToPowerpc(dir: number): number {
  checkField('dir', dir, _IOC_DIRMASK);
  if (dir === _IOC_NONE) return IOC_POWERPC.NONE;
  return ((dir & _IOC_READ) !== 0 ? IOC_POWERPC.READ : 0) | ((dir & _IOC_WRITE) !== 0 ? IOC_POWERPC.WRITE : 0);
}

/**
 * Encode an ioctl number for an encoding. `dir` is always given in generic terms
 * (_IOC_NONE / _IOC_READ / _IOC_WRITE, or'ed) and translated for powerpc.
 */
export function ioc(encoding: IoctlEncoding, dir: number, type: IoctlType, nr: number, size: number): number {
  if (encoding === 'generic') return _IOC(dir, type, nr, size);
  const t = typeCode(type);
  const d = dirToPowerpc(dir);
  checkField('type', t, _IOC_TYPEMASK);
  checkField('nr', nr, _IOC_NRMASK);
  checkField('size', size, (1 << IOC_POWERPC.SIZEBITS) - 1);
  return ((d << IOC_POWERPC.DIRSHIFT) | (size << IOC_POWERPC.SIZESHIFT) | (t << _IOC_TYPESHIFT) | nr) >>> 0;
}

export interface IoctlFields {
  /** Direction in generic terms (_IOC_NONE/_IOC_READ/_IOC_WRITE bits). */
  readonly dir: number;
  readonly type: number;
  readonly nr: number;
  readonly size: number;
}

/** Decode an ioctl number of the given encoding; `dir` is reported in generic terms. */
export function iocDecode(encoding: IoctlEncoding, cmd: number): IoctlFields {
  const c = cmd >>> 0;
  if (encoding === 'generic') return { dir: _IOC_DIR(c), type: _IOC_TYPE(c), nr: _IOC_NR(c), size: _IOC_SIZE(c) };
  const d = (c >>> IOC_POWERPC.DIRSHIFT) & ((1 << IOC_POWERPC.DIRBITS) - 1);
  const dir = ((d & IOC_POWERPC.READ) !== 0 ? _IOC_READ : 0) | ((d & IOC_POWERPC.WRITE) !== 0 ? _IOC_WRITE : 0);
  return {
    dir,
    type: (c >>> _IOC_TYPESHIFT) & _IOC_TYPEMASK,
    nr: c & _IOC_NRMASK,
    size: (c >>> IOC_POWERPC.SIZESHIFT) & ((1 << IOC_POWERPC.SIZEBITS) - 1),
  };
}

// ---------------------------------------------------------------------------------------------
// Legacy (pre-_IOC) generic VFS / tty ioctl numbers: include/uapi/asm-generic/ioctls.h
// (x86, arm, arm64, riscv; powerpc/mips/sparc/alpha differ).

export const TCGETS = 0x5401;
export const FIONREAD = 0x541b;
export const FIONBIO = 0x5421;
export const FIONCLEX = 0x5450;
export const FIOCLEX = 0x5451;
export const FIOASYNC = 0x5452;
