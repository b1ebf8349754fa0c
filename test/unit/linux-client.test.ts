/**
 * The client library (src/api/client.ts) over the real kernel: discovery, allocation and names,
 * mappings, sync, import, hand-off to a child process, async allocation, images, the fallback
 * chain and the leak guard, each against `linuxBackend.createClient()`. These run where
 * /dev/dma_heap has the oracle's heaps `system` and `reserved` (a cma= area) and this process may
 * open them (the oracle VM: `npm run test:kernel`); elsewhere every test skips with the reason.
 * Each test checks that no descriptor is left open, before and after `client.close()`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { release as osRelease, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAvailable, linuxBackend, createLinuxTarget } from '../../src/backends/linux/index.js';
import type { LinuxTarget } from '../../src/backends/linux/index.js';
import { AllocationError, DmaHeapClient, ErrnoError, formatLeak, LeakGuard, UnmappedError } from '../../src/api/index.js';
import type { DmaBuffer, DmaHeapClientOptions, LeakReport, SyscallTarget } from '../../src/api/index.js';
import { formatBytes } from '../../src/api/choose.js';
import { gcFunction } from './client-helpers.js';
import { fdinfoHasIno, heapExporter, kernelBefore } from './linux-version.js';
import {
  DMA_BUF_IOCTL_SYNC, DMA_BUF_SET_NAME_B, DMA_HEAP_IOCTL_ALLOC, F_ADD_SEALS, F_DUPFD_CLOEXEC, F_GETFD, F_SEAL_SHRINK, FD_CLOEXEC, MFD_ALLOW_SEALING,
  MFD_CLOEXEC, O_CLOEXEC, O_RDONLY, O_RDWR, UDMABUF_CREATE, UDMABUF_FLAGS_CLOEXEC,
} from '../../src/uapi/index.js';

const avail = isAvailable();
const heapNames = avail.ok ? readdirSync('/dev/dma_heap').sort() : [];
const skip: string | false = !avail.ok
  ? avail.reason
  : !heapNames.includes('system') || !heapNames.includes('reserved')
    ? `these tests expect the oracle's heaps system and reserved (a cma= area); /dev/dma_heap has ${heapNames.join(', ')}`
    : false;

const MiB = 1 << 20;
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

/**
 * This process's descriptors as `<fd> -> <link>`, without Node's own kinds (pipes, sockets,
 * `anon_inode:[...]`: the event loop's epoll and eventfds, the signal pipe libuv opens at the
 * first child process, the test runner's channel), which come and go on their own.
 */
function openFds(): string[] {
  const out: string[] = [];
  for (const n of readdirSync('/proc/self/fd')) {
    let link: string;
    try {
      link = readlinkSync(`/proc/self/fd/${n}`);
    } catch {
      continue; // readdir's own descriptor, closed by now
    }
    if (/^(pipe|socket):|^anon_inode:\[/.test(link)) continue;
    out.push(`${n} -> ${link}`);
  }
  return out.sort();
}

interface RunOptions {
  /** Make the client over another target (default: linuxBackend.createClient()). */
  readonly client?: () => DmaHeapClient;
  /** The test leaves buffers open on purpose: only client.close() must close them. */
  readonly closeReleases?: boolean;
}

/**
 * Runs `fn` with a fresh client. Unless `closeReleases`, every buffer the test released must have
 * closed its descriptor before `client.close()` (only the heap nodes the client keeps open may
 * remain); after it, the process has exactly the descriptors it had before.
 */
async function withClient(fn: (c: DmaHeapClient) => void | Promise<void>, opts: RunOptions = {}): Promise<void> {
  const before = openFds();
  const c = opts.client?.() ?? linuxBackend.createClient();
  try {
    await fn(c);
    // the heap nodes the client keeps open (keepHeapsOpen) close with the client
    const kept = (l: string): boolean => / -> \/dev\/dma_heap\/[^/]+$/.test(l) && !before.includes(l);
    if (opts.closeReleases !== true) assert.deepEqual(openFds().filter((l) => !kept(l)), before, 'every released buffer closed its descriptor');
  } finally {
    c.close();
  }
  assert.deepEqual(openFds(), before, 'client.close() left no descriptor open');
}

/** `target` with some calls replaced; the rest go to the real kernel. */
function withHooks(target: LinuxTarget, hooks: Partial<SyscallTarget>): SyscallTarget {
  return new Proxy(target, {
    get(obj, key) {
      const h = (hooks as Record<string | symbol, unknown>)[key];
      if (h !== undefined) return h;
      const v = Reflect.get(obj, key, obj) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(obj) : v;
    },
  }) as SyscallTarget;
}

/** A client over a fresh linux target with client options (the backend's createClient takes none). */
function linuxBackendClient(options: DmaHeapClientOptions): DmaHeapClient {
  return new DmaHeapClient(createLinuxTarget(), options);
}

/** The heap nodes as a user without access sees them (0600 root:root): listed, but EACCES on open. */
function deniedHeaps(): SyscallTarget {
  const t = createLinuxTarget();
  return withHooks(t, {
    open: (path: string, flags: number, mode?: number) => (path.startsWith('/dev/dma_heap/') ? { ret: -1, errno: 'EACCES' } : t.open(path, flags, mode)),
  });
}

/** CmaTotal and CmaFree of /proc/meminfo, in bytes, read here without the library. */
function meminfoCma(): { total: number; free: number } {
  const text = readFileSync('/proc/meminfo', 'latin1');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return { total: kb('CmaTotal'), free: kb('CmaFree') };
}

/** The lines of /proc/self/maps that map the dma-buf with this inode. */
function mapsOf(inode: number | null): string[] {
  return readFileSync('/proc/self/maps', 'latin1')
    .split('\n')
    .filter((l) => {
      const f = l.trim().split(/\s+/);
      return f[4] === String(inode) && (f[5] ?? '').startsWith('/dmabuf:');
    });
}

/** The raw 24-byte DMA_HEAP_IOCTL_ALLOC argument. */
function allocArg(len: number, fdFlags = O_RDWR | O_CLOEXEC): Uint8Array {
  const b = new Uint8Array(24);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, BigInt(len), true);
  dv.setUint32(12, fdFlags, true);
  return b;
}

/** A dma-buf fd made below the client: open the heap, ALLOC, close the heap (no name set). */
function rawAlloc(t: SyscallTarget, heap: string, len: number, fdFlags?: number): number {
  const h = t.open(`/dev/dma_heap/${heap}`, O_RDONLY | O_CLOEXEC);
  assert.equal(h.errno, null);
  const r = t.ioctl(h.ret, DMA_HEAP_IOCTL_ALLOC, allocArg(len, fdFlags));
  t.close(h.ret);
  assert.equal(r.errno, null);
  return new DataView(r.out!.buffer).getUint32(8, true);
}

/** UDMABUF_CREATE over a sealed memfd of `len` bytes, below the client: the kernel's errno (every fd closed again). */
function rawUdmabuf(t: SyscallTarget, len: number): string | null {
  const m = t.memfdCreate('raw', MFD_ALLOW_SEALING | MFD_CLOEXEC).ret;
  assert.equal(t.ftruncate(m, len).errno, null);
  assert.equal(t.fcntl(m, F_ADD_SEALS, F_SEAL_SHRINK).errno, null);
  const u = t.open('/dev/udmabuf', O_RDWR | O_CLOEXEC).ret;
  const arg = new Uint8Array(24);
  const dv = new DataView(arg.buffer);
  dv.setUint32(0, m, true);
  dv.setUint32(4, UDMABUF_FLAGS_CLOEXEC, true);
  dv.setBigUint64(16, BigInt(len), true);
  const r = t.ioctl(u, UDMABUF_CREATE, arg);
  if (r.errno === null) t.close(r.ret);
  t.close(u);
  t.close(m);
  return r.errno;
}

