// Per-process DMA-BUF accounting as Android's libdmabufinfo/dmabuf_dump computes it
// (src/api/dmabuf-info.ts) over a fake /proc + sysfs tree shaped like a real kernel's, and over the
// emulated kernel with `dmaheap dump --demo-workload`: Rss, Pss, the buffer x process grid,
// per-exporter totals and the kernel-only share, with exact numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dmabufFsOf, parseBufinfo, parseFdinfo, readDmabufInfo } from '../../src/api/dmabuf-info.js';
import type { DmabufFs } from '../../src/api/dmabuf-info.js';
import { printDump, runDump } from '../../src/apps/cli/dump.js';
import { formatDmabufPerBuffer, formatDmabufPerProcess, formatDmabufTable } from '../../src/api/dmabuf-dump.js';
import { createEmulatedTarget } from '../../src/backends/emulated/index.js';
import { DmaHeapClient } from '../../src/api/client.js';
import { Kernel } from '../../src/kernel/kernel.js';

const K = 1024;
const M = 1024 * 1024;

/** A read-only tree: files by path, directories derived from them, links by path. */
function fakeFs(files: Record<string, string | null>, links: Record<string, string> = {}): DmabufFs {
  return {
    readFile: (p) => files[p] ?? null,
    readlink: (p) => links[p] ?? null,
    readdir: (p) => {
      const prefix = `${p}/`;
      const names = new Set<string>();
      for (const f of [...Object.keys(files), ...Object.keys(links)]) if (f.startsWith(prefix)) names.add(f.slice(prefix.length).split('/')[0]!);
      return names.size === 0 ? null : [...names];
    },
  };
}

const dmabufFdinfo = (ino: number, size: number, exp: string, count: number, name?: string): string =>
  `pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t${ino}\nsize:\t${size}\ncount:\t${count}\nexp_name:\t${exp}\n${name !== undefined ? `name:\t${name}\n` : ''}`;

/** A 6.6 Android-like system read by a user that may not read debugfs: fdinfo, maps, comm and the sysfs stats. */
const ANDROID = fakeFs({
  '/proc/1/comm': 'init\n',
  '/proc/1/fdinfo/0': 'pos:\t0\nflags:\t02100000\nmnt_id:\t20\nino:\t4\n',
  '/proc/1/maps': '5e5c9e4000-5e5c9e6000 r--p 00000000 fe:00 123  /system/bin/init\n',
  '/proc/100/comm': 'surfaceflinger\n',
  '/proc/100/fdinfo/3': dmabufFdinfo(1001, 8 * M, 'system', 4, 'FramebufferSurface'),
  '/proc/100/fdinfo/4': dmabufFdinfo(1001, 8 * M, 'system', 4, 'FramebufferSurface'),
  '/proc/100/fdinfo/5': 'pos:\t0\nflags:\t02000002\nmnt_id:\t16\nino:\t3145828\nPid:\t200\nNSpid:\t200\n',
  '/proc/100/fdinfo/6': 'pos:\t0\nflags:\t02000002\nmnt_id:\t15\nsize:\t4096\ncount:\t1\nexp_name:\tsystem\n',
  '/proc/100/fdinfo/7': null,
  '/proc/100/maps': [
    '7f0000000000-7f0000800000 rw-s 00000000 00:0f 1001                       /dmabuf:FramebufferSurface',
    '7f0000800000-7f0000801000 rw-s 00000000 00:0f 1003                       /dmabuf:',
    '7f1000000000-7f1000100000 r-xp 00000000 fe:00 55                         /system/lib64/libc.so',
    '7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]',
    '',
  ].join('\n'),
  '/proc/200/comm': 'camera.provider\n',
  '/proc/200/fdinfo/3': dmabufFdinfo(1002, 2 * M, 'qcom,system', 3),
  '/proc/200/fdinfo/4': dmabufFdinfo(1001, 8 * M, 'system', 4, 'FramebufferSurface'),
  '/proc/200/maps': [
    '7e0000000000-7e0000100000 rw-s 00000000 00:0f 1002                       /dmabuf:',
    '7e0000100000-7e0000200000 rw-s 00100000 00:0f 1002                       /dmabuf:',
  ].join('\n'),
  '/proc/meminfo': 'MemTotal: 1 kB\n',
  '/sys/kernel/dmabuf/buffers/1001/size': `${8 * M}\n`,
  '/sys/kernel/dmabuf/buffers/1001/exporter_name': 'system\n',
  '/sys/kernel/dmabuf/buffers/1002/size': `${2 * M}\n`,
  '/sys/kernel/dmabuf/buffers/1002/exporter_name': 'qcom,system\n',
  '/sys/kernel/dmabuf/buffers/1003/size': `${64 * K}\n`,
  '/sys/kernel/dmabuf/buffers/1003/exporter_name': 'qcom,system\n',
  '/sys/kernel/dmabuf/buffers/1004/size': `${1 * M}\n`,
  '/sys/kernel/dmabuf/buffers/1004/exporter_name': 'system\n',
}, {
  '/proc/200/fd/3': '/dmabuf:',
});

