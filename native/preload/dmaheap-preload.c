/*
 * dmaheap-preload: an opt-in fast path for dynamically linked programs under `dmaheap run`
 * (`dmaheap run --preload <this .so>`, docs/run.md "Speed").
 *
 * The seccomp filter stops every call that may touch the emulated machine (open*, stat*, read,
 * write, close, fcntl, getdents64, ...), whatever its path or fd, and each stop is a round trip to
 * the supervisor. This shim, put in LD_PRELOAD by the supervisor, interposes the libc entry points
 * of those calls and decides per call:
 *
 * - FAST: the call cannot touch the emulated machine (a host fd; a path outside /dev, /sys and
 *   /proc, or one of the host's own there: native/common/dmaheap-names.h): it is issued as a raw
 *   syscall from the shim's stub page (DMAHEAP_RUN_STUB), which the filter ALLOWs (filter.ts
 *   step 3). DMAHEAP_RUN_COOKIE says the shim runs under `dmaheap run`; the stub carries it in
 *   the sixth argument's register, which the filter no longer reads (it decides by the page), so
 *   only calls whose sixth argument is unused go this way.
 * - SLOW: anything else, and anything the shim is unsure of: the libc function it interposes
 *   (dlsym RTLD_NEXT), whose call the filter stops and the supervisor serves as without the shim.
 *
 * Which fds are emulated: a bitmap (one bit per fd, 32768 fds) in a memfd the supervisor keeps up
 * to date for this process; the constructor asks for it with a registration call the bridge
 * recognises (ioctl(-1, DMAHEAP_PRELOAD_REGISTER, &reg_info)), which installs the memfd in this process
 * and returns its number. The shim maps it read-only and closes the fd. A forked child asks again
 * (pthread_atfork), a new image (execve) asks in its constructor. After a recvmsg (fds may have
 * arrived with SCM_RIGHTS) the shim makes a sync call so the bridge adopts them before the
 * program can use them.
 *
 * libc's own calls of read and write (stdio's buffers: printf, fwrite, fread, ... call them from
 * inside libc, where interposition does not reach) would still stop: the registration patches
 * the first bytes of libc's read and write to jump to hooks that decide the same way
 * (entry_patch). The page is written once per image; the kernel then keeps it as a VMA of its
 * own, and the bridge shows the program its maps and smaps without the split and without the
 * shim's own mappings (reg_info tells it where they are; src/backends/run/shim-traces.ts).
 *
 * Shipped prebuilt (native/prebuilt/linux-<arch>/dmaheap-preload.so, native/build.sh); by hand:
 * gcc -shared -fPIC -O2 -o dmaheap-preload.so dmaheap-preload.c -ldl
 * Without DMAHEAP_RUN_COOKIE, or when registration fails, every call takes the SLOW path (the
 * libc function unchanged).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

/*
 * dlsym at the version every glibc has (GLIBC_2.2.5 on x86-64, GLIBC_2.17 on arm64; since 2.34
 * glibc also exports it at GLIBC_2.34 from libc itself): the shipped shim then loads into a
 * program linked against any glibc, not only one as new as the build machine's.
 */
#if defined(__x86_64__)
__asm__(".symver dlsym, dlsym@GLIBC_2.2.5");
#elif defined(__aarch64__)
__asm__(".symver dlsym, dlsym@GLIBC_2.17");
#endif

#define DMAHEAP_PRELOAD_REGISTER 0x44480001u /* 'D' 'H' 1 */
#define DMAHEAP_PRELOAD_SYNC 0x44480002u
#define FD_BITS 32768

/*
 * The buffer fast path (docs/run.md "The fast path"): the registration memfd holds, after the
 * bitmap, two pages this process maps read-write (CTL_BYTES; src/backends/run/bridge.ts has the same
 * layout):
 *
 * - the control page: flags (CTL_FAST: the bridge allows the buffer fast path in this process),
 *   the log's head (written here) and tail (written by the bridge), and a ring of LOG_N records;
 * - the approvals: one u64 per fd below APPROVE_FDS, written by the bridge after each call it
 *   handles: AP_VALID for a dma-buf whose shared mapping cannot fail on the emulated kernel, with
 *   AP_READ/AP_WRITE (the file's FMODE_READ/FMODE_WRITE) and its size in the low 48 bits.
 *
 * With them, a plain shared mmap of an approved dma-buf, the munmap of exactly such a mapping and
 * the close of an approved fd run natively, and are written to the log first (mmap: right after,
 * with the address the host chose); the bridge replays the log on the emulated kernel before it
 * serves any call of any process of the program, and before anything outside looks at the
 * machine, so nothing can observe the difference. Anything else, and a full log, takes the SLOW
 * path as before.
 *
 * DMA_HEAP_IOCTL_ALLOC still stops (the emulated heap allocates), but the shim makes the new
 * fd's host file itself: a memfd named `dmaheap:buf:<next_id>` at the lowest free fd (where the
 * kernel would put the dma-buf), sized to the length rounded up to the emulated page. The bridge
 * takes it with pidfd_getfd for the buffer's memory instead of installing one with
 * SECCOMP_IOCTL_NOTIF_ADDFD, a second round trip that costs more than the rest of the call. The
 * call's last three arguments carry the struct as the shim read it (FAST_ALLOC | memfd << 32;
 * len; fd | fd_flags << 32; heap_flags must be 0), so the bridge need not copy it in; on
 * success the shim copies it out itself with the new fd (process_vm_writev, which fails with
 * EFAULT where the kernel's copy_to_user would: the fd stays installed, as in Linux). The answer
 * FAST_ALLOC_RETRY (before anything was emulated) sends the call the usual way.
 */
#define CTL_FAST 1u
#define FAST_ALLOC 0x4448414cUL /* "DHAL" */
#define FAST_ALLOC_RETRY 0x44485259L /* "DHRY" */
/* include/uapi/linux/dma-heap.h */
struct heap_alloc {
  uint64_t len;
  uint32_t fd;
  uint32_t fd_flags;
  uint64_t heap_flags;
};
#define HEAP_IOCTL_ALLOC 0xc0184800UL /* _IOWR('H', 0, struct dma_heap_allocation_data) */
#define LOG_N 64
#define APPROVE_FDS 512
#define AP_VALID (1ULL << 63)
#define AP_READ (1ULL << 62)
#define AP_WRITE (1ULL << 61)
#define AP_SIZE ((1ULL << 48) - 1)
enum { LOG_MMAP = 1, LOG_MUNMAP = 2, LOG_CLOSE = 3 };
struct log_rec {
  uint32_t seq; /* the record's position + 1, stored last */
  uint32_t op;
  int32_t fd;
  uint32_t prot;
  uint64_t addr, len, off;
  uint32_t flags, pad;
};
/* what the shim writes in its memfd's control page before it registers (the bridge, or the
 * notification helper for a plain process, reads it there rather than in this process's memory):
 * reg_info and this thread's name */
struct reg_copy {
  uint64_t reg[12];
  char comm[16];
};
struct fast_ctl {
  uint32_t flags;
  uint32_t next_id;   /* the id this process's next fast ALLOC names its memfd with (0: none) */
  uint32_t page_size; /* the emulated kernel's page size (a heap buffer's size is a multiple) */
  uint32_t pad0[13];
  uint32_t head;
  uint32_t pad1[15];
  uint32_t tail;
  uint32_t pad2[15];
  struct log_rec log[LOG_N];
  struct reg_copy reg;
};
_Static_assert(sizeof(struct log_rec) == 48, "log record layout");
_Static_assert(offsetof(struct fast_ctl, reg) == 3264, "bridge.ts CTL_REG");
_Static_assert(sizeof(struct fast_ctl) <= 4096, "control page");
#define CTL_BYTES 8192
static struct fast_ctl *ctl;
static volatile uint64_t *approve;
/* the process the log belongs to: a vfork child shares this memory, and must not use it */
static long ctl_pid;
/* the emulated page size when it is the host's (the only case the fast path serves), else 0 */
static uint64_t ctl_page;
/* the log's lock (a process's threads; never waited on: a busy lock is the SLOW path) */
static int loglock;
/* this process's fast mappings, so that munmap of exactly one of them can be fast too */
#define FASTMAPS 64
static struct {
  uintptr_t addr;
  size_t len;
} fastmaps[FASTMAPS];
static int nfastmaps;

