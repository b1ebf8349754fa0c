/**
 * `dmaheap doctor`: checks a machine's DMA-BUF heap setup and explains each problem with what to
 * do next — the failures users keep reporting: ENOENT (no /dev/dma_heap: kernel config, missing
 * modules, a container without the device), EACCES (0600 root nodes: groups, udev rules), ENOTTY
 * (not a dma-heap node), the `cma=` naming trap (a command-line CMA area replaces the device
 * tree's default region and its heap name), udmabuf, and what the accounting tools can see.
 *
 * Written against a syscall target (files, open, ioctl) and a few host facts (doctor's
 * HostFacts), so the same checks run on this machine and on an emulated one.
 */
import { gunzipSync } from 'node:zlib';
import { KCONFIG_LIMITS } from '../../kernel/kconfig.js';
import { DMA_HEAP_ALLOCATION_DATA, DMA_HEAP_IOCTL_ALLOC } from '../../uapi/dma-heap.js';
import { fcntlConstants } from '../../uapi/fcntl.js';
import type { ErrnoName } from '../../uapi/errno.js';
import type { DoctorTarget, HostFacts, NodeStat } from '../common/backend.js';
import { defaultCmaHeapNames, readHeapNamingFacts } from '../../api/missing-heap.js';
import { kernelVersion } from '../../api/heap-knowledge.js';
import { ANDROID_BRANCH_NAMES, ANDROID_FACT_LABELS, UNKNOWN, androidBranch, androidFact, parseGkiRelease } from '../../kernel/android.js';
import type { AndroidFact, AndroidFactKey } from '../../kernel/android.js';

export type Status = 'ok' | 'warn' | 'fail';

export interface Check {
  readonly id: string;
  readonly status: Status;
  /** One line. */
  readonly summary: string;
  /** Facts behind the verdict, one per line. */
  readonly details: readonly string[];
  /** What to do next, one step per line (commands included). */
  readonly next: readonly string[];
}

export interface DoctorReport {
  /** "this machine" or "the emulated machine" */
  readonly machine: string;
  readonly backend: string;
  readonly release: string;
  readonly arch: string;
  /** Why another backend than the requested one was used, or null. */
  readonly note: string | null;
  readonly user: { readonly uid: number; readonly gid: number; readonly groups: readonly number[]; readonly id: string };
  readonly checks: readonly Check[];
  readonly counts: { readonly ok: number; readonly warn: number; readonly fail: number };
}

const S_IFMT = 0o170000;
const S_IFCHR = 0o020000;

/** `ls -l` mode text: crw-rw---- */
export function modeString(mode: number): string {
  const t = mode & S_IFMT;
  const type = t === S_IFCHR ? 'c' : t === 0o040000 ? 'd' : t === 0o060000 ? 'b' : t === 0o120000 ? 'l' : t === 0o010000 ? 'p' : t === 0o140000 ? 's' : '-';
  let s = type;
  for (const shift of [6, 3, 0]) {
    const b = (mode >> shift) & 7;
    s += `${b & 4 ? 'r' : '-'}${b & 2 ? 'w' : '-'}${b & 1 ? 'x' : '-'}`;
  }
  return s;
}

export { kernelVersion };

function atLeast(v: [number, number] | null, major: number, minor: number): boolean {
  return v !== null && (v[0] > major || (v[0] === major && v[1] >= minor));
}

/** `CONFIG_X=y` and `# CONFIG_X is not set` lines → symbol → value ('n' for not set). */
export function parseKconfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    let m = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(line);
    if (m !== null) {
      out.set(m[1]!, m[2]!);
      continue;
    }
    m = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/.exec(line);
    if (m !== null) out.set(m[1]!, 'n');
  }
  return out;
}

/** An open of a node: the fd (closed again) or the errno. */
type OpenOutcome = ErrnoName | 'ok';

interface HeapNode {
  readonly name: string;
  readonly path: string;
  readonly stat: NodeStat | null;
  readonly rdonly: OpenOutcome;
  readonly rdwr: OpenOutcome;
}

/** What the checks found, for the ones after them. */
interface Ctx {
  readonly t: DoctorTarget;
  readonly host: HostFacts;
  readonly version: [number, number] | null;
  heaps: readonly string[] | null;
  nodes: HeapNode[];
  kconfig: Map<string, string> | null;
  kconfigSource: string | null;
}

function owner(host: HostFacts, s: NodeStat): string {
  return `${host.userName(s.uid) ?? s.uid}:${host.groupName(s.gid) ?? s.gid}`;
}

function idText(host: HostFacts): string {
  const n = (id: number, name: string | null) => (name === null ? String(id) : `${id}(${name})`);
  const groups = [host.gid, ...host.groups.filter((g) => g !== host.gid)];
  return `uid=${n(host.uid, host.userName(host.uid))} gid=${n(host.gid, host.groupName(host.gid))} groups=${groups.map((g) => n(g, host.groupName(g))).join(',')}`;
}

function tryOpen(t: DoctorTarget, path: string, flags: number): OpenOutcome {
  const r = t.open(path, flags);
  if (r.errno !== null) return r.errno;
  t.close(r.ret);
  return 'ok';
}

const UDEV_RELOAD = 'sudo udevadm control --reload-rules && sudo udevadm trigger --subsystem-match=dma_heap';