const fdinfo = (c: DmaHeapClient, fd: number): string => c.target.readFile(`/proc/self/fdinfo/${fd}`).text ?? '(no fdinfo)';
const errno = (code: string, syscall: string, path?: string) => (e: unknown): boolean => {
  assert.ok(e instanceof ErrnoError, `an ErrnoError, not ${String(e)}`);
  assert.deepEqual([e.code, e.syscall, e.path], [code, syscall, path]);
  return true;
};

// ---- discovery --------------------------------------------------------------------------------

test('README: the real-kernel example runs as written', { skip }, () => {
  // example: readme-linux
  const ok = linuxBackend.isAvailable(); // { ok: false, reason: 'no /dev/dma_heap: …' } where there are no heaps
  if (!ok.ok) throw new Error(`${ok.reason} (dmaheap doctor says why and what to do)`);
  const client = linuxBackend.createClient({ client: { appName: 'camera' } });
  const buf = client.allocateFor({ contiguous: true }, 1 << 20, { purpose: 'frame-0' }); // named 'camera:frame-0'
  const map = buf.map();
  const frame = new Uint8Array(buf.size);
  buf.cpuAccess('read', () => map.readInto(frame)); // one array for every frame: no allocation per read
  map.unmap();
  buf.close();
  client.close(); // also closes the heap nodes the client kept open
  // end example
  assert.deepEqual([buf.heap, buf.name, frame.length, frame.every((b) => b === 0)], ['reserved', 'camera:frame-0', 1 << 20, true]);
});

test('README: the real-kernel example appears there as written (after its import line)', () => {
  const src = readFileSync(new URL('../../../test/unit/linux-client.test.ts', import.meta.url), 'utf8');
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const m = /\n( *)\/\/ example: readme-linux\n([\s\S]*?)\n\1\/\/ end example\n/.exec(src);
  assert.ok(m !== null, 'the example is in this file');
  const body = m[2]!.split('\n').map((l) => l.slice(m[1]!.length)).join('\n');
  assert.ok(readme.includes(`<!-- example: readme-linux -->\n\`\`\`ts\nimport { linuxBackend } from 'dmaheap/linux';\n\n${body}\n\`\`\`\n`), 'README.md lacks the example as written here');
});

test('discovery: heaps() lists reserved and system with their properties and where each came from', { skip }, () =>
  withClient((c) => {
    const cma = meminfoCma();
    const heaps = c.heaps();
    assert.deepEqual(heaps.map((h) => [h.name, h.path]), [['reserved', '/dev/dma_heap/reserved'], ['system', '/dev/dma_heap/system']]);
    const area = '/sys/kernel/mm/cma/reserved exists: a CMA area of that name';
    const r = heaps[0]!.properties;
    assert.deepEqual(
      [r.kind, r.contiguous, r.cacheable, r.protected],
      [
        { value: 'cma', source: 'sysfs', reason: area },
        { value: true, source: 'sysfs', reason: area },
        { value: true, source: 'sysfs', reason: `${area} (CMA heaps map ordinary memory cacheable)` },
        { value: false, source: 'sysfs', reason: area },
      ],
    );
    // the area's size from debugfs count is the kernel's CmaTotal (one area: cma=)
    assert.deepEqual(r.capacity, { value: cma.total, source: 'sysfs', reason: '/sys/kernel/debug/cma/reserved/count' });
    assert.deepEqual([r.free?.source, r.free?.reason], ['sysfs', '/sys/kernel/debug/cma/reserved/count - used']);
    assert.deepEqual([r.region, r.sameMemoryAs, r.legacyAlias, r.known?.id], [null, null, null, 'mainline/reserved']);
    const s = heaps[1]!.properties;
    const kb = 'knowledge base: system (the page allocator: pages of order 8, 4 and 0, never physically contiguous beyond a chunk; Android requires it from kernel 5.10 (VTS))';
    assert.deepEqual(
      [s.kind, s.contiguous, s.cacheable, s.protected],
      [
        { value: 'system', source: 'name', reason: kb },
        { value: false, source: 'name', reason: kb },
        { value: true, source: 'name', reason: kb },
        { value: false, source: 'name', reason: kb },
      ],
    );
    assert.deepEqual([s.capacity, s.free, s.region, s.known?.id], [null, null, null, 'mainline/system']);
    // a real kernel has no exact description: exact: false infers the same
    assert.deepEqual(c.heaps({ exact: false }), heaps);
  }));

test('discovery: heaps() reads the CMA figures afresh: a held buffer is missing from reserved\'s free bytes', { skip }, () =>
  withClient((c) => {
    const free = (): number | undefined => c.heaps().find((h) => h.name === 'reserved')?.properties.free?.value;
    const before = free();
    const b = c.allocate('reserved', 4 * MiB);
    assert.equal(free(), before! - 4 * MiB);
    b.release();
    assert.equal(free(), before);
  }));

test('discovery: choose({ contiguous: true }) picks reserved and explains what it refused and why', { skip }, () =>
  withClient((c) => {
    const choice = c.choose({ contiguous: true });
    assert.deepEqual([choice.chosen?.name, choice.candidates.map((h) => h.name)], ['reserved', ['reserved']]);
    assert.deepEqual(choice.refused, [{ name: 'system', reason: 'not physically contiguous [name]' }]);
    assert.deepEqual(choice.udmabuf, { ok: false, reason: 'udmabuf memory (memfd pages) is not physically contiguous' });
    assert.equal(
      choice.explanation,
      'chose "reserved" (physically contiguous [sysfs]); refused "system" (not physically contiguous [name]); no udmabuf fallback: udmabuf memory (memfd pages) is not physically contiguous',
    );
    assert.equal(c.choose({}).explanation, 'chose "system" (no requirement); then "reserved"; last resort: udmabuf over a sealed memfd');
    assert.equal(
      c.choose({ cached: false }).explanation,
      'no heap satisfies uncached; refused "reserved" (CPU-cached [sysfs]), "system" (CPU-cached [name]); no udmabuf fallback: udmabuf mappings are CPU-cached',
    );
    const total = meminfoCma().total;
    assert.equal(
      c.choose({ contiguous: true, size: 2 * total }).explanation,
      `no heap satisfies physically contiguous, ${formatBytes(2 * total)}; refused "reserved" (holds ${formatBytes(total)} in all, less than ${formatBytes(2 * total)} [sysfs]), "system" (not physically contiguous [name]); no udmabuf fallback: udmabuf memory (memfd pages) is not physically contiguous`,
    );
  }));

test('discovery: systemFacts() reads the release, /proc/meminfo\'s CMA figures, the CMA area and /dev/udmabuf', { skip }, () =>
  withClient((c) => {
    const f = c.systemFacts();
    const cma = meminfoCma();
    assert.equal(f.release, osRelease());
    assert.match(f.release ?? '', /^(?:5\.10|6\.1)\./, 'the 6.1 referee (the 5.10 one in a TEST_KERNELS=5.10 run)');
    assert.deepEqual(f.meminfo, { cmaTotal: cma.total, cmaFree: cma.free });
    assert.ok(cma.total > 0, 'the oracle boots with cma=');
    assert.deepEqual(f.cmaAreas?.map((a) => [a.name, a.size]), [['reserved', cma.total]]);
    assert.deepEqual([f.exact, f.reservedMemory], [null, null]);
    // size_limit_mb is a module parameter from 5.15; 5.10 has the constant 64 and no file
    const limit = kernelBefore('5.15') ? null : Number(readFileSync('/sys/module/udmabuf/parameters/size_limit_mb', 'latin1').trim()) * MiB;
    assert.deepEqual(f.udmabuf, { present: true, usable: true, sizeLimit: limit });
    // the caller's facts win
    assert.deepEqual(c.systemFacts({ facts: { meminfo: null } }).meminfo, null);
  }));

