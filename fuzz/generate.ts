/**
 * The generator: fast-check arbitraries for fuzz cases. Every operation kind of ops.ts, with
 * arguments drawn from classes: the sizes a program uses (0, 1, a page ± 1, 64 KiB, 1 MiB), the
 * sizes that reach ENOMEM on a 256 MiB machine (16-300 MiB), sizes past every limit (2^32, 2^40,
 * 2^53, 2^62, u64 max) and hostile numbers (NaN, ±Infinity, 1.5, -1, -0, 2^31-1, -2^31).
 * Everything stays within what the emulated machine holds: user stores and device transfers are
 * at most 1 MiB, a case has at most `maxSteps` operations.
 */
import fc from 'fast-check';
import type { Arbitrary } from 'fast-check';
import { MACHINE_NAMES } from './machines.js';
import type { MachineName } from './machines.js';
import { FD_KINDS, PROC_FILES } from './ops.js';
import type { AddrSel, FdSel, FuzzCase, Op, PathSel, PollEntryOp, U64, UdmabufItemOp } from './ops.js';

/** The hostile numbers every numeric argument may get. */
export const HOSTILE_NUMBERS: readonly number[] = [NaN, Infinity, -Infinity, 1.5, 0.5, -0.5, -1, -0, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), 2 ** 32, 2 ** 40, 2 ** 53, 2 ** 53 + 2, 2 ** 63, -(2 ** 53)];
/** Sizes by class. */
export const SIZES = {
  small: [0, 1, 100, 4095, 4096, 4097, 8192, 16384, 16385, 65536],
  medium: [1 << 20, 3 << 20, 4 << 20],
  enomem: [16 << 20, 33 << 20, 40 << 20, 300 << 20],
  huge: [2 ** 32, 2 ** 32 + 4096, 2 ** 40, 2 ** 47, 2 ** 53, 2 ** 62],
} as const;
/** u64 struct fields past 2^53 (decimal strings). */
export const HUGE_U64: readonly string[] = ['18446744073709551615', '18446744073709547520', '9223372036854775808', '9007199254740993'];

const idx = fc.nat({ max: 63 });
const hostile = fc.constantFrom(...HOSTILE_NUMBERS);
const small = fc.integer({ min: -2, max: 40 });

const size: Arbitrary<number> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...SIZES.small) },
  { weight: 4, arbitrary: fc.constantFrom(...SIZES.medium) },
  { weight: 2, arbitrary: fc.constantFrom(...SIZES.enomem) },
  { weight: 1, arbitrary: fc.constantFrom(...SIZES.huge) },
  { weight: 1, arbitrary: hostile },
);
const u64Size: Arbitrary<U64> = fc.oneof({ weight: 12, arbitrary: size }, { weight: 1, arbitrary: fc.constantFrom(...HUGE_U64) });
/** A number argument: mostly small and meaningful, sometimes hostile. */
const num = (meaningful: Arbitrary<number>): Arbitrary<number> => fc.oneof({ weight: 12, arbitrary: meaningful }, { weight: 1, arbitrary: hostile });
/** A bounded byte count for user loads/stores and device transfers. */
const userLen = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(0, 1, 8, 64, 4095, 4096, 4097, 16384, 65536) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 1 << 20 }) });

const fdSel: Arbitrary<FdSel> = fc.oneof(
  { weight: 14, arbitrary: fc.record({ k: fc.constantFrom(...FD_KINDS), i: idx }) },
  { weight: 1, arbitrary: fc.record({ raw: fc.oneof(small, hostile, fc.constantFrom(1023, 1024, 4095, 4096, 65535, 1048575, 1048576)) }) },
);
const fdOf = (kind: (typeof FD_KINDS)[number]): Arbitrary<FdSel> => fc.oneof({ weight: 6, arbitrary: fc.record({ k: fc.constant(kind), i: idx }) }, { weight: 1, arbitrary: fdSel });

const addrSel: Arbitrary<AddrSel> = fc.oneof(
  { weight: 24, arbitrary: fc.record({ s: fc.constant('scratch' as const), off: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(4096, 65528, 65535) }, { weight: 1, arbitrary: fc.nat({ max: 65535 }) }) }) },
  { weight: 3, arbitrary: fc.record({ s: fc.constant('vma' as const), i: idx, off: fc.oneof(fc.constantFrom(0, 1, 4096, -1, -4096, 2 ** 20), hostile) }) },
  { weight: 1, arbitrary: fc.record({ raw: fc.oneof(fc.constantFrom(0, 1, 4096, 0x10000, 0x7effffffffff, 2 ** 47, 2 ** 48, 2 ** 64), hostile) }) },
);

