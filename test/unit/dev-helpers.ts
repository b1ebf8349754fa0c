/** Helpers for the device/DMA tests: boards, a process with a heap buffer mapped, sync ioctls. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Kernel } from '../../src/kernel/kernel.js';
import type { KernelConfig } from '../../src/kernel/kernel.js';
import type { Process } from '../../src/kernel/fs/process.js';
import { parseDts } from '../../src/kernel/of/dts.js';
import type { DeviceTree } from '../../src/kernel/of/tree.js';
import type { AttachmentHandle } from '../../src/kernel/dev/registry.js';
import { DMA_BUF_IOCTL_SYNC } from '../../src/uapi/dma-buf.js';
import { MAP_SHARED, O_RDWR, PROT_READ, PROT_WRITE } from '../../src/uapi/fcntl.js';
import { heapAlloc } from './kernel-helpers.js';

const ROOT = new URL('../../../', import.meta.url);

/** A shipped example board (examples/boards/<name>.dts). */
export function board(name: string): DeviceTree {
  const file = new URL(`examples/boards/${name}.dts`, ROOT).pathname;
  const r = parseDts(readFileSync(file, 'latin1'), file);
  if ('error' in r) assert.fail(`${name}: ${JSON.stringify(r.error)}`);
  return r.tree;
}

/** A DTS text as a tree. */
export function dts(text: string): DeviceTree {
  const r = parseDts(text, 'test.dts');
  if ('error' in r) assert.fail(JSON.stringify(r.error));
  return r.tree;
}

export interface Rig {
  readonly k: Kernel;
  readonly p: Process;
}

export function rig(config: KernelConfig): Rig {
  const k = new Kernel(config);
  return { k, p: k.spawn() };
}

/** Allocates `len` bytes from heap `heap`: the dma-buf fd. */
export function alloc(r: Rig, heap: string, len: number): number {
  const hfd = r.p.open(`/dev/dma_heap/${heap}`, O_RDWR);
  assert.ok(hfd >= 0, `open ${heap}: ${hfd}`);
  const a = heapAlloc(r.p, hfd, len, O_RDWR);
  assert.equal(a.ret, 0, `alloc from ${heap}`);
  r.p.close(hfd);
  return a.fd;
}

/** mmap(MAP_SHARED, read-write) of a whole buffer. */
export function map(r: Rig, fd: number, len: number): number {
  const addr = r.p.mmap(0, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  assert.ok(addr > 0, `mmap: ${addr}`);
  return addr;
}

/** DMA_BUF_IOCTL_SYNC with `flags`. */
export function sync(r: Rig, fd: number, flags: number): number {
  const a = r.p.userAlloc(8);
  const b = new Uint8Array(8);
  new DataView(b.buffer).setUint32(0, flags, true);
  r.p.mm.copyToUser(a, b);
  return r.p.ioctl(fd, DMA_BUF_IOCTL_SYNC, a);
}

/** `n` bytes of value `v`. */
export function bytes(n: number, v: number): Uint8Array {
  return new Uint8Array(n).fill(v);
}

/** CPU store through the mapping. */
export function cpuWrite(r: Rig, addr: number, data: Uint8Array): void {
  assert.equal(r.p.store(addr, data), null);
}

/** CPU load through the mapping. */
export function cpuRead(r: Rig, addr: number, n: number): Uint8Array {
  const v = r.p.load(addr, n);
  assert.ok(v instanceof Uint8Array, `load: ${String(v)}`);
  return v;
}

/** Attaches `fd` to `dev` and asserts success. */
export function attach(r: Rig, fd: number, dev: string, dynamic = false): AttachmentHandle {
  const h = r.k.devices.attachFd(r.p, fd, dev, { dynamic });
  assert.ok(typeof h === 'object', `attach ${dev}: ${String(h)}`);
  return h;
}

/** Device read that must succeed. */
export function devRead(r: Rig, h: AttachmentHandle, off: number, n: number): Uint8Array {
  const v = r.k.devices.deviceRead(h, off, n);
  assert.ok(v instanceof Uint8Array, `deviceRead: ${String(v)}`);
  return v;
}