// ---- the checks --------------------------------------------------------------------------------

function checkOs(c: Ctx): Check {
  const { host, t } = c;
  if (host.platform !== 'linux') {
    return {
      id: 'os', status: 'fail', summary: `not Linux (${host.platform}): DMA-BUF heaps are a Linux kernel interface`, details: [],
      next: ['run dmaheap on the Linux machine (board, VM) that has the heaps', 'or explore an emulated machine: dmaheap doctor --backend emulated'],
    };
  }
  const where = `Linux ${t.release} ${t.arch}${t.backend === 'emulated' ? ' (emulated)' : ''}`;
  if (c.version !== null && !atLeast(c.version, 5, 6)) {
    return {
      id: 'os', status: 'fail', summary: `${where}: DMA-BUF heaps appeared in Linux 5.6`, details: ['before 5.6 Android used ION (/dev/ion), removed in 5.11'],
      next: ['upgrade to a kernel ≥ 5.6 (an LTS: 6.1, 6.6, 6.12, 6.18)'],
    };
  }
  return { id: 'os', status: 'ok', summary: `${where}: DMA-BUF heaps exist since 5.6`, details: [], next: [] };
}

function checkContainer(c: Ctx): Check {
  const ev = c.host.container;
  if (ev.length === 0) return { id: 'container', status: 'ok', summary: 'not in a container (no /.dockerenv, /run/.containerenv or container cgroup)', details: [], next: [] };
  const haveHeaps = c.heaps !== null && c.heaps.length > 0;
  if (!haveHeaps && c.kconfig !== null && (c.kconfig.get('CONFIG_DMABUF_HEAPS') ?? 'n') === 'n') {
    return {
      id: 'container', status: 'ok', summary: 'in a container, but the kernel it shares with the host has no heaps at all (see kernel-config): nothing to pass through',
      details: ev.map((e) => `evidence: ${e}`), next: [],
    };
  }
  return {
    id: 'container',
    status: haveHeaps ? 'ok' : 'warn',
    summary: haveHeaps ? 'in a container, with heaps passed through' : 'in a container: /dev/dma_heap must be passed through from the host',
    details: ev.map((e) => `evidence: ${e}`),
    next: haveHeaps
      ? ['the heap nodes keep the host\'s owner and group ids: add the node\'s group with --group-add <gid> (ls -ln /dev/dma_heap on the host)']
      : [
        'docker/podman: run with --device /dev/dma_heap/system (one --device per heap you use) and --group-add $(stat -c %g /dev/dma_heap/system)',
        'Kubernetes: a device plugin, or a privileged pod with a hostPath for /dev/dma_heap',
        'LXC/Incus: pass the nodes as unix-char devices (incus config device add <c> heap unix-char path=/dev/dma_heap/system)',
        'check on the host first: ls -l /dev/dma_heap (then dmaheap doctor there); udmabuf works the same way (--device /dev/udmabuf)',
      ],
  };
}

function checkDevDir(c: Ctx): Check {
  const { t } = c;
  const r = t.readdir('/dev/dma_heap');
  const cls = t.readdir('/sys/class/dma_heap');
  const registered = cls.names ?? null;
  if (r.names !== null && r.names.length > 0) {
    c.heaps = [...r.names];
    return { id: 'dev-dma-heap', status: 'ok', summary: `/dev/dma_heap has ${c.heaps.length} heap${c.heaps.length === 1 ? '' : 's'}: ${c.heaps.join(', ')}`, details: [], next: [] };
  }
  c.heaps = r.names === null ? null : [];
  const details: string[] = [];
  const next: string[] = [];
  if (registered !== null && registered.length > 0) {
    details.push(`/sys/class/dma_heap lists ${registered.join(', ')}: the kernel registered heaps, but no device nodes were created`);
    next.push('devtmpfs is not mounted on /dev, or this is a container without the nodes (see the container check)');
  } else if (r.errno === 'EACCES') {
    details.push('/dev/dma_heap exists but cannot be listed (EACCES)');
    next.push('ls -ld /dev/dma_heap: the directory should be 0755 root:root');
  } else if (c.kconfig !== null && (c.kconfig.get('CONFIG_DMABUF_HEAPS') ?? 'n') === 'n') {
    details.push(`the kernel is built without CONFIG_DMABUF_HEAPS (${c.kconfigSource}): no heap can exist`);
    next.push('use a kernel built with CONFIG_DMABUF_HEAPS=y and CONFIG_DMABUF_HEAPS_SYSTEM=y (and _CMA=y for contiguous memory): see kernel-config');
  } else if (c.kconfig !== null && (c.kconfig.get('CONFIG_DMABUF_HEAPS_SYSTEM') ?? 'n') === 'n' && (c.kconfig.get('CONFIG_DMABUF_HEAPS_CMA') ?? 'n') === 'n') {
    details.push(`the kernel has the heaps framework but no heap driver: CONFIG_DMABUF_HEAPS_SYSTEM and CONFIG_DMABUF_HEAPS_CMA are not set (${c.kconfigSource})`);
    next.push('use a kernel built with CONFIG_DMABUF_HEAPS_SYSTEM=y (and CONFIG_DMABUF_HEAPS_CMA=y for contiguous memory)');
  } else {
    details.push(registered === null ? '/sys/class/dma_heap does not exist either: the kernel has no heaps framework, or the heaps are modules that are not loaded' : '/sys/class/dma_heap is empty: the framework is there but no heap registered');
    next.push('check the kernel configuration (the kernel-config check below): CONFIG_DMABUF_HEAPS=y and CONFIG_DMABUF_HEAPS_SYSTEM / _CMA');
    next.push('built as modules? sudo modprobe system_heap; sudo modprobe cma_heap');
    next.push('a CMA heap also needs a CMA area: cma=64M on the command line or a linux,cma-default region in the device tree');
  }
  return {
    id: 'dev-dma-heap', status: 'fail',
    summary: r.errno === 'EACCES' ? '/dev/dma_heap cannot be listed (EACCES)' : r.names === null ? '/dev/dma_heap does not exist (ENOENT): every heap open will fail with ENOENT' : '/dev/dma_heap is empty',
    details, next,
  };
}

