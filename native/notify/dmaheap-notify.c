/*
 * dmaheap-notify: the supervisor's answers to the calls it need not think about (`dmaheap run`,
 * docs/run.md "The notification helper").
 *
 * The supervisor (src/backends/run/supervisor.ts) waits for seccomp notifications and hands each
 * one to the bridge, in JavaScript. Many of them are calls the bridge lets the host run
 * (SECCOMP_USER_NOTIF_FLAG_CONTINUE) after looking at them: the dynamic loader's open, read,
 * fstat, mmap, mprotect and close of the libraries of every program started, and every call of a
 * static program on its own files. For a process the bridge has marked *plain* (its mirror holds
 * no emulated file, no emulated mapping and no emulated working directory, and no recvmsg or
 * credential change waits for the bridge to look), this loop, called from the supervisor through koffi, answers those calls
 * itself and returns only with a notification the bridge must see:
 *
 * - a call on an fd (read, write, fstat, close, dup*, getdents64, ...): every fd of a plain
 *   process is the host's; fcntl too, except the commands the bridge answers for the emulated
 *   version (F_NOTIFY, F_DUPFD_QUERY, F_CREATED_QUERY); ioctl except on fd -1 (the preload shim's
 *   registration) and of the dma-heap, dma-buf and udmabuf types (the bridge refuses those on the
 *   host's own devices);
 * - mmap, munmap, mprotect and madvise: none can touch an emulated mapping; getcwd: the working
 *   directory is the host's;
 * - a call on a name (open, stat, access, readlink and their *at forms) when the name is absolute
 *   and its walk never passes through /dev, /sys or /proc (what the preload shim checks too), or is
 *   relative to an fd (the host's); a name relative to the working directory goes to the bridge;
 * - with DH_LIFECYCLE (the supervisor sets it unless --trace records every call): a fork, vfork,
 *   clone or clone3 (a new thread shares its process's mirror; a new process is logged, and the
 *   bridge forks the parent's mirror from the log before it serves anything, so the child's
 *   mirror is the parent's at the fork: plain, as the parent was), and an execve or execveat
 *   (logged: the bridge looks at the new image at the process's next call it serves; a plain
 *   process stays plain through an exec, which closes none of its emulated files as it has none);
 * - with DH_EXIT (unless --trace): exit_group, whose end the supervisor sees on the pidfd;
 * - with DH_SERVE (unless --trace): uname, answered with the emulated machine's struct utsname;
 * - with DH_LIFECYCLE, a chdir to a host directory and fchdir (logged: the bridge reads the
 *   working directory again when a relative name needs it);
 * - with DH_REGISTER (the preload shim in use, no --trace): the shim's registration, answered
 *   here (take_shim_memfd), its memfd logged for the bridge to map when it next serves the
 *   process.
 *
 * - with DH_LIFECYCLE, the first call of a process the bridge does not know yet, when it is the
 *   child of a parent whose forks still waiting for their child are all plain processes' (the
 *   bridge's list, and the forks let through here since): the child is as plain as the parent
 *   was at the fork, its call is answered as a plain process's, and the bridge makes its mirror
 *   from the log (EV_CHILD, with the parent's pid from PIDFD_GET_INFO).
 *
 * Each of these saves a round trip through the bridge for every program a shell starts: the
 * fork, the child's first call, the exec, the new image's first call, the registration and the
 * exit. Such a program runs without the bridge; its mirror's life is read from the log.
 *
 * The set of plain thread ids is written by the supervisor after every call the bridge handles
 * (a process stops being plain only while the bridge serves one of its calls). Nothing else is
 * decided here: every other call, and every call of another process, goes to the bridge.
 *
 * Shipped prebuilt (native/prebuilt/linux-<arch>/dmaheap-notify.so, native/build.sh); by hand:
 * gcc -shared -fPIC -O2 -o dmaheap-notify.so dmaheap-notify.c
 * Without it the supervisor does the same in JavaScript, more slowly.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <linux/seccomp.h>

#ifndef SECCOMP_USER_NOTIF_FLAG_CONTINUE
#define SECCOMP_USER_NOTIF_FLAG_CONTINUE (1UL << 0)
#endif

/* the helper's interface version (dh_version): the supervisor refuses another */
#define DH_VERSION 2

