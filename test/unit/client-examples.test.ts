// The examples of docs/client.md, run as written: each test body between `// example: <name>`
// and `// end example` must appear in docs/client.md as a ```ts block, character for character.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  emulatedBackend, formatLeak, readReservedMemory, nodeLiveTreeFs, resolveBoard, writeFdt, readDmabufInfo, dmabufFsOf, formatDmabufDump, AllocationError, ErrnoError, LeakGuard,
} from '../../src/backends/emulated/index.js';
import type { DtNode } from '../../src/kernel/of/tree.js';
import { board } from './client-helpers.js';

test('example: discovery', () => {
  // example: discovery
  const client = emulatedBackend.createClient({ profile: '6.17', cmdline: 'cma=128M' });
  const heaps = client.heaps();
  assert.deepEqual(heaps.map((h) => h.name), ['system', 'default_cma_region', 'reserved']);
  const cma = heaps[1]!.properties;
  assert.deepEqual([cma.kind?.value, cma.contiguous?.value, cma.cacheable?.value], ['cma', true, true]);
  assert.deepEqual([cma.capacity?.value, cma.capacity?.source], [128 << 20, 'exact']);
  assert.deepEqual(cma.sameMemoryAs?.value, ['reserved']); // 6.17's legacy duplicate
  assert.equal(heaps[2]!.properties.legacyAlias?.value, true);
  // what a real 6.17 kernel lets a process infer: the CMA areas in sysfs, then the names
  const real = client.heaps({ exact: false })[1]!.properties;
  assert.deepEqual([real.contiguous?.value, real.contiguous?.source], [true, 'sysfs']);
  assert.equal(real.contiguous?.reason, '/sys/kernel/mm/cma/reserved is the command-line/Kconfig area, the default one whenever it exists');
  assert.equal(real.known?.since, '6.17');
  client.close();
  // end example
});

/** Writes a device tree as /sys/firmware/devicetree/base lays it out; returns the directory. */
function writeLiveTree(root: DtNode): string {
  const dir = mkdtempSync(join(tmpdir(), 'dmaheap-dt-'));
  const walk = (n: DtNode, d: string): void => {
    mkdirSync(d, { recursive: true });
    for (const p of n.props) writeFileSync(join(d, p.name), p.value);
    for (const c of n.children) walk(c, join(d, c.name));
  };
  walk(root, dir);
  return dir;
}

test('example: device-tree', () => {
  const tree = board('rk3588');
  const devicetree = writeLiveTree(tree.root); // /sys/firmware/devicetree/base on the board
  try {
    // example: device-tree
    const client = emulatedBackend.createClient({ profile: '6.19', board: tree, client: { facts: { reservedMemory: readReservedMemory(nodeLiveTreeFs, devicetree) } } });
    const isp = client.heaps({ exact: false }).find((h) => h.name === 'isp@20000000')!.properties;
    assert.deepEqual([isp.contiguous?.value, isp.contiguous?.source], [true, 'device-tree']);
    assert.equal(isp.contiguous?.reason, '/reserved-memory/isp@20000000 is a reusable shared-dma-pool (CMA: ordinary memory, mapped cacheable)');
    assert.deepEqual([isp.region?.value.base, isp.capacity?.value], [0x20000000, 128 << 20]);
    client.close();
    // end example
  } finally {
    rmSync(devicetree, { recursive: true, force: true });
  }
});

