/**
 * Devices derived from the example boards' device trees, the config devices, and the boot-time
 * swiotlb pool (src/kernel/dev/device.ts, swiotlb.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel, KernelConfigError } from '../../src/kernel/kernel.js';
import type { Device } from '../../src/kernel/dev/device.js';
import { parseSwiotlbParam } from '../../src/kernel/dev/swiotlb.js';
import { board, dts } from './dev-helpers.js';

const M = 1024 * 1024;

function summary(d: Device): unknown {
  return {
    name: d.name, devName: d.devName, dmaMask: d.dmaMask, busDmaLimit: d.busDmaLimit, dmaOffset: d.dmaOffset, iommu: d.iommu,
    coherent: d.coherent, needsContiguous: d.needsContiguous, protectedAccess: d.protectedAccess, region: d.memoryRegion?.name ?? null,
  };
}

test('imx8mp: the media blocks under soc@0 get the bus window of its dma-ranges (32 bits, offset 0), no IOMMU, non-coherent, carve-outs', () => {
  const k = new Kernel({ board: board('imx8mp'), arch: 'arm64' });
  const base = { dmaMask: 32, busDmaLimit: 0xffffffff, dmaOffset: 0, iommu: false, coherent: false, needsContiguous: true, protectedAccess: false };
  assert.deepEqual(k.devices.list().map(summary), [
    { name: '/soc@0/isi@32e00000', devName: '32e00000.isi', ...base, region: 'cma-video' },
    { name: '/soc@0/display-controller@32e80000', devName: '32e80000.display-controller', ...base, region: 'framebuffer@78000000' },
    { name: '/soc@0/video-codec@38300000', devName: '38300000.video-codec', ...base, region: 'cma-video' },
    { name: '/soc@0/video-codec@38310000', devName: '38310000.video-codec', ...base, region: 'cma-video' },
    { name: '/soc@0/dsp@3b6e8000', devName: '3b6e8000.dsp', ...base, region: 'dsp@92400000' },
  ]);
  assert.equal(k.devices.get('32e80000.display-controller'), k.devices.get('/soc@0/display-controller@32e80000'));
  assert.equal(k.devices.get('nope'), null);
  // 6 GiB of RAM reaches above 4 GiB: a 64 MiB pool below the CMA areas, top-down under 4 GiB
  assert.ok(k.dmesg.includes('software IO TLB: mapped [mem 0x00000000c4000000-0x00000000c8000000] (64MB)'));
  assert.equal(k.devices.swiotlb?.nslabs, 32768);
  assert.equal(k.devices.swiotlb?.start, 0xc4000000);
});

test('rk3588: devices behind their IOMMUs get 64-bit masks and need nothing contiguous; the OP-TEE node and the IOMMUs are not DMA masters', () => {
  const k = new Kernel({ board: board('rk3588'), arch: 'arm64' });
  const base = { dmaMask: 64, busDmaLimit: 0, dmaOffset: 0, iommu: true, coherent: false, needsContiguous: false, protectedAccess: false };
  assert.deepEqual(k.devices.list().map(summary), [
    { name: '/video-codec@fdc70000', devName: 'fdc70000.video-codec', ...base, region: 'cma@10000000' },
    { name: '/isp@fdcb0000', devName: 'fdcb0000.isp', ...base, region: 'isp@20000000' },
    { name: '/npu@fdab0000', devName: 'fdab0000.npu', ...base, region: 'npu@28000000' },
  ]);
  assert.ok(k.devices.list().every((d) => d.iova !== null && d.iova.limit === 2 ** 48));
  assert.ok(k.dmesg.includes('software IO TLB: mapped [mem 0x00000000ec000000-0x00000000f0000000] (64MB)'));
});

test('rpi5: dma-ranges with a bus offset (bus = cpu + 0x10_0000_0000, 37-bit window); am62x: a restricted pool forces bouncing; x86: always coherent', () => {
  const rpi = new Kernel({ board: board('rpi5'), arch: 'arm64' });
  const isp = rpi.devices.get('1000880000.isp')!;
  assert.deepEqual([isp.iommu, isp.busDmaLimit, isp.dmaOffset], [true, 0x1fffffffff, -0x1000000000]);
  const am = new Kernel({ board: board('am62x'), arch: 'arm64' });
  // RAM below 4 GiB: arm64 (6.5+) still makes a pool for kmalloc bouncing, 1 MiB per GiB of RAM; 6.1 makes none;
  // top-down below the linear map's page tables and the unflattened tree (of/boot-layout.ts)
  assert.deepEqual([am.devices.swiotlb?.start, am.devices.swiotlb?.nslabs], [0xfda14000, 1024]);
  assert.ok(am.dmesg.includes('software IO TLB: SWIOTLB bounce buffer size adjusted to 2MB'));
  assert.equal(new Kernel({ profile: '6.1', board: board('am62x'), arch: 'arm64' }).devices.swiotlb, null);
  const mmc = am.devices.get('fa20000.mmc')!;
  assert.deepEqual([mmc.forceBounce, mmc.ioTlb?.name, mmc.ioTlb?.start, mmc.ioTlb?.nslabs], [true, 'restricted-dma@a2000000', 0xa2000000, 2048]);
  const dss = am.devices.get('30200000.dss')!;
  assert.deepEqual([dss.ioTlb === am.devices.swiotlb, dss.forceBounce, dss.memoryRegion?.name], [true, false, 'display-carveout@a1000000']);
  const pc = new Kernel({ board: board('x86-pc'), devices: [{ name: 'nc', coherent: false }] });
  assert.deepEqual(pc.devices.list().map((d) => [d.devName, d.coherent]), [['e0000000.pci', true], ['nc', true]]);
  assert.ok(pc.dmesg.includes('software IO TLB: mapped [mem 0x000000007c000000-0x0000000080000000] (64MB)'));
});

test('config devices: defaults, overrides of a DT device by dev_name, hotplug, and refused configs', () => {
  const k = new Kernel({
    board: board('imx8mp'), arch: 'arm64',
    devices: [{ name: 'cam', model: 'camera' }, { name: 'smmu-dev', iommu: true, coherent: true }, { name: '32e00000.isi', model: 'camera', protectedAccess: true }],
  });
  const cam = k.devices.get('cam')!;
  assert.deepEqual([cam.source, cam.dmaMask, cam.iommu, cam.coherent, cam.needsContiguous, cam.model, cam.ioTlb === k.devices.swiotlb], ['config', 32, false, false, false, 'camera', true]);
  const smmu = k.devices.get('smmu-dev')!;
  assert.deepEqual([smmu.dmaMask, smmu.iommu, smmu.coherent, smmu.iova?.limit], [64, true, true, 2 ** 48]);
  const isi = k.devices.get('32e00000.isi')!;
  assert.deepEqual([isi.source, isi.model, isi.protectedAccess, isi.needsContiguous, isi.dmaMask], ['dt+config', 'camera', true, true, 32]);
  assert.equal(k.devices.list().length, 7);
  const added = k.devices.add({ name: 'late', dmaMask: 40 });
  assert.ok(typeof added === 'object' && added.dmaMask === 40);
  assert.equal(k.devices.add({ name: 'late' }), -17);
  assert.throws(() => new Kernel({ devices: [{ name: 'x', dmaMask: 65 }] }), KernelConfigError);
  assert.throws(() => new Kernel({ devices: [{ name: 'x', model: 'printer' as 'camera' }] }), KernelConfigError);
});

test('DT rules: dma-coherent on a parent bus, dma-noncoherent, a bus with dma-ranges is not a device, a leaf with dma-ranges is, disabled nodes are skipped', () => {
  const tree = dts(`/dts-v1/;
/ {
  #address-cells = <2>; #size-cells = <2>;
  memory@40000000 { device_type = "memory"; reg = <0x0 0x40000000 0x0 0x40000000>; };
  bus@0 {
    compatible = "simple-bus"; #address-cells = <1>; #size-cells = <1>;
    ranges = <0x0 0x0 0x0 0x80000000>;
    dma-ranges = <0x0 0x40000000 0x40000000>;
    dma-coherent;
    a@1000 { reg = <0x1000 0x100>; iommus = <1>; };
    b@2000 { reg = <0x2000 0x100>; iommus = <1>; dma-noncoherent; };
    c@3000 { reg = <0x3000 0x100>; dma-coherent; status = "disabled"; };
  };
  leaf@5000 { reg = <0x0 0x5000 0x0 0x100>; dma-ranges; dmaheap,protected-access; };
};`);
  const k = new Kernel({ board: tree, arch: 'arm64' });
  assert.deepEqual(k.devices.list().map((d) => [d.devName, d.coherent, d.protectedAccess, d.dmaMask]), [
    ['1000.a', true, false, 64],
    ['2000.b', false, false, 64],
    ['5000.leaf', false, true, 32],
  ]);
  // bus address 0 is CPU address 0x40000000 (a 1 GiB window: 30 bits)
  const k2 = new Kernel({ board: dts(`/dts-v1/;
/ { #address-cells = <2>; #size-cells = <2>;
  memory@40000000 { device_type = "memory"; reg = <0x0 0x40000000 0x0 0x40000000>; };
  bus@0 { compatible = "simple-bus"; #address-cells = <1>; #size-cells = <1>; ranges = <0x0 0x0 0x0 0x80000000>;
    dma-ranges = <0x0 0x0 0x40000000 0x40000000>;
    d@1000 { reg = <0x1000 0x100>; dma-coherent; }; }; };`), arch: 'arm64' });
  const d = k2.devices.get('1000.d')!;
  assert.deepEqual([d.dmaMask, d.busDmaLimit, d.dmaOffset], [30, 0x3fffffff, 0x40000000]);
});

test('swiotlb= sets the pool size in 2 KiB slabs (aligned up to 128) and force/noforce; a small-RAM machine gets none', () => {
  assert.deepEqual(parseSwiotlbParam('2000'), { nslabs: 2048, force: false, noforce: false });
  assert.deepEqual(parseSwiotlbParam('4096,4,force'), { nslabs: 4096, force: true, noforce: false });
  assert.deepEqual(parseSwiotlbParam('noforce'), { nslabs: 32768, force: false, noforce: true });
  assert.equal(new Kernel({}).devices.swiotlb, null, '2 GiB on QEMU pc: nothing above 4 GiB');
  // the default 2 GiB QEMU pc: 2 MiB free above init_mem_mapping()'s page-table block at
  // 0x7fc00000 (to 0x7ffe0000) are too few for 4 MiB, so the pool ends at that block
  const forced = new Kernel({ cmdline: 'swiotlb=2048,force' });
  assert.deepEqual([forced.devices.swiotlb?.start, forced.devices.swiotlb?.nslabs, forced.devices.swiotlb?.forceBounce], [0x7f800000, 2048, true]);
  assert.ok(forced.dmesg.includes('software IO TLB: mapped [mem 0x000000007f800000-0x000000007fc00000] (4MB)'));
  // one bank from 0 (--loader none): the pool ends at the end of RAM
  const forcedNone = new Kernel({ cmdline: 'swiotlb=2048,force', loader: { preset: 'none' } });
  assert.ok(forcedNone.dmesg.includes('software IO TLB: mapped [mem 0x000000007fc00000-0x0000000080000000] (4MB)'));
  // a 6 GiB QEMU pc: low RAM ends at 0xbffe0000 (3 GiB less the firmware's 128 KiB; the PCI hole
  // above it), and memblock_alloc_low() puts the 64 MiB pool top-down below it (the 6.1 referee
  // does not print its "mapped" line, so the address is not compared)
  const big = new Kernel({ ramBytes: 6 * 1024 * M });
  assert.equal(big.devices.swiotlb?.start, 0xbbfe0000);
  assert.ok(big.dmesg.includes('software IO TLB: mapped [mem 0x00000000bbfe0000-0x00000000bffe0000] (64MB)'));
  // one bank from 0 (--loader none): memblock_alloc_low() below ARCH_LOW_ADDRESS_LIMIT (0xffffffff, used as the end): 0xfbfff000
  const bigNone = new Kernel({ ramBytes: 6 * 1024 * M, loader: { preset: 'none' } });
  assert.equal(bigNone.devices.swiotlb?.start, 0xfbfff000);
  assert.ok(bigNone.dmesg.includes('software IO TLB: mapped [mem 0x00000000fbfff000-0x00000000fffff000] (64MB)'));
  const off = new Kernel({ ramBytes: 6 * 1024 * M, cmdline: 'swiotlb=noforce' });
  assert.equal(off.devices.swiotlb, null);
  assert.equal(off.buddy.totalPages - big.buddy.totalPages, (64 * M) / 4096, 'the pool is not given to the page allocator');
});
