import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Kernel } from '../../src/kernel/kernel.js';
import { parseDts } from '../../src/kernel/of/dts.js';
import { readLiveTree } from '../../src/kernel/of/livetree.js';
import { treeLines, type DeviceTree } from '../../src/kernel/of/tree.js';

function imx8mp(): DeviceTree {
  const r = parseDts(readFileSync(new URL('../../../examples/boards/imx8mp.dts', import.meta.url), 'latin1'), 'imx8mp.dts');
  if ('error' in r) assert.fail(r.error.message);
  return r.tree;
}

test('/proc/cmdline and /proc/config.gz (a gzip stream zlib reads) describe the emulated build', () => {
  const k = new Kernel({ profile: '6.17', cmdline: 'cma=64M quiet', heaps: ['system', 'cma'] });
  assert.equal(k.readFile(k.init, '/proc/cmdline'), 'cma=64M quiet\n');
  const gz = k.readFile(k.init, '/proc/config.gz');
  assert.equal(typeof gz, 'string');
  const text = gunzipSync(Buffer.from(gz as string, 'latin1')).toString('latin1');
  assert.equal(text, k.kconfigText());
  for (const line of ['CONFIG_DMABUF_HEAPS=y', 'CONFIG_DMABUF_HEAPS_SYSTEM=y', 'CONFIG_DMABUF_HEAPS_CMA=y', 'CONFIG_DMABUF_HEAPS_CMA_LEGACY=y', 'CONFIG_DMABUF_SYSFS_STATS=y', '# CONFIG_DMABUF_HEAPS_COHERENT is not set', 'CONFIG_UDMABUF=y']) {
    assert.ok(text.split('\n').includes(line), line);
  }
  const k7 = new Kernel({ profile: '7.0', heaps: ['cma'], udmabuf: false });
  const t7 = gunzipSync(Buffer.from(k7.readFile(k7.init, '/proc/config.gz') as string, 'latin1')).toString('latin1').split('\n');
  // 7.0 has no CONFIG_DMABUF_SYSFS_STATS at all (removed), so its .config has no line for it
  assert.ok(!t7.some((l) => l.includes('DMABUF_SYSFS_STATS')) && t7.includes('# CONFIG_DMABUF_HEAPS_SYSTEM is not set') && t7.includes('# CONFIG_UDMABUF is not set'));
});

test('/sys/firmware/devicetree/base shows the board tree: read back as a live tree it is the DTS', () => {
  const tree = imx8mp();
  const k = new Kernel({ board: tree, arch: 'arm64' });
  const base = '/sys/firmware/devicetree/base';
  // kernfs lists a directory in its hash order (fs/kernfs.ts; checked on the oracle's /sys/class/dma_heap and CMA directories)
  assert.deepEqual(k.readdir(`${base}/reserved-memory`), ['linux,cma', '#address-cells', '#size-cells', 'framebuffer@78000000', 'ranges', 'cma-video', 'name', 'dsp@92400000']);
  assert.equal(k.readFile(k.init, `${base}/reserved-memory/framebuffer@78000000/name`), 'framebuffer\0');
  assert.equal(k.readFile(k.init, `${base}/reserved-memory/framebuffer@78000000/reg`), '\0\0\0\0\x78\0\0\0\0\0\0\0\x02\0\0\0');
  const fs = {
    list: (d: string) => k.readdir(d)?.map((name) => ({ name, isDir: k.readdir(`${d}/${name}`) !== null })) ?? null,
    read: (f: string) => {
      const r = k.readFile(k.init, f);
      return typeof r === 'number' ? null : new Uint8Array(Buffer.from(r, 'latin1'));
    },
  };
  const live = readLiveTree(fs, base);
  if ('error' in live) assert.fail(live.error);
  assert.deepEqual(treeLines(live.tree).sort(), treeLines(tree).sort());
  assert.equal(new Kernel({}).readdir(base), null, 'no board, no device tree');
});

test('/proc/<pid>/fdinfo and maps: the task\'s own user and root read them, another user gets EACCES (ptrace read access)', () => {
  const k = new Kernel({ profile: '6.1' });
  const E = { EACCES: 13 };
  const a = k.spawn({ uid: 1000, gid: 1000, groups: [] }, 'a');
  const a2 = k.spawn({ uid: 1000, gid: 1000, groups: [] }, 'a2');
  const b = k.spawn({ uid: 1001, gid: 1001, groups: [] }, 'b');
  const fd = a.open('/proc/cmdline', 0);
  assert.ok(fd >= 0);
  const files = [`/proc/${a.pid}/fdinfo/${fd}`, `/proc/${a.pid}/maps`];
  for (const f of files) {
    assert.equal(typeof k.readFile(a, f), 'string', `${f} by its task`);
    assert.equal(typeof k.readFile(a2, f), 'string', `${f} by the same user`);
    assert.equal(typeof k.readFile(k.init, f), 'string', `${f} by root`);
    assert.equal(k.readFile(b, f), -E.EACCES, `${f} by another user`);
  }
  assert.equal(k.readFile(a, '/proc/1/maps'), -E.EACCES, 'root\'s task, read by a user');
  assert.match(k.readFile(a, `/proc/self/fdinfo/${fd}`) as string, /^pos:\t0\nflags:\t/);
});