test('example: boards', () => {
  // example: boards
  const client = emulatedBackend.createClient({ board: 'imx8mp', profile: '6.19' }); // a shipped board, by name
  assert.deepEqual(client.heaps().map((h) => h.name), ['system', 'default_cma_region', 'linux,cma', 'cma-video', 'framebuffer@78000000']);
  assert.equal(client.target.arch, 'arm64'); // the board's, unless arch is given
  client.close();
  // the same board as a parsed tree or DTB bytes; a path or DTS text works too
  const tree = resolveBoard('imx8mp');
  for (const board of [tree, writeFdt(tree)]) emulatedBackend.createClient({ board }).close();
  assert.throws(() => emulatedBackend.createClient({ board: 'imx8mq' }), { name: 'BoardError', message: /^board: 'imx8mq' is not a shipped board \(am62x, imx8mp, rk3588, rpi5, x86-pc\)/ });
  assert.throws(() => emulatedBackend.createClient({ board: '/dts-v1/;\n/ {\n\tmodel = "x"\n};\n' }), { name: 'BoardError', message: "board: <board text>:4:1: expected ',' or ';' after a property value, found '}'" });
  // end example
});

test('example: choose', () => {
  // example: choose
  const client = emulatedBackend.createClient({ profile: '6.17' });
  const choice = client.choose({ contiguous: true });
  assert.equal(choice.chosen?.name, 'default_cma_region');
  assert.equal(
    choice.explanation,
    'chose "default_cma_region" (physically contiguous [exact]); then "reserved"; refused "system" (not physically contiguous [exact]); no udmabuf fallback: udmabuf memory (memfd pages) is not physically contiguous',
  );
  const frame = client.allocateFor({ contiguous: true }, 1 << 20, { purpose: 'frame' });
  assert.deepEqual([frame.heap, frame.name, frame.provenance?.path], ['default_cma_region', 'dmaheap:frame', 'heap']);
  assert.throws(() => client.allocateFor({ contiguous: true }, 256 << 20), (e) => e instanceof AllocationError && e.code === 'ENOENT');
  client.close();
  // end example
});

test('example: udmabuf', () => {
  // example: udmabuf
  const client = emulatedBackend.createClient({ profile: '6.1', heaps: [] }); // no /dev/dma_heap at all
  const buf = client.allocateFor({}, 100_000);
  assert.deepEqual([buf.heap, buf.size, buf.provenance?.path], ['udmabuf', 102_400, 'udmabuf']);
  assert.equal(buf.provenance?.explanation, 'allocated from udmabuf over a sealed memfd; no heap: /dev/dma_heap is empty or missing; last resort: udmabuf over a sealed memfd');
  buf.release();
  client.close();
  // end example
});

test('example: import-and-handoff', () => {
  // example: import-and-handoff
  const parent = emulatedBackend.createClient({ profile: '6.1', client: { appName: 'camera' } });
  const buf = parent.allocate('reserved', 1 << 20, { purpose: 'frame-0' });
  const handoff = buf.handoff(); // clears FD_CLOEXEC: a child started now inherits the fd
  const child = parent.spawnChild('encoder');
  const inChild = child.importHandoff(JSON.parse(JSON.stringify(handoff)));
  assert.deepEqual([inChild.inode, inChild.heap, inChild.name], [buf.inode, 'reserved', 'camera:frame-0']);
  // anything that is not a dma-buf is refused, with what it is
  const memfd = parent.target.memfdCreate('pixels', 0).ret;
  assert.throws(() => parent.importFd(memfd), { code: 'EINVAL', message: /is not a dma-buf: \/proc\/self\/fd\/\d+ -> \/memfd:pixels \(deleted\)/ });
  child.close();
  parent.close();
  // end example
});

test('example: image', () => {
  // example: image
  const client = emulatedBackend.createClient({ profile: '6.1' });
  const img = client.allocateImage({ format: 'NV12', width: 1920, height: 1080, align: 64, requirements: { contiguous: true } });
  assert.deepEqual(img.planes.map((p) => [p.name, p.offset, p.stride, p.rows]), [['Y', 0, 1920, 1080], ['UV', 2073600, 1920, 540]]);
  assert.deepEqual([img.buffer.heap, img.buffer.size, img.buffer.name], ['reserved', 3112960, 'dmaheap:nv12-1920x1080']);
  const uv = img.mapPlane(1);
  img.buffer.cpuAccess('write', () => uv.fill(0x80)); // grey chroma
  assert.throws(() => uv.readRow(540), RangeError); // rows 0..539 only
  img.release();
  client.close();
  // end example
});