// ---- allocation -------------------------------------------------------------------------------

test('allocate: sizes round up to whole pages; the automatic name dmaheap:<heap> is in fdinfo, the fd link and buf.name', { skip }, () =>
  withClient((c) => {
    const ps = c.target.pageSize;
    for (const [asked, got] of [[1, ps], [ps, ps], [ps + 1, 2 * ps], [5000, Math.ceil(5000 / ps) * ps]] as const) {
      const b = c.allocate('system', asked);
      assert.equal(b.size, got, `${asked} bytes`);
      b.release();
    }
    for (const heap of ['system', 'reserved']) {
      const b = c.allocate(heap, 3 * ps);
      const ino = c.target.fstat(b.fd).stat!.ino;
      assert.deepEqual([b.heap, b.size, b.name, b.nameError, b.access, b.inode], [heap, 3 * ps, `dmaheap:${heap}`, null, 'rw', ino]);
      const info = fdinfo(c, b.fd);
      for (const line of [...(fdinfoHasIno() ? [`ino:\t${ino}`] : []), `size:\t${3 * ps}`, `exp_name:\t${heapExporter(heap)}`, `name:\tdmaheap:${heap}`]) assert.ok(info.split('\n').includes(line), `${line} in\n${info}`);
      assert.equal(readlinkSync(`/proc/self/fd/${b.fd}`), `/dmabuf:dmaheap:${heap}`);
      assert.deepEqual(b.provenance, { path: 'heap', provider: heap, requirements: null, attempts: [{ provider: heap, error: null }], explanation: `heap "${heap}", asked for by name` });
      b.release();
    }
    const p = c.allocate('system', ps, { purpose: 'frame-0' });
    assert.equal(p.name, 'dmaheap:frame-0');
    p.release();
    const quiet = c.allocate('system', ps, { name: null });
    assert.equal(quiet.name, null);
    assert.doesNotMatch(fdinfo(c, quiet.fd), /^name:/m);
    quiet.release();
  }));

test('allocate: an explicit name longer than 31 characters is cut to 31 (the kernel refuses 32 with EINVAL)', { skip }, () =>
  withClient((c) => {
    const long = 'camera0:preview-frame-0123456789abcdef'; // 38 characters
    const b = c.allocate('reserved', 4096, { name: long });
    assert.equal(b.name, long.slice(0, 31));
    assert.ok(fdinfo(c, b.fd).split('\n').includes(`name:\t${long.slice(0, 31)}`));
    // why the library cuts: DMA_BUF_NAME_LEN is 32 with the NUL
    assert.equal(c.target.ioctlString(b.fd, DMA_BUF_SET_NAME_B, long.slice(0, 32)).errno, 'EINVAL');
    b.setName('renamed');
    assert.deepEqual([b.name, fdinfo(c, b.fd).split('\n').includes('name:\trenamed')], ['renamed', true]);
    b.release();
  }));

test('allocate: unknown heap ENOENT (open), size 0 EINVAL (ioctl), a negative size RangeError, a too large CMA buffer ENOMEM', { skip }, () =>
  withClient((c) => {
    assert.throws(() => c.allocate('nope', 4096), errno('ENOENT', 'open', '/dev/dma_heap/nope'));
    assert.throws(() => c.allocate('system', 0), errno('EINVAL', 'ioctl', '/dev/dma_heap/system'));
    assert.throws(() => c.allocate('system', -1), { name: 'RangeError', message: 'size must be a non-negative integer number of bytes, not -1' });
    assert.throws(() => c.allocate('system', 1.5), RangeError);
    assert.throws(() => c.allocate('reserved', 2 * meminfoCma().total), errno('ENOMEM', 'ioctl', '/dev/dma_heap/reserved'));
    // EINVAL is no reason to try the next provider: allocateFor throws it at once
    assert.throws(() => c.allocateFor({}, 0), (e: unknown) => !(e instanceof AllocationError) && errno('EINVAL', 'ioctl', '/dev/dma_heap/system')(e));
    // the kernel refuses a zero-length udmabuf too
    assert.equal(rawUdmabuf(c.target, 0), 'EINVAL');
    assert.equal(rawUdmabuf(c.target, 4096), null);
  }));

test('allocate: a missing heap\'s ENOENT names the heaps there are and the cma= reason, read from this machine\'s files', { skip }, () =>
  withClient((c) => {
    // the oracle boots with cma=<size> and no device tree: the default CMA heap is reserved
    const cma = /(?:^|\s)cma=(\S+)/.exec(readFileSync('/proc/cmdline', 'latin1'))?.[1];
    assert.ok(cma !== undefined, 'the oracle\'s command line has cma=');
    const heaps = readdirSync('/dev/dma_heap').join(', ');
    assert.throws(() => c.allocate('linux,cma', 4096), (e: unknown) => {
      assert.ok(errno('ENOENT', 'open', '/dev/dma_heap/linux,cma')(e) && e instanceof ErrnoError);
      assert.equal(e.message, `ENOENT: No such file or directory, open '/dev/dma_heap/linux,cma' (no heap named linux,cma; the heaps are ${heaps}; the default CMA area comes from cma=${cma} on the kernel command line and is named reserved, not linux,cma (from Linux 6.17 its heap is default_cma_region): open reserved instead; dmaheap doctor explains the cma= naming)`);
      return true;
    });
  }));

test('size 0 is EINVAL on the udmabuf path too, as the kernel answers', { skip }, () =>
  withClient(
    (c) => {
      assert.throws(() => c.allocateUdmabuf(0), errno('EINVAL', 'ioctl', '/dev/udmabuf'));
      assert.throws(() => c.allocateFor({}, 0), (e: unknown) => {
        assert.ok(e instanceof AllocationError, `an AllocationError, not ${String(e)}`);
        assert.deepEqual([e.code, e.attempts.map((a) => [a.provider, a.error])], ['EINVAL', [['system', 'EACCES'], ['reserved', 'EACCES'], ['udmabuf', 'EINVAL']]]);
        return true;
      });
    },
    { client: () => new DmaHeapClient(deniedHeaps()) },
  ));

test('names: a non-ASCII name reaches the kernel as UTF-8, cut to 31 bytes, and buf.name is what fdinfo shows', { skip }, () =>
  withClient((c) => {
    const shown = (fd: number): string | undefined => /^name:\t(.*)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
    const a = c.allocate('system', 4096, { name: 'cam\u00e9ra-\u20ac' });
    assert.deepEqual([a.name, shown(a.fd)], ['cam\u00e9ra-\u20ac', 'cam\u00e9ra-\u20ac']);
    // 20 euro signs are 60 bytes: 10 fit in 31 (30 bytes), an 11th would not
    const b = c.allocate('system', 4096, { name: '\u20ac'.repeat(20) });
    assert.deepEqual([b.name, shown(b.fd)], ['\u20ac'.repeat(10), '\u20ac'.repeat(10)]);
    a.release();
    b.release();
  }));

