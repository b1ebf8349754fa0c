/**
 * The machines the syscall fuzzer boots: small (256 MiB of RAM), so that the generated sizes reach
 * the ENOMEM paths of every pool without costing the host more than the bytes a case writes.
 *
 * - `x86-6.1`: the oracle's kernel on x86-64 (`--ram 256M --cmdline cma=32M`): the system heap
 *   and the default CMA area, no devices.
 * - `arm64-7.0`: a 256 MiB arm64 board with every pool the emulator models: the default CMA
 *   area and a per-region CMA heap, a coherent pool (the proposed coherent heap), a TEE protected
 *   region (the TEE heap), the default swiotlb and a restricted-dma-pool, devices behind an IOMMU,
 *   direct ones, one that needs contiguous memory and one with a narrow DMA mask; memory
 *   accounting, the dmem controller's charging and the charge_pid_fd proposal; the sync sanitizer.
 * - `arm64-6.12-16k`: the same board with 16 KiB pages on 6.12 (no per-region CMA heap, no TEE
 *   heap, no dmem), to move every size class off 4 KiB.
 */
import type { KernelConfig } from '../src/kernel/index.js';
import { loadBoardText } from '../src/kernel/index.js';
import type { DeviceTree } from '../src/kernel/index.js';

export const MACHINE_NAMES = ['x86-6.1', 'arm64-7.0', 'arm64-6.12-16k'] as const;
export type MachineName = (typeof MACHINE_NAMES)[number];

/** The fuzz board: 256 MiB at 0x40000000 and one of each pool and device kind. */
export const FUZZ_BOARD_DTS = `/dts-v1/;
/ {
	#address-cells = <2>;
	#size-cells = <2>;
	model = "dmaheap fuzz board (256 MiB)";
	compatible = "dmaheap,fuzz";
	memory@40000000 {
		device_type = "memory";
		reg = <0x0 0x40000000 0x0 0x10000000>;
	};
	reserved-memory {
		#address-cells = <2>;
		#size-cells = <2>;
		ranges;
		linux,cma {
			compatible = "shared-dma-pool";
			reusable;
			size = <0x0 0x02000000>;
			linux,cma-default;
		};
		cam_cma: camera@48000000 {
			compatible = "shared-dma-pool";
			reusable;
			reg = <0x0 0x48000000 0x0 0x01000000>;
		};
		coh_pool: coherent@49000000 {
			compatible = "shared-dma-pool";
			reg = <0x0 0x49000000 0x0 0x00400000>;
			no-map;
		};
		rdma: restricted@49400000 {
			compatible = "restricted-dma-pool";
			reg = <0x0 0x49400000 0x0 0x00100000>;
		};
		sdp: sdp@49800000 {
			reg = <0x0 0x49800000 0x0 0x00800000>;
			no-map;
		};
	};
	firmware {
		optee {
			compatible = "linaro,optee-tz";
			method = "smc";
			memory-region = <&sdp>;
		};
	};
	smmu: iommu@10000000 {
		compatible = "arm,smmu-v3";
		reg = <0x0 0x10000000 0x0 0x1000>;
		#iommu-cells = <0>;
	};
	gpu@11000000 {
		compatible = "dmaheap,fuzz-gpu";
		reg = <0x0 0x11000000 0x0 0x1000>;
		iommus = <&smmu>;
		dma-coherent;
	};
	isp@12000000 {
		compatible = "dmaheap,fuzz-isp";
		reg = <0x0 0x12000000 0x0 0x1000>;
		memory-region = <&cam_cma>;
	};
	dsp@13000000 {
		compatible = "dmaheap,fuzz-dsp";
		reg = <0x0 0x13000000 0x0 0x1000>;
		memory-region = <&coh_pool>;
	};
	wifi@14000000 {
		compatible = "dmaheap,fuzz-wifi";
		reg = <0x0 0x14000000 0x0 0x1000>;
		memory-region = <&rdma>;
	};
	vpu@15000000 {
		compatible = "dmaheap,fuzz-vpu";
		reg = <0x0 0x15000000 0x0 0x1000>;
		dmaheap,protected-access;
		iommus = <&smmu>;
	};
};
`;

let board: DeviceTree | null = null;

function fuzzBoard(): DeviceTree {
  if (board === null) {
    const r = loadBoardText(FUZZ_BOARD_DTS, { file: 'fuzz-board.dts' });
    if ('error' in r) throw new Error(`the fuzz board does not load: ${r.error}`);
    board = r.tree;
  }
  return board;
}

/** The kernel configuration of a machine (a fresh object each call). */
export function machineConfig(name: MachineName): KernelConfig {
  switch (name) {
    case 'x86-6.1':
      return { profile: '6.1', arch: 'x86_64', ramBytes: 256 * 1024 * 1024, cmdline: 'cma=32M' };
    case 'arm64-7.0':
      return {
        profile: '7.0',
        arch: 'arm64',
        board: fuzzBoard(),
        cmdline: 'dma_heap.mem_accounting=1 swiotlb=2048',
        features: { coherentHeap: 'v3', dmemCharging: true, chargePidFd: true },
        sanitizer: { captureStacks: false, maxReports: 100 },
        devices: [
          { name: 'cam0', model: 'camera', needsContiguous: true },
          { name: 'disp0', model: 'display', needsContiguous: true, coherent: true },
          { name: 'dma30', dmaMask: 30 },
          { name: 'offset0', dmaMask: 32, dmaOffset: 0x40000000 },
        ],
      };
    case 'arm64-6.12-16k':
      return {
        profile: '6.12',
        arch: 'arm64',
        pageSize: 16384,
        board: fuzzBoard(),
        cmdline: 'swiotlb=1024',
        features: { coherentHeap: 'prefixed' },
        devices: [{ name: 'cam0', model: 'camera', needsContiguous: true }],
      };
  }
}
