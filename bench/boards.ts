/**
 * Device trees for the boot-scale benchmark, written as DTBs (as `--board file.dtb` would give
 * them): many memory banks and reserved regions, and machines of hundreds of terabytes.
 */
import { writeFdt } from '../src/kernel/of/fdt.js';
import { DeviceTree, cellsBytes, newNode, setProp } from '../src/kernel/of/tree.js';
import type { DtNode } from '../src/kernel/of/tree.js';

const cells64 = (v: number): number[] => [Math.floor(v / 2 ** 32), v % 2 ** 32];
const str = (s: string): Uint8Array => new TextEncoder().encode(`${s}\0`);

function child(parent: DtNode, name: string): DtNode {
  const n = newNode(name, parent);
  parent.children.push(n);
  return n;
}

/** What a scale board holds. */
export interface ScaleBoardSpec {
  /** (base, size) of each memory bank, all in one /memory node. */
  readonly banks: readonly (readonly [number, number])[];
  /** (base, size) of each /reserved-memory child with a reg. */
  readonly staticRegions?: readonly (readonly [number, number])[];
  /** The size of each /reserved-memory child placed by the kernel (2 MiB-aligned). */
  readonly dynamicRegions?: readonly number[];
}

/** A board with 2 address and 2 size cells, as DTB bytes. */
export function scaleBoardDtb(spec: ScaleBoardSpec): Uint8Array {
  const root = newNode('', null);
  setProp(root, '#address-cells', cellsBytes([2]));
  setProp(root, '#size-cells', cellsBytes([2]));
  setProp(root, 'compatible', str('dmaheap,bench-scale'));
  const mem = child(root, `memory@${(spec.banks[0]?.[0] ?? 0).toString(16)}`);
  setProp(mem, 'device_type', str('memory'));
  setProp(mem, 'reg', cellsBytes(spec.banks.flatMap(([b, s]) => [...cells64(b), ...cells64(s)])));
  const stat = spec.staticRegions ?? [];
  const dyn = spec.dynamicRegions ?? [];
  if (stat.length + dyn.length > 0) {
    const rm = child(root, 'reserved-memory');
    setProp(rm, '#address-cells', cellsBytes([2]));
    setProp(rm, '#size-cells', cellsBytes([2]));
    setProp(rm, 'ranges', new Uint8Array(0));
    for (const [b, s] of stat) setProp(child(rm, `r@${b.toString(16)}`), 'reg', cellsBytes([...cells64(b), ...cells64(s)]));
    dyn.forEach((s, i) => {
      const n = child(rm, `d${i}`);
      setProp(n, 'size', cellsBytes(cells64(s)));
      setProp(n, 'alignment', cellsBytes(cells64(0x200000)));
    });
  }
  return writeFdt(new DeviceTree(root));
}

/** 16,000 banks of 2 MiB, 4 MiB apart, with a 1 MiB static region in every fifth of the first 15,000. */
export function banksAndRegions(): Uint8Array {
  return scaleBoardDtb({
    banks: Array.from({ length: 16000 }, (_, i) => [0x80000000 + i * 0x400000, 0x200000] as const),
    staticRegions: Array.from({ length: 3000 }, (_, j) => [0x80000000 + j * 5 * 0x400000, 0x100000] as const),
  });
}

/** 64 GiB of RAM and 3,000 regions of 2 MiB the kernel places itself. */
export function dynamicRegions(): Uint8Array {
  return scaleBoardDtb({ banks: [[0x80000000, 64 * 2 ** 30]], dynamicRegions: Array.from({ length: 3000 }, () => 0x200000) });
}

/** One bank of `bytes` at 2 GiB. */
export function hugeRam(bytes: number): Uint8Array {
  return scaleBoardDtb({ banks: [[0x80000000, bytes]] });
}