test('fake Android tree: fd and map references, Pss = size / sharers, sysfs sizes for mapped-only buffers, the kernel-only share', () => {
  const r = readDmabufInfo(ANDROID);
  assert.deepEqual(r.buffers, [
    { inode: 1001, size: 8 * M, count: 4, exporter: 'system', name: 'FramebufferSurface', refs: [{ pid: 100, fds: 2, maps: 1 }, { pid: 200, fds: 1, maps: 0 }], pss: 4 * M },
    { inode: 1003, size: 64 * K, count: null, exporter: 'qcom,system', name: '<unknown>', refs: [{ pid: 100, fds: 0, maps: 1 }], pss: 64 * K },
    { inode: 1002, size: 2 * M, count: 3, exporter: 'qcom,system', name: '<unknown>', refs: [{ pid: 200, fds: 1, maps: 2 }], pss: 2 * M },
  ]);
  assert.deepEqual(r.processes, [
    { pid: 100, comm: 'surfaceflinger', inodes: [1001, 1003], rss: 8 * M + 64 * K, pss: 4 * M + 64 * K },
    { pid: 200, comm: 'camera.provider', inodes: [1001, 1002], rss: 10 * M, pss: 6 * M },
  ]);
  assert.equal(r.system?.source, 'sysfs');
  assert.deepEqual(r.kernelOnly, [{ inode: 1004, size: 1 * M, exporter: 'system', name: null, count: null }]);
  assert.deepEqual(r.exporters, [{ exporter: 'qcom,system', count: 2, size: 2 * M + 64 * K }, { exporter: 'system', count: 2, size: 9 * M }]);
  assert.deepEqual(r.totals, { dmabufTotal: 11 * M + 64 * K, kernelRss: 1 * M, userspaceSize: 10 * M + 64 * K, userspaceRss: 18 * M + 64 * K, userspacePss: 10 * M + 64 * K });
  assert.deepEqual(r.warnings, ['/proc/100/fdinfo/6: a dma-buf without an ino: line (kernel before 5.14?), skipped']);
  // dmabuf_dump <PID>: one process; kernel_rss is then everything else
  const one = readDmabufInfo(ANDROID, { pids: [200] });
  assert.deepEqual(one.processes.map((p) => [p.pid, p.rss, p.pss]), [[200, 10 * M, 10 * M]]);
  assert.equal(one.totals.kernelRss, 1 * M + 64 * K);
  assert.equal(one.kernelOnly, null, 'other processes may hold the rest');
});