static long cookie;
/* the syscall stub, mapped at DMAHEAP_RUN_STUB: the filter lets the calls made from that page through */
typedef long (*stub_fn)(long a0, long a1, long a2, long a3, long a4, long a5, long nr);
static stub_fn stub;
/*
 * live[0] is 1 while this process's registration holds. The page is MADV_WIPEONFORK: a child made
 * by any fork (glibc's, whose handler registers the child again, or a raw clone, which skips
 * that handler) finds it zero and takes the SLOW path until it has a bitmap of its own.
 */
static volatile uint8_t *live;
/* the shim is set up in this image: a forked child registers again */
static int wanted;
/*
 * A forked child's registration is due (set by the fork handler): it is made by the
 * REGISTER_AFTER-th call that the FAST path could take (try_register), not at the fork. A child
 * that only sets up its fds and executes (a shell's: an open and a close per redirection) never
 * pays for one, which costs more than those calls stopping; one that goes on working pays for
 * REGISTER_AFTER - 1 stops more, once.
 */
#define REGISTER_AFTER 8
static int due;
#define active (live != NULL && live[0] != 0)
static void do_register(int forked);
/* Counts a call that a forked child whose registration is due could make FAST; registers at the
 * REGISTER_AFTER-th (once: a failed one is not retried). */
