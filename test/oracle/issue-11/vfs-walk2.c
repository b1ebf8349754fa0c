/* More of the path walk on a real kernel: directory listing order (procfs, sysfs, cgroupfs,
 * devtmpfs), the 40-link limit (ELOOP) through /sys/class/dma_heap/<name>/subsystem, O_NOATIME and
 * O_TRUNC by a user, and the /proc/<pid>/fd/<n> link inodes. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>

static const char *en(int e) {
  static char b[32];
  switch (e) {
  case 0: return "0"; case EINVAL: return "EINVAL"; case ENOTDIR: return "ENOTDIR"; case EISDIR: return "EISDIR";
  case ENOENT: return "ENOENT"; case EEXIST: return "EEXIST"; case EACCES: return "EACCES"; case ELOOP: return "ELOOP";
  case EPERM: return "EPERM"; case ENAMETOOLONG: return "ENAMETOOLONG"; case ENXIO: return "ENXIO";
  default: snprintf(b, 32, "errno%d", e); return b;
  }
}
static void o(const char *name, const char *path, long flags) {
  errno = 0;
  long fd = syscall(SYS_open, path, flags, 0600);
  if (fd < 0) { printf("%s: errno=%s\n", name, en(errno)); fflush(stdout); return; }
  struct stat st; fstat(fd, &st);
  printf("%s: ok F_GETFL=0%lo mode=0%o ino=%lu\n", name, (long)fcntl(fd, F_GETFL), st.st_mode, (unsigned long)st.st_ino);
  fflush(stdout); close(fd);
}
static void ls(const char *name, const char *path) {
  DIR *d = opendir(path);
  if (d == NULL) { printf("%s: errno=%s\n", name, en(errno)); fflush(stdout); return; }
  printf("%s:", name);
  struct dirent *e;
  int n = 0;
  while ((e = readdir(d)) != NULL && n++ < 40) printf(" %s", e->d_name);
  printf("\n"); fflush(stdout); closedir(d);
}
int main(void) {
  char p[4096];
  ls("ls /proc", "/proc");
  ls("ls /proc/self", "/proc/self");
  /* (not `ls /`: the guest's root is the host's directory tree over an overlay, not the kernel's) */
  ls("ls /dev", "/dev");
  ls("ls /sys", "/sys");
  ls("ls /sys/kernel", "/sys/kernel");
  ls("ls /sys/kernel/mm", "/sys/kernel/mm");
  ls("ls /sys/kernel/mm/cma", "/sys/kernel/mm/cma");
  ls("ls /sys/kernel/debug/cma", "/sys/kernel/debug/cma");
  ls("ls /sys/kernel/debug", "/sys/kernel/debug");
  ls("ls /sys/fs", "/sys/fs");
  ls("ls /sys/class", "/sys/class");
  ls("ls /sys/devices/virtual", "/sys/devices/virtual");
  ls("ls /sys/fs/cgroup", "/sys/fs/cgroup");
  mkdir("/sys/fs/cgroup/b", 0755); mkdir("/sys/fs/cgroup/a", 0755); mkdir("/sys/fs/cgroup/c", 0755);
  ls("ls /sys/fs/cgroup after mkdir b a c", "/sys/fs/cgroup");
  ls("ls /sys/fs/cgroup/a", "/sys/fs/cgroup/a");
  int fd = open("/sys/fs/cgroup/cgroup.subtree_control", O_WRONLY); write(fd, "+memory", 7); close(fd);
  ls("ls /sys/fs/cgroup/a with memory", "/sys/fs/cgroup/a");
  rmdir("/sys/fs/cgroup/a"); rmdir("/sys/fs/cgroup/b"); rmdir("/sys/fs/cgroup/c");
  ls("ls /sys/kernel/dmabuf", "/sys/kernel/dmabuf");
  int h = open("/dev/dma_heap/system", O_RDONLY);
  struct { unsigned long long len; unsigned fd, fd_flags; unsigned long long heap_flags; } a1 = { 4096, 0, O_RDWR, 0 }, a2 = a1;
  ioctl(h, 0xc0184800, &a1); ioctl(h, 0xc0184800, &a2);
  ls("ls /sys/kernel/dmabuf/buffers (2 buffers)", "/sys/kernel/dmabuf/buffers");
  struct stat st; fstat(a1.fd, &st);
  snprintf(p, sizeof p, "/sys/kernel/dmabuf/buffers/%lu", (unsigned long)st.st_ino); ls("ls buffers/<ino>", p);
  /* the 40-link limit: each system/subsystem pair is two links */
  for (int n = 19; n <= 21; n++) {
    strcpy(p, "/sys/class/dma_heap");
    for (int i = 0; i < n; i++) strcat(p, "/system/subsystem");
    char q[64]; snprintf(q, sizeof q, "%d pairs then /system/dev (%d links)", n, 2 * n + 1);
    strcat(p, "/system/dev"); o(q, p, O_RDONLY);
    p[strlen(p) - 4] = 0; snprintf(q, sizeof q, "%d pairs then /system (%d links, trailing)", n, 2 * n + 1); o(q, p, O_RDONLY);
    snprintf(q, sizeof q, "%d pairs then /system O_NOFOLLOW|O_PATH", n); o(q, p, O_PATH | O_NOFOLLOW);
  }
  /* fd link inodes */
  int m = syscall(SYS_memfd_create, "m", 0);
  snprintf(p, sizeof p, "/proc/self/fd/%d", m); o("O_PATH|O_NOFOLLOW fd/memfd twice (ino stable?)", p, O_PATH | O_NOFOLLOW); o("again", p, O_PATH | O_NOFOLLOW);
  int pf = open("/dev/dma_heap/system", O_PATH);
  snprintf(p, sizeof p, "/proc/self/fd/%d", pf); o("O_PATH|O_NOFOLLOW fd/O_PATH-heap", p, O_PATH | O_NOFOLLOW);
  o("O_PATH|O_NOFOLLOW /proc/self", "/proc/self", O_PATH | O_NOFOLLOW);
  int ps = open("/proc/self", O_PATH | O_NOFOLLOW);
  snprintf(p, sizeof p, "/proc/self/fd/%d", ps); o("open fd/<O_PATH of the /proc/self link>", p, O_RDONLY);
  snprintf(p, sizeof p, "/proc/self/fd/%d", ps); o("O_PATH fd/<O_PATH of the /proc/self link>", p, O_PATH);
  snprintf(p, sizeof p, "/proc/self/fd/%d/meminfo", ps); o("fd/<the /proc/self link>/meminfo", p, O_RDONLY);
  { char b[64]; snprintf(p, sizeof p, "/proc/self/fd/%d", ps); long n = readlink(p, b, 63); if (n >= 0) b[n] = 0; printf("readlink fd/<link>: %s\n", n < 0 ? en(errno) : b); }
  /* a user: O_NOATIME on a file it does not own, O_TRUNC on one it may only read */
  chmod("/dev/dma_heap/system", 0666);
  pid_t c = fork();
  if (c == 0) {
    setresgid(1000, 1000, 1000); setresuid(1000, 1000, 1000); prctl(PR_SET_DUMPABLE, 1);
    o("user O_NOATIME heap (0666 root)", "/dev/dma_heap/system", O_RDWR | O_NOATIME);
    o("user O_NOATIME /proc/meminfo", "/proc/meminfo", O_RDONLY | O_NOATIME);
    o("user O_NOATIME /proc/self/status", "/proc/self/status", O_RDONLY | O_NOATIME);
    o("user O_TRUNC|O_RDONLY /proc/meminfo", "/proc/meminfo", O_RDONLY | O_TRUNC);
    o("user O_TRUNC|O_RDONLY heap (0666)", "/dev/dma_heap/system", O_RDONLY | O_TRUNC);
    o("user O_RDONLY /sys/kernel/mm/cma", "/sys/kernel/mm/cma", O_RDONLY);
    o("user O_NOATIME /proc (dir)", "/proc", O_RDONLY | O_NOATIME);
    _exit(0);
  }
  waitpid(c, NULL, 0);
  chmod("/dev/dma_heap/system", 0600);
  o("root O_NOATIME meminfo", "/proc/meminfo", O_RDONLY | O_NOATIME);
  return 0;
}