/* dh_serve's flags: which of a plain process's lifecycle calls the helper may let through */
#define DH_LIFECYCLE 1u /* fork, vfork, clone, clone3 and execve, execveat: logged for the bridge */
#define DH_EXIT 2u      /* exit_group: the supervisor sees the process go by its pidfd */
#define DH_SERVE 4u     /* uname: answered here with the emulated machine's struct utsname */
#define DH_REGISTER 8u  /* the preload shim's registration: its memfd taken here, the bridge maps it later */

/*
 * The log of calls answered here that the bridge must know of, in the order they came: four
 * ints each (what, thread id, and for EV_REGISTER the shim's memfd as an fd of the supervisor).
 */
enum { EV_FORK = 1, EV_EXEC = 2, EV_CWD = 3, EV_REGISTER = 4, EV_CHILD = 5 };
#define EV_INTS 4

/*
 * dh_serve's arguments and results, in one struct the supervisor keeps in native memory
 * (src/backends/run/helper.ts HELPER_ARGS has the same layout): addresses as u64.
 */
struct dh_args {
  int32_t listener;
  int32_t nfds;       /* pollfds at `fds`: the listener, then the processes' pidfds */
  int32_t timeout_ms; /* poll's */
  int32_t nplain;     /* thread ids at `plain` */
  int32_t budget_us;  /* how long to keep answering, busy, before returning (the event loop is due) */
  uint32_t flags;     /* DH_* */
  int32_t nevents;    /* room at `events`, in entries of EV_INTS */
  int32_t turn_us;    /* from now, the event loop is due at the first moment no notification waits */
  uint64_t fds, req, plain, events, uts;
  /* the shim's registration (DH_REGISTER): the size its memfd has, and where in it the emulated page size goes */
  uint32_t reg_bytes, reg_page_off;
  uint32_t page_size, reg_info_off;
  /* (parent pid, pending forks) pairs: parents whose every fork the bridge has not matched with
   * its child yet is a plain process's (with DH_LIFECYCLE: EV_CHILD) */
  uint64_t claim;
  int32_t nclaim, pad3;
  /* increased here: calls answered (continued or served), those the mirror follows, entries logged, calls served */
  uint64_t answered, mirrored, logged, served;
};

/* what a call is, for a plain process */
enum {
  K_NONE = 0, /* the bridge's */
  K_FD,       /* on an fd: the host's */
  K_FCNTL,    /* fcntl: the host's, but for the commands the emulated version answers */
  K_IOCTL,    /* ioctl: the host's, but for fd -1 and the 'H', 'b', 'u' types */
  K_MEM,      /* mmap, munmap, mprotect, madvise */
  K_CWD,      /* getcwd: a plain process's working directory is the host's */
  K_PATH0,    /* a name in the first argument (relative to the working directory) */
  K_PATH1,    /* a dirfd in the first argument, a name in the second */
  K_FORK,     /* fork, vfork: a new process */
  K_CLONE,    /* clone: flags in the first argument */
  K_CLONE3,   /* clone3: flags in the struct clone_args the first argument points to */
  K_EXEC,     /* execve, execveat */
  K_EXIT,     /* exit_group */
  K_UNAME,    /* uname: the emulated machine's */
  K_CHDIR,    /* chdir: a host directory's name, logged (the bridge's idea of the working directory is stale) */
  K_FCHDIR,   /* fchdir: a plain process's fd is the host's, logged */
};

#define MAX_NR 512
static unsigned char kind[MAX_NR];