test('example: missing-heap', () => {
  // example: missing-heap
  const client = emulatedBackend.createClient({ profile: '6.12' }); // cma=64M: the default CMA heap is called reserved
  assert.throws(() => client.allocate('linux,cma', 4096), (e: unknown) => e instanceof ErrnoError && e.code === 'ENOENT' && e.errno === 2 && e.syscall === 'open'
    && e.path === '/dev/dma_heap/linux,cma' && e.message === "ENOENT: No such file or directory, open '/dev/dma_heap/linux,cma' (no heap named linux,cma; "
    + 'the heaps are system, reserved; the default CMA area comes from cma=64M on the kernel command line and is named reserved, not linux,cma '
    + '(from Linux 6.17 its heap is default_cma_region): open reserved instead; dmaheap doctor explains the cma= naming)');
  client.close();
  // end example
});

test('example: dmabuf-dump', () => {
  // example: dmabuf-dump
  const client = emulatedBackend.createClient({ profile: '6.1', client: { appName: 'cam' } });
  const buf = client.allocate('system', 64 << 10, { purpose: 'frame' });
  const report = readDmabufInfo(dmabufFsOf(client.target)); // /proc/<pid>/fdinfo and maps, debugfs bufinfo
  assert.deepEqual(report.processes.map((p) => [p.comm, p.rss, p.pss]), [['dmaheap', 65536, 65536]]);
  const text = formatDmabufDump(report); // dmabuf_dump's default report; { all: true } is -a, { perBuffer: true } is -b
  assert.equal(text.split('\n')[2], '             cam:frame            64 kB            64 kB                1                1                  system');
  buf.close();
  client.close();
  // end example
});

test('example: async', async () => {
  // example: async
  const client = emulatedBackend.createClient({ profile: '6.1' });
  const [a, b] = await Promise.all([client.allocateAsync('system', 1 << 20), client.allocateForAsync({ contiguous: true }, 1 << 20)]);
  assert.deepEqual([a.heap, b.heap], ['system', 'reserved']);
  client.close();
  // end example
});

test('example: leak-guard', () => {
  // example: leak-guard
  const leaks: string[] = [];
  const guard = new LeakGuard({ onLeak: (r) => leaks.push(formatLeak(r)) });
  const client = emulatedBackend.createClient({ profile: '6.1', client: { leakGuard: guard } });
  const buf = client.allocate('system', 4096);
  assert.equal(guard.tracked, 1);
  buf.release(); // released buffers are never reported
  assert.equal(guard.tracked, 0);
  client.close();
  // end example
});

test('every example appears in docs/client.md as written', () => {
  const src = readFileSync(new URL('../../../test/unit/client-examples.test.ts', import.meta.url), 'utf8');
  const doc = readFileSync(new URL('../../../docs/client.md', import.meta.url), 'utf8');
  const re = /\n( *)\/\/ example: ([a-z-]+)\n([\s\S]*?)\n\1\/\/ end example\n/g;
  const names: string[] = [];
  let m: RegExpExecArray | null;
  while ((m = re.exec(src)) !== null) {
    const indent = m[1]!.length;
    const body = m[3]!.split('\n').map((l) => l.slice(indent)).join('\n');
    names.push(m[2]!);
    assert.ok(doc.includes(`<!-- example: ${m[2]} -->\n\`\`\`ts\n${body}\n\`\`\`\n`), `docs/client.md lacks the example '${m[2]}' as written in test/unit/client-examples.test.ts`);
  }
  assert.deepEqual(names, ['discovery', 'device-tree', 'boards', 'choose', 'udmabuf', 'import-and-handoff', 'image', 'missing-heap', 'dmabuf-dump', 'async', 'leak-guard']);
});