static int try_register(void) {
  int d = __atomic_load_n(&due, __ATOMIC_ACQUIRE);
  while (d > 0) {
    if (__atomic_compare_exchange_n(&due, &d, d - 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
      if (d == 1) do_register(1);
      break;
    }
  }
  return active;
}
static const volatile uint8_t *bitmap;

#define REAL(name) real_##name
#define DECL(ret, name, ...) static ret (*real_##name)(__VA_ARGS__)

DECL(int, open, const char *, int, ...);
DECL(int, open64, const char *, int, ...);
DECL(int, openat, int, const char *, int, ...);
DECL(int, openat64, int, const char *, int, ...);
DECL(int, __open_2, const char *, int);
DECL(int, __open64_2, const char *, int);
DECL(int, __openat_2, int, const char *, int);
DECL(int, __openat64_2, int, const char *, int);
DECL(int, stat, const char *, struct stat *);
DECL(int, stat64, const char *, struct stat64 *);
DECL(int, lstat, const char *, struct stat *);
DECL(int, lstat64, const char *, struct stat64 *);
DECL(int, fstat, int, struct stat *);
DECL(int, fstat64, int, struct stat64 *);
DECL(int, fstatat, int, const char *, struct stat *, int);
DECL(int, fstatat64, int, const char *, struct stat64 *, int);
DECL(int, __xstat, int, const char *, struct stat *);
DECL(int, __xstat64, int, const char *, struct stat64 *);
DECL(int, __lxstat, int, const char *, struct stat *);
DECL(int, __lxstat64, int, const char *, struct stat64 *);
DECL(int, __fxstat, int, int, struct stat *);
DECL(int, __fxstat64, int, int, struct stat64 *);
DECL(int, __fxstatat, int, int, const char *, struct stat *, int);
DECL(int, __fxstatat64, int, int, const char *, struct stat64 *, int);
DECL(int, statx, int, const char *, int, unsigned, void *);
DECL(int, access, const char *, int);
DECL(int, faccessat, int, const char *, int, int);
DECL(ssize_t, readlink, const char *, char *, size_t);
DECL(ssize_t, readlinkat, int, const char *, char *, size_t);
DECL(int, statfs, const char *, struct statfs *);
DECL(int, statfs64, const char *, struct statfs64 *);
DECL(int, fstatfs, int, struct statfs *);
DECL(int, fstatfs64, int, struct statfs64 *);
DECL(int, isatty, int);
DECL(int, close, int);
DECL(int, fcntl, int, int, ...);
DECL(int, fcntl64, int, int, ...);
DECL(ssize_t, read, int, void *, size_t);
DECL(ssize_t, write, int, const void *, size_t);
DECL(ssize_t, pread, int, void *, size_t, off_t);
DECL(ssize_t, pread64, int, void *, size_t, off_t);
DECL(ssize_t, pwrite, int, const void *, size_t, off_t);
DECL(ssize_t, pwrite64, int, const void *, size_t, off_t);
DECL(ssize_t, readv, int, const struct iovec *, int);
DECL(ssize_t, writev, int, const struct iovec *, int);
DECL(off_t, lseek, int, off_t, int);
DECL(off_t, lseek64, int, off_t, int);
DECL(ssize_t, getdents64, int, void *, size_t);
DECL(int, chdir, const char *);
DECL(int, fchdir, int);
DECL(ssize_t, recvmsg, int, struct msghdr *, int);
DECL(int, recvmmsg, int, struct mmsghdr *, unsigned, int, struct timespec *);
DECL(DIR *, opendir, const char *);
DECL(DIR *, fdopendir, int);
DECL(struct dirent *, readdir, DIR *);
DECL(struct dirent64 *, readdir64, DIR *);
DECL(int, closedir, DIR *);
DECL(int, dirfd, DIR *);
DECL(void, rewinddir, DIR *);
DECL(long, telldir, DIR *);
DECL(void, seekdir, DIR *, long);

/* a libc function of the next object; resolved on first use (a constructor of another object may call us first) */
#define NEXT(name)                                                                   \
  (*({                                                                               \
    if (real_##name == NULL) real_##name = (__typeof__(real_##name))dlsym(RTLD_NEXT, #name); \
    real_##name;                                                                     \
  }))

/*
 * The stub: the arguments in the C calling convention's registers (the sixth is the cookie, in
 * the register the kernel reads as the call's sixth argument), the call's number on the stack
 * (x86-64) or in x6 (arm64). It clears the cookie's register on the way out.
 */
#if defined(__x86_64__)
static const unsigned char STUB_CODE[] = {
    0x48, 0x8b, 0x44, 0x24, 0x08, /* mov rax, [rsp+8] */
    0x49, 0x89, 0xca,             /* mov r10, rcx */
    0x0f, 0x05,                   /* syscall */
    0x45, 0x31, 0xc9,             /* xor r9d, r9d */
    0xc3,                         /* ret */
};
#elif defined(__aarch64__)
static const uint32_t STUB_CODE[] = {
    0xaa0603e8, /* mov x8, x6 */
    0xd4000001, /* svc #0 */
    0xaa1f03e5, /* mov x5, xzr */
    0xd65f03c0, /* ret */
};
#else
#error "dmaheap-preload: x86-64 and arm64 only"
#endif

static inline long fast(long nr, long a0, long a1, long a2, long a3, long a4) {
  long r = stub(a0, a1, a2, a3, a4, cookie, nr);
  if (r < 0 && r > -4096) {
    errno = (int)-r;
    return -1;
  }
  return r;
}

/* mmap through the stub (the filter lets mmap through from its page alone, whatever its sixth
 * argument): the address, or MAP_FAILED with errno set. */
static inline void *stub_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  long r = stub((long)addr, (long)len, prot, flags, fd, (long)off, SYS_mmap);
  if (r < 0 && r > -4096) {
    errno = (int)-r;
    return MAP_FAILED;
  }
  return (void *)r;
}

/* Maps the stub at `page` (once per address space: a fork inherits it, an exec maps it again). */
static int map_stub(uintptr_t page) {
  if (stub != NULL && (uintptr_t)stub == page) return 0;
  void *m = mmap((void *)page, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (m == MAP_FAILED) return -1;
  if ((uintptr_t)m != page) {
    munmap(m, 4096);
    return -1;
  }
  memcpy(m, STUB_CODE, sizeof STUB_CODE);
  __builtin___clear_cache((char *)m, (char *)m + sizeof STUB_CODE);
  if (mprotect(m, 4096, PROT_READ | PROT_EXEC) != 0) {
    munmap(m, 4096);
    return -1;
  }
  stub = (stub_fn)m;
  return 0;
}

/* Is this fd one of the emulated machine's (or might it be)? */
static inline int fd_slow(int fd) {
  if (fd < 0 || fd >= FD_BITS || !(active || try_register())) return 1;
  return (bitmap[fd >> 3] >> (fd & 7)) & 1;
}

#include "../common/dmaheap-names.h"

/* the working directory as getcwd gave it at start-up and after each chdir/fchdir ("" when unknown) */
static char cwd[PATH_MAX];

/* May (dirfd, path) name something the emulated machine answers? */
static int path_slow(int dirfd, const char *path) {
  if (path == NULL) return 1;
  /* a name the emulated machine may answer is SLOW whether registered or not (a forked child
   * whose registration is due makes it only for a call it would make FAST) */
  if (path[0] == '/') return dh_walks_emulated(path) || !(active || try_register());
  /* relative to an fd: the bridge resolves it only when the fd is an emulated one */
  if (dirfd != AT_FDCWD) return fd_slow(dirfd);
  if (cwd[0] != '/') return 1;
  char buf[2 * PATH_MAX];
  size_t a = strlen(cwd), b = strnlen(path, PATH_MAX);
  if (b == PATH_MAX || a + 1 + b + 1 > sizeof buf) return 1;
  memcpy(buf, cwd, a);
  buf[a] = '/';
  memcpy(buf + a + 1, path, b + 1);
  return dh_walks_emulated(buf) || !(active || try_register());
}

static ssize_t libc_read_hook(int fd, void *buf, size_t n);
static ssize_t libc_write_hook(int fd, const void *buf, size_t n);
static void *libc_mmap_hook(void *addr, size_t len, int prot, int flags, int fd, off_t off);
static int libc_open_nocancel_hook(const char *path, int flags, ...);
static int libc_close_nocancel_hook(int fd);
static int libc_fstat64_hook(int fd, struct stat *st);
static ssize_t libc_pread_hook(int fd, void *buf, size_t n, off_t off);
static int libc_ioctl_hook(int fd, unsigned long req, void *arg);

/*
 * Makes libc's function `name` jump to `hook`: its first bytes become an absolute jump (x86-64:
 * movabs rax, hook; jmp rax, 12 bytes, rax being free at a call; arm64: ldr x16, #8; br x16;
 * .quad hook, 16 bytes, x16 being the linker's scratch register). The rest of the function is
 * never run again. The page is made writable for the copy and given back read+exec (through the
 * stub: the supervisor need not see it); where that is refused (a W^X policy) nothing changes and
 * those calls keep stopping. Done once per image, at its registration; a forked child inherits
 * the patched page.
 */
/*
 * libc's executable segments, looked up once per image with dl_iterate_phdr (dladdr, which this
 * used to ask for each function, scans libc's whole symbol table each time: 0.3 ms per program).
 */
#define LIBC_SEGS 4
static uintptr_t libc_lo[LIBC_SEGS], libc_hi[LIBC_SEGS];
static int libc_segs = -1;
static int find_libc(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  (void)data;
  if (info->dlpi_name == NULL || strstr(info->dlpi_name, "/libc.so.") == NULL) return 0;
  for (int i = 0; i < info->dlpi_phnum && libc_segs < LIBC_SEGS; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD || (ph->p_flags & PF_X) == 0) continue;
    libc_lo[libc_segs] = info->dlpi_addr + ph->p_vaddr;
    libc_hi[libc_segs] = libc_lo[libc_segs] + ph->p_memsz;
    libc_segs++;
  }
  return 1;
}
/* Are the `len` bytes at `a` inside one of libc's executable segments? */
static int in_libc_text(uintptr_t a, size_t len) {
  if (libc_segs < 0) {
    libc_segs = 0;
    dl_iterate_phdr(find_libc, NULL);
  }
  for (int i = 0; i < libc_segs; i++)
    if (a >= libc_lo[i] && a < libc_hi[i] && libc_hi[i] - a >= len) return 1;
  return 0;
}

static uintptr_t entry_patch(const char *name, void *hook) {
  uintptr_t a = (uintptr_t)dlsym(RTLD_NEXT, name);
  if (a == 0) return 0;
#if defined(__x86_64__)
  unsigned char code[12] = {0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xe0};
  memcpy(code + 2, &hook, 8);
#else
  if ((a & 3) != 0) return 0;
  unsigned char code[16] = {0x50, 0x00, 0x00, 0x58, 0x00, 0x02, 0x1f, 0xd6};
  memcpy(code + 8, &hook, 8);
#endif
  /* only libc's own function (another library that defines it is left alone) */
  if (!in_libc_text(a, sizeof code)) return 0;
  uintptr_t page = a & ~(uintptr_t)4095;
  size_t span = ((a + sizeof code + 4095) & ~(uintptr_t)4095) - page;
  /* through the stub: libc's text is no buffer mapping, the supervisor need not see these */
  if (fast(SYS_mprotect, (long)page, (long)span, PROT_READ | PROT_WRITE | PROT_EXEC, 0, 0) != 0) return 0;
  memcpy((void *)a, code, sizeof code);
  __builtin___clear_cache((char *)a, (char *)a + sizeof code);
  fast(SYS_mprotect, (long)page, (long)span, PROT_READ | PROT_EXEC, 0, 0);
  return page;
}

/*
 * What the registration tells the bridge, so that the program's /proc/<pid>/maps and smaps show
 * none of the shim: the stub page, the live page, and the pages entry_patch wrote (the kernel
 * splits libc's text mapping there; the bridge shows it whole again). The bitmap's mapping and
 * this object's own are known by name. Set once per image: a forked child has the same.
 */
#define REG_WORDS 12
_Static_assert(REG_WORDS == sizeof ((struct reg_copy *)0)->reg / sizeof(uint64_t), "reg_info fits the control page's copy");
static uint64_t reg_info[REG_WORDS];

static void update_cwd(void) {
  if (getcwd(cwd, sizeof cwd) == NULL) cwd[0] = '\0';
}

/*
 * Asks the bridge for this process's bitmap (the constructor: `forked` 0; a forked child whose
 * registration is due: 1, with the stub, the live page, the patches and the working directory
 * its parent had). The shim's own calls go through the stub once it is mapped, so that the only
 * ones that stop are the stub's mprotect (once per image) and the registration itself.
 */
static void do_register(int forked) {
  if (live != NULL) live[0] = 0;
  const char *c = getenv("DMAHEAP_RUN_COOKIE");
  if (c == NULL || *c == '\0') return;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(c, &end, 16);
  if (errno != 0 || *end != '\0' || v == 0) return;
  const char *p = getenv("DMAHEAP_RUN_STUB");
  if (p == NULL || *p == '\0') return;
  errno = 0;
  unsigned long long page = strtoull(p, &end, 16);
  if (errno != 0 || *end != '\0' || page == 0 || (page & 4095) != 0) return;
  if (map_stub((uintptr_t)page) != 0) return;
  cookie = (long)v;
  if (live == NULL) {
    void *l = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (l == MAP_FAILED) return;
    if (fast(SYS_madvise, (long)l, 4096, MADV_WIPEONFORK, 0, 0) != 0) {
      fast(SYS_munmap, (long)l, 4096, 0, 0, 0);
      return;
    }
    live = l;
  }
  if (reg_info[0] == 0) {
    reg_info[0] = page;
    reg_info[1] = (uintptr_t)live;
    /* libc's read and write: the real ones resolved before their entries are patched (the
     * interposers' SLOW side then reaches the hooks, whose SLOW side is the system call) */
    (void)NEXT(read);
    (void)NEXT(write);
    reg_info[2] = entry_patch("write", (void *)libc_write_hook);
    reg_info[3] = entry_patch("read", (void *)libc_read_hook);
    /* what libc calls inside itself where no cancellation point may be (loading the locale,
     * gconv modules, /etc files: open, fstat, mmap, close) */
    reg_info[4] = entry_patch("mmap", (void *)libc_mmap_hook);
    reg_info[5] = entry_patch("__open_nocancel", (void *)libc_open_nocancel_hook);
    reg_info[6] = entry_patch("__close_nocancel", (void *)libc_close_nocancel_hook);
    reg_info[7] = entry_patch("__fstat64", (void *)libc_fstat64_hook);
    reg_info[8] = entry_patch("__read_nocancel", (void *)libc_read_hook);
    reg_info[9] = entry_patch("__write_nocancel", (void *)libc_write_hook);
    reg_info[10] = entry_patch("__pread64_nocancel", (void *)libc_pread_hook);
    /* isatty and tcgetattr (stdio asks whether stdout is a terminal) */
    reg_info[11] = entry_patch("ioctl", (void *)libc_ioctl_hook);
  }
  /* the bitmap's memfd, made here (the bridge takes it with pidfd_getfd, which costs less than
   * installing one of its own in this process); -1 leaves it to the bridge */
  long mfd = fast(SYS_memfd_create, (long)"dmaheap-fdmap", 1 /* MFD_CLOEXEC */, 0, 0, 0);
  if (mfd >= 0 && fast(SYS_ftruncate, mfd, FD_BITS / 8 + CTL_BYTES, 0, 0, 0) != 0) {
    fast(SYS_close, mfd, 0, 0, 0, 0);
    mfd = -1;
  }
  /* reg_info and this thread's name in the memfd's control page (struct reg_copy): the bridge
   * learns an exec's new name there without reading /proc, and the notification helper can answer
   * a plain process's registration without the bridge */
  if (mfd >= 0) {
    struct reg_copy w;
    memset(&w, 0, sizeof w);
    memcpy(w.reg, reg_info, sizeof w.reg);
    if (prctl(PR_GET_NAME, w.comm, 0, 0, 0) != 0) w.comm[0] = '\0';
    w.comm[15] = '\0';
    if (fast(SYS_pwrite64, mfd, (long)&w, sizeof w, FD_BITS / 8 + offsetof(struct fast_ctl, reg), 0) != (long)sizeof w) {
      fast(SYS_close, mfd, 0, 0, 0, 0);
      mfd = -1;
    }
  }
  /* the registration: a SLOW call (sixth argument 0) the bridge answers with an fd of the
   * bitmap (ours, or one it installed); the fourth argument is how many words reg_info has, the
   * fifth our memfd + 1 */
  long fd = syscall(SYS_ioctl, -1, (long)DMAHEAP_PRELOAD_REGISTER, (long)reg_info, (long)REG_WORDS, mfd + 1, 0L);
  if (mfd >= 0 && fd != mfd) fast(SYS_close, mfd, 0, 0, 0, 0);
  if (fd < 0) return;
  /* through the stub (the filter's step 3): the registration memfd is none of the mirror's */
  void *m = stub_mmap(NULL, FD_BITS / 8, PROT_READ, MAP_SHARED, (int)fd, 0);
  /* the control pages, when the bridge made them (a memfd that short would SIGBUS past its end) */
  struct stat st;
  void *cm = MAP_FAILED;
  if (m != MAP_FAILED && fast(SYS_fstat, fd, (long)&st, 0, 0, 0) == 0 && st.st_size >= FD_BITS / 8 + CTL_BYTES)
    cm = stub_mmap(NULL, CTL_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, (int)fd, FD_BITS / 8);
  fast(SYS_close, fd, 0, 0, 0, 0);
  if (m == MAP_FAILED) return;
  /* the parent's (a forked child) or the last registration's: the shim's own, none of the mirror's */
  if (bitmap != NULL) fast(SYS_munmap, (long)bitmap, FD_BITS / 8, 0, 0, 0);
  bitmap = m;
  if (ctl != NULL) fast(SYS_munmap, (long)ctl, CTL_BYTES, 0, 0, 0);
  ctl = cm == MAP_FAILED ? NULL : cm;
  approve = ctl == NULL ? NULL : (volatile uint64_t *)((char *)ctl + 4096);
  ctl_pid = syscall(SYS_getpid);
  ctl_page = ctl != NULL && ctl->page_size == (uint64_t)sysconf(_SC_PAGESIZE) ? ctl->page_size : 0;
  if (!forked) update_cwd();
  wanted = 1;
  live[0] = 1;
}

static void after_fork_child(void) {
  /* the parent's bitmap and log are shared with us until the bridge gives this process its own
   * (live is 0 until then: every call is SLOW); a lock another thread held stays behind */
  loglock = 0;
  if (wanted) __atomic_store_n(&due, REGISTER_AFTER, __ATOMIC_RELEASE);
}

__attribute__((constructor)) static void init(void) {
  do_register(0);
  pthread_atfork(NULL, NULL, after_fork_child);
}

static void sync_bridge(void) {
  if (active) syscall(SYS_ioctl, -1, (long)DMAHEAP_PRELOAD_SYNC, 0L, 0L, 0L, 0L);
}

/* ---- open ------------------------------------------------------------------------------------ */

static inline int needs_mode(int flags) {
  return (flags & O_CREAT) != 0 || (flags & __O_TMPFILE) == __O_TMPFILE;
}

#define OPEN_MODE(flags, last)           \
  mode_t mode = 0;                       \
  if (needs_mode(flags)) {               \
    va_list ap;                          \
    va_start(ap, last);                  \
    mode = (mode_t)va_arg(ap, int);      \
    va_end(ap);                          \
  }

int open(const char *path, int flags, ...) {
  OPEN_MODE(flags, flags);
  if (path_slow(AT_FDCWD, path)) return NEXT(open)(path, flags, mode);
  return (int)fast(SYS_openat, AT_FDCWD, (long)path, flags, mode, 0);
}
int open64(const char *path, int flags, ...) {
  OPEN_MODE(flags, flags);
  if (path_slow(AT_FDCWD, path)) return NEXT(open64)(path, flags, mode);
  return (int)fast(SYS_openat, AT_FDCWD, (long)path, flags, mode, 0);
}
int openat(int dirfd, const char *path, int flags, ...) {
  OPEN_MODE(flags, flags);
  if (path_slow(dirfd, path)) return NEXT(openat)(dirfd, path, flags, mode);
  return (int)fast(SYS_openat, dirfd, (long)path, flags, mode, 0);
}
int openat64(int dirfd, const char *path, int flags, ...) {
  OPEN_MODE(flags, flags);
  if (path_slow(dirfd, path)) return NEXT(openat64)(dirfd, path, flags, mode);
  return (int)fast(SYS_openat, dirfd, (long)path, flags, mode, 0);
}
int __open_2(const char *path, int flags) {
  if (path_slow(AT_FDCWD, path) || needs_mode(flags)) return NEXT(__open_2)(path, flags);
  return (int)fast(SYS_openat, AT_FDCWD, (long)path, flags, 0, 0);
}
int __open64_2(const char *path, int flags) {
  if (path_slow(AT_FDCWD, path) || needs_mode(flags)) return NEXT(__open64_2)(path, flags);
  return (int)fast(SYS_openat, AT_FDCWD, (long)path, flags, 0, 0);
}
int __openat_2(int dirfd, const char *path, int flags) {
  if (path_slow(dirfd, path) || needs_mode(flags)) return NEXT(__openat_2)(dirfd, path, flags);
  return (int)fast(SYS_openat, dirfd, (long)path, flags, 0, 0);
}
int __openat64_2(int dirfd, const char *path, int flags) {
  if (path_slow(dirfd, path) || needs_mode(flags)) return NEXT(__openat64_2)(dirfd, path, flags);
  return (int)fast(SYS_openat, dirfd, (long)path, flags, 0, 0);
}

/* ---- stat ------------------------------------------------------------------------------------ */
/* On x86-64 and arm64 glibc's struct stat is the kernel's (newfstatat / fstat). */

#define FSTATAT_NR SYS_newfstatat

int stat(const char *path, struct stat *st) {
  if (path_slow(AT_FDCWD, path)) return NEXT(stat)(path, st);
  return (int)fast(FSTATAT_NR, AT_FDCWD, (long)path, (long)st, 0, 0);
}
int stat64(const char *path, struct stat64 *st) {
  if (path_slow(AT_FDCWD, path)) return NEXT(stat64)(path, st);
  return (int)fast(FSTATAT_NR, AT_FDCWD, (long)path, (long)st, 0, 0);
}
int lstat(const char *path, struct stat *st) {
  if (path_slow(AT_FDCWD, path)) return NEXT(lstat)(path, st);
  return (int)fast(FSTATAT_NR, AT_FDCWD, (long)path, (long)st, AT_SYMLINK_NOFOLLOW, 0);
}
int lstat64(const char *path, struct stat64 *st) {
  if (path_slow(AT_FDCWD, path)) return NEXT(lstat64)(path, st);
  return (int)fast(FSTATAT_NR, AT_FDCWD, (long)path, (long)st, AT_SYMLINK_NOFOLLOW, 0);
}
int fstatat(int dirfd, const char *path, struct stat *st, int flags) {
  if (path_slow(dirfd, path) || ((flags & AT_EMPTY_PATH) != 0 && fd_slow(dirfd))) return NEXT(fstatat)(dirfd, path, st, flags);
  return (int)fast(FSTATAT_NR, dirfd, (long)path, (long)st, flags, 0);
}
int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags) {
  if (path_slow(dirfd, path) || ((flags & AT_EMPTY_PATH) != 0 && fd_slow(dirfd))) return NEXT(fstatat64)(dirfd, path, st, flags);
  return (int)fast(FSTATAT_NR, dirfd, (long)path, (long)st, flags, 0);
}
int fstat(int fd, struct stat *st) {
  if (fd_slow(fd)) return NEXT(fstat)(fd, st);
  return (int)fast(SYS_fstat, fd, (long)st, 0, 0, 0);
}
int fstat64(int fd, struct stat64 *st) {
  if (fd_slow(fd)) return NEXT(fstat64)(fd, st);
  return (int)fast(SYS_fstat, fd, (long)st, 0, 0, 0);
}
/* programs built against glibc < 2.33 call these */
int __xstat(int ver, const char *path, struct stat *st) {
  if (path_slow(AT_FDCWD, path)) return NEXT(__xstat)(ver, path, st);
  return (int)fast(FSTATAT_NR, AT_FDCWD, (long)path, (long)st, 0, 0);
}
int __xstat64(int ver, const char *path, struct stat64 *st) {
  if (path_slow(AT_FDCWD, path)) return NEXT(__xstat64)(ver, path, st);
  return (int)fast(FSTATAT_NR, AT_FDCWD, (long)path, (long)st, 0, 0);
}
int __lxstat(int ver, const char *path, struct stat *st) {
  if (path_slow(AT_FDCWD, path)) return NEXT(__lxstat)(ver, path, st);
  return (int)fast(FSTATAT_NR, AT_FDCWD, (long)path, (long)st, AT_SYMLINK_NOFOLLOW, 0);
}
int __lxstat64(int ver, const char *path, struct stat64 *st) {
  if (path_slow(AT_FDCWD, path)) return NEXT(__lxstat64)(ver, path, st);
  return (int)fast(FSTATAT_NR, AT_FDCWD, (long)path, (long)st, AT_SYMLINK_NOFOLLOW, 0);
}
int __fxstat(int ver, int fd, struct stat *st) {
  if (fd_slow(fd)) return NEXT(__fxstat)(ver, fd, st);
  return (int)fast(SYS_fstat, fd, (long)st, 0, 0, 0);
}
int __fxstat64(int ver, int fd, struct stat64 *st) {
  if (fd_slow(fd)) return NEXT(__fxstat64)(ver, fd, st);
  return (int)fast(SYS_fstat, fd, (long)st, 0, 0, 0);
}
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags) {
  if (path_slow(dirfd, path) || ((flags & AT_EMPTY_PATH) != 0 && fd_slow(dirfd))) return NEXT(__fxstatat)(ver, dirfd, path, st, flags);
  return (int)fast(FSTATAT_NR, dirfd, (long)path, (long)st, flags, 0);
}
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags) {
  if (path_slow(dirfd, path) || ((flags & AT_EMPTY_PATH) != 0 && fd_slow(dirfd))) return NEXT(__fxstatat64)(ver, dirfd, path, st, flags);
  return (int)fast(FSTATAT_NR, dirfd, (long)path, (long)st, flags, 0);
}
int statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *buf) {
  if (path_slow(dirfd, path) || ((flags & AT_EMPTY_PATH) != 0 && fd_slow(dirfd))) return NEXT(statx)(dirfd, path, flags, mask, buf);
  return (int)fast(SYS_statx, dirfd, (long)path, flags, mask, (long)buf);
}