/* x86-64 and arm64 numbers (arch/x86/entry/syscalls/syscall_64.tbl; include/uapi/asm-generic/unistd.h) */
static void init_kinds(void) {
  static int done;
  if (done) return;
  done = 1;
#define K(nr, k) kind[nr] = (k)
#if defined(__x86_64__)
  K(0, K_FD);    /* read */
  K(1, K_FD);    /* write */
  K(2, K_PATH0); /* open */
  K(3, K_FD);    /* close */
  K(4, K_PATH0); /* stat */
  K(5, K_FD);    /* fstat */
  K(6, K_PATH0); /* lstat */
  K(8, K_FD);    /* lseek */
  K(9, K_MEM);   /* mmap */
  K(10, K_MEM);  /* mprotect */
  K(11, K_MEM);  /* munmap */
  K(16, K_IOCTL);
  K(17, K_FD);    /* pread64 */
  K(18, K_FD);    /* pwrite64 */
  K(19, K_FD);    /* readv */
  K(20, K_FD);    /* writev */
  K(21, K_PATH0); /* access */
  K(28, K_MEM);   /* madvise */
  K(32, K_FD);    /* dup */
  K(33, K_FD);    /* dup2 (both fds the host's) */
  K(56, K_CLONE); /* clone */
  K(57, K_FORK);  /* fork */
  K(58, K_FORK);  /* vfork */
  K(59, K_EXEC);  /* execve */
  K(63, K_UNAME);
  K(72, K_FCNTL);
  K(73, K_FD);    /* flock */
  K(74, K_FD);    /* fsync */
  K(75, K_FD);    /* fdatasync */
  K(77, K_FD);    /* ftruncate */
  K(79, K_CWD);   /* getcwd */
  K(80, K_CHDIR);
  K(81, K_FCHDIR);
  K(89, K_PATH0); /* readlink */
  K(138, K_FD);   /* fstatfs */
  K(217, K_FD);   /* getdents64 */
  K(231, K_EXIT); /* exit_group */
  K(257, K_PATH1); /* openat */
  K(262, K_PATH1); /* newfstatat */
  K(267, K_PATH1); /* readlinkat */
  K(269, K_PATH1); /* faccessat */
  K(292, K_FD);    /* dup3 */
  K(322, K_EXEC);  /* execveat */
  K(332, K_PATH1); /* statx */
  K(435, K_CLONE3);
  K(439, K_PATH1); /* faccessat2 */
#elif defined(__aarch64__)
  K(17, K_CWD);    /* getcwd */
  K(23, K_FD);     /* dup */
  K(24, K_FD);     /* dup3 */
  K(25, K_FCNTL);
  K(29, K_IOCTL);
  K(32, K_FD);     /* flock */
  K(44, K_FD);     /* fstatfs */
  K(46, K_FD);     /* ftruncate */
  K(48, K_PATH1);  /* faccessat */
  K(49, K_CHDIR);
  K(50, K_FCHDIR);
  K(56, K_PATH1);  /* openat */
  K(57, K_FD);     /* close */
  K(61, K_FD);     /* getdents64 */
  K(62, K_FD);     /* lseek */
  K(63, K_FD);     /* read */
  K(64, K_FD);     /* write */
  K(65, K_FD);     /* readv */
  K(66, K_FD);     /* writev */
  K(67, K_FD);     /* pread64 */
  K(68, K_FD);     /* pwrite64 */
  K(78, K_PATH1);  /* readlinkat */
  K(79, K_PATH1);  /* newfstatat */
  K(80, K_FD);     /* fstat */
  K(82, K_FD);     /* fsync */
  K(83, K_FD);     /* fdatasync */
  K(94, K_EXIT);   /* exit_group */
  K(160, K_UNAME);
  K(215, K_MEM);   /* munmap */
  K(220, K_CLONE); /* clone */
  K(221, K_EXEC);  /* execve */
  K(222, K_MEM);   /* mmap */
  K(226, K_MEM);   /* mprotect */
  K(233, K_MEM);   /* madvise */
  K(281, K_EXEC);  /* execveat */
  K(291, K_PATH1); /* statx */
  K(435, K_CLONE3);
  K(439, K_PATH1); /* faccessat2 */
#else
#error "dmaheap-notify: x86-64 and arm64 only"
#endif
#undef K
}

/* include/uapi/linux/fcntl.h: answered by the bridge on the host's fds too */
#define F_NOTIFY_ 1026
#define F_DUPFD_QUERY_ 1027
#define F_CREATED_QUERY_ 1028
#define AT_FDCWD_ (-100)