test('allocate: the fd is O_CLOEXEC by default; cloexec: false and access: read reach the kernel', { skip }, () =>
  withClient((c) => {
    const flags = (fd: number): string | undefined => /^flags:\t(\d+)$/m.exec(fdinfo(c, fd))?.[1];
    const d = c.allocate('system', 4096);
    assert.deepEqual([c.target.fcntl(d.fd, F_GETFD).ret, flags(d.fd)], [FD_CLOEXEC, '02000002']);
    const inherit = c.allocate('system', 4096, { cloexec: false });
    assert.deepEqual([c.target.fcntl(inherit.fd, F_GETFD).ret, flags(inherit.fd)], [0, '02']);
    const ro = c.allocate('system', 4096, { access: 'read' });
    assert.deepEqual([ro.access, c.target.fcntl(ro.fd, F_GETFD).ret, flags(ro.fd)], ['read', FD_CLOEXEC, '02000000']);
    const u = c.allocateUdmabuf(4096);
    const ui = c.allocateUdmabuf(4096, { cloexec: false });
    assert.deepEqual([c.target.fcntl(u.fd, F_GETFD).ret, flags(u.fd), c.target.fcntl(ui.fd, F_GETFD).ret, flags(ui.fd)], [FD_CLOEXEC, '02000002', 0, '02']);
    for (const b of [d, inherit, ro, u, ui]) b.release();
  }));

// ---- mappings -----------------------------------------------------------------------------------

test('map: bytes written read back exactly, across a page boundary and through a second mapping', { skip }, () =>
  withClient((c) => {
    const ps = c.target.pageSize;
    const b = c.allocate('system', 2 * ps);
    const m = b.map();
    assert.deepEqual([m.length, m.writable, m.isMapped], [2 * ps, true, true]);
    assert.ok(m.read().every((x) => x === 0), 'a new buffer reads zero');
    b.cpuAccess('write', () => m.write(ps - 3, Uint8Array.from([1, 2, 3, 4, 5, 6])));
    assert.deepEqual([...m.read(ps - 4, 8)], [0, 1, 2, 3, 4, 5, 6, 0]);
    m.fill(0xab, 10, 5);
    assert.deepEqual([...m.read(9, 7)], [0, 0xab, 0xab, 0xab, 0xab, 0xab, 0]);
    const second = b.map({ offset: ps, length: ps });
    assert.deepEqual([second.length, ...second.read(0, 4)], [ps, 4, 5, 6, 0]);
    second.write(100, enc('shared'));
    assert.equal(dec(m.read(ps + 100, 6)), 'shared');
    assert.equal(mapsOf(b.inode).length, 2);
    b.release();
    assert.deepEqual([m.isMapped, second.isMapped, b.isOpen, mapsOf(b.inode)], [false, false, false, []]);
  }));

test('map: out-of-bounds access is a RangeError; mapping past the buffer is EINVAL from the kernel', { skip }, () =>
  withClient((c) => {
    const ps = c.target.pageSize;
    const b = c.allocate('system', 2 * ps);
    const m = b.map();
    assert.throws(() => m.read(2 * ps - 1, 2), { name: 'RangeError', message: `read: [${2 * ps - 1}, ${2 * ps + 1}) is outside the mapping [0, ${2 * ps})` });
    assert.throws(() => m.write(-1, new Uint8Array(1)), { name: 'RangeError', message: `write: [-1, 0) is outside the mapping [0, ${2 * ps})` });
    assert.throws(() => m.fill(1, 0, 2 * ps + 1), RangeError);
    assert.throws(() => m.read(0.5, 1), RangeError);
    assert.deepEqual([...m.read(2 * ps - 1, 1)], [0], 'the last byte is inside');
    assert.throws(() => b.map({ length: 3 * ps }), errno('EINVAL', 'mmap'));
    b.release();
  }));

test('map: a read-only mapping refuses write with EACCES; a read-only buffer cannot be mapped writable (EACCES, mmap)', { skip }, () =>
  withClient((c) => {
    const b = c.allocate('system', 4096);
    const rw = b.map();
    rw.write(0, enc('seen'));
    const ro = b.map({ writable: false });
    assert.equal(ro.writable, false);
    assert.throws(() => ro.write(0, enc('x')), errno('EACCES', 'write'));
    assert.throws(() => ro.fill(0), errno('EACCES', 'write'));
    assert.equal(dec(ro.read(0, 4)), 'seen', 'and nothing was written');
    const r = c.allocate('system', 4096, { access: 'read' });
    const rm = r.map();
    assert.deepEqual([rm.writable, [...rm.read(0, 2)]], [false, [0, 0]]);
    assert.throws(() => r.map({ writable: true }), errno('EACCES', 'mmap'));
    b.release();
    r.release();
  }));

test('map: after unmap every access throws UnmappedError and the pages are gone from /proc/self/maps', { skip }, () =>
  withClient((c) => {
    const b = c.allocate('system', 4096);
    const m = b.map();
    m.write(0, enc('before'));
    assert.equal(mapsOf(b.inode).length, 1);
    m.unmap();
    assert.deepEqual([m.isMapped, m.length, mapsOf(b.inode)], [false, 0, []]);
    const gone = (what: string) => ({ name: 'UnmappedError', message: `${what}: the mapping was unmapped; map the buffer again with buffer.map()` });
    assert.throws(() => m.read(0, 1), gone('read'));
    assert.throws(() => m.read(), UnmappedError);
    assert.throws(() => m.write(0, enc('after')), gone('write'));
    assert.throws(() => m.fill(0), gone('fill'));
    m.unmap(); // again: nothing
    // the process is alive (no access reached the kernel's unmapped range) and the buffer kept its bytes
    const again = b.map();
    assert.equal(dec(again.read(0, 6)), 'before');
    b.release();
  }));

test('map: a mapping stays valid after the buffer is closed, until it is unmapped', { skip }, () =>
  withClient((c) => {
    const b = c.allocate('reserved', 8192, { purpose: 'kept' });
    const m = b.map();
    const fd = b.fd;
    b.close();
    assert.deepEqual([b.isOpen, c.target.fstat(fd).errno], [false, 'EBADF']);
    assert.throws(() => b.map(), errno('EBADF', 'mmap'));
    assert.throws(() => b.sync('rw', 'start'), errno('EBADF', 'ioctl'));
    m.write(8000, enc('still here'));
    assert.equal(dec(m.read(8000, 10)), 'still here');
    assert.deepEqual(mapsOf(b.inode).map((l) => l.trim().split(/\s+/)[5]), ['/dmabuf:dmaheap:kept'], 'the mapping holds the buffer');
    m.unmap();
    assert.deepEqual(mapsOf(b.inode), []);
    assert.throws(() => m.read(0, 1), UnmappedError);
    b.release(); // closed and unmapped already: nothing to do
  }));

// ---- sync ---------------------------------------------------------------------------------------

test('cpuAccess and sync: START then END with the access flags, accepted by the kernel; END runs when fn throws', { skip }, () => {
  const t = createLinuxTarget();
  const calls: [number, string | null][] = [];
  const spy = withHooks(t, {
    ioctl: (fd, cmd, arg) => {
      const r = t.ioctl(fd, cmd, arg);
      if (cmd === DMA_BUF_IOCTL_SYNC && arg instanceof Uint8Array) calls.push([arg[0]!, r.errno]);
      return r;
    },
  });
  return withClient(
    (c) => {
      const b = c.allocate('system', 4096);
      const m = b.map();
      assert.equal(b.cpuAccess('write', () => (m.write(0, enc('synced')), 42)), 42);
      assert.equal(b.cpuAccess('read', () => dec(m.read(0, 6))), 'synced');
      b.cpuAccess('rw', () => undefined);
      assert.throws(() => b.cpuAccess('write', () => { throw new Error('boom'); }), { message: 'boom' });
      b.sync('read', 'start');
      b.sync('read', 'end');
      // DMA_BUF_SYNC_READ 1, WRITE 2, RW 3; START 0, END 4
      assert.deepEqual(calls, [[2, null], [6, null], [1, null], [5, null], [3, null], [7, null], [2, null], [6, null], [1, null], [5, null]]);
      b.release();
    },
    { client: () => new DmaHeapClient(spy) },
  );
});

