// The arm64 referee (Linux 7.3-rc7, qemu-system-aarch64 -machine virt, ../shared/oracle/run-arm64.sh)
// against the emulator booted from the same DTBs with the referee's .config (--kconfig) and QEMU's
// loader (--loader qemu-virt): heaps, CMA areas (sysfs names, debugfs base_pfn and count),
// CmaTotal and the boot-log lines about reserved memory and CMA, exactly, for virt-cma.dtb and
// virt.dtb without cma=, with cma=32M and with cma=0. The recordings are test/oracle/issue-11/arm64/*.out;
// scripts/test-kernel-arm64.sh records them again on the live referee.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ARM64_CASES, compareFacts, emulatedFacts, loaderOfImages, refereeFacts } from '../../scripts/arm64-referee.js';
import { QEMU_VIRT_IMAGE_SIZE, QEMU_VIRT_INITRD_SIZE } from '../../src/kernel/of/boot-layout.js';

const root = new URL('../../../', import.meta.url);
const path = (p: string) => fileURLToPath(new URL(p, root));
const FIX = path('test/fixtures/arm64-7.3/');
const REC = path('test/oracle/issue-11/arm64/');
const KCONFIG = readFileSync(`${FIX}kernel.config`, 'latin1');
const IMAGES = path('../shared/oracle/images-arm64-7.3/');

function run(name: string, opts: { loader?: 'none'; kconfig?: string } = {}) {
  const c = ARM64_CASES.find((x) => x.name === name)!;
  const referee = refereeFacts(readFileSync(`${REC}${c.name}.out`, 'utf8'), c.name);
  const e = emulatedFacts({ dtb: readFileSync(`${FIX}${c.dtb}`), kconfig: opts.kconfig ?? KCONFIG, cmdline: c.cmdline, ...(opts.loader === 'none' ? { loader: { preset: 'none' } } : {}) });
  return { referee, emulated: e.facts, diff: compareFacts(referee, e.facts) };
}

for (const c of ARM64_CASES) {
  test(`${c.dtb}${c.cmdline === '' ? '' : ` ${c.cmdline}`}: the emulator shows what the referee shows`, () => {
    const r = run(c.name);
    assert.deepEqual(r.emulated, r.referee);
    assert.deepEqual(r.diff, []);
  });
}

test('the recordings say what the README and the issue say (heaps, areas, the cma=32M placement)', () => {
  const cma = refereeFacts(readFileSync(`${REC}virt-cma.out`, 'utf8'));
  assert.deepEqual(cma.heaps, ['default_cma_region', 'linux,cma', 'second-cma@70000000', 'system']);
  assert.deepEqual(cma.cmaDebugfs, ['linux,cma base_pfn=507904 count=16384', 'second-cma@70000000 base_pfn=458752 count=8192']);
  const plain = refereeFacts(readFileSync(`${REC}virt.out`, 'utf8'));
  assert.deepEqual(plain.heaps, ['default_cma_region', 'reserved', 'system']);
  assert.deepEqual(plain.cmaDebugfs, ['reserved base_pfn=506880 count=16384']);
  assert.deepEqual(plain.bootLog, ['OF: reserved mem: Reserved memory: No reserved-memory node in the DT', 'cma: Reserved 64 MiB at 0x000000007bc00000']);
  // "With cma=32M the real area sits at 0x7dc00000": pfn 515072
  for (const n of ['virt.cma32M', 'virt-cma.cma32M']) {
    const r = run(n);
    assert.ok(r.emulated.bootLog.includes('cma: Reserved 32 MiB at 0x000000007dc00000'), n);
    assert.ok(r.emulated.cmaDebugfs.includes('reserved base_pfn=515072 count=8192'), n);
  }
});

test('without the referee\'s .config the emulator differs (the issue: virt.dtb had the system heap only), and the comparison says so', () => {
  const r = run('virt', { kconfig: 'CONFIG_ARM64=y\nCONFIG_ARM64_4K_PAGES=y\nCONFIG_DMABUF_HEAPS=y\nCONFIG_DMABUF_HEAPS_SYSTEM=y\n' });
  assert.deepEqual(r.emulated.heaps, ['system']);
  assert.deepEqual(r.diff.map((d) => d.split(':')[0]), ['heaps', 'cmaSysfs', 'cmaDebugfs', 'cmaTotal', 'bootLog']);
});

test('the loader\'s own reservations sit at the bottom of RAM: these areas move with the kernel\'s early allocations, not with the loader', () => {
  for (const c of ARM64_CASES) assert.deepEqual(run(c.name, { loader: 'none' }).diff, [], c.name);
});

test('a recording without a section is refused with what to do', () => {
  assert.throws(() => refereeFacts('## /dev/dma_heap\nsystem\n', 'x.out'), /^Error: x\.out: no '## \/sys\/kernel\/mm\/cma' section \(record it with test\/oracle\/issue-11\/arm64\/guest\.sh\)$/);
  assert.throws(() => refereeFacts('x'.repeat(1024 * 1024 + 1), 'big.out'), /big\.out: 1048577 bytes, more than a recording can be/);
});

test('the fixtures are the referee\'s files, and the qemu-virt preset has its images\' sizes', { skip: existsSync(`${IMAGES}Image.gz`) ? false : 'no ../shared/oracle/images-arm64-7.3 beside the repository' }, () => {
  for (const f of ['kernel.config', 'virt.dtb', 'virt-cma.dtb']) assert.deepEqual(readFileSync(`${FIX}${f}`), readFileSync(`${IMAGES}${f}`), f);
  const l = loaderOfImages(readFileSync(`${IMAGES}Image.gz`), statSync(`${IMAGES}initramfs.cpio.gz`).size);
  assert.deepEqual(l, { preset: 'qemu-virt', image: { size: QEMU_VIRT_IMAGE_SIZE }, initrd: { size: QEMU_VIRT_INITRD_SIZE } });
});

test('scripts/test-kernel-arm64.sh: exit status 2, saying what is missing, without the oracle or its images', async () => {
  const { spawnSync } = await import('node:child_process');
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const script = path('scripts/test-kernel-arm64.sh');
  const none = spawnSync('bash', [script], { env: { ...process.env, ORACLE_ARM64_RUN: '/nonexistent/run-arm64.sh' }, encoding: 'utf8' });
  assert.deepEqual([none.status, none.stdout, none.stderr], [2, '', 'test-kernel-arm64: no arm64 oracle at /nonexistent/run-arm64.sh (the shared/ directory beside the repository)\n']);
  const dir = mkdtempSync(join(tmpdir(), 'arm64-oracle-'));
  try {
    writeFileSync(join(dir, 'run-arm64.sh'), 'exit 125\n');
    const bare = spawnSync('bash', [script], { env: { ...process.env, ORACLE_ARM64_RUN: join(dir, 'run-arm64.sh') }, encoding: 'utf8' });
    assert.deepEqual([bare.status, bare.stderr], [2, `test-kernel-arm64: ${dir}/images-arm64-7.3/Image.gz is missing (build the images with ${dir}/build-arm64.sh, ORACLE_INSTALL=1)\n`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
