/* open(2) with each flag combination on every kind of file around a dma-buf: the heap and udmabuf
 * device nodes, /proc files, a sysfs attribute (read-only and writable), debugfs bufinfo, a cgroup
 * file, and a dma-buf and a memfd reopened through /proc/self/fd; as root, then as uid/gid 1000.
 * One line per case: `<who> <file> <flags>: ok F_GETFL=0<o>` or `errno=<NAME>`.
 * gcc -static -O1 -o /tmp/open-matrix open-matrix.c; run-in-kernel.sh /tmp/open-matrix */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/syscall.h>

static const char *en(int e) {
  static char b[32];
  switch (e) {
  case EINVAL: return "EINVAL"; case ENOTDIR: return "ENOTDIR"; case EISDIR: return "EISDIR"; case ENOENT: return "ENOENT";
  case EEXIST: return "EEXIST"; case EACCES: return "EACCES"; case ELOOP: return "ELOOP"; case EOPNOTSUPP: return "EOPNOTSUPP";
  case EROFS: return "EROFS"; case EPERM: return "EPERM"; case EBADF: return "EBADF"; case ENXIO: return "ENXIO"; case ENODEV: return "ENODEV";
  default: snprintf(b, 32, "errno%d", e); return b;
  }
}

struct alloc_data { uint64_t len; uint32_t fd; uint32_t fd_flags; uint64_t heap_flags; };

static const struct { const char *name; long flags; int slash; } FLAGS[] = {
  { "O_RDONLY", O_RDONLY, 0 }, { "O_WRONLY", O_WRONLY, 0 }, { "O_RDWR", O_RDWR, 0 }, { "O_RDONLY|O_TRUNC", O_RDONLY | O_TRUNC, 0 },
  { "O_WRONLY|O_APPEND", O_WRONLY | O_APPEND, 0 }, { "O_RDONLY|O_DIRECTORY", O_RDONLY | O_DIRECTORY, 0 }, { "O_RDONLY|O_CREAT", O_RDONLY | O_CREAT, 0 },
  { "O_RDWR|O_CREAT|O_EXCL", O_RDWR | O_CREAT | O_EXCL, 0 }, { "O_RDONLY|O_NOFOLLOW", O_RDONLY | O_NOFOLLOW, 0 }, { "O_PATH", O_PATH, 0 },
  { "O_PATH|O_DIRECTORY", O_PATH | O_DIRECTORY, 0 }, { "O_PATH|O_NOFOLLOW", O_PATH | O_NOFOLLOW, 0 }, { "O_TMPFILE|O_RDWR", O_TMPFILE | O_RDWR, 0 },
  { "O_RDONLY|O_NONBLOCK|O_NOATIME", O_RDONLY | O_NONBLOCK | O_NOATIME, 0 }, { "O_RDONLY trailing slash", O_RDONLY, 1 }, { "O_PATH trailing slash", O_PATH, 1 },
};

static void matrix(const char *who, const char *file, const char *path) {
  char p[256];
  for (unsigned i = 0; i < sizeof FLAGS / sizeof FLAGS[0]; i++) {
    snprintf(p, sizeof p, "%s%s", path, FLAGS[i].slash ? "/" : "");
    errno = 0;
    long fd = syscall(SYS_open, p, FLAGS[i].flags, 0600);
    if (fd < 0) printf("%s %s %s: errno=%s\n", who, file, FLAGS[i].name, en(errno));
    else { printf("%s %s %s: ok F_GETFL=0%lo\n", who, file, FLAGS[i].name, (long)fcntl(fd, F_GETFL)); close(fd); }
    fflush(stdout);
  }
}

int main(void) {
  int h = open("/dev/dma_heap/system", O_RDWR);
  struct alloc_data a = { 4096, 0, O_RDWR, 0 };
  if (ioctl(h, 0xc0184800, &a) < 0) { perror("alloc"); return 1; }
  close(h);
  int m = syscall(SYS_memfd_create, "m", 0);
  char dp[64], mp[64];
  snprintf(dp, sizeof dp, "/proc/self/fd/%u", a.fd);
  snprintf(mp, sizeof mp, "/proc/self/fd/%d", m);
  for (int pass = 0; pass < 2; pass++) {
    const char *who = pass == 0 ? "root" : "user";
    pid_t c = fork();
    if (c == 0) {
      if (pass == 1) {
        prctl(PR_SET_DUMPABLE, 1);
        if (setresgid(1000, 1000, 1000) < 0 || setresuid(1000, 1000, 1000) < 0) { perror("setres"); _exit(1); }
        prctl(PR_SET_DUMPABLE, 1);
      }
      matrix(who, "heap", "/dev/dma_heap/system");
      matrix(who, "udmabuf", "/dev/udmabuf");
      matrix(who, "meminfo", "/proc/meminfo");
      matrix(who, "maps", "/proc/self/maps");
      matrix(who, "sysfs-ro", "/sys/class/dma_heap/system/dev");
      matrix(who, "sysfs-rw", "/sys/class/dma_heap/system/uevent");
      matrix(who, "bufinfo", "/sys/kernel/debug/dma_buf/bufinfo");
      matrix(who, "cgroup.procs", "/sys/fs/cgroup/cgroup.procs");
      matrix(who, "dma-buf", dp);
      matrix(who, "memfd", mp);
      matrix(who, "heap-dir", "/dev/dma_heap");
      _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
  }
  return 0;
}