test('without any system-wide list, mapped-only buffers take the mapping length and kernel_rss is unknown', () => {
  const files: Record<string, string | null> = {
    '/proc/7/comm': 'x\n',
    '/proc/7/maps': '7f0000000000-7f0000002000 rw-s 00000000 00:0f 9                          /dmabuf:partial\n',
  };
  const r = readDmabufInfo(fakeFs(files));
  assert.equal(r.system, null);
  assert.deepEqual(r.buffers.map((b) => [b.inode, b.size, b.exporter]), [[9, 8192, '<unknown>']]);
  assert.deepEqual(r.totals, { dmabufTotal: null, kernelRss: null, userspaceSize: 8192, userspaceRss: 8192, userspacePss: 8192 });
  assert.deepEqual(r.warnings, ['cannot list /proc/7/fdinfo']);
  assert.match(formatDmabufPerProcess(r), /^ +x:7 {4}\n[^]*Unable to read DMA-BUF per-buffer stats from device\ndmabuf total: 8 kB kernel_rss: n\/a kB userspace_rss: 8 kB userspace_pss: 8 kB\n$/);
  assert.equal(formatDmabufPerBuffer(r), 'Unable to read DMA-BUF per-buffer stats from device\n');
  assert.equal(formatDmabufPerProcess(readDmabufInfo(fakeFs({ '/proc/1/maps': '' }))), 'dmabuf info not found ¯\\_(ツ)_/¯\n');
});

test('fdinfo and debugfs bufinfo parsers', () => {
  assert.deepEqual(parseFdinfo(dmabufFdinfo(5, 4096, 'cma', 2, 'a name')), { exporter: 'cma', name: 'a name', size: 4096, count: 2, inode: 5 });
  assert.deepEqual(parseFdinfo('pos:\t0\nflags:\t02\nPid:\t3\nNSpid:\t3\n'), { exporter: null, name: null, size: null, count: null, inode: null });
  const text = '\nDma-buf Objects:\nsize    \tflags   \tmode    \tcount   \texp_name\tino     \tname\n'
    + '00004096\t00000002\t00000003\t00000002\tsystem\t00000002\t<none>\n\tAttached Devices:\n\tvivid\nTotal 1 devices attached\n\n'
    + '01048576\t00000002\t00000003\t00000001\tdefault_cma_region\t00000001\tframe 1\n\tread fence:stub stub seq 0 signalled\n\tAttached Devices:\nTotal 0 devices attached\n\n'
    + '\nTotal 2 objects, 1052672 bytes\n';
  assert.deepEqual(parseBufinfo(text), [
    { inode: 2, size: 4096, exporter: 'system', name: null, count: 2, attached: ['vivid'] },
    { inode: 1, size: 1 * M, exporter: 'default_cma_region', name: 'frame 1', count: 1, attached: [] },
  ]);
  // the emulated kernel's own bufinfo with an importer attached: its dev_name
  const t = createEmulatedTarget({ board: 'imx8mp', profile: '6.19' });
  const buf = new DmaHeapClient(t, { leakGuard: false }).allocate('linux,cma', 4096).fd;
  assert.equal(t.attach(buf, '32e80000.display-controller').errno, null);
  const own = parseBufinfo(t.readFile('/sys/kernel/debug/dma_buf/bufinfo').text!)!;
  assert.deepEqual(own.map((b) => b.attached), [['32e80000.display-controller']]);
  assert.equal(parseBufinfo('something else'), null);
  // 5.10 (the referee's format): no name heading, "" when unnamed, the exporter heap_helpers
  const text510 = '\nDma-buf Objects:\nsize    \tflags   \tmode    \tcount   \texp_name\tino     \n'
    + '00008192\t00000002\t00080007\t00000001\theap_helpers\t00000127\tsecond\n\tAttached Devices:\nTotal 0 devices attached\n\n'
    + '00004096\t00000002\t00080007\t00000001\theap_helpers\t00000126\t\n\tAttached Devices:\nTotal 0 devices attached\n\n'
    + '\nTotal 2 objects, 12288 bytes\n';
  assert.deepEqual(parseBufinfo(text510)!.map((b) => [b.inode, b.size, b.exporter, b.name]), [[127, 8192, 'heap_helpers', 'second'], [126, 4096, 'heap_helpers', null]]);
  // and the emulated 5.10 kernel prints that format
  const t510 = createEmulatedTarget({ profile: '5.10' });
  new DmaHeapClient(t510, { leakGuard: false }).allocate('system', 4096);
  assert.match(t510.readFile('/sys/kernel/debug/dma_buf/bufinfo').text!, /^\nDma-buf Objects:\nsize {4}\tflags {3}\tmode {4}\tcount {3}\texp_name\tino {5}\n00004096\t00000002\t00080007\t00000001\theap_helpers\t\d{8}\tdmaheap:system\n/);
});

