// The package's public entry points, imported by the package's own name (Node resolves a
// package's name from inside it through package.json `exports`, as an installed package is):
// what a library user needs is reachable from them, deep imports are refused by design, and
// `dmaheap/kernel` stays free of Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { entryPoints } from '../../scripts/api-docs.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
type Module = Record<string, unknown>;
const load = (specifier: string): Promise<Module> => import(specifier) as Promise<Module>;

/** The names every entry must export, by entry. */
const REQUIRED: Record<string, readonly string[]> = {
  'dmaheap': [
    // the client and the emulated backend
    'emulatedBackend', 'createEmulatedTarget', 'bootKernel', 'DmaHeapClient', 'ErrnoError', 'AllocationError', 'LeakGuard',
    // the kernel and its configuration
    'Kernel', 'KernelConfigError', 'PROFILES', 'PROFILE_NAMES', 'DEFAULT_PROFILE', 'isProfileName',
    // devices and DMA directions
    'DMA_BIDIRECTIONAL', 'DMA_TO_DEVICE', 'DMA_FROM_DEVICE', 'DEVICE_MODEL_KINDS', 'deviceConfigProblem', 'devicesFromTree',
    // boards and device trees
    'loadBoard', 'resolveBoard', 'loadBoardFile', 'loadBoardText', 'loadBoardBytes', 'shippedBoards', 'SHIPPED_BOARD_NAMES', 'classifyBoardString', 'BoardError',
    'DeviceTree', 'parseDts', 'formatDtsError', 'readFdt', 'writeFdt', 'isFdt', 'readLiveTree',
    // dmabuf_dump's model and text
    'readDmabufInfo', 'dmabufFsOf', 'formatDmabufDump', 'formatDmabufPerProcess', 'formatDmabufTable', 'formatDmabufPerBuffer',
    // why a heap is missing
    'explainMissingHeap', 'readHeapNamingFacts', 'defaultCmaHeapNames',
    // the sanitizer
    'formatSanitizerReport', 'SANITIZER_KINDS',
  ],
  'dmaheap/api': ['DmaHeapClient', 'ErrnoError', 'readDmabufInfo', 'formatDmabufDump', 'explainMissingHeap', 'heapOpenError', 'chooseHeap'],
  'dmaheap/linux': ['linuxBackend', 'DmaHeapClient', 'explainMissingHeap', 'formatDmabufDump'],
  'dmaheap/kernel': [
    'Kernel', 'KernelConfigError', 'PROFILES', 'PROFILE_NAMES', 'DMA_BIDIRECTIONAL', 'DMA_TO_DEVICE', 'DMA_FROM_DEVICE', 'DEVICE_MODEL_KINDS',
    'DeviceTree', 'parseDts', 'readFdt', 'writeFdt', 'loadBoardText', 'loadBoardBytes', 'classifyBoardString', 'BoardError', 'formatSanitizerReport',
  ],
  'dmaheap/boards': ['loadBoard', 'resolveBoard', 'loadBoardFile', 'shippedBoards', 'loadBoardText', 'loadBoardBytes', 'parseDts', 'readFdt', 'writeFdt', 'DeviceTree', 'BoardError'],
};