/* ---- access, readlink ------------------------------------------------------------------------ */

int access(const char *path, int mode) {
  if (path_slow(AT_FDCWD, path)) return NEXT(access)(path, mode);
  return (int)fast(SYS_faccessat, AT_FDCWD, (long)path, mode, 0, 0);
}
int faccessat(int dirfd, const char *path, int mode, int flags) {
  /* flags need faccessat2 or glibc's emulation: SLOW */
  if (flags != 0 || path_slow(dirfd, path)) return NEXT(faccessat)(dirfd, path, mode, flags);
  return (int)fast(SYS_faccessat, dirfd, (long)path, mode, 0, 0);
}
ssize_t readlink(const char *path, char *buf, size_t size) {
  if (path_slow(AT_FDCWD, path)) return NEXT(readlink)(path, buf, size);
  return fast(SYS_readlinkat, AT_FDCWD, (long)path, (long)buf, (long)size, 0);
}
ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t size) {
  if (path_slow(dirfd, path)) return NEXT(readlinkat)(dirfd, path, buf, size);
  return fast(SYS_readlinkat, dirfd, (long)path, (long)buf, (long)size, 0);
}

/* ---- statfs, isatty -------------------------------------------------------------------------- */
/* On x86-64 and arm64 glibc's struct statfs and statfs64 are the kernel's (statfs / fstatfs). */

