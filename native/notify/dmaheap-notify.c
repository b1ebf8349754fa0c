/*
 * dmaheap-notify: the supervisor's answers to the calls it need not think about (`dmaheap run`,
 * docs/run.md "The notification helper").
 *
 * The supervisor (src/backends/run/supervisor.ts) waits for seccomp notifications and hands each
 * one to the bridge, in JavaScript. Many of them are calls the bridge lets the host run
 * (SECCOMP_USER_NOTIF_FLAG_CONTINUE) after looking at them: the dynamic loader's open, read,
 * fstat, mmap, mprotect and close of the libraries of every program started, and every call of a
 * static program on its own files. For a process the bridge has marked *plain* (its mirror holds
 * no emulated file and no emulated mapping, and no exec, recvmsg or credential change waits for
 * the bridge to look), this loop, called from the supervisor through koffi, answers those calls
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
 *   relative to an fd (the host's); a name relative to the working directory goes to the bridge.
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
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <linux/seccomp.h>

#ifndef SECCOMP_USER_NOTIF_FLAG_CONTINUE
#define SECCOMP_USER_NOTIF_FLAG_CONTINUE (1UL << 0)
#endif

/* the helper's interface version (dh_version): the supervisor refuses another */
#define DH_VERSION 1

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
  K(72, K_FCNTL);
  K(73, K_FD);    /* flock */
  K(74, K_FD);    /* fsync */
  K(75, K_FD);    /* fdatasync */
  K(77, K_FD);    /* ftruncate */
  K(79, K_CWD);   /* getcwd */
  K(89, K_PATH0); /* readlink */
  K(138, K_FD);   /* fstatfs */
  K(217, K_FD);   /* getdents64 */
  K(257, K_PATH1); /* openat */
  K(262, K_PATH1); /* newfstatat */
  K(267, K_PATH1); /* readlinkat */
  K(269, K_PATH1); /* faccessat */
  K(292, K_FD);    /* dup3 */
  K(332, K_PATH1); /* statx */
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
  K(215, K_MEM);   /* munmap */
  K(222, K_MEM);   /* mmap */
  K(226, K_MEM);   /* mprotect */
  K(233, K_MEM);   /* madvise */
  K(291, K_PATH1); /* statx */
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
  for (int i = 0; i < nplain; i++)
    if (plain[i] == tid) return 1;
  return 0;
}

/* May the host run this call of a plain process untouched? */
static int host_call(const struct seccomp_notif *n) {
  int nr = n->data.nr;
  if (nr < 0 || nr >= MAX_NR) return 0;
  const __u64 *a = n->data.args;
  switch (kind[nr]) {
  case K_FD:
  case K_MEM:
  case K_CWD:
    return 1;
  case K_FCNTL: {
    int cmd = (int)a[1];
    return cmd != F_NOTIFY_ && cmd != F_DUPFD_QUERY_ && cmd != F_CREATED_QUERY_;
  }
  case K_IOCTL: {
    unsigned type = (unsigned)(a[1] >> 8) & 0xff;
    return (int)a[0] != -1 && type != 'H' && type != 'b' && type != 'u';
  }
  case K_PATH0:
    return host_name((pid_t)n->pid, a[0]);
  case K_PATH1:
    /* relative to an fd (every fd of a plain process is the host's), or absolute */
    return (int)a[0] != AT_FDCWD_ || host_name((pid_t)n->pid, a[1]);
  default:
    return 0;
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
 * Waits for notifications on fds[0] (the listener; fds[1..] are the processes' pidfds), answers
 * the plain processes' host calls, and returns:
 *   1: `req` holds a notification for the bridge;
 *   0: nothing for it: poll's timeout, a pidfd readable (revents set; the listener's POLLIN too
 *      when a notification waits), POLLHUP on the listener, an interrupted poll, or `budget_us`
 *      spent answering (the supervisor's event loop is due);
 *  <0: poll's -errno.
 * `counts[0]` is increased by each call answered here.
 */
int dh_serve(int listener, struct pollfd *fds, int nfds, int timeout_ms, struct seccomp_notif *req, const int32_t *plain, int nplain,
             int budget_us, uint64_t *counts) {
  init_kinds();
  uint64_t start = now_us();
  for (;;) {
    for (int i = 0; i < nfds; i++) fds[i].revents = 0;
    int r = poll(fds, (nfds_t)nfds, timeout_ms);
    if (r < 0) return errno == EINTR ? 0 : -errno;
    if (r == 0) return 0;
    for (int i = 1; i < nfds; i++)
      if (fds[i].revents != 0) return 0;
    if ((fds[0].revents & POLLIN) == 0) return 0;
    memset(req, 0, sizeof *req);
    /* ENOENT: the caller died before we took it (the revents, which the caller reads, no longer
     * say a notification waits: a RECV there would block) */
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) != 0) {
      fds[0].revents = 0;
      return 0;
    }
    if (!is_plain(plain, nplain, (int32_t)req->pid) || !host_call(req)) return 1;
    struct seccomp_notif_resp resp;
    memset(&resp, 0, sizeof resp);
    resp.id = req->id;
    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
    counts[0]++;
    if (now_us() - start >= (uint64_t)budget_us) {
      fds[0].revents = 0;
      return 0;
    }
  }
}