#include "../common/dmaheap-names.h"

#define NAME_MAX_READ 4096

/* Is the name at `addr` in process `pid` one the host may answer? (absolute, not through an
 * emulated tree; unreadable, too long or relative: no) */
static int host_name(pid_t pid, uint64_t addr) {
  static char buf[NAME_MAX_READ + 1];
  if (addr == 0) return 0;
  /* up to the end of the page first (a name near the end of a mapping), then the rest */
  size_t first = 4096 - (size_t)(addr & 4095);
  size_t got = 0;
  for (size_t want = first; got < NAME_MAX_READ; want = 4096) {
    if (want > NAME_MAX_READ - got) want = NAME_MAX_READ - got;
    struct iovec l = {buf + got, want}, r = {(void *)(uintptr_t)(addr + got), want};
    ssize_t n = syscall(SYS_process_vm_readv, (long)pid, &l, 1L, &r, 1L, 0L);
    if (n <= 0) return 0;
    if (memchr(buf + got, '\0', (size_t)n) != NULL) {
      got += (size_t)n;
      buf[got] = '\0';
      return buf[0] == '/' && !dh_walks_emulated(buf);
    }
    got += (size_t)n;
    if ((size_t)n < want) return 0;
  }
  return 0;
}

static int is_plain(const int32_t *plain, int nplain, int32_t tid) {
  if (plain == NULL) return 0;
  for (int i = 0; i < nplain; i++)
    if (plain[i] == tid) return 1;
  return 0;
}

#define CLONE_THREAD_ 0x00010000u /* include/uapi/linux/sched.h */

/* What the helper does with a call of a plain process */
enum {
  A_BRIDGE = 0, /* the bridge's */
  A_HOST,       /* the host runs it, nothing to tell */
  A_MIRRORED,   /* the host runs it, the mirror follows (counted as the bridge counts a mirrored call) */
  A_SERVED,     /* answered here: `*ret` */
};

#define UTS_BYTES (65 * 6) /* struct new_utsname (include/uapi/linux/utsname.h) */
#define TURN_LATE_US 90000

#define PRELOAD_REGISTER 0x44480001u /* ioctl(-1, 'D' 'H' 1): native/preload/dmaheap-preload.c */
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

/* include/uapi/linux/pidfd.h: PIDFD_GET_INFO (Linux 6.13), struct pidfd_info's first 64 bytes */
#define PIDFD_GET_INFO_ 0xc040ff0bu
struct pidfd_info_ {
  uint64_t mask, cgroupid;
  uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid, spare0;
};

/*
 * Forks the helper let through (or the bridge's, all of plain processes) whose child has not made
 * its first call yet, by parent: a process whose first call comes here, whose parent is one of
 * them, is that fork's child, as plain as the parent was (its fd table, its address space and
 * its working directory are the parent's at the fork). Its first call is then answered like
 * any of a plain process's, and the bridge makes its mirror from the log (EV_CHILD).
 */
#define MAX_CLAIMS 256
struct claims {
  int32_t ppid[MAX_CLAIMS], left[MAX_CLAIMS];
  int n;
  /* the children taken in this dh_serve (plain until the bridge lists them) */
  int32_t child[MAX_CLAIMS];
  int nchild;
};

static void claim_add(struct claims *c, int32_t ppid, int32_t forks) {
  for (int i = 0; i < c->n; i++)
    if (c->ppid[i] == ppid) {
      c->left[i] += forks;
      return;
    }
  if (c->n == MAX_CLAIMS) return;
  c->ppid[c->n] = ppid;
  c->left[c->n++] = forks;
}