int statfs(const char *path, struct statfs *buf) {
  if (path_slow(AT_FDCWD, path)) return NEXT(statfs)(path, buf);
  return (int)fast(SYS_statfs, (long)path, (long)buf, 0, 0, 0);
}
int statfs64(const char *path, struct statfs64 *buf) {
  if (path_slow(AT_FDCWD, path)) return NEXT(statfs64)(path, buf);
  return (int)fast(SYS_statfs, (long)path, (long)buf, 0, 0, 0);
}
/* fts (find, du) asks for each directory's file system */
int fstatfs(int fd, struct statfs *buf) {
  if (fd_slow(fd)) return NEXT(fstatfs)(fd, buf);
  return (int)fast(SYS_fstatfs, fd, (long)buf, 0, 0, 0);
}
int fstatfs64(int fd, struct statfs64 *buf) {
  if (fd_slow(fd)) return NEXT(fstatfs64)(fd, buf);
  return (int)fast(SYS_fstatfs, fd, (long)buf, 0, 0, 0);
}
/* glibc's isatty is TCGETS succeeding (sysdeps/posix/isatty.c, through tcgetattr, whose ioctl is
 * inside libc): the kernel's struct termios is 36 bytes on x86-64 and arm64 */
int isatty(int fd) {
  if (fd_slow(fd)) return NEXT(isatty)(fd);
  unsigned char k[64];
  return fast(SYS_ioctl, fd, TCGETS, (long)k, 0, 0) == 0;
}