test('the emulated kernel exposes what the parser reads: /proc listing, /proc/<pid>/comm', () => {
  const k = new Kernel({ profile: '7.0' });
  const p = k.spawn({ uid: 0, gid: 0, groups: [] }, 'a-very-long-process-name');
  // getdents order as on the oracle (vfs-walk2.c): /proc's entries by length then name, then self and the pids; tgid_base_stuff's order
  assert.deepEqual(k.readdir('/proc'), ['sys', 'cmdline', 'meminfo', 'config.gz', 'self', '1', String(p.pid)]);
  assert.deepEqual(k.readdir(`/proc/${p.pid}`), ['fd', 'fdinfo', 'status', 'comm', 'maps', 'smaps', 'pagemap', 'oom_score', 'oom_score_adj']);
  assert.equal(k.readFile(p, '/proc/self/comm'), 'a-very-long-pro\n', 'TASK_COMM_LEN - 1 bytes');
  assert.equal(k.readFile(p, '/proc/1/comm'), 'init\n');
  assert.equal(k.readFile(p, '/proc/99/comm'), -2);
});

test('dmaheap dump --demo-workload (7.0): exact per-process, table and per-buffer reports', () => {
  const d = runDump({ cmdline: 'cma=64M' }, { demoWorkload: true });
  const r = d.report;
  assert.deepEqual(d.workload?.processes, [{ pid: 3, comm: 'camera' }, { pid: 4, comm: 'display' }]);
  assert.deepEqual(r.buffers, [
    { inode: 1, size: 1 * M, count: 5, exporter: 'system', name: 'camera-frame', refs: [{ pid: 3, fds: 2, maps: 1 }, { pid: 4, fds: 1, maps: 1 }], pss: 512 * K },
    { inode: 2, size: 256 * K, count: 2, exporter: 'default_cma_region', name: 'overlay', refs: [{ pid: 4, fds: 1, maps: 1 }], pss: 256 * K },
  ]);
  assert.deepEqual(r.processes, [
    { pid: 3, comm: 'camera', inodes: [1], rss: 1 * M, pss: 512 * K },
    { pid: 4, comm: 'display', inodes: [1, 2], rss: 1280 * K, pss: 768 * K },
  ]);
  assert.equal(r.system?.source, 'debugfs');
  assert.deepEqual(r.kernelOnly, [{ inode: 3, size: 512 * K, exporter: 'system', name: 'fw-log', count: 1, attached: [] }]);
  assert.deepEqual(r.exporters, [{ exporter: 'default_cma_region', count: 1, size: 256 * K }, { exporter: 'system', count: 2, size: 1536 * K }]);
  assert.deepEqual(r.totals, { dmabufTotal: 1792 * K, kernelRss: 512 * K, userspaceSize: 1280 * K, userspaceRss: 2304 * K, userspacePss: 1280 * K });
  assert.deepEqual(r.warnings, []);

  assert.equal(formatDmabufPerProcess(r), [
    '          camera:3    ',
    '                  Name              Rss              Pss         nr_procs            Inode               Exporter',
    '          camera-frame          1024 kB           512 kB                2                1                  system',
    '         PROCESS TOTAL          1024 kB           512 kB                 ',
    '----------------------',
    '         display:4    ',
    '                  Name              Rss              Pss         nr_procs            Inode               Exporter',
    '          camera-frame          1024 kB           512 kB                2                1                  system',
    '               overlay           256 kB           256 kB                1                2      default_cma_region',
    '         PROCESS TOTAL          1280 kB           768 kB                 ',
    '----------------------',
    'dmabuf total: 1792 kB kernel_rss: 512 kB userspace_rss: 2304 kB userspace_pss: 1280 kB',
    'kernel only (held by no process): 3 512 kB system "fw-log"',
    '',
  ].join('\n'));
  assert.equal(formatDmabufTable(r), [
    '',
    '----------------------- DMA-BUF Table buffer x process --------------------------',
    '    Dmabuf Inode |            Size |   Fd Ref Counts |  Map Ref Counts |          camera:3     |         display:4     |',
    '               1 |         1024 kB |               2 |               2 |        2(     1) refs |        1(     1) refs |',
    '               2 |          256 kB |               1 |               1 |                    -- |        1(     1) refs |',
    '------------------------------------',
    'TOTALS                     1280 kB |             n/a |             n/a |               1024 kB |               1280 kB |',
    '',
  ].join('\n'));
  assert.equal(formatDmabufPerBuffer(r), [
    '', '',
    '----------------------- DMA-BUF per-buffer stats -----------------------',
    '    Dmabuf Inode |     Size(bytes) |    Exporter Name                    |',
    '               3 |          524288 |           system ',
    '               2 |          262144 | default_cma_region ',
    '               1 |         1048576 |           system ',
    '', '',
    '----------------------- DMA-BUF exporter stats -----------------------',
    '      Exporter Name              | Total Count |     Total Size(bytes)   |',
    '              default_cma_region |            1| 262144',
    '                          system |            2| 1572864',
    '', '',
    '----------------------- DMA-BUF total stats -----------------------',
    'Total DMA-BUF count: 3, Total DMA-BUF size(bytes): 1835008',
    '',
  ].join('\n'));
  assert.match(printDump(d, { all: false, perBuffer: false }), /^Emulated Linux 7\.0\.0 \(profile 7\.0\)\n {2}camera \(pid 3\): 1 MiB "camera-frame" from system/);
  assert.deepEqual(JSON.parse(JSON.stringify(d)).report.totals, r.totals);
});