test('every entry point of package.json imports by the package name and exports what a user needs', async () => {
  const specifiers = entryPoints().map((e) => e.specifier);
  assert.deepEqual(specifiers, ['dmaheap', 'dmaheap/api', 'dmaheap/linux', 'dmaheap/kernel', 'dmaheap/boards']);
  for (const s of specifiers) {
    const m = await load(s);
    const missing = (REQUIRED[s] ?? []).filter((n) => m[n] === undefined);
    assert.deepEqual(missing, [], `${s} lacks ${missing.join(', ')}`);
  }
  const main = await load('dmaheap');
  const kernel = await load('dmaheap/kernel');
  const boards = await load('dmaheap/boards');
  // one module instance behind every entry
  assert.equal(main.Kernel, kernel.Kernel);
  assert.equal(main.loadBoard, boards.loadBoard);
  assert.equal(main.DeviceTree, kernel.DeviceTree);
  assert.deepEqual(main.PROFILE_NAMES, ['5.10', '5.15', '6.1', '6.6', '6.12', '6.17', '6.18', '6.19', '7.0', '7.3']);
  assert.equal(main.DEFAULT_PROFILE, '7.0');
  assert.deepEqual([main.DMA_BIDIRECTIONAL, main.DMA_TO_DEVICE, main.DMA_FROM_DEVICE], [0, 1, 2]);
  assert.deepEqual(main.DEVICE_MODEL_KINDS, ['camera', 'display', 'copy', 'codec']);
  assert.deepEqual(main.SHIPPED_BOARD_NAMES, ['am62x', 'imx8mp', 'rk3588', 'rpi5', 'x86-pc']);
});

test('deep imports are not part of the package: ERR_PACKAGE_PATH_NOT_EXPORTED', async () => {
  for (const deep of ['dmaheap/dist/src/kernel/kernel.js', 'dmaheap/src/boards/index.js', 'dmaheap/boards/files']) {
    await assert.rejects(load(deep), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' }, deep);
  }
});

/** The relative static imports and the bare ones of a compiled module, transitively from `file`. */
function moduleGraph(file: string): { files: Set<string>; bare: Set<string> } {
  const files = new Set<string>();
  const bare = new Set<string>();
  const visit = (f: string): void => {
    if (files.has(f)) return;
    files.add(f);
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      const spec = m[1] ?? m[2]!;
      if (spec.startsWith('.')) visit(resolve(dirname(f), spec));
      else bare.add(spec);
    }
  };
  visit(file);
  return { files, bare };
}

test('dmaheap/kernel loads no Node module (it runs in a browser); only src/boards touches the file system', () => {
  const k = moduleGraph(join(ROOT, 'dist/src/kernel/index.js'));
  assert.deepEqual([...k.bare], []);
  const outside = [...k.files].filter((f) => !f.startsWith(join(ROOT, 'dist/src/kernel/')) && !f.startsWith(join(ROOT, 'dist/src/uapi/')));
  assert.deepEqual(outside, []);
  const b = moduleGraph(join(ROOT, 'dist/src/boards/index.js'));
  assert.deepEqual([...b.bare].sort(), ['node:fs', 'node:path', 'node:url']);
  // the node: imports of the board loaders are all in one module
  const withNode = [...b.files].filter((f) => /from\s+['"]node:/.test(readFileSync(f, 'utf8'))).map((f) => f.slice(ROOT.length));
  assert.deepEqual(withNode.sort(), ['dist/src/boards/files.js', 'dist/src/boards/index.js']);
});

test('a library user boots a board, allocates and prints dmabuf_dump from public entry points alone', async () => {
  const m = await load('dmaheap') as {
    emulatedBackend: { createClient(o: object): { allocate(h: string, n: number, o?: object): { map(): unknown; close(): void }; target: unknown; close(): void } };
    readDmabufInfo(fs: unknown): unknown;
    dmabufFsOf(t: unknown): unknown;
    formatDmabufDump(r: unknown, o?: object): string;
  };
  const c = m.emulatedBackend.createClient({ board: 'rpi5', profile: '6.1', client: { appName: 'cam' } });
  const b = c.allocate('reserved', 64 * 1024, { purpose: 'frame' });
  b.map();
  const text = m.formatDmabufDump(m.readDmabufInfo(m.dmabufFsOf(c.target)));
  assert.equal(text, [
    '         dmaheap:2    ',
    '                  Name              Rss              Pss         nr_procs            Inode               Exporter',
    '             cam:frame            64 kB            64 kB                1                1                reserved',
    '         PROCESS TOTAL            64 kB            64 kB                 ',
    '----------------------',
    'dmabuf total: 64 kB kernel_rss: 0 kB userspace_rss: 64 kB userspace_pss: 64 kB',
    '',
  ].join('\n'));
  b.close();
  c.close();
});