function checkAccess(c: Ctx): Check {
  const { t, host } = c;
  const fc = fcntlConstants(t.arch);
  if (c.heaps === null || c.heaps.length === 0) return { id: 'heap-access', status: 'warn', summary: 'skipped: no heap nodes (see dev-dma-heap)', details: [], next: [] };
  c.nodes = c.heaps.map((name) => {
    const path = `/dev/dma_heap/${name}`;
    return { name, path, stat: host.stat(path), rdonly: tryOpen(t, path, fc.O_RDONLY | fc.O_CLOEXEC), rdwr: tryOpen(t, path, fc.O_RDWR | fc.O_CLOEXEC) };
  });
  const width = Math.max(...c.nodes.map((n) => n.path.length));
  const stats = c.nodes.map((n) => (n.stat === null ? 'stat failed' : `${modeString(n.stat.mode)} ${owner(host, n.stat)}`));
  const sw = Math.max(...stats.map((x) => x.length));
  const details = c.nodes.map((n, i) => `${n.path.padEnd(width)}  ${stats[i]!.padEnd(sw)}  O_RDONLY ${n.rdonly}, O_RDWR ${n.rdwr}`);
  const refused = (o: OpenOutcome) => o === 'EACCES' || o === 'EPERM';
  const notChar = c.nodes.filter((n) => n.stat !== null && (n.stat.mode & S_IFMT) !== S_IFCHR);
  /** Not even O_RDONLY. */
  const denied = c.nodes.filter((n) => refused(n.rdonly));
  /** O_RDONLY (what libdmabufheap and dmaheap's client use) but not O_RDWR (libcamera). */
  const readOnly = c.nodes.filter((n) => n.rdonly === 'ok' && refused(n.rdwr));
  const none = c.nodes.every((n) => n.rdonly !== 'ok');
  const next: string[] = [];
  const who = host.userName(host.uid) ?? '$USER';
  for (const n of notChar) details.push(`${n.path} is not a character device (${modeString(n.stat!.mode)}): a leftover file or a bad bind mount, not a heap`);

  if (host.uid === 0) {
    const rootOnly = c.nodes.filter((n) => n.stat !== null && (n.stat.mode & 0o066) === 0);
    if (rootOnly.length > 0) details.push(`running as root: ${rootOnly.map((n) => n.name).join(', ')} ${rootOnly.length === 1 ? 'is' : 'are'} root-only (0600); run doctor as your application's user to see what it gets`);
  }
  // a node whose group may read it: joining the group is the fix (or a new login)
  const groupReadable = denied.filter((n) => n.stat !== null && n.stat.gid !== 0 && ((n.stat.mode >> 3) & 4) !== 0);
  const joined = new Set<number>();
  for (const n of groupReadable) {
    const g = n.stat!.gid;
    if (joined.has(g)) continue;
    joined.add(g);
    const gname = host.groupName(g) ?? String(g);
    if (host.configuredGroups?.includes(g) === true) next.push(`you are in group ${gname} in /etc/group, but not in this session: log out and back in (or run: newgrp ${gname}); id -G must list ${g}`);
    else next.push(`${n.path} is ${modeString(n.stat!.mode)} ${owner(host, n.stat!)}: join its group: sudo usermod -aG ${gname} ${who}, then log out and back in (id -G must list ${g})`);
  }
  // nodes that need a udev rule: root-only ones, and group nodes without group write
  const rule = [...denied.filter((n) => !groupReadable.includes(n) || ((n.stat!.mode >> 3) & 2) === 0), ...readOnly];
  if (readOnly.length > 0) next.push(`${readOnly.map((n) => n.name).join(', ')}: O_RDONLY works (enough for libdmabufheap and dmaheap) but O_RDWR is refused (libcamera opens O_RDWR): make ${readOnly.length === 1 ? 'it' : 'them'} MODE="0660"`);
  if (rule.length > 0) {
    next.push(`give a group access with a udev rule in /etc/udev/rules.d/72-dma-heap.rules (devtmpfs creates the nodes 0600 root:root):`);
    for (const n of rule) {
      const g = n.stat !== null && n.stat.gid !== 0 ? (host.groupName(n.stat.gid) ?? 'video') : 'video';
      next.push(`  SUBSYSTEM=="dma_heap", KERNEL=="${n.name}", GROUP="${g}", MODE="0660"`);
    }
    next.push(`reload the rules and re-apply them to the nodes: ${UDEV_RELOAD}`);
    const video = 44;
    const inVideo = host.gid === video || host.groups.includes(video);
    if (!inVideo && !joined.has(video) && rule.some((n) => n.stat === null || n.stat.gid === 0)) {
      next.push(`and join the group: sudo usermod -aG video ${who}, then log out and back in (id -G must list the video group's id${host.groupName(video) === 'video' ? ', 44' : ''})`);
    }
    next.push('mind why distributions do not do this by default: heap memory is not charged to the memory cgroup, so any member can pin memory outside its limits');
  }
  if (notChar.length > 0) next.push(`remove the stray file${notChar.length === 1 ? '' : 's'} and let devtmpfs/udev create the nodes (in a container: --device /dev/dma_heap/<name>)`);

  let status: Status = 'ok';
  let summary = `${host.uid === 0 ? 'root' : `uid ${host.uid}`} can open ${c.nodes.length === 1 ? 'the heap' : c.nodes.length === 2 ? 'both heaps' : `all ${c.nodes.length} heaps`} read-write`;
  if (none) {
    status = 'fail';
    const err = c.nodes[0]!.rdonly;
    summary = `uid ${host.uid} cannot open ${c.nodes.length === 1 ? 'the heap' : `any of the ${c.nodes.length} heaps`} (${c.nodes.every((n) => n.rdonly === err) ? err : 'see below'})`;
  } else if (denied.length > 0 || readOnly.length > 0 || notChar.length > 0) {
    status = 'warn';
    const bad = new Set([...denied, ...readOnly, ...notChar]);
    summary = `uid ${host.uid} cannot fully open ${bad.size} of ${c.nodes.length} heaps`;
  }
  return { id: 'heap-access', status, summary, details, next };
}