/* ---- fd calls -------------------------------------------------------------------------------- */

/* ---- the buffer fast path: mmap, munmap and close of dma-bufs, through the log ---------------- */

static inline int fast_bufs(void) {
  return active && ctl != NULL && ctl_page != 0 && (__atomic_load_n(&ctl->flags, __ATOMIC_ACQUIRE) & CTL_FAST) != 0 &&
         syscall(SYS_getpid) == ctl_pid;
}
static inline uint64_t approval(int fd) {
  return approve != NULL && fd >= 0 && fd < APPROVE_FDS ? approve[fd] : 0;
}
static inline int log_lock(void) {
  return __atomic_exchange_n(&loglock, 1, __ATOMIC_ACQUIRE) == 0;
}
static inline void log_unlock(void) {
  __atomic_store_n(&loglock, 0, __ATOMIC_RELEASE);
}
/* Is there room for a record? (the lock held) */
static inline int log_room(void) {
  return ctl->head - __atomic_load_n(&ctl->tail, __ATOMIC_ACQUIRE) < LOG_N;
}
/* Appends a record (the lock held, log_room checked): its fields, then seq, then head. */
static void log_put(uint32_t op, int fd, uint32_t prot, uint64_t addr, uint64_t len, uint64_t off, uint32_t flags) {
  uint32_t h = ctl->head;
  struct log_rec *r = &ctl->log[h % LOG_N];
  r->op = op;
  r->fd = fd;
  r->prot = prot;
  r->addr = addr;
  r->len = len;
  r->off = off;
  r->flags = flags;
  __atomic_store_n(&r->seq, h + 1, __ATOMIC_RELEASE);
  __atomic_store_n(&ctl->head, h + 1, __ATOMIC_RELEASE);
}

/*
 * A plain shared mapping of a whole-page range inside an approved dma-buf, where the host
 * chooses the address: native, then logged. Returns 1 when it took the call (*out is its result).
 */
static int mmap_fast(void *addr, size_t len, int prot, int flags, int fd, off_t off, void **out) {
  if (fd < 0 || !(active || try_register())) return 0;
  if (!fd_slow(fd)) {
    /* a host fd: the bridge would let the host run it, unless MAP_FIXED may replace a buffer mapping */
    if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) != 0) return 0;
    *out = stub_mmap(addr, len, prot, flags, fd, off);
    return 1;
  }
  uint64_t a = approval(fd);
  if ((a & AP_VALID) == 0 || !fast_bufs()) return 0;
  uint64_t pm = ctl_page - 1;
  if (addr != NULL || flags != MAP_SHARED || len == 0 || off < 0 || ((uint64_t)off & pm) != 0) return 0;
  if (prot != PROT_READ && prot != (PROT_READ | PROT_WRITE)) return 0;
  if ((a & AP_READ) == 0 || ((prot & PROT_WRITE) != 0 && (a & AP_WRITE) == 0)) return 0;
  uint64_t size = a & AP_SIZE;
  if (len > size) return 0;
  uint64_t plen = ((uint64_t)len + pm) & ~pm;
  if (plen > size || (uint64_t)off > size - plen) return 0;
  if (!log_lock()) return 0;
  if (nfastmaps == FASTMAPS || !log_room()) {
    log_unlock();
    return 0;
  }
  void *r = stub_mmap(NULL, len, prot, flags, fd, off);
  if (r != MAP_FAILED) {
    log_put(LOG_MMAP, fd, (uint32_t)prot, (uint64_t)(uintptr_t)r, len, (uint64_t)off, (uint32_t)flags);
    fastmaps[nfastmaps].addr = (uintptr_t)r;
    fastmaps[nfastmaps].len = (size_t)plen;
    nfastmaps++;
  }
  /* MAP_FAILED: the host refused (its address space), what the SLOW path would give too */
  log_unlock();
  *out = r;
  return 1;
}

/*
 * DMA_HEAP_IOCTL_ALLOC on an emulated fd: the memfd made here (see the top of the file). The
 * struct is read with process_vm_readv, which fails where the memory cannot be read (the SLOW
 * call then gives the kernel's EFAULT). Afterwards the memfd stays only where the mirror holds
 * it (its bit set: the dma-buf's fd); otherwise (an error, a retry) it is closed here.
 */
static int alloc_fast(int fd, void *arg, long *out) {
  if (!fast_bufs() || fd < 0 || fd >= FD_BITS || !fd_slow(fd)) return 0;
  uint32_t id = __atomic_load_n(&ctl->next_id, __ATOMIC_ACQUIRE);
  if (id == 0) return 0;
  struct heap_alloc d;
  struct iovec lv = {&d, sizeof d}, rv = {arg, sizeof d};
  if (syscall(SYS_process_vm_readv, (long)getpid(), &lv, 1L, &rv, 1L, 0L) != (long)sizeof d) return 0;
  if (d.heap_flags != 0) return 0;
  char name[32] = "dmaheap:buf:";
  char digits[12];
  int n = 0;
  do
    digits[n++] = (char)('0' + id % 10);
  while ((id /= 10) != 0);
  for (int i = 0; i < n; i++) name[12 + i] = digits[n - 1 - i];
  name[12 + n] = '\0';
  int mfd = (int)syscall(SYS_memfd_create, name, (d.fd_flags & O_CLOEXEC) != 0 ? 1u /* MFD_CLOEXEC */ : 0u);
  if (mfd < 0) return 0;
  if (mfd >= FD_BITS) {
    /* past the bitmap, the bridge's answer could not be told from the mirror's table */
    fast(SYS_close, mfd, 0, 0, 0, 0);
    return 0;
  }
  /* the buffer's size, as the heaps round it (a failed ALLOC drops the memfd anyway) */
  uint64_t ps = ctl_page;
  if (d.len != 0 && d.len <= (1ULL << 46)) fast(SYS_ftruncate, mfd, (long)((d.len + ps - 1) & ~(ps - 1)), 0, 0, 0);
  long r = syscall(SYS_ioctl, (long)fd, (long)HEAP_IOCTL_ALLOC, (long)arg, (long)(FAST_ALLOC | ((unsigned long)(uint32_t)mfd << 32)), (long)d.len,
                   (long)((unsigned long)d.fd | ((unsigned long)d.fd_flags << 32)));
  int e = errno;
  int held = active && fd_slow(mfd);
  if (!held) fast(SYS_close, mfd, 0, 0, 0, 0);
  if (r == FAST_ALLOC_RETRY) return 0;
  if (r == 0 && held) {
    /* drivers/dma-buf/dma-heap.c dma_heap_ioctl()'s copy_to_user of the struct, with the new fd
     * (the fd stays installed when it fails) */
    d.fd = (uint32_t)mfd;
    struct iovec wl = {&d, sizeof d}, wr = {arg, sizeof d};
    if (syscall(SYS_process_vm_writev, (long)getpid(), &wl, 1L, &wr, 1L, 0L) != (long)sizeof d) {
      errno = EFAULT;
      *out = -1;
      return 1;
    }
  }
  errno = e;
  *out = r;
  return 1;
}

