/** Helpers for kernel tests: a process doing what a C program does, bytes in user memory. */
import type { Process } from '../../src/kernel/fs/process.js';

/** DMA_HEAP_IOCTL_ALLOC with a 24-byte struct in user memory; returns the ioctl result and the fd field after it. */
/** One argument page per process (user memory is RAM: a new page per call would take page frames from the heaps). */
const argPage = new WeakMap<Process, number>();

export function heapAlloc(p: Process, heapFd: number, len: number, fdFlags: number): { ret: number; fd: number; arg: number } {
  let arg = argPage.get(p);
  if (arg === undefined || !p.alive) {
    arg = p.userAlloc(24);
    argPage.set(p, arg);
  }
  const b = new Uint8Array(24);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, len, true);
  dv.setUint32(12, fdFlags, true);
  p.mm.copyToUser(arg, b);
  const ret = p.ioctl(heapFd, 0xc0184800, arg);
  const out = p.mm.copyFromUser(arg, 24)!;
  return { ret, fd: new DataView(out.buffer).getUint32(8, true), arg };
}

/** open(O_WRONLY) + write() + close() from `proc`, with the text in its user memory: write()'s result. */
export function writeText(proc: Process, path: string, text: string): number {
  const fd = proc.open(path, 1 /* O_WRONLY */);
  if (fd < 0) return fd;
  const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
  const buf = proc.userAlloc(Math.max(1, bytes.length));
  proc.mm.copyToUser(buf, bytes);
  const r = proc.write(fd, buf, bytes.length);
  proc.close(fd);
  proc.munmap(buf, Math.max(1, bytes.length));
  return r;
}