// ---- foreign buffers ----------------------------------------------------------------------------

test('importFd: a dma-buf made below the client is validated and identified by inode; dup: true leaves the fd to the caller', { skip }, () =>
  withClient((c) => {
    const t = c.target;
    const ps = t.pageSize;
    const fd = rawAlloc(t, 'system', 3 * ps);
    const ino = t.fstat(fd).stat!.ino;
    const b = c.importFd(fd);
    // an imported buffer is known by its exporter: heap_helpers before 5.11, whatever the heap
    const exp = heapExporter('system');
    assert.deepEqual([b.fd, b.heap, b.size, b.inode, b.name, b.access], [fd, exp, 3 * ps, ino, null, 'rw']);
    assert.deepEqual(b.provenance, { path: 'import', provider: exp, requirements: null, attempts: [], explanation: `imported fd ${fd}: a dma-buf exported by "${exp}" (inode ${ino})` });
    const copy = c.importFd(fd, { dup: true });
    assert.notEqual(copy.fd, fd);
    assert.deepEqual([copy.inode, copy.size, copy.provenance?.explanation], [ino, 3 * ps, `imported fd ${fd} as fd ${copy.fd}: a dma-buf exported by "${exp}" (inode ${ino})`]);
    copy.map().write(0, enc('through the copy'));
    copy.release();
    assert.equal(t.fstat(fd).stat?.ino, ino, 'the caller\'s fd is still open');
    b.checkIdentity();
    b.setName('imported');
    assert.equal(c.importFd(fd, { dup: true }).name, 'imported', 'the name comes from fdinfo');
    assert.equal(dec(b.map().read(0, 16)), 'through the copy');
    // a read-only one, and a udmabuf
    const rofd = rawAlloc(t, 'reserved', ps, O_RDONLY | O_CLOEXEC);
    const ro = c.importFd(rofd);
    assert.deepEqual([ro.heap, ro.access, ro.map().writable], [heapExporter('reserved'), 'read', false]);
    const u = c.allocateUdmabuf(ps);
    const ui = c.importFd(u.fd, { dup: true });
    assert.deepEqual([ui.heap, ui.inode, ui.name], ['udmabuf', u.inode, 'dmaheap:udmabuf']);
    for (const x of [b, ro, u, ui]) x.release();
    assert.equal(t.fstat(fd).errno, 'EBADF', 'the imported buffer owned the fd');
  }, { closeReleases: true }));

test('importFd: a memfd or /dev/null is refused with EINVAL saying what it is; a closed fd is EBADF', { skip }, () =>
  withClient((c) => {
    const t = c.target;
    const m = t.memfdCreate('pixels', MFD_CLOEXEC).ret;
    assert.throws(() => c.importFd(m), (e: unknown) => {
      assert.ok(e instanceof ErrnoError);
      assert.deepEqual([e.code, e.syscall, e.message], ['EINVAL', 'import', `EINVAL: Invalid argument, import (fd ${m} is not a dma-buf: /proc/self/fd/${m} -> /memfd:pixels (deleted), and its fdinfo has no exp_name)`]);
      return true;
    });
    const n = t.open('/dev/null', O_RDWR | O_CLOEXEC).ret;
    assert.throws(() => c.importFd(n), { code: 'EINVAL', message: `EINVAL: Invalid argument, import (fd ${n} is not a dma-buf: /proc/self/fd/${n} -> /dev/null, and its fdinfo has no exp_name)` });
    assert.equal(t.fstat(m).errno, null, 'a refused fd stays the caller\'s');
    t.close(m);
    t.close(n);
    assert.throws(() => c.importFd(n), errno('EBADF', 'fstat'));
    assert.equal(c.leakGuard?.tracked, 0);
  }));

test('checkIdentity: an fd closed behind the library\'s back (EBADF) or reused for another file (EBADF, with both inodes) is caught', { skip }, () =>
  withClient((c) => {
    const t = c.target;
    const b = c.allocate('system', 4096);
    b.checkIdentity();
    const other = t.memfdCreate('intruder', MFD_CLOEXEC).ret;
    const otherIno = t.fstat(other).stat!.ino;
    t.close(b.fd);
    assert.throws(() => b.checkIdentity(), { code: 'EBADF', message: `EBADF: Bad file descriptor, fstat (fd ${b.fd} of buffer inode ${b.inode})` });
    assert.equal(t.fcntl(other, F_DUPFD_CLOEXEC, b.fd).ret, b.fd, 'the number is taken by another file');
    assert.throws(() => b.checkIdentity(), { code: 'EBADF', message: `EBADF: Bad file descriptor, fstat (fd ${b.fd} is now inode ${otherIno}, not this buffer (inode ${b.inode}))` });
    b.close(); // closes the number: the memfd's duplicate now
    t.close(other);
  }));

test('client.close() drops its mappings (UnmappedError, isMapped false) and closes its buffers (release() afterwards does nothing)', { skip }, () =>
  withClient((c) => {
    const b = c.allocate('system', 4096);
    const m = b.map();
    c.close();
    assert.equal(m.isMapped, false);
    assert.throws(() => m.read(0, 1), UnmappedError);
    assert.doesNotThrow(() => b.release());
    assert.deepEqual([b.isOpen, mapsOf(b.inode)], [false, []]);
  }, { closeReleases: true }));

/** Writes a child script that imports a handed-off buffer with the built linux backend. */
function childScript(dir: string): string {
  const backend = new URL('../../src/backends/linux/index.js', import.meta.url).href;
  const file = join(dir, 'import-handoff.mjs');
  writeFileSync(
    file,
    `import { linuxBackend } from ${JSON.stringify(backend)};
const h = JSON.parse(process.argv[2]);
const length = Number(process.argv[3]);
const client = linuxBackend.createClient();
const out = {};
try {
  client.importHandoff({ ...h, inode: h.inode + 1 });
  out.wrongInode = 'imported';
} catch (e) {
  out.wrongInode = e.code;
}
const buf = client.importHandoff(h);
Object.assign(out, { fd: buf.fd, inode: buf.inode, size: buf.size, heap: buf.heap, name: buf.name, access: buf.access, path: buf.provenance.path });
const m = buf.map();
out.got = new TextDecoder().decode(buf.cpuAccess('read', () => m.read(0, length)));
buf.cpuAccess('write', () => m.write(4096, new TextEncoder().encode('reply from child ' + process.pid)));
buf.release();
client.close();
process.stdout.write(JSON.stringify(out));
`,
  );
  return file;
}