/*
 * ioctl, the program's and libc's own (libc's entry is patched to jump here): DMA_HEAP_IOCTL_ALLOC
 * with the shim's memfd (alloc_fast); a host fd natively, except the dma-heap, dma-buf and udmabuf
 * types ('H', 'b', 'u'), which the bridge refuses on the host's own devices; the rest SLOW (the
 * plain system call).
 */
static int libc_ioctl_hook(int fd, unsigned long req, void *arg) {
  long r;
  if (req == HEAP_IOCTL_ALLOC && alloc_fast(fd, arg, &r)) return (int)r;
  unsigned type = (unsigned)(req >> 8) & 0xff;
  /* the unused arguments zero: a leftover FAST_ALLOC in the fourth would look like alloc_fast's */
  if (fd_slow(fd) || type == 'H' || type == 'b' || type == 'u') return (int)syscall(SYS_ioctl, fd, req, arg, 0L, 0L, 0L);
  return (int)fast(SYS_ioctl, fd, (long)req, (long)arg, 0, 0);
}
int ioctl(int fd, unsigned long req, ...) {
  va_list ap;
  va_start(ap, req);
  void *arg = va_arg(ap, void *);
  va_end(ap);
  return libc_ioctl_hook(fd, req, arg);
}

DECL(int, munmap, void *, size_t);

/* The program's mmap decides as libc's own (patched to jump to the same hook): libc's is the plain
 * system call (with its offset check, which the kernel makes too), so nothing is lost where the
 * patch could not be made. */
void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  return libc_mmap_hook(addr, len, prot, flags, fd, off);
}
void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  return libc_mmap_hook(addr, len, prot, flags, fd, off);
}

/* The munmap of exactly one fast mapping: logged, then native. */
int munmap(void *addr, size_t len) {
  if (nfastmaps > 0 && fast_bufs() && log_lock()) {
    size_t plen = (len + (size_t)ctl_page - 1) & ~((size_t)ctl_page - 1);
    for (int i = 0; i < nfastmaps; i++) {
      if (fastmaps[i].addr != (uintptr_t)addr || fastmaps[i].len != plen || plen == 0) continue;
      if (!log_room()) break;
      log_put(LOG_MUNMAP, -1, 0, (uint64_t)(uintptr_t)addr, len, 0, 0);
      fastmaps[i] = fastmaps[--nfastmaps];
      int r = (int)fast(SYS_munmap, (long)addr, (long)len, 0, 0, 0);
      log_unlock();
      return r;
    }
    log_unlock();
  }
  return NEXT(munmap)(addr, len);
}

int close(int fd) {
  /* an approved dma-buf: logged, then native (its approval goes with it) */
  if ((approval(fd) & AP_VALID) != 0 && fast_bufs() && log_lock()) {
    if (log_room()) {
      log_put(LOG_CLOSE, fd, 0, 0, 0, 0, 0);
      approve[fd] = 0;
      int r = (int)fast(SYS_close, fd, 0, 0, 0, 0);
      log_unlock();
      return r;
    }
    log_unlock();
  }
  if (fd_slow(fd)) return NEXT(close)(fd);
  return (int)fast(SYS_close, fd, 0, 0, 0, 0);
}
int fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  long arg = va_arg(ap, long);
  va_end(ap);
  if (fd_slow(fd)) return NEXT(fcntl)(fd, cmd, arg);
  return (int)fast(SYS_fcntl, fd, cmd, arg, 0, 0);
}
int fcntl64(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  long arg = va_arg(ap, long);
  va_end(ap);
  if (fd_slow(fd)) return NEXT(fcntl64)(fd, cmd, arg);
  return (int)fast(SYS_fcntl, fd, cmd, arg, 0, 0);
}
/*
 * libc's own read and write (stdio's buffers reach the kernel through them, from inside libc
 * where interposition does not reach) jump here once entry_patch has patched their first bytes:
 * SLOW is the plain system call (libc's syscall(), which the filter stops), never the patched
 * function.
 */
static ssize_t libc_read_hook(int fd, void *buf, size_t n) {
  if (fd_slow(fd)) return syscall(SYS_read, fd, buf, n);
  return fast(SYS_read, fd, (long)buf, (long)n, 0, 0);
}
static ssize_t libc_write_hook(int fd, const void *buf, size_t n) {
  if (fd_slow(fd)) return syscall(SYS_write, fd, buf, n);
  return fast(SYS_write, fd, (long)buf, (long)n, 0, 0);
}
/*
 * libc's mmap, __open_nocancel, __close_nocancel and __fstat64 (the functions libc calls inside
 * itself when it loads the locale and its other files) jump here the same way. None of them is a
 * cancellation point; SLOW is again the plain system call.
 */
static void *libc_mmap_hook(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  void *r;
  if (mmap_fast(addr, len, prot, flags, fd, off, &r)) return r;
  return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}
static int libc_open_nocancel_hook(const char *path, int flags, ...) {
  OPEN_MODE(flags, flags);
  if (path_slow(AT_FDCWD, path)) return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
  return (int)fast(SYS_openat, AT_FDCWD, (long)path, flags, mode, 0);
}
static int libc_close_nocancel_hook(int fd) {
  if (fd_slow(fd)) return (int)syscall(SYS_close, fd);
  return (int)fast(SYS_close, fd, 0, 0, 0, 0);
}
static ssize_t libc_pread_hook(int fd, void *buf, size_t n, off_t off) {
  if (fd_slow(fd)) return syscall(SYS_pread64, fd, buf, n, off);
  return fast(SYS_pread64, fd, (long)buf, (long)n, (long)off, 0);
}
static int libc_fstat64_hook(int fd, struct stat *st) {
  /* as libc's: a negative fd is EBADF (AT_FDCWD would stat the working directory) */
  if (fd < 0) {
    errno = EBADF;
    return -1;
  }
  if (fd_slow(fd)) return (int)syscall(FSTATAT_NR, fd, "", st, AT_EMPTY_PATH);
  return (int)fast(FSTATAT_NR, fd, (long)"", (long)st, AT_EMPTY_PATH, 0);
}
ssize_t read(int fd, void *buf, size_t n) {
  if (fd_slow(fd)) return NEXT(read)(fd, buf, n);
  return fast(SYS_read, fd, (long)buf, (long)n, 0, 0);
}
ssize_t write(int fd, const void *buf, size_t n) {
  if (fd_slow(fd)) return NEXT(write)(fd, buf, n);
  return fast(SYS_write, fd, (long)buf, (long)n, 0, 0);
}
ssize_t pread(int fd, void *buf, size_t n, off_t off) {
  if (fd_slow(fd)) return NEXT(pread)(fd, buf, n, off);
  return fast(SYS_pread64, fd, (long)buf, (long)n, (long)off, 0);
}
ssize_t pread64(int fd, void *buf, size_t n, off_t off) {
  if (fd_slow(fd)) return NEXT(pread64)(fd, buf, n, off);
  return fast(SYS_pread64, fd, (long)buf, (long)n, (long)off, 0);
}
ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
  if (fd_slow(fd)) return NEXT(pwrite)(fd, buf, n, off);
  return fast(SYS_pwrite64, fd, (long)buf, (long)n, (long)off, 0);
}
ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) {
  if (fd_slow(fd)) return NEXT(pwrite64)(fd, buf, n, off);
  return fast(SYS_pwrite64, fd, (long)buf, (long)n, (long)off, 0);
}
ssize_t readv(int fd, const struct iovec *iov, int cnt) {
  if (fd_slow(fd)) return NEXT(readv)(fd, iov, cnt);
  return fast(SYS_readv, fd, (long)iov, cnt, 0, 0);
}
ssize_t writev(int fd, const struct iovec *iov, int cnt) {
  if (fd_slow(fd)) return NEXT(writev)(fd, iov, cnt);
  return fast(SYS_writev, fd, (long)iov, cnt, 0, 0);
}
off_t lseek(int fd, off_t off, int whence) {
  if (fd_slow(fd)) return NEXT(lseek)(fd, off, whence);
  return (off_t)fast(SYS_lseek, fd, (long)off, whence, 0, 0);
}
off_t lseek64(int fd, off_t off, int whence) {
  if (fd_slow(fd)) return NEXT(lseek64)(fd, off, whence);
  return (off_t)fast(SYS_lseek, fd, (long)off, whence, 0, 0);
}
ssize_t getdents64(int fd, void *buf, size_t n) {
  if (fd_slow(fd)) return NEXT(getdents64)(fd, buf, n);
  return fast(SYS_getdents64, fd, (long)buf, (long)n, 0, 0);
}