const LITERAL_PATHS = [
  '/proc/meminfo', '/proc/cmdline', '/proc/config.gz', '/proc/sys/kernel/osrelease', '/proc', '/proc/self', '/proc/self/fd', '/proc/1/maps',
  '/sys/kernel/debug/dma_buf/bufinfo', '/sys/kernel/debug/dma_buf', '/sys/kernel/debug', '/sys/kernel/dmabuf/buffers', '/sys/kernel/mm/cma', '/sys/kernel/debug/cma',
  '/sys/fs/cgroup', '/sys/fs', '/sys/class/dma_heap', '/sys/module/dma_heap/parameters/mem_accounting', '/sys/firmware/devicetree/base/model',
  '/sys/firmware/devicetree/base/reserved-memory', '/sys/firmware/devicetree/base', '/dev/dma_heap', '/dev/udmabuf', '/dev', '/dev/dma_heap/nope', '/',
  '', 'relative', '.', '/proc/self/../../dev/udmabuf', '//sys//fs//cgroup//cgroup.procs', '/sys/fs/cgroup/../../proc/meminfo', '/proc/99999/maps',
  '/proc/-1/fd', '/proc/self/fd/99999', '/proc/self/fd/0/..', '/dev/dma_heap/system\u0000junk', `/${'x'.repeat(5000)}`, '/proc/self/fdinfo/-1', '/etc/passwd', '/tmp',
];

const CG_FILES = ['cgroup.procs', 'cgroup.subtree_control', 'cgroup.controllers', 'memory.max', 'memory.current', 'memory.peak', 'dmem.max', 'dmem.current', 'dmem.capacity', 'dmem.min', 'dmem.low', 'nonexistent'];

const pathSel: Arbitrary<PathSel> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant('heap' as const), i: idx }) },
  { weight: 5, arbitrary: fc.record({ t: fc.constant('proc' as const), q: idx, f: fc.constantFrom(...PROC_FILES), fd: idx, self: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('cg' as const), c: idx, f: fc.constantFrom('', ...CG_FILES, 'new:a', 'new:b', 'new:c', 'new:.', 'new:..', `new:${'n'.repeat(300)}`) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('buf' as const), i: idx, f: fc.constantFrom('size' as const, 'exporter_name' as const, 'dir' as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('cma' as const), i: idx, f: fc.constantFrom('alloc_pages_success', 'alloc_pages_fail', 'release_pages_success', 'used', 'count', 'maxchunk', 'base_pfn', 'order_per_bit', 'bitmap'), debug: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('class' as const), i: idx, f: fc.constantFrom('dev' as const, 'uevent' as const) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('lit' as const), s: fc.constantFrom(...LITERAL_PATHS) }) },
);

// O_RDONLY/O_WRONLY/O_RDWR, O_CLOEXEC (x86 and arm64 share 0o2000000), O_NONBLOCK, O_CREAT|O_TRUNC, O_DIRECTORY (x86), O_PATH
const openFlags = num(fc.constantFrom(0, 1, 2, 3, 0o2000000, 0o2000002, 0o4000, 0o1102, 0o200000, 0o10000000, 0o2000001));
const fdFlags = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(2, 0o2000002) }, { weight: 2, arbitrary: fc.constantFrom(0, 1, 0o2000000, 3) }, { weight: 1, arbitrary: fc.oneof(fc.constantFrom(0o4002, 0x80000000, 0o100002), hostile) });
const uid = fc.constantFrom(0, 1000, 1001);
const name32 = fc.oneof(fc.constantFrom('', 'frame', 'camera:frame-0', 'x'.repeat(31), 'y'.repeat(32), 'z'.repeat(40)), fc.string({ maxLength: 40 }));

const cgValue = fc.constantFrom('$pid', '$pid', '0', '-1', 'abc', '99999', '+memory', '-memory', '+dmem', '+memory +dmem', '+bogus', 'max', '0', '4096', '1M', '16M', '64M', '1G', '-1', 'junk', '0x1000', 'cma/linux,cma 1M', 'cma/reserved 4M', 'coh/coherent@49000000 max', 'nope 1', '');

const udmabufItem: Arbitrary<UdmabufItemOp> = fc.record({ memfd: fdOf('memfd'), offset: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 4, arbitrary: fc.constantFrom(4096, 16384) }, { weight: 1, arbitrary: u64Size }), size: u64Size, fit: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }) });
const pollEntry: Arbitrary<PollEntryOp> = fc.record({ fd: fdSel, events: fc.constantFrom(1, 4, 5, 0, -1, 0x7fff) });

const p = idx;
const dir = fc.constantFrom(0 as const, 1 as const, 2 as const);