/** The Kconfig symbols doctor explains, in order. */
const KCONFIG: readonly { sym: string; what: string; need: 'required' | 'wanted' | 'info' }[] = [
  { sym: 'CONFIG_DMABUF_HEAPS', what: 'the heaps framework (/dev/dma_heap)', need: 'required' },
  { sym: 'CONFIG_DMABUF_HEAPS_SYSTEM', what: 'the system heap (page allocator)', need: 'wanted' },
  { sym: 'CONFIG_DMABUF_HEAPS_CMA', what: 'CMA heaps (physically contiguous)', need: 'wanted' },
  { sym: 'CONFIG_CMA', what: 'the Contiguous Memory Allocator', need: 'wanted' },
  { sym: 'CONFIG_DMABUF_SYSFS_STATS', what: 'per-buffer stats in /sys/kernel/dmabuf (deprecated; gone in 7.0)', need: 'info' },
  { sym: 'CONFIG_UDMABUF', what: '/dev/udmabuf (memfd → dma-buf)', need: 'info' },
];

function checkKconfig(c: Ctx): Check {
  const { t, host } = c;
  let text: string | null = null;
  let source: string | null = null;
  const gz = host.readBytes('/proc/config.gz');
  const tried: string[] = [];
  if (gz !== null) {
    try {
      // bounded as --kconfig reads it: a .config is far below KCONFIG_LIMITS.maxBytes
      text = gunzipSync(gz, { maxOutputLength: KCONFIG_LIMITS.maxBytes }).toString('latin1');
      source = '/proc/config.gz';
    } catch (e) {
      const big = (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError;
      tried.push(`/proc/config.gz (${big ? `more than ${KCONFIG_LIMITS.maxBytes} bytes once gunzip'd` : 'not gzip'})`);
    }
  } else tried.push('/proc/config.gz (absent: CONFIG_IKCONFIG_PROC)');
  const boot = `/boot/config-${t.release}`;
  if (text === null) {
    const b = host.readBytes(boot);
    if (b !== null) {
      text = Buffer.from(b).toString('latin1');
      source = boot;
    } else tried.push(`${boot} (absent)`);
  }
  if (text === null) {
    return {
      id: 'kernel-config', status: 'warn', summary: 'the kernel configuration cannot be read', details: tried.map((x) => `tried ${x}`),
      next: ['sudo modprobe configs (CONFIG_IKCONFIG_PROC=m) makes /proc/config.gz appear', `or check the config the kernel was built from for ${KCONFIG.slice(0, 4).map((k) => k.sym).join(', ')}`],
    };
  }
  const cfg = parseKconfig(text);
  c.kconfig = cfg;
  c.kconfigSource = source;
  const details: string[] = [];
  const next: string[] = [];
  let status: Status = 'ok';
  const left = (sym: string, v: string) => (v === 'n' ? `${sym} not set` : `${sym}=${v}`);
  const width = Math.max(...KCONFIG.map((k) => left(k.sym, cfg.get(k.sym) ?? 'n').length)) + 2;
  for (const k of KCONFIG) {
    const v = cfg.get(k.sym) ?? 'n';
    let line = `${left(k.sym, v).padEnd(width)}${k.what}`;
    if (k.sym === 'CONFIG_DMABUF_SYSFS_STATS' && v === 'n' && atLeast(c.version, 7, 0)) line += '; top/dump use debugfs (root) or fdinfo';
    details.push(line);
    if (v === 'n' && k.need === 'required') {
      status = 'fail';
      next.push(`rebuild the kernel with ${k.sym}=y (Device Drivers → DMABUF options → DMA-BUF Userland Memory Heaps)`);
    } else if (v === 'n' && k.need === 'wanted') {
      if (status === 'ok') status = 'warn';
    } else if (v === 'm' && k.sym.startsWith('CONFIG_DMABUF_HEAPS_')) {
      next.push(`${k.sym}=m: load it with sudo modprobe ${k.sym === 'CONFIG_DMABUF_HEAPS_CMA' ? 'cma_heap' : 'system_heap'}`);
    }
  }
  const wanted = KCONFIG.filter((k) => k.need === 'wanted' && (cfg.get(k.sym) ?? 'n') === 'n').map((k) => `${k.sym}=y`);
  if (wanted.length > 0) next.push(`${status === 'fail' ? 'and' : 'enable'} ${wanted.join(', ')} for the heaps you need (system: page allocator; CMA: physically contiguous)`);
  const missing = KCONFIG.filter((k) => k.need !== 'info' && (cfg.get(k.sym) ?? 'n') === 'n').length;
  return {
    id: 'kernel-config', status,
    summary: `from ${source}: ${status === 'ok' ? 'heaps, system, CMA heaps and CMA enabled' : `${missing} of 4 heap options not set`}`,
    details, next,
  };
}

/** The default CMA heap's names on a kernel version, for a command-line area or a DT region `dt` (src/api/missing-heap.ts). */
const defaultCmaNames = defaultCmaHeapNames;

function checkCmaNaming(c: Ctx): Check {
  const { t } = c;
  // what the client's "no heap named …" error reads too (src/api/missing-heap.ts)
  const f = readHeapNamingFacts(t, c.heaps);
  if (f.cmdline === null) return { id: 'cma-naming', status: 'warn', summary: `cannot read /proc/cmdline (${f.cmdlineErrno ?? 'EIO'})`, details: [], next: [] };
  const cma = f.cmdlineCma;
  const RM = '/sys/firmware/devicetree/base/reserved-memory';
  const heaps = c.heaps ?? [];
  const have = (n: string) => heaps.includes(n);
  const list = (ns: readonly string[]) => ns.map((n) => `${n} (${have(n) ? 'present' : 'absent'})`).join(', ');
  const v = c.version;
  const dt = f.dtCmaDefault;
  const heapsLine = `heaps now: ${heaps.length === 0 ? 'none' : heaps.join(', ')}`;

  if (cma !== null && dt !== null) {
    const expected = defaultCmaNames(v, null);
    const gone = !have(dt);
    const details = [
      `/proc/cmdline has cma=${cma}; the device tree has ${RM.replace('/sys/firmware/devicetree/base', '')}/${dt} with linux,cma-default`,
      atLeast(v, 6, 19)
        ? `Linux ≥ 6.19 skips that region entirely ("Skipping dt linux,cma-default for "cma=" kernel param."): its memory is not reserved and there is no heap named ${dt}`
        : `Linux ≤ 6.18 bypasses that region ("Reserved memory: bypass ${dt} node, using cmdline CMA params instead"): the command-line area replaces it, and there is no heap named ${dt}`,
      `the default CMA heap is the command-line area: ${list(expected)}${atLeast(v, 6, 17) ? '' : '; from 6.17 it is called default_cma_region'}`,
      heapsLine,
    ];
    return {
      id: 'cma-naming', status: gone ? 'warn' : 'ok',
      summary: `cma=${cma} overrides the device tree's default CMA region ${dt}: the CMA heap is ${expected.filter(have).join(' / ') || expected.join(' / ')}, not ${dt}`,
      details,
      next: [
        `code that opens /dev/dma_heap/${dt} fails with ENOENT: open ${expected[0]} instead, or try ${[...new Set([dt, 'default_cma_region', 'reserved'])].join(', ')} in turn`,
        `or remove cma=${cma} from the kernel command line (Raspberry Pi OS: /boot/firmware/cmdline.txt) and size the region in the device tree, to get ${dt} back`,
        'preview a combination: dmaheap heaps --board <your.dts> --cmdline \'cma=…\' --profile <version>',
      ],
    };
  }
  if (cma !== null) {
    const expected = defaultCmaNames(v, null);
    const found = expected.filter(have);
    return {
      id: 'cma-naming', status: found.length > 0 ? 'ok' : 'warn',
      summary: `cma=${cma}: the default CMA heap is the command-line area, named ${expected.join(' and ')}${found.length === 0 ? ', but no such heap exists' : ''}`,
      details: [`expected: ${list(expected)}`, heapsLine, ...(atLeast(v, 6, 17) ? [] : ['from Linux 6.17 the same heap is called default_cma_region'])],
      next: found.length > 0 ? ['open the heap by its stable name (default_cma_region from 6.17) and fall back to reserved on older kernels'] : ['no CMA heap: CONFIG_DMABUF_HEAPS_CMA missing, or the area could not be placed (dmesg | grep -i cma)'],
    };
  }
  if (dt !== null) {
    const expected = defaultCmaNames(v, dt);
    return {
      id: 'cma-naming', status: expected.some(have) ? 'ok' : 'warn',
      summary: `the device tree's default CMA region ${dt} is the default CMA heap, named ${expected.join(' and ')}`,
      details: [`expected: ${list(expected)}`, heapsLine, `adding cma= to the command line would replace it: the heap would be called ${defaultCmaNames(v, null).join(' / ')}, and ${dt} would disappear`],
      next: [],
    };
  }
  const cmaHeaps = heaps.filter((h) => !h.startsWith('system'));
  return {
    id: 'cma-naming', status: cmaHeaps.length > 0 ? 'ok' : 'warn',
    summary: cmaHeaps.length > 0 ? `no cma= and no device-tree default region; other heaps: ${cmaHeaps.join(', ')}` : 'no default CMA area (no cma=, no device-tree linux,cma-default): no physically contiguous heap',
    details: [heapsLine],
    next: cmaHeaps.length > 0 ? [] : ['for contiguous buffers (cameras, displays without an IOMMU) add cma=64M to the kernel command line, or a reusable shared-dma-pool region with linux,cma-default to the device tree'],
  };
}

function checkUdmabuf(c: Ctx): Check {
  const { t, host } = c;
  const usable = c.nodes.some((n) => n.rdwr === 'ok' || n.rdonly === 'ok');
  const st = host.stat('/dev/udmabuf');
  const cfg = c.kconfig?.get('CONFIG_UDMABUF') ?? null;
  if (st === null) {
    return {
      id: 'udmabuf', status: usable ? 'ok' : 'warn',
      summary: '/dev/udmabuf does not exist (the memfd → dma-buf fallback libcamera and QEMU use)',
      details: cfg === null ? [] : [cfg === 'n' ? 'CONFIG_UDMABUF not set' : `CONFIG_UDMABUF=${cfg}`],
      next: cfg === 'm' ? ['sudo modprobe udmabuf'] : cfg === 'n' ? ['optional: a kernel with CONFIG_UDMABUF=y gives dma-bufs without a heap'] : [],
    };
  }
  const fc = fcntlConstants(t.arch);
  const r = tryOpen(t, '/dev/udmabuf', fc.O_RDWR | fc.O_CLOEXEC);
  const line = `/dev/udmabuf  ${modeString(st.mode)} ${owner(host, st)}  O_RDWR ${r}`;
  if (r === 'ok') return { id: 'udmabuf', status: 'ok', summary: 'you can open /dev/udmabuf (memfd → dma-buf)', details: [line], next: [] };
  return {
    id: 'udmabuf', status: usable ? 'ok' : 'warn',
    summary: `/dev/udmabuf exists but you cannot open it (${r})`,
    details: [line],
    next: [
      'udev rule: SUBSYSTEM=="misc", KERNEL=="udmabuf", GROUP="video", MODE="0660" (systemd ≥ 257 gives console users access with uaccess)',
      `then: sudo udevadm control --reload-rules && sudo udevadm trigger --sysname-match=udmabuf`,
    ],
  };
}

/** What an errno of DMA_HEAP_IOCTL_ALLOC means. */
function explainAlloc(e: ErrnoName): { text: string; next: string } {
  switch (e) {
    case 'ENOTTY':
      return { text: 'ENOTTY: the node does not answer the dma-heap ioctl', next: 'ENOTTY means this fd is not a dma-heap: a plain file or another device under that name (check the node\'s major in /proc/devices: dma_heap), /dev/ion on a pre-5.6 kernel, or an ioctl number built for another struct size' };
    case 'EINVAL':
      return { text: 'EINVAL: the kernel rejected the arguments', next: 'EINVAL: fd_flags other than O_RDWR/O_CLOEXEC, heap_flags ≠ 0, or a length of 0 — or a vendor heap that wants other sizes' };
    case 'EACCES':
    case 'EPERM':
      return { text: `${e}: permission denied`, next: `${e}: see heap-access; protected (restricted,*) heaps also refuse normal users` };
    case 'ENOMEM':
      return { text: 'ENOMEM: the heap is out of memory', next: 'ENOMEM for 4 KiB: the CMA area is full or fragmented (cat /proc/meminfo | grep Cma); a larger cma= helps' };
    default:
      return { text: e, next: `${e}: unexpected; dmesg may say more` };
  }
}

function checkSelftest(c: Ctx): Check {
  const { t, host } = c;
  if (host.ioctlUnavailable !== null) return { id: 'alloc-selftest', status: 'warn', summary: `skipped: ${host.ioctlUnavailable}`, details: [], next: ['the allocation test needs the Linux backend (src/backends/linux)'] };
  const openable = c.nodes.filter((n) => n.rdonly === 'ok');
  if (openable.length === 0) return { id: 'alloc-selftest', status: 'warn', summary: 'skipped: no heap can be opened (see heap-access)', details: [], next: [] };
  const fc = fcntlConstants(t.arch);
  const details: string[] = [];
  const next = new Set<string>();
  let bad = 0;
  let good = 0;
  const width = Math.max(...openable.map((n) => n.name.length));
  for (const n of openable) {
    const h = t.open(n.path, fc.O_RDONLY | fc.O_CLOEXEC);
    if (h.errno !== null) {
      details.push(`${n.name.padEnd(width)}  open: ${h.errno}`);
      continue;
    }
    const arg = new Uint8Array(DMA_HEAP_ALLOCATION_DATA.size);
    const dv = new DataView(arg.buffer);
    dv.setBigUint64(0, 4096n, true);
    dv.setUint32(12, fc.O_RDWR | fc.O_CLOEXEC, true);
    const r = t.ioctl(h.ret, DMA_HEAP_IOCTL_ALLOC, arg);
    if (r.errno === null && r.out !== null) {
      const fd = new DataView(r.out.buffer, r.out.byteOffset, r.out.byteLength).getUint32(8, true);
      t.close(fd);
      good++;
      details.push(`${n.name.padEnd(width)}  ok: 4 KiB dma-buf (fd ${fd}, closed again)`);
    } else {
      const x = explainAlloc(r.errno ?? 'EIO');
      details.push(`${n.name.padEnd(width)}  ${x.text}`);
      next.add(x.next);
      bad++;
    }
    t.close(h.ret);
  }
  const status: Status = good === 0 ? 'fail' : bad > 0 ? 'warn' : 'ok';
  return {
    id: 'alloc-selftest', status,
    summary: `DMA_HEAP_IOCTL_ALLOC of 4 KiB: ${good} of ${openable.length} heap${openable.length === 1 ? '' : 's'} answered with a buffer`,
    details, next: [...next],
  };
}

function checkAccounting(c: Ctx): Check {
  const { t, host } = c;
  const bufinfo = t.readFile('/sys/kernel/debug/dma_buf/bufinfo');
  const sysfs = t.readdir('/sys/kernel/dmabuf/buffers');
  const pids = (t.readdir('/proc').names ?? []).filter((n) => /^[1-9]\d*$/.test(n));
  // processes with open files whose fdinfo this user can read (one without files tells nothing)
  let readable = 0;
  let withFiles = 0;
  const deniedPids: string[] = [];
  const denied = (e: ErrnoName | null) => e === 'EACCES' || e === 'EPERM';
  for (const p of pids) {
    const dir = t.readdir(`/proc/${p}/fdinfo`);
    if (dir.names === null) {
      if (denied(dir.errno)) {
        withFiles++;
        deniedPids.push(p);
      }
      continue; // gone meanwhile
    }
    const first = dir.names.find((f) => /^\d+$/.test(f));
    if (first === undefined) continue;
    const r = t.readFile(`/proc/${p}/fdinfo/${first}`);
    if (r.text !== null) {
      withFiles++;
      readable++;
    } else if (denied(r.errno)) {
      withFiles++;
      deniedPids.push(p);
    }
  }
  const list = bufinfo.text !== null ? 'debugfs bufinfo' : sysfs.names !== null ? 'sysfs /sys/kernel/dmabuf/buffers' : null;
  const details = [
    `/sys/kernel/debug/dma_buf/bufinfo: ${bufinfo.text !== null ? 'readable' : `${bufinfo.errno}${bufinfo.errno === 'EACCES' ? ' (debugfs is root-only)' : bufinfo.errno === 'ENOENT' ? ' (debugfs not mounted, or CONFIG_DEBUG_FS off)' : ''}`}`,
    `/sys/kernel/dmabuf/buffers: ${sysfs.names !== null ? 'present' : `${sysfs.errno} (CONFIG_DMABUF_SYSFS_STATS${atLeast(c.version, 7, 0) ? ', removed in 7.0' : ''})`}`,
    withFiles === 0 ? '/proc/<pid>/fdinfo: no process has open files' : `/proc/<pid>/fdinfo readable for ${readable} of ${withFiles} processes with open files`,
  ];
  if (deniedPids.length > 0) {
    const shown = deniedPids.slice(0, 5).map((p) => `${p} (${(t.readFile(`/proc/${p}/comm`).text ?? '?').trim()})`);
    details.push(`denied: ${shown.join(', ')}${deniedPids.length > 5 ? `, and ${deniedPids.length - 5} more` : ''}${host.uid === 0 ? ' (root without CAP_SYS_PTRACE, e.g. in a container, cannot read every process)' : ''}`);
  }
  const all = readable === withFiles;
  const ok = all && list !== null;
  return {
    id: 'accounting', status: ok ? 'ok' : 'warn',
    summary: `dmaheap top/dump see ${all ? 'every' : `${readable} of ${withFiles}`} process${all ? '' : 'es'}; system-wide buffer list: ${list ?? 'none (kernel-only share unknown)'}`,
    details,
    next: ok ? [] : [host.uid === 0 ? 'mount debugfs: sudo mount -t debugfs none /sys/kernel/debug' : 'run as root to see every process and the debugfs list: sudo dmaheap top'],
  };
}

/** The Android branch facts doctor reports, in this order (src/kernel/android.ts, docs/android.md). */
const ANDROID_REPORTED: readonly AndroidFactKey[] = ['systemHeapDeferredFree', 'systemHeapPagePools', 'systemUncachedHeap', 'totalPoolsKb', 'dmabufSysfsStats', 'vendorHeapFlags'];

/** One fact for people: its meaning, its value and its source, or "unknown" and why. */
export function androidFactText(f: AndroidFact): string {
  const label = ANDROID_FACT_LABELS[f.key];
  if (f.value === UNKNOWN) return `${label}: unknown (${f.note})`;
  const v = f.value === true ? 'yes' : f.value === false ? 'no' : typeof f.value === 'string' ? f.value : `orders ${f.value.join(', ')}`;
  return `${label}: ${v} (source: ${f.source ?? ''})`;
}

/**
 * What the Android GKI branch adds to its mainline version, when the machine runs one: an
 * emulated `--profile android<N>-<version>`, or a real kernel whose release is a GKI one
 * (`5.10.198-android12-9-…`, the gki-versioning scheme). Null for any other kernel.
 */
function checkAndroid(c: Ctx): Check | null {
  const { t } = c;
  const gki = parseGkiRelease(t.release);
  const name = t.androidBranch ?? gki?.branch ?? null;
  if (name === null) return null;
  const how = t.androidBranch !== undefined && t.androidBranch !== null ? `--profile ${name}` : `the release ${t.release}`;
  const b = androidBranch(name);
  if (b === null) {
    return {
      id: 'android', status: 'ok', summary: `Android GKI branch ${name} (from ${how}): what it adds to mainline ${gki?.mainline ?? '?'} is unknown`,
      details: [`the branches with facts: ${ANDROID_BRANCH_NAMES.join(', ')}`], next: ['docs/android.md lists what each known branch adds, with sources'],
    };
  }
  const facts = ANDROID_REPORTED.map((k) => androidFact(b, k));
  const details = facts.map(androidFactText);
  const deferred = androidFact(b, 'systemHeapDeferredFree').value === true;
  const pools = Array.isArray(androidFact(b, 'systemHeapPagePools').value);
  if (deferred || pools) {
    details.push(`so: closing the last fd of a system-heap buffer does not raise MemFree at once: ${deferred ? 'the deferred-free thread zeroes it later, and ' : ''}its pages stay in the system heap's page pools until memory pressure; /sys/kernel/dma_heap/total_pools_kb shows the pools`);
  }
  if (t.backend === 'emulated') {
    const modelled = [b.emulated.systemUncachedHeap ? 'the system-uncached heap' : null, b.emulated.kmiGeneration !== null ? 'the GKI release text' : null].filter((x) => x !== null);
    details.push(`emulated: Linux ${b.mainline} (mainline profile)${modelled.length > 0 ? ` plus ${modelled.join(' and ')}` : ''}; the other facts are reported, not emulated (docs/fidelity.md, android-gki)`);
  } else {
    const r = t.readFile('/sys/kernel/dma_heap/total_pools_kb');
    details.push(`/sys/kernel/dma_heap/total_pools_kb now: ${r.text !== null ? `${r.text.trim()} KiB` : r.errno ?? 'unreadable'}`);
  }
  const unknowns = facts.filter((f) => f.value === UNKNOWN).length;
  return {
    id: 'android', status: 'ok',
    summary: `Android GKI branch ${name} (from ${how}), mainline ${b.mainline}: ${facts.length - unknowns} of ${facts.length} facts known, ${unknowns} unknown`,
    details, next: ['docs/android.md lists every fact of every branch with its source'],
  };
}

/** Runs every check, in order; after a failed OS check the others are left out. */
export function runDoctor(t: DoctorTarget, host: HostFacts, note: string | null = null): DoctorReport {
  const c: Ctx = { t, host, version: kernelVersion(t.release), heaps: null, nodes: [], kconfig: null, kconfigSource: null };
  const checks: Check[] = [checkOs(c)];
  if (checks[0]!.status !== 'fail' || host.platform === 'linux') {
    // computed in dependency order, shown in reading order
    const kconfig = checkKconfig(c);
    const dev = checkDevDir(c);
    const android = checkAndroid(c);
    checks.push(checkContainer(c), dev, checkAccess(c), kconfig, ...(android === null ? [] : [android]), checkCmaNaming(c), checkUdmabuf(c), checkSelftest(c), checkAccounting(c));
  }
  const counts = { ok: 0, warn: 0, fail: 0 };
  for (const ch of checks) counts[ch.status]++;
  return {
    machine: host.label, backend: t.backend, release: t.release, arch: t.arch, note,
    user: { uid: host.uid, gid: host.gid, groups: host.groups, id: idText(host) },
    checks, counts,
  };
}

const TAG: Readonly<Record<Status, string>> = { ok: '[ ok ]', warn: '[warn]', fail: '[FAIL]' };

/** The report for people: one line per check, its facts indented, then "next:" steps. */
export function printDoctor(r: DoctorReport): string {
  const out: string[] = [];
  if (r.note !== null) out.push(`note: ${r.note}`);
  out.push(`dmaheap doctor: ${r.machine} (Linux ${r.release} ${r.arch}, backend ${r.backend}), ${r.user.id}`);
  out.push('');
  const w = Math.max(...r.checks.map((c) => c.id.length));
  for (const c of r.checks) {
    out.push(`${TAG[c.status]} ${c.id.padEnd(w)}  ${c.summary}`);
    const pad = ' '.repeat(7 + w + 2);
    for (const d of c.details) out.push(`${pad}${d}`);
    for (const [i, n] of c.next.entries()) out.push(`${pad}${i === 0 ? 'next: ' : '      '}${n}`);
  }
  out.push('');
  out.push(`${r.counts.ok} ok, ${r.counts.warn} warning${r.counts.warn === 1 ? '' : 's'}, ${r.counts.fail} failure${r.counts.fail === 1 ? '' : 's'}`);
  return out.join('\n');
}