/** Runs the child script with `stdio` and returns its exit, its pid and what it printed. */
async function runChild(script: string, args: string[], stdio: ('ignore' | 'pipe' | 'inherit' | number)[]): Promise<{ code: number | null; signal: string | null; pid: number; out: Record<string, unknown> }> {
  const child = spawn(process.execPath, [script, ...args], { stdio });
  let text = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (s: string) => (text += s));
  const [code, signal] = (await once(child, 'close')) as [number | null, string | null];
  return { code, signal, pid: child.pid!, out: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

test('handoff({ childFd: 3 }) to a node child started with the buffer as fd 3: it imports it, reads the parent\'s bytes, replies in the buffer', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmaheap-child-'));
  return withClient(async (c) => {
    const script = childScript(dir);
    const buf = c.allocate('system', 2 * 4096, { purpose: 'frame-0' });
    const m = buf.map();
    const msg = 'hello from the parent';
    buf.cpuAccess('write', () => m.write(0, enc(msg)));
    const h = buf.handoff({ childFd: 3 });
    assert.deepEqual(h, { fd: 3, inode: buf.inode, size: 8192, exporter: 'system', name: 'dmaheap:frame-0', access: 'rw' });
    assert.equal(c.target.fcntl(buf.fd, F_GETFD).ret, FD_CLOEXEC, 'with childFd the parent\'s fd keeps FD_CLOEXEC');
    const r = await runChild(script, [JSON.stringify(h), String(msg.length)], ['ignore', 'pipe', 'inherit', buf.fd]);
    assert.deepEqual([r.code, r.signal], [0, null]);
    assert.deepEqual(r.out, { wrongInode: 'EBADF', fd: 3, inode: buf.inode, size: 8192, heap: heapExporter('system'), name: 'dmaheap:frame-0', access: 'rw', path: 'import', got: msg });
    const reply = `reply from child ${r.pid}`;
    assert.equal(buf.cpuAccess('read', () => dec(m.read(4096, reply.length))), reply);
    // the other ways of the emulated backend need a process model the linux backend has not
    assert.throws(() => c.spawnChild('encoder'), errno('ENOSYS', 'spawn'));
    assert.throws(() => buf.sendTo(c), errno('ENOSYS', 'sendmsg'));
    buf.release();
  }).finally(() => rmSync(dir, { recursive: true, force: true }));
});

test('handoff() without childFd clears FD_CLOEXEC: a child started afterwards inherits the fd under the same number', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmaheap-child-'));
  return withClient(async (c) => {
    const script = childScript(dir);
    const buf = c.allocate('reserved', 4096 * 2, { name: 'inherited' });
    const m = buf.map();
    m.write(0, enc('by inheritance'));
    assert.equal(c.target.fcntl(buf.fd, F_GETFD).ret, FD_CLOEXEC);
    const h = buf.handoff();
    assert.deepEqual([h.fd, c.target.fcntl(buf.fd, F_GETFD).ret], [buf.fd, 0]);
    const r = await runChild(script, [JSON.stringify(h), '14'], ['ignore', 'pipe', 'inherit']);
    assert.deepEqual([r.code, r.signal], [0, null]);
    assert.deepEqual(r.out, { wrongInode: 'EBADF', fd: buf.fd, inode: buf.inode, size: 8192, heap: heapExporter('reserved'), name: 'inherited', access: 'rw', path: 'import', got: 'by inheritance' });
    assert.equal(dec(m.read(4096, `reply from child ${r.pid}`.length)), `reply from child ${r.pid}`);
    buf.release();
  }).finally(() => rmSync(dir, { recursive: true, force: true }));
});

// ---- off the event loop -----------------------------------------------------------------------

test('allocateAsync: the ALLOC ioctl goes to ioctlAsync (the libuv pool); several at once; errors are rejections', { skip }, () => {
  const t = createLinuxTarget();
  const calls: string[] = [];
  const spy = withHooks(t, {
    ioctl: (fd, cmd, arg) => {
      if (cmd === DMA_HEAP_IOCTL_ALLOC) calls.push('ioctl');
      return t.ioctl(fd, cmd, arg);
    },
    ioctlAsync: (fd, cmd, arg) => {
      if (cmd === DMA_HEAP_IOCTL_ALLOC) calls.push('ioctlAsync');
      return t.ioctlAsync(fd, cmd, arg);
    },
  });
  return withClient(
    async (c) => {
      const p = c.allocateAsync('system', 5000, { purpose: 'async' });
      assert.deepEqual(calls, ['ioctlAsync'], 'dispatched before allocateAsync returned');
      const a = await p;
      assert.deepEqual([a.heap, a.size, a.name, c.target.fstat(a.fd).stat?.ino], ['system', 8192, 'dmaheap:async', a.inode]);
      const many = await Promise.all([1, 2, 3].map((k) => c.allocateAsync(k === 2 ? 'reserved' : 'system', k * 4096)));
      assert.deepEqual(many.map((b) => [b.heap, b.size, b.name]), [['system', 4096, 'dmaheap:system'], ['reserved', 8192, 'dmaheap:reserved'], ['system', 12288, 'dmaheap:system']]);
      assert.equal(new Set(many.map((b) => b.fd)).size, 3);
      assert.equal(new Set(many.map((b) => b.inode)).size, 3);
      const f = await c.allocateForAsync({ contiguous: true }, 4096);
      assert.deepEqual([f.heap, f.provenance?.path, f.provenance?.attempts], ['reserved', 'heap', [{ provider: 'reserved', error: null }]]);
      assert.deepEqual(calls, Array(5).fill('ioctlAsync'), 'never the synchronous ioctl');
      await assert.rejects(c.allocateAsync('system', 0), errno('EINVAL', 'ioctl', '/dev/dma_heap/system'));
      await assert.rejects(c.allocateAsync('nope', 4096), errno('ENOENT', 'open', '/dev/dma_heap/nope'));
      await assert.rejects(c.allocateAsync('system', -1), RangeError);
      for (const b of [a, ...many, f]) b.release();
    },
    { client: () => new DmaHeapClient(spy) },
  );
});

// ---- images -------------------------------------------------------------------------------------

test('allocateImage: NV12 in one reserved buffer; plane views write rows and fill a plane without touching the other', { skip }, () =>
  withClient((c) => {
    const ps = c.target.pageSize;
    const img = c.allocateImage({ format: 'NV12', width: 640, height: 480, heap: 'reserved' });
    assert.deepEqual(img.planes.map((p) => [p.name, p.offset, p.stride, p.rowBytes, p.rows, p.size]), [['Y', 0, 640, 640, 480, 307200], ['UV', 307200, 640, 640, 240, 153600]]);
    assert.deepEqual([img.buffer.heap, img.buffer.size, img.buffer.name, img.layout.size], ['reserved', Math.ceil(460800 / ps) * ps, 'dmaheap:nv12-640x480', 460800]);
    const y = img.mapPlane(0);
    const uv = img.mapPlane(1);
    img.buffer.cpuAccess('write', () => {
      y.writeRow(0, Uint8Array.from({ length: 640 }, (_, i) => i & 0xff));
      y.writeRow(479, new Uint8Array(640).fill(0x11));
      uv.fill(0x80);
    });
    const all = img.buffer.map({ writable: false }).read();
    assert.deepEqual([...all.subarray(0, 4), all[639], all[640]], [0, 1, 2, 3, 639 & 0xff, 0]);
    assert.ok(all.subarray(479 * 640, 480 * 640).every((x) => x === 0x11), 'the last Y row');
    assert.ok(all.subarray(307200, 460800).every((x) => x === 0x80), 'the whole UV plane');
    assert.ok(all.subarray(460800).every((x) => x === 0), 'nothing past the last plane');
    assert.deepEqual([...y.readRow(479).subarray(0, 2), ...uv.read(153599, 1)], [0x11, 0x11, 0x80]);
    assert.throws(() => uv.readRow(240), { name: 'RangeError', message: 'readRow: row 240 is outside plane 1 (UV) rows [0, 240)' });
    assert.throws(() => y.read(307199, 2), RangeError);
    assert.throws(() => y.writeRow(0, new Uint8Array(641)), RangeError);
    assert.throws(() => img.mapPlane(2), { name: 'RangeError', message: 'plane 2: a NV12 image has planes 0..1' });
    img.release();
    assert.deepEqual([y.isMapped, uv.isMapped, img.buffer.isOpen], [false, false, false]);
    assert.throws(() => y.readRow(0), UnmappedError);
  }));

