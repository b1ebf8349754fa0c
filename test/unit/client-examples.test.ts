// The examples of docs/client.md, run as written: each test body between `// example: <name>`
// and `// end example` must appear in docs/client.md as a ```ts block, character for character.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emulatedBackend, formatLeak, readReservedMemory, AllocationError, LeakGuard } from '../../src/backends/emulated/index.js';
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
    const dtFs = {
      list: (dir: string) => {
        try {
          return readdirSync(dir, { withFileTypes: true }).map((e) => ({ name: e.name, isDir: e.isDirectory() }));
        } catch {
          return null;
        }
      },
      read: (file: string) => {
        try {
          return new Uint8Array(readFileSync(file));
        } catch {
          return null;
        }
      },
    };
    const client = emulatedBackend.createClient({ profile: '6.19', board: tree, client: { facts: { reservedMemory: readReservedMemory(dtFs, devicetree) } } });
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
  const client = emulatedBackend.createClient({ profile: '6.1', client: { leakGuard: guard, appName: 'cam' } });
  const buf = client.allocate('system', 4096);
  assert.equal(guard.tracked, 1);
  buf.release(); // released buffers are never reported
  const frame = client.allocate('reserved', 1 << 20, { purpose: 'frame' }); // never released
  const left = client.close(); // every fd closed; the ones still open are returned and reported
  assert.deepEqual(left.map((r) => [r.fd, r.heap, r.size, r.name, r.detectedBy]), [[frame.fd, 'reserved', 1 << 20, 'cam:frame', 'close']]);
  assert.equal(left[0]!.stackMissing, 'not-sampled'); // the first allocation and 1 in 32 keep their stack
  assert.match(leaks[0]!, /^leaked dma-buf fd \d+ \(inode \d+, 1 MiB from reserved, "cam:frame"\) still open at client\.close\(\)/);
  assert.deepEqual([guard.leaked, guard.tracked], [1, 0]);
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
  assert.deepEqual(names, ['discovery', 'device-tree', 'choose', 'udmabuf', 'import-and-handoff', 'image', 'async', 'leak-guard']);
});