/* Is `tid` a process whose parent has a plain fork waiting? Its parent's pid, or 0. */
static int32_t claim_child(struct claims *c, int32_t tid) {
  if (c->n == 0 || c->nchild == MAX_CLAIMS) return 0;
  /* pidfd_open refuses a thread that is not its group's leader: a thread goes to the bridge */
  int pidfd = (int)syscall(SYS_pidfd_open, (long)tid, 0L);
  if (pidfd < 0) return 0;
  struct pidfd_info_ info;
  memset(&info, 0, sizeof info);
  int r = ioctl(pidfd, PIDFD_GET_INFO_, &info);
  close(pidfd);
  if (r != 0 || (int32_t)info.tgid != tid) return 0;
  for (int i = 0; i < c->n; i++)
    if (c->ppid[i] == (int32_t)info.ppid && c->left[i] > 0) {
      c->left[i]--;
      c->child[c->nchild++] = tid;
      return (int32_t)info.ppid;
    }
  return 0;
}

/*
 * The preload shim's registration of a plain process (ioctl(-1, PRELOAD_REGISTER, reg_info,
 * words, memfd + 1)): the shim made its bitmap's memfd and wrote what the bridge needs in it
 * (reg_info and its name). For a plain process every bit of the bitmap is 0, which the memfd is already, so the
 * answer need not wait for the bridge: the memfd is taken here (pidfd_getfd), the emulated page
 * size written where the shim reads it, and the bridge maps it when it next looks at the
 * process (EV_REGISTER); the fast buffer path stays off until then. -1 (the bridge's): no memfd,
 * not one of the shim's size, or a thread pidfd_open cannot open.
 */