test('allocateImage by requirements: a contiguous three-plane YUV420 comes from reserved', { skip }, () =>
  withClient((c) => {
    const img = c.allocateImage({ format: 'YUV420', width: 64, height: 48, requirements: { contiguous: true } });
    assert.deepEqual(img.planes.map((p) => [p.name, p.offset, p.stride, p.rows]), [['Y', 0, 64, 48], ['U', 3072, 32, 24], ['V', 3840, 32, 24]]);
    assert.deepEqual([img.buffer.heap, img.buffer.size, img.buffer.name, img.buffer.provenance?.requirements], ['reserved', 8192, 'dmaheap:yuv420-64x48', { contiguous: true }]);
    const v = img.mapPlane(2);
    v.writeRow(23, new Uint8Array(32).fill(7));
    const u = img.mapPlane(1);
    assert.ok(u.read().every((x) => x === 0), 'U untouched');
    assert.deepEqual([...img.buffer.map().read(3840 + 23 * 32 - 1, 34)], [0, ...Array(32).fill(7), 0]);
    img.release();
  }));

// ---- allocateFor and the fallback chain --------------------------------------------------------

test('allocateFor: requirements choose the heap; provenance records the choice', { skip }, () =>
  withClient((c) => {
    const free = c.systemFacts().cmaAreas?.[0]?.free ?? NaN;
    const contiguous = `chose "reserved" (physically contiguous [sysfs], ${formatBytes(free)} free [sysfs]); refused "system" (not physically contiguous [name]); no udmabuf fallback: udmabuf memory (memfd pages) is not physically contiguous`;
    const f = c.allocateFor({ contiguous: true }, 4 * 4096, { purpose: 'frame' });
    assert.deepEqual([f.heap, f.size, f.name], ['reserved', 16384, 'dmaheap:frame']);
    assert.deepEqual(f.provenance, { path: 'heap', provider: 'reserved', requirements: { contiguous: true }, attempts: [{ provider: 'reserved', error: null }], explanation: `allocated from heap "reserved"; ${contiguous}` });
    const any = c.allocateFor({}, 4096);
    assert.deepEqual([any.heap, any.name, any.provenance?.explanation], ['system', 'dmaheap:system', 'allocated from heap "system"; chose "system" (no requirement); then "reserved"; last resort: udmabuf over a sealed memfd']);
    assert.throws(() => c.allocateFor({ cached: false }, 4096), (e: unknown) => {
      assert.ok(e instanceof AllocationError);
      assert.deepEqual([e.code, e.attempts], ['ENOENT', []]);
      assert.equal(
        e.message,
        'ENOENT: No such file or directory, allocate (uncached: nothing to try; no heap satisfies uncached, 4 KiB; refused "reserved" (CPU-cached [sysfs]), "system" (CPU-cached [name]); no udmabuf fallback: udmabuf mappings are CPU-cached)',
      );
      return true;
    });
    f.release();
    any.release();
  }));

test('allocateFor: a heap the facts allowed but the kernel refuses (CMA held: ENOMEM) hands over to the next one', { skip }, () => {
  const total = meminfoCma().total;
  // without the CMA figures the client cannot know that reserved is too full
  return withClient(
    (c) => {
      const held = c.allocate('reserved', total / 2, { purpose: 'held' });
      const b = c.allocateFor({ prefer: ['reserved'] }, (total * 3) / 4, { purpose: 'big' });
      assert.deepEqual([b.heap, b.size, b.name], ['system', (total * 3) / 4, 'dmaheap:big']);
      assert.deepEqual(b.provenance?.attempts, [{ provider: 'reserved', error: 'ENOMEM' }, { provider: 'system', error: null }]);
      assert.equal(b.provenance?.explanation, 'allocated from heap "system" after "reserved" failed (ENOMEM); chose "reserved" (no requirement, preferred); then "system"; last resort: udmabuf over a sealed memfd');
      // contiguous: nothing after reserved, so its errno is the answer
      assert.throws(() => c.allocateFor({ contiguous: true }, (total * 3) / 4), (e: unknown) => {
        assert.ok(e instanceof AllocationError);
        assert.deepEqual([e.code, e.attempts], ['ENOMEM', [{ provider: 'reserved', error: 'ENOMEM' }]]);
        assert.equal(
          e.message,
          `ENOMEM: Cannot allocate memory, allocate (physically contiguous: tried "reserved" (ENOMEM); chose "reserved" (physically contiguous [name]); refused "system" (not physically contiguous [name]); no udmabuf fallback: udmabuf memory (memfd pages) is not physically contiguous)`,
        );
        return true;
      });
      held.release();
      b.release();
    },
    { client: () => linuxBackendClient({ facts: { cmaAreas: null, meminfo: null } }) },
  );
});

test('allocateFor: when every heap refuses (EACCES, as for a user without access to /dev/dma_heap) the chain ends in udmabuf', { skip }, () =>
  withClient(
    async (c) => {
      const b = c.allocateFor({}, 10_000, { purpose: 'fallback' });
      assert.deepEqual([b.heap, b.size, b.name, b.access], ['udmabuf', 12288, 'dmaheap:fallback', 'rw']);
      assert.deepEqual(b.provenance, {
        path: 'udmabuf',
        provider: 'udmabuf',
        requirements: {},
        attempts: [{ provider: 'system', error: 'EACCES' }, { provider: 'reserved', error: 'EACCES' }, { provider: 'udmabuf', error: null }],
        explanation: 'allocated from udmabuf over a sealed memfd after "system" failed (EACCES), "reserved" failed (EACCES); chose "system" (no requirement); then "reserved"; last resort: udmabuf over a sealed memfd',
      });
      const info = fdinfo(c, b.fd).split('\n');
      assert.ok(info.includes('exp_name:\tudmabuf') && info.includes('size:\t12288') && info.includes('name:\tdmaheap:fallback'), info.join('\n'));
      const m = b.map();
      b.cpuAccess('write', () => m.write(12287, Uint8Array.of(0x5a)));
      assert.deepEqual([...m.read(12286, 2)], [0, 0x5a]);
      // turned off: the last heap's errno, and the message says why nothing else was tried
      assert.throws(() => c.allocateFor({}, 4096, { udmabuf: false }), (e: unknown) => {
        assert.ok(e instanceof AllocationError);
        assert.deepEqual([e.code, e.attempts.map((a) => a.provider)], ['EACCES', ['system', 'reserved']]);
        assert.match(e.message, /: tried "system" \(EACCES\), "reserved" \(EACCES\); the udmabuf fallback is off; chose "system"/);
        return true;
      });
      // above udmabuf's size_limit_mb the fallback does not fit, and the explanation says so
      // without the size_limit_mb parameter (before 5.15) the client assumes the kernel's 64 MiB
      const limit = c.systemFacts().udmabuf?.sizeLimit ?? 64 * MiB;
      assert.throws(() => c.allocateFor({}, limit + 4096), (e: unknown) => {
        assert.ok(e instanceof AllocationError);
        assert.deepEqual([e.code, e.attempts, e.choice.udmabuf], ['EACCES', [{ provider: 'system', error: 'EACCES' }], { ok: false, reason: `udmabuf refuses more than ${formatBytes(limit)} (size_limit_mb)` }]);
        assert.equal(
          e.choice.explanation,
          `chose "system" (no requirement); refused "reserved" (holds ${formatBytes(meminfoCma().total)} in all, less than ${formatBytes(limit + 4096)} [sysfs]); no udmabuf fallback: udmabuf refuses more than ${formatBytes(limit)} (size_limit_mb)`,
        );
        return true;
      });
      b.release();
      // the same chain off the event loop
      const a = await c.allocateForAsync({}, 100);
      assert.deepEqual([a.heap, a.size, a.provenance?.attempts.map((x) => [x.provider, x.error])], ['udmabuf', 4096, [['system', 'EACCES'], ['reserved', 'EACCES'], ['udmabuf', null]]]);
      a.release();
    },
    { client: () => new DmaHeapClient(deniedHeaps()) },
  ));