test('dump on other profiles and readers: the sysfs stats when debugfs is closed (6.19), nothing system-wide on 7.0', () => {
  // 6.19 as an unprivileged reader: debugfs is root-only, the sysfs stats are world-readable
  const t = createEmulatedTarget({ profile: '6.19', cmdline: 'cma=64M', uid: 1000, gid: 1000 });
  const fs = dmabufFsOf(t);
  assert.equal(fs.readFile('/sys/kernel/debug/dma_buf/bufinfo'), null);
  const r = readDmabufInfo(fs);
  assert.deepEqual(r.system, { source: 'sysfs', buffers: [] });
  assert.deepEqual(r.totals, { dmabufTotal: 0, kernelRss: 0, userspaceSize: 0, userspaceRss: 0, userspacePss: 0 });
  const t7 = createEmulatedTarget({ profile: '7.0', uid: 1000, gid: 1000 });
  assert.equal(readDmabufInfo(dmabufFsOf(t7)).system, null, 'v7.0 removed the sysfs stats');
  // a non-empty workload read on 6.1 as root: debugfs names the kernel-only buffer
  const d = runDump({ profile: '6.1', cmdline: 'cma=64M' }, { demoWorkload: true });
  assert.equal(d.report.system?.source, 'debugfs');
  assert.deepEqual(d.report.kernelOnly?.map((b) => [b.inode, b.exporter, b.name]), [[3, 'system', 'fw-log']]);
  assert.deepEqual(d.report.buffers.map((b) => b.exporter), ['system', 'reserved'], '6.1: the CMA heap is named after its area');
});
