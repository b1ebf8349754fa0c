/**
 * /proc/config.gz's text: the emulated build's .config (the options this emulator models),
 * which procfs serves gzip-compressed. Callers that build a machine from a kernel config can
 * reuse it: it is a function of the machine's facts only.
 * @kernel kernel/configs.c (CONFIG_IKCONFIG_PROC)
 */
import type { Arch } from '../../../uapi/fcntl.js';
import type { KernelFeatures } from '../../kapi.js';
import type { Profile } from '../../profile.js';

/** What the emulated .config says. */
export interface KconfigFacts {
  readonly arch: Arch;
  readonly profile: Profile;
  /** CONFIG_CMA_SIZE_MBYTES */
  readonly cmaSizeMbytes: number;
  /** CONFIG_CMA_ALIGNMENT */
  readonly cmaAlignment: number;
  /** The heap modules built in. */
  readonly heapModules: readonly string[];
  readonly features: Pick<KernelFeatures, 'coherentHeap'>;
  /** CONFIG_UDMABUF: /dev/udmabuf exists. */
  readonly udmabuf: unknown;
}

export function kconfigText(k: KconfigFacts): string {
  const y = (on: boolean, name: string) => (on ? `${name}=y` : `# ${name} is not set`);
  const mods = new Set(k.heapModules);
  const p = k.profile;
  return [
    '#',
    '# Automatically generated file; DO NOT EDIT.',
    `# Linux/${k.arch === 'x86_64' ? 'x86' : 'arm64'} ${p.release} Kernel Configuration (dmaheap emulated kernel)`,
    '#',
    'CONFIG_CMA=y',
    `CONFIG_CMA_SIZE_MBYTES=${k.cmaSizeMbytes}`, // (the command line's cma= overrides it)
    `CONFIG_CMA_ALIGNMENT=${k.cmaAlignment}`,
    'CONFIG_DMA_CMA=y',
    'CONFIG_SWIOTLB=y',
    'CONFIG_MEMCG=y',
    'CONFIG_DMA_SHARED_BUFFER=y',
    y(p.sysfsStats, 'CONFIG_DMABUF_SYSFS_STATS'),
    'CONFIG_DMABUF_HEAPS=y',
    y(mods.has('system'), 'CONFIG_DMABUF_HEAPS_SYSTEM'),
    y(mods.has('cma'), 'CONFIG_DMABUF_HEAPS_CMA'),
    ...(p.cmaLegacyDuplicate ? [y(mods.has('cma'), 'CONFIG_DMABUF_HEAPS_CMA_LEGACY')] : []),
    y(mods.has('coherent') && k.features.coherentHeap !== false, 'CONFIG_DMABUF_HEAPS_COHERENT'),
    ...(p.teeProtectedHeaps ? [y(mods.has('tee'), 'CONFIG_TEE_DMABUF_HEAPS')] : []),
    y(k.udmabuf !== null, 'CONFIG_UDMABUF'),
    '',
  ].join('\n');
}
