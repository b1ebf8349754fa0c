/**
 * procfs, mounted on /proc: meminfo, cmdline, config.gz, sys/kernel/osrelease, the `self` link
 * and a directory per process. Names it does not have are ENOENT from its own lookup (procfs
 * keeps no negative dentries, so O_CREAT and mkdir of a new name are ENOENT too, and no name is
 * too long). getdents lists the fixed entries in proc_dir_entry order (by length, then name),
 * then `self`, then the pids.
 *
 * @kernel fs/proc/root.c (proc_root_lookup, proc_root_readdir), fs/proc/generic.c (proc_match, pde_subdir_insert), fs/proc/self.c, fs/proc/base.c (proc_pid_lookup, proc_pid_readdir), kernel/configs.c, fs/proc/cmdline.c, kernel/sysctl.c (osrelease)
 */
import { configGzText } from '../../kconfig.js';
import type { KernelBuild } from '../../kconfig.js';
import type { Profile } from '../../profile.js';
import { symlinkInode, TableDir } from '../libfs.js';
import type { Process } from '../process.js';
import { Dentry } from '../vfs.js';
import type { SuperBlock } from '../vfs.js';
import { tgidDir } from './base.js';
import type { ProcTaskHost } from './base.js';
import { meminfoText } from './meminfo.js';
import type { MeminfoFacts } from './meminfo.js';
import { nameToInt } from './util.js';

/** st_dev of procfs (0:20; docs/fidelity.md, mount-ids). */
export const PROC_DEV = 20;

/** What procfs needs from the kernel. */
export interface ProcfsHost extends ProcTaskHost, MeminfoFacts {
  /** The build configuration: /proc/config.gz exists with CONFIG_IKCONFIG_PROC. */
  readonly build: KernelBuild;
  readonly processes: ReadonlyMap<number, Process>;
  readonly profile: Profile;
  readonly cmdline: string;
}

/** Inode numbers of the fixed entries (the `self` link has its own, proc_alloc_inum() in proc_setup_self). */
const INO = { osrelease: 0x30001, meminfo: 0x30002, cmdline: 0x30003, configGz: 0x30004, self: 0x30005, sys: 0x30010, sysKernel: 0x30011 } as const;

/** proc_match() order: shorter names first, then by bytes. */
function pdeOrder(names: readonly string[]): string[] {
  return [...names].sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
}

export class Procfs implements SuperBlock {
  readonly type = 'proc';
  readonly dev = PROC_DEV;
  /** proc_fill_super(): s_blocksize 1024 (st_blksize of every /proc file, the referees') */
  readonly blksize = 1024;
  readonly root: Dentry;

  constructor(host: ProcfsHost) {
    const selfInode = symlinkInode(this, INO.self, (proc) => String(proc.pid));
    const root = new TableDir('/', null, {
      sb: this, ino: 1, mode: 0o555, missing: 'enoent',
      lookupDynamic: (dir, name) => {
        if (name === 'self') return new Dentry('self', dir, selfInode);
        const pid = nameToInt(name);
        const p = pid === null ? undefined : host.processes.get(pid);
        return p === undefined ? null : tgidDir(this, host, dir, p);
      },
      listDynamic: () => ['self', ...[...host.processes.keys()].sort((a, b) => a - b).map(String)],
      order: (table, dynamic) => [...pdeOrder(table), ...dynamic],
    });
    this.root = root.dentry;
    const sys = root.dir('sys', { ino: INO.sys, mode: 0o555 });
    const kernel = sys.dir('kernel', { ino: INO.sysKernel, mode: 0o555 });
    kernel.file('osrelease', { mode: 0o444, ino: INO.osrelease, poll: 'default', show: () => `${host.profile.release}\n` });
    root.file('meminfo', { mode: 0o444, ino: INO.meminfo, poll: 'default', show: () => meminfoText(host) });
    root.file('cmdline', { mode: 0o444, ino: INO.cmdline, poll: 'default', show: () => `${host.cmdline}\n` });
    // kernel/configs.c (CONFIG_IKCONFIG_PROC): the build's .config, gzip-compressed (kconfig.ts)
    const gz = configGzText(host.build);
    if (gz !== null) root.file('config.gz', { mode: 0o444, ino: INO.configGz, poll: 'default', show: () => gz });
  }
}