/* ---- the working directory, fds that arrive --------------------------------------------------- */

int chdir(const char *path) {
  int r = NEXT(chdir)(path);
  int e = errno;
  if (r == 0) update_cwd();
  errno = e;
  return r;
}
int fchdir(int fd) {
  int r = NEXT(fchdir)(fd);
  int e = errno;
  if (r == 0) update_cwd();
  errno = e;
  return r;
}
ssize_t recvmsg(int fd, struct msghdr *msg, int flags) {
  ssize_t r = NEXT(recvmsg)(fd, msg, flags);
  int e = errno;
  if (r >= 0) sync_bridge();
  errno = e;
  return r;
}
int recvmmsg(int fd, struct mmsghdr *v, unsigned n, int flags, struct timespec *t) {
  int r = NEXT(recvmmsg)(fd, v, n, flags, t);
  int e = errno;
  if (r >= 0) sync_bridge();
  errno = e;
  return r;
}

/* ---- directories ------------------------------------------------------------------------------ */
/*
 * glibc's opendir/readdir call getdents64 through internal symbols interposition cannot reach, so
 * the shim keeps its own DIR: the fd, a buffer of linux_dirent64 records (the layout of struct
 * dirent64, and of struct dirent on 64-bit glibc) and a position. A DIR that is not the shim's
 * (its magic) goes to glibc's functions.
 */

#define DIR_MAGIC 0x4448444952303031ULL /* "DHDIR001" */
#define DIR_BUF 32768

struct shim_dir {
  uint64_t magic;
  int fd;
  size_t pos, len;
  long next_off; /* d_off of the last record returned (telldir) */
  pthread_mutex_t lock;
  char buf[DIR_BUF] __attribute__((aligned(8)));
};

static DIR *shim_dir_of(int fd) {
  struct shim_dir *d = malloc(sizeof *d);
  if (d == NULL) return NULL;
  d->magic = DIR_MAGIC;
  d->fd = fd;
  d->pos = d->len = 0;
  d->next_off = 0;
  pthread_mutex_init(&d->lock, NULL);
  return (DIR *)d;
}

static inline struct shim_dir *shim(DIR *d) {
  struct shim_dir *s = (struct shim_dir *)d;
  return s != NULL && s->magic == DIR_MAGIC ? s : NULL;
}

DIR *opendir(const char *path) {
  if (path_slow(AT_FDCWD, path)) return NEXT(opendir)(path);
  long fd = fast(SYS_openat, AT_FDCWD, (long)path, O_RDONLY | O_NDELAY | O_DIRECTORY | O_CLOEXEC, 0, 0);
  if (fd < 0) return NULL;
  DIR *d = shim_dir_of((int)fd);
  if (d == NULL) {
    int e = errno;
    fast(SYS_close, fd, 0, 0, 0, 0);
    errno = e;
  }
  return d;
}

DIR *fdopendir(int fd) {
  if (fd_slow(fd)) return NEXT(fdopendir)(fd);
  /* glibc's checks: a directory, opened for reading */
  struct stat st;
  if (fast(SYS_fstat, fd, (long)&st, 0, 0, 0) < 0) return NULL;
  if (!S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    return NULL;
  }
  long fl = fast(SYS_fcntl, fd, F_GETFL, 0, 0, 0);
  if (fl < 0) return NULL;
  if ((fl & O_ACCMODE) == O_WRONLY) {
    errno = EINVAL;
    return NULL;
  }
  return shim_dir_of(fd);
}

static struct dirent64 *shim_next(struct shim_dir *s) {
  if (s->pos >= s->len) {
    int e = errno;
    long n = fast(SYS_getdents64, s->fd, (long)s->buf, DIR_BUF, 0, 0);
    if (n <= 0) {
      /* end of directory leaves errno alone; an error sets it */
      if (n == 0) errno = e;
      return NULL;
    }
    errno = e;
    s->len = (size_t)n;
    s->pos = 0;
  }
  struct dirent64 *r = (struct dirent64 *)(s->buf + s->pos);
  s->pos += r->d_reclen;
  s->next_off = r->d_off;
  return r;
}

struct dirent *readdir(DIR *d) {
  struct shim_dir *s = shim(d);
  if (s == NULL) return NEXT(readdir)(d);
  pthread_mutex_lock(&s->lock);
  struct dirent64 *r = shim_next(s);
  pthread_mutex_unlock(&s->lock);
  return (struct dirent *)r;
}
struct dirent64 *readdir64(DIR *d) {
  struct shim_dir *s = shim(d);
  if (s == NULL) return NEXT(readdir64)(d);
  pthread_mutex_lock(&s->lock);
  struct dirent64 *r = shim_next(s);
  pthread_mutex_unlock(&s->lock);
  return r;
}
int closedir(DIR *d) {
  struct shim_dir *s = shim(d);
  if (s == NULL) return NEXT(closedir)(d);
  int fd = s->fd;
  s->magic = 0;
  pthread_mutex_destroy(&s->lock);
  free(s);
  return close(fd);
}
int dirfd(DIR *d) {
  struct shim_dir *s = shim(d);
  if (s == NULL) return NEXT(dirfd)(d);
  return s->fd;
}
void rewinddir(DIR *d) {
  struct shim_dir *s = shim(d);
  if (s == NULL) {
    NEXT(rewinddir)(d);
    return;
  }
  pthread_mutex_lock(&s->lock);
  fast(SYS_lseek, s->fd, 0, SEEK_SET, 0, 0);
  s->pos = s->len = 0;
  s->next_off = 0;
  pthread_mutex_unlock(&s->lock);
}
long telldir(DIR *d) {
  struct shim_dir *s = shim(d);
  if (s == NULL) return NEXT(telldir)(d);
  return s->next_off;
}
void seekdir(DIR *d, long off) {
  struct shim_dir *s = shim(d);
  if (s == NULL) {
    NEXT(seekdir)(d, off);
    return;
  }
  pthread_mutex_lock(&s->lock);
  fast(SYS_lseek, s->fd, off, SEEK_SET, 0, 0);
  s->pos = s->len = 0;
  s->next_off = off;
  pthread_mutex_unlock(&s->lock);
}
DECL(int, readdir_r, DIR *, struct dirent *, struct dirent **);
int readdir_r(DIR *d, struct dirent *entry, struct dirent **result) {
  struct shim_dir *s = shim(d);
  if (s == NULL) return NEXT(readdir_r)(d, entry, result);
  pthread_mutex_lock(&s->lock);
  int e = errno;
  errno = 0;
  struct dirent64 *r = shim_next(s);
  int err = r == NULL ? errno : 0;
  if (r != NULL) memcpy(entry, r, r->d_reclen < sizeof *entry ? r->d_reclen : sizeof *entry);
  *result = r == NULL ? NULL : entry;
  errno = e;
  pthread_mutex_unlock(&s->lock);
  return err;
}
int readdir64_r(DIR *d, struct dirent64 *entry, struct dirent64 **result) {
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  return readdir_r(d, (struct dirent *)entry, (struct dirent **)result);
}