static int take_shim_memfd(const struct seccomp_notif *n, const struct dh_args *g) {
  int target = (int)n->data.args[4] - 1;
  if (target < 0 || g->reg_bytes == 0) return -1;
  int pidfd = (int)syscall(SYS_pidfd_open, (long)n->pid, 0L);
  if (pidfd < 0) return -1;
  int fd = (int)syscall(SYS_pidfd_getfd, (long)pidfd, (long)target, 0L);
  close(pidfd);
  if (fd < 0) return -1;
  struct stat st;
  uint32_t ps = g->page_size;
  /* the stub page, reg_info's first word, written by a shim that writes its reg_info here (one
   * of before does not: the bridge reads it from the process then) */
  uint64_t stub = 0;
  /* the system call: glibc exports fstat only since 2.33, and the helper loads into any glibc */
  if (syscall(SYS_fstat, (long)fd, (long)&st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 0 || st.st_size != (off_t)g->reg_bytes ||
      pread(fd, &stub, sizeof stub, (off_t)g->reg_info_off) != (ssize_t)sizeof stub || stub == 0 ||
      pwrite(fd, &ps, sizeof ps, (off_t)g->reg_page_off) != (ssize_t)sizeof ps) {
    close(fd);
    return -1;
  }
  return fd;
}

/*
 * What to do with this call of a plain process (A_*). `ev` is set to the entry the bridge must
 * be told of (EV_FORK, EV_EXEC, EV_CWD, EV_REGISTER), or 0, and `aux` to its fd; a call served
 * here answers `ret`.
 */
static int host_call(const struct seccomp_notif *n, const struct dh_args *g, int *ev, int64_t *ret, int *aux) {
  int nr = n->data.nr;
  unsigned flags = g->flags;
  *ev = 0;
  *aux = -1;
  if (nr < 0 || nr >= MAX_NR) return A_BRIDGE;
  const __u64 *a = n->data.args;
  switch (kind[nr]) {
  case K_FD:
  case K_MEM:
  case K_CWD:
    return A_HOST;
  case K_FCNTL: {
    int cmd = (int)a[1];
    return cmd != F_NOTIFY_ && cmd != F_DUPFD_QUERY_ && cmd != F_CREATED_QUERY_ ? A_HOST : A_BRIDGE;
  }
  case K_IOCTL: {
    unsigned type = (unsigned)(a[1] >> 8) & 0xff;
    if ((int)a[0] == -1 && (uint32_t)a[1] == PRELOAD_REGISTER && (flags & DH_REGISTER)) {
      int sfd = take_shim_memfd(n, g);
      if (sfd < 0) return A_BRIDGE;
      *ev = EV_REGISTER;
      *aux = sfd;
      *ret = (int64_t)((int)a[4] - 1);
      return A_SERVED;
    }
    return (int)a[0] != -1 && type != 'H' && type != 'b' && type != 'u' ? A_HOST : A_BRIDGE;
  }
  case K_PATH0:
    return host_name((pid_t)n->pid, a[0]) ? A_HOST : A_BRIDGE;
  case K_PATH1:
    /* relative to an fd (every fd of a plain process is the host's), or absolute */
    return (int)a[0] != AT_FDCWD_ || host_name((pid_t)n->pid, a[1]) ? A_HOST : A_BRIDGE;
  case K_CLONE:
  case K_CLONE3:
  case K_FORK: {
    if (!(flags & DH_LIFECYCLE)) return A_BRIDGE;
    uint64_t cf = 0;
    if (kind[nr] == K_CLONE) cf = a[0];
    else if (kind[nr] == K_CLONE3) {
      /* struct clone_args starts with the u64 flags (include/uapi/linux/sched.h); unreadable: the bridge's */
      struct iovec l = {&cf, sizeof cf}, r = {(void *)(uintptr_t)a[0], sizeof cf};
      if (syscall(SYS_process_vm_readv, (long)n->pid, &l, 1L, &r, 1L, 0L) != (ssize_t)sizeof cf) return A_BRIDGE;
    }
    /* a thread shares its process's mirror: nothing to follow (the bridge continues it too) */
    if (cf & CLONE_THREAD_) return A_HOST;
    *ev = EV_FORK;
    return A_MIRRORED;
  }
  case K_EXEC:
    if (!(flags & DH_LIFECYCLE)) return A_BRIDGE;
    *ev = EV_EXEC;
    return A_HOST;
  case K_EXIT:
    return flags & DH_EXIT ? A_MIRRORED : A_BRIDGE;
  case K_UNAME: {
    if (!(flags & DH_SERVE) || g->uts == 0) return A_BRIDGE;
    /* the emulated machine's fields, with the host's node name now (the bridge's uname gives
     * the host's too); the copy_to_user of kernel/sys.c newuname(): EFAULT when it does not all land */
    char u[UTS_BYTES];
    struct utsname h;
    memcpy(u, (const void *)(uintptr_t)g->uts, UTS_BYTES);
    if (uname(&h) == 0) {
      size_t k = strnlen(h.nodename, 64);
      memset(u + 65, 0, 65);
      memcpy(u + 65, h.nodename, k);
    }
    struct iovec l = {u, UTS_BYTES}, r = {(void *)(uintptr_t)a[0], UTS_BYTES};
    *ret = syscall(SYS_process_vm_writev, (long)n->pid, &l, 1L, &r, 1L, 0L) == UTS_BYTES ? 0 : -EFAULT;
    return A_SERVED;
  }
  case K_CHDIR:
    if (!(flags & DH_LIFECYCLE) || !host_name((pid_t)n->pid, a[0])) return A_BRIDGE;
    *ev = EV_CWD;
    return A_HOST;
  case K_FCHDIR:
    if (!(flags & DH_LIFECYCLE)) return A_BRIDGE;
    *ev = EV_CWD;
    return A_HOST;
  default:
    return A_BRIDGE;
  }
}

static uint64_t now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

int dh_version(void) {
  return DH_VERSION;
}

/*
 * Waits for notifications on the listener (args->fds: the listener, then the processes'
 * pidfds), answers the plain processes' calls it may, and returns:
 *   1: args->req holds a notification for the bridge;
 *   0: nothing for it: poll's timeout, a pidfd readable (revents set; the listener's POLLIN too
 *      when a notification waits), POLLHUP on the listener, an interrupted poll (its timeout:
 *      the event loop's turn, while no call waits), the turn TURN_LATE_US after it was due
 *      (turn_us) whatever the program does, or budget_us spent answering without a pause;
 *  <0: poll's -errno.
 * The counts in *args grow: every call answered here, those of them the mirror follows (a
 * fork, an exit_group: the bridge's "mirrored"), those served (uname), and the entries logged
 * at args->events (EV_*, thread id), which the bridge reads before anything else when this
 * returns; a full log sends the call to the bridge instead.
 */
int dh_serve(struct dh_args *g) {
  init_kinds();
  struct pollfd *fds = (struct pollfd *)(uintptr_t)g->fds;
  struct seccomp_notif *req = (struct seccomp_notif *)(uintptr_t)g->req;
  const int32_t *plain = (const int32_t *)(uintptr_t)g->plain;
  int32_t *events = (int32_t *)(uintptr_t)g->events;
  int nfds = g->nfds;
  static struct claims cl;
  cl.n = 0;
  cl.nchild = 0;
  const int32_t *claim = (const int32_t *)(uintptr_t)g->claim;
  for (int i = 0; claim != NULL && i < g->nclaim; i++) claim_add(&cl, claim[2 * i], claim[2 * i + 1]);
  uint64_t turn = now_us() + (uint64_t)(g->turn_us > 0 ? g->turn_us : 0);
  /* time spent answering since the last pause (a poll that had to wait) */
  uint64_t busy = 0;
  for (;;) {
    for (int i = 0; i < nfds; i++) fds[i].revents = 0;
    uint64_t before = now_us();
    /* the turn, once due, waits for a pause of timeout_ms (poll's timeout: no call waits for
     * it), or TURN_LATE_US at the most (a program that never pauses waits for one turn then).
     * A shorter poll to look for a pause costs each call: after a 1 ms poll a getdents64 took
     * 3 µs more on the development machine */
    if (before >= turn + TURN_LATE_US) return 0;
    int r = poll(fds, (nfds_t)nfds, g->timeout_ms);
    if (r < 0) return errno == EINTR ? 0 : -errno;
    if (r == 0) return 0;
    uint64_t woke = now_us();
    if (woke - before > 50) busy = 0;
    for (int i = 1; i < nfds; i++)
      if (fds[i].revents != 0) return 0;
    if ((fds[0].revents & POLLIN) == 0) return 0;
    memset(req, 0, sizeof *req);
    /* ENOENT: the caller died before we took it (the revents, which the caller reads, no longer
     * say a notification waits: a RECV there would block) */
    if (ioctl(g->listener, SECCOMP_IOCTL_NOTIF_RECV, req) != 0) {
      fds[0].revents = 0;
      return 0;
    }
    /* room for a child's EV_CHILD and its call's own entry */
    if (g->logged + 2 > (uint64_t)g->nevents) return 1;
    int32_t tid = (int32_t)req->pid;
    if (!is_plain(plain, g->nplain, tid) && !is_plain(cl.child, cl.nchild, tid)) {
      /* a process's first call: the child of a plain fork is plain */
      int32_t ppid = g->flags & DH_LIFECYCLE ? claim_child(&cl, tid) : 0;
      if (ppid == 0) return 1;
      int32_t *e = events + EV_INTS * g->logged;
      e[0] = EV_CHILD;
      e[1] = tid;
      e[2] = ppid;
      e[3] = 0;
      g->logged++;
    }
    int ev, aux;
    int64_t ret = 0;
    int act = host_call(req, g, &ev, &ret, &aux);
    if (act == A_BRIDGE) return 1;
    if (ev != 0) {
      int32_t *e = events + EV_INTS * g->logged;
      e[0] = ev;
      e[1] = tid;
      e[2] = aux;
      e[3] = 0;
      g->logged++;
      /* its child, when it comes, is a plain process (a fork from a thread that is not the
       * leader is matched by the process's pid, which this is not: the bridge's then) */
      if (ev == EV_FORK) claim_add(&cl, tid, 1);
    }
    struct seccomp_notif_resp resp;
    memset(&resp, 0, sizeof resp);
    resp.id = req->id;
    if (act == A_SERVED) {
      if (ret < 0) resp.error = (int32_t)ret;
      else resp.val = ret;
    } else resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    ioctl(g->listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
    g->answered++;
    if (act == A_MIRRORED) g->mirrored++;
    if (act == A_SERVED) g->served++;
    busy += now_us() - woke;
    if (busy >= (uint64_t)g->budget_us) {
      fds[0].revents = 0;
      return 0;
    }
  }
}