// ---- the leak guard -----------------------------------------------------------------------------

test('leak guard: buffers are tracked until release(); one collected while open is reported with its allocation stack', { skip }, () => {
  const reports: LeakReport[] = [];
  const guard = new LeakGuard({ onLeak: (r) => reports.push(r), captureStacks: true });
  return withClient(
    async (c) => {
      const a = c.allocate('system', 8192);
      const imp = c.importFd(a.fd, { dup: true });
      assert.equal(guard.tracked, 2);
      a.release();
      imp.release();
      assert.deepEqual([guard.tracked, guard.leaked], [0, 0]);
      const gc = gcFunction();
      assert.ok(gc !== null, 'gc() is reachable through the V8 flag');
      // in a function of its own, so that no reference to the buffer survives on this frame
      const leak = (): { fd: number; inode: number | null } => {
        const b = c.allocate('reserved', 8192, { purpose: 'forgotten' });
        return { fd: b.fd, inode: b.inode };
      };
      const lost = leak();
      for (let i = 0; i < 50 && guard.tracked > 0; i++) {
        gc();
        await new Promise((r) => setImmediate(r));
      }
      assert.deepEqual([guard.tracked, guard.leaked, reports.length], [0, 1, 1]);
      const r = reports[0]!;
      assert.deepEqual([r.fd, r.inode, r.size, r.heap, r.name, r.detectedBy], [lost.fd, lost.inode, 8192, 'reserved', 'leaky:forgotten', 'gc']);
      assert.match(r.stack.split('\n')[0]!, /^ {4}at leak .*linux-client\.test\.js/, 'the first frame is the code that called allocate()');
      const line = formatLeak(r);
      assert.ok(line.startsWith(`leaked dma-buf fd ${lost.fd} (inode ${lost.inode}, 8 KiB from reserved, "leaky:forgotten") collected without release(), allocated\n`), line);
      assert.ok(line.endsWith(r.stack));
      // the guard reports; it does not close: the fd is still the buffer (client.close() closes it)
      assert.ok(fdinfo(c, lost.fd).split('\n').includes(`exp_name:\t${heapExporter('reserved')}`));
    },
    { client: () => linuxBackendClient({ leakGuard: guard, appName: 'leaky' }), closeReleases: true },
  );
});

test('client.close() returns and reports the buffers still open, with their allocation stacks and inodes, closing their fds', { skip }, async () => {
  const reports: LeakReport[] = [];
  const guard = new LeakGuard({ onLeak: (r) => reports.push(r) });
  const before = openFds();
  const c = linuxBackendClient({ leakGuard: guard, appName: 'vm' });
  const t = c.target;
  // the default sampling: the first allocation's stack, then one in 32
  const grabFrame = (): DmaBuffer => c.allocate('reserved', 5000, { purpose: 'frame' });
  const frame = grabFrame();
  const scratch = c.allocateUdmabuf(100);
  const released = await c.allocateAsync('system', 4096);
  released.release();
  const foreign = rawAlloc(t, 'system', 3 * t.pageSize);
  const imported = c.importFd(foreign);
  assert.equal(imported.inode, t.fstat(foreign).stat!.ino);
  const fds = [frame.fd, scratch.fd, foreign];
  const inodes = fds.map((fd) => t.fstat(fd).stat!.ino);
  assert.deepEqual(c.openBuffers().map((r) => r.fd), fds, 'a snapshot, oldest first');
  assert.equal(reports.length, 0, 'openBuffers() reports nothing');
  const left = c.close();
  assert.deepEqual(left.map((r) => ({ ...r, stack: r.stack === '' ? '' : 'stack' })), [
    { fd: fds[0], inode: inodes[0], size: 8192, heap: 'reserved', name: 'vm:frame', stack: 'stack', detectedBy: 'close' },
    { fd: fds[1], inode: inodes[1], size: 4096, heap: 'udmabuf', name: 'vm:udmabuf', stack: '', stackMissing: 'not-sampled', detectedBy: 'close' },
    { fd: fds[2], inode: inodes[2], size: 3 * t.pageSize, heap: heapExporter('system'), name: null, stack: '', stackMissing: 'not-sampled', detectedBy: 'close' },
  ]);
  assert.match(left[0]!.stack.split('\n')[0]!, /^ {4}at grabFrame .*linux-client\.test\.js/);
  assert.deepEqual(reports, left);
  assert.deepEqual([guard.leaked, guard.tracked], [3, 0]);
  assert.equal(
    formatLeak(left[1]!),
    `leaked dma-buf fd ${fds[1]} (inode ${inodes[1]}, 4 KiB from udmabuf, "vm:udmabuf") still open at client.close() (no allocation stack: not one of the sampled allocations; every allocation is sampled from now on, and captureStacks: true samples all)`,
  );
  assert.deepEqual(openFds(), before, 'close() closed them');
  assert.deepEqual([c.close(), reports.length], [[], 3]);
});

test('allocate() makes no fstat and sets the automatic name with one ioctl; size is the page-aligned request; the inode comes on first use', { skip }, () => {
  const t = createLinuxTarget();
  const calls: string[] = [];
  const spy = withHooks(t, {
    fstat: (fd: number) => (calls.push('fstat'), t.fstat(fd)),
    ioctlString: (fd: number, cmd: number, str: string) => (calls.push('ioctlString'), t.ioctlString(fd, cmd, str)),
    ioctlInPlace: (fd: number, cmd: number, arg: Uint8Array) => (calls.push('ioctlInPlace'), t.ioctlInPlace(fd, cmd, arg)),
    open: (path: string, flags: number, mode?: number) => (calls.push('open'), t.open(path, flags, mode)),
  });
  return withClient(
    (c) => {
      const ps = t.pageSize;
      const sizes = [1, ps - 1, ps, ps + 1, 3 * ps + 1, MiB];
      for (const heap of ['system', 'reserved']) {
        calls.length = 0;
        const bufs = sizes.map((n) => c.allocate(heap, n));
        assert.deepEqual(calls, ['open', ...sizes.flatMap(() => ['ioctlInPlace', 'ioctlString'])], 'the node once, then ALLOC and SET_NAME');
        const expect = sizes.map((n) => Math.ceil(n / ps) * ps);
        assert.deepEqual(bufs.map((b) => b.size), expect);
        assert.deepEqual(bufs.map((b) => t.fstat(b.fd).stat?.size), expect, 'what the kernel made: PAGE_ALIGN(len)');
        calls.length = 0;
        const ino = bufs[0]!.inode;
        assert.deepEqual([calls, ino], [['fstat'], t.fstat(bufs[0]!.fd).stat?.ino]);
        for (const b of bufs) b.release();
      }
    },
    { client: () => new DmaHeapClient(spy) },
  );
});