/** One operation, weighted so that buffers exist for the operations that use them. */
export const opArb: Arbitrary<Op> = fc.oneof(
  // processes and users
  { weight: 2, arbitrary: fc.record({ op: fc.constant('spawn' as const), uid, gid: uid }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('fork' as const), p }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('exec' as const), p }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('exit' as const), p }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('kill' as const), p }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('setCred' as const), p, uid, gid: uid }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('setNofile' as const), p, cur: num(fc.constantFrom(0, 1, 3, 5, 8, 16, 64, 1024, 4096)), max: num(fc.constantFrom(0, 3, 8, 64, 1024, 4096, 65536, 1048576, 1048577)) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('sendFd' as const), p, fd: fdOf('dmabuf'), to: idx, cloexec: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('pidfdOpen' as const), p, target: idx, flags: num(fc.constantFrom(0, 0o4000, 0o200, 1)) }) },
  // fd table
  { weight: 5, arbitrary: fc.record({ op: fc.constant('open' as const), p, path: pathSel, flags: openFlags }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('close' as const), p, fd: fdSel }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('dup' as const), p, fd: fdSel }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('dup3' as const), p, fd: fdSel, newfd: fdSel, flags: num(fc.constantFrom(0, 0o2000000, 1)) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('fcntl' as const),
      p,
      fd: fdSel,
      cmd: num(fc.constantFrom(0, 1, 2, 3, 4, 1030, 1033, 1034, 9999, 5, 6, 7, 8, 9, 10, 11, 15, 16, 36, 37, 38, 1024, 1025, 1026, 1027, 1028, 1031, 1032, 1035, 1036)),
      arg: num(fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constantFrom(1, 0x1f, 0x2, 0x4, 0x8, 0x10, 0x20, 0o4000, 0o2000, 1023, 1024, 4096))),
    }),
  },
  // epoll and socket pairs
  { weight: 2, arbitrary: fc.record({ op: fc.constant('epollCreate' as const), p, flags: num(fc.constantFrom(0, 0o2000000, 1)) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('epollCtl' as const), p, ep: fdOf('epoll'), ctl: num(fc.constantFrom(1, 1, 2, 3, 0, 4)), fd: fdSel, events: num(fc.constantFrom(1, 4, 5, 0x80000001, 0x40000001, 0x10000001, 0x20000005, 0)), ptr: addrSel }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('epollWait' as const), p, ep: fdOf('epoll'), max: num(fc.constantFrom(1, 8, 64, 0, -1)), ptr: addrSel }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('socketpair' as const), p, type: num(fc.constantFrom(1, 0o2000001, 0o4001, 2, 5)), ptr: addrSel }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('sendmsg' as const), p, sock: fdOf('socket'), fds: fc.array(fdSel, { maxLength: 4 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('recvmsg' as const), p, sock: fdOf('socket'), len: num(fc.constantFrom(1, 16, 4096, 0)), maxFds: num(fc.constantFrom(0, 1, 4, 253)), flags: num(fc.constantFrom(0, 2, 0x40000000)) }) },
  // ioctls
  {
    weight: 14,
    arbitrary: fc.record({
      op: fc.constant('heapAlloc' as const),
      p,
      heap: idx,
      len: u64Size,
      fdFlags,
      heapFlags: fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(1, 0x80000000) }),
      pidfd: fc.oneof({ weight: 5, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fdOf('pidfd') }),
      size: fc.oneof({ weight: 9, arbitrary: fc.constant(24) }, { weight: 2, arbitrary: fc.constantFrom(32, 16, 0, 8, 40) }),
      fdIn: fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(3, -1) }),
      ptr: addrSel,
    }),
  },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('bufSync' as const), p, fd: fdOf('dmabuf'), flags: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(1, 2, 3, 5, 6, 7) }, { weight: 1, arbitrary: fc.oneof(fc.constantFrom(0, 4, 8, 2 ** 32 + 1), fc.constantFrom(...HUGE_U64)) }), ptr: addrSel }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('setName' as const), p, fd: fdOf('dmabuf'), name: name32, b: fc.boolean(), ptr: addrSel }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('exportSync' as const), p, fd: fdOf('dmabuf'), flags: num(fc.constantFrom(1, 2, 3, 0, 4)), ptr: addrSel }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('importSync' as const), p, fd: fdOf('dmabuf'), flags: num(fc.constantFrom(1, 2, 3, 0, 4)), sync: fdOf('sync'), ptr: addrSel }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('udmabuf' as const),
      p,
      list: fc.boolean(),
      flags: num(fc.constantFrom(0, 1, 2)),
      count: fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom(0, 1025, 2 ** 32 - 1) }),
      items: fc.array(udmabufItem, { minLength: 0, maxLength: 4 }),
      ptr: addrSel,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('ioctl' as const),
      p,
      fd: fdSel,
      cmd: num(fc.constantFrom(0x5450, 0x5451, 0x5421, 0x5452, 0x5460, 0x2, 0xc0184800, 0xc0184801, 0x40086200, 0x40186201, 0xc0086202, 0x40187542, 0x40087543, 0, 0xffffffff)),
      ptr: addrSel,
    }),
  },
  // memory
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('mmap' as const),
      p,
      addr: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 2, arbitrary: addrSel }),
      len: size,
      fit: fc.boolean(),
      prot: num(fc.constantFrom(1, 3, 2, 0, 7)),
      flags: num(fc.constantFrom(0x01, 0x01, 0x02, 0x03, 0x21, 0x22, 0x11, 0x12, 0x100001, 0, 0x0f)),
      fd: fc.oneof(fdOf('dmabuf'), fdOf('memfd')),
      off: num(fc.constantFrom(0, 0, 4096, 16384, 1 << 20, 100)),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('munmap' as const), p, addr: addrSel, len: size }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('store' as const), p, addr: addrSel, len: userLen, val: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('load' as const), p, addr: addrSel, len: userLen }) },
  // recipes
  { weight: 3, arbitrary: fc.record({ op: fc.constant('sealedMemfd' as const), p, size: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(4096, 16384, 65536, 1 << 20, 4 << 20) }, { weight: 1, arbitrary: size }), seals: fc.constantFrom(0x2, 0x2, 0x6, 0xa, 0x12, 0x3, 0) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('cpuAccess' as const), p, fd: fdOf('dmabuf'), write: fc.boolean(), sync: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }), unmap: fc.boolean(), len: userLen }) },
  // files
  { weight: 3, arbitrary: fc.record({ op: fc.constant('read' as const), p, fd: fc.oneof(fdOf('memfd'), fdSel), ptr: addrSel, count: size }) },
  {
    weight: 3,
    arbitrary: fc.oneof(
      fc.record({ op: fc.constant('write' as const), p, fd: fc.oneof(fdOf('memfd'), fdSel), ptr: addrSel, count: size, text: fc.constant(null) }),
      fc.string({ maxLength: 24 }).chain((text) => fc.record({ op: fc.constant('write' as const), p, fd: fc.oneof(fdOf('memfd'), fdSel), ptr: addrSel, count: fc.constant(text.length), text: fc.constant(text) })),
    ),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('lseek' as const), p, fd: fc.oneof(fdOf('memfd'), fdOf('dmabuf'), fdSel), off: num(fc.constantFrom(0, 1, 4096, -1, 1 << 20, 2 ** 40)), whence: num(fc.constantFrom(0, 1, 2, 3, 4, 5)) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('ftruncate' as const), p, fd: fdOf('memfd'), len: size }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('memfd' as const), p, name: fc.oneof(fc.constantFrom('buf', '', 'n'.repeat(249), 'n'.repeat(250), 'a\u0000b'), fc.string({ maxLength: 8 })), flags: num(fc.constantFrom(0, 1, 2, 3, 4, 8, 0x7c000004)) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('poll' as const), p, fds: fc.array(pollEntry, { maxLength: 4 }), nfds: fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: num(fc.constantFrom(0, 5, 1024, 1025)) }), ptr: addrSel }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('fstat' as const), p, fd: fdSel, ptr: addrSel }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('readlink' as const), p, path: pathSel, size: num(fc.constantFrom(0, 1, 16, 4096)), ptr: addrSel }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('mkdir' as const), p, path: pathSel, mode: num(fc.constantFrom(0o755, 0o700, 0o777)) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('rmdir' as const), p, path: pathSel }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('cgWrite' as const), p, cg: idx, file: fc.constantFrom(...CG_FILES), value: cgValue, q: idx }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('readFile' as const), p, path: pathSel }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('readdir' as const), p, path: pathSel }) },
  // importer driver
  { weight: 4, arbitrary: fc.record({ op: fc.constant('attach' as const), p, fd: fdOf('dmabuf'), dev: idx, dynamic: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('map' as const), h: idx, dir }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('unmap' as const), h: idx }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('detach' as const), h: idx }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('devSync' as const), h: idx, cpu: fc.boolean(), dir }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('devRW' as const), h: idx, write: fc.boolean(), off: num(fc.constantFrom(0, 0, 1, 4096, 4095)), len: fc.constantFrom(0, 1, 64, 4096, 4097, 8192) }) },
);

/** A case: a machine and up to `maxSteps` operations. */
export function caseArb(maxSteps: number, machines: readonly MachineName[] = MACHINE_NAMES): Arbitrary<FuzzCase> {
  return fc.record({ machine: fc.constantFrom(...machines), ops: fc.array(opArb, { minLength: 1, maxLength: maxSteps, size: 'max' }) });
}
