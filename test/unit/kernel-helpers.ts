/** Helpers for kernel tests: a process doing what a C program does, bytes in user memory. */
import type { Process } from '../../src/kernel/fs/process.js';

/** DMA_HEAP_IOCTL_ALLOC with a 24-byte struct in user memory; returns the ioctl result and the fd field after it. */
export function heapAlloc(p: Process, heapFd: number, len: number, fdFlags: number): { ret: number; fd: number; arg: number } {
  const arg = p.userAlloc(24);
  const b = new Uint8Array(24);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, len, true);
  dv.setUint32(12, fdFlags, true);
  p.mm.copyToUser(arg, b);
  const ret = p.ioctl(heapFd, 0xc0184800, arg);
  const out = p.mm.copyFromUser(arg, 24)!;
  return { ret, fd: new DataView(out.buffer).getUint32(8, true), arg };
}
