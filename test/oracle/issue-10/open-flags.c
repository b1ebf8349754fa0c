#define _GNU_SOURCE
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/syscall.h>
static const char *en(int e) { static char b[32]; switch (e) { case 0: return "0"; case EINVAL: return "EINVAL"; case ENOTDIR: return "ENOTDIR"; case EISDIR: return "EISDIR"; case ENOENT: return "ENOENT"; case EEXIST: return "EEXIST"; case EACCES: return "EACCES"; case ELOOP: return "ELOOP"; case EOPNOTSUPP: return "EOPNOTSUPP"; case EROFS: return "EROFS"; case EPERM: return "EPERM"; case EBADF: return "EBADF"; default: snprintf(b, 32, "errno%d", e); return b; } }
static void o(const char *name, const char *path, long flags) {
  errno = 0; long fd = syscall(SYS_open, path, flags, 0600);
  if (fd < 0) { printf("%s: errno=%s\n", name, en(errno)); return; }
  long fl = fcntl(fd, F_GETFL); long fdf = fcntl(fd, F_GETFD);
  char b[8]; errno = 0; long r = read(fd, b, 8); int re = errno;
  printf("%s: fd ok F_GETFL=0%lo F_GETFD=%ld read=%ld/%s\n", name, fl, fdf, r, r < 0 ? en(re) : "0");
  close(fd);
}
int main(void) {
  o("meminfo -1", "/proc/meminfo", -1L);
  o("meminfo 0xffffffff", "/proc/meminfo", 0xffffffffL);
  o("meminfo RDONLY|0x80000000", "/proc/meminfo", O_RDONLY | 0x80000000L);
  o("meminfo RDONLY|0x40000000", "/proc/meminfo", O_RDONLY | 0x40000000L);
  o("meminfo RDONLY|0x20000000", "/proc/meminfo", O_RDONLY | 0x20000000L);
  o("meminfo RDONLY|1<<40", "/proc/meminfo", O_RDONLY | (1L << 40));
  o("meminfo O_DIRECTORY", "/proc/meminfo", O_RDONLY | O_DIRECTORY);
  o("/proc O_DIRECTORY", "/proc", O_RDONLY | O_DIRECTORY);
  o("meminfo O_PATH", "/proc/meminfo", O_PATH);
  o("meminfo O_TMPFILE", "/proc/meminfo", O_TMPFILE | O_RDWR);
  o("/proc O_TMPFILE", "/proc", O_TMPFILE | O_RDWR);
  o("meminfo O_CREAT|O_EXCL", "/proc/meminfo", O_CREAT | O_EXCL | O_RDONLY);
  o("meminfo O_CREAT", "/proc/meminfo", O_CREAT | O_RDONLY);
  o("meminfo O_TRUNC|O_RDONLY", "/proc/meminfo", O_TRUNC | O_RDONLY);
  o("meminfo O_NOFOLLOW", "/proc/meminfo", O_NOFOLLOW | O_RDONLY);
  o("self O_NOFOLLOW", "/proc/self", O_NOFOLLOW | O_RDONLY);
  o("self O_NOFOLLOW|O_PATH", "/proc/self", O_NOFOLLOW | O_PATH);
  o("meminfo O_ACCMODE(3)", "/proc/meminfo", 3);
  o("heap O_ACCMODE(3)", "/dev/dma_heap/system", 3);
  o("heap O_RDWR|O_NONBLOCK|O_APPEND|O_DIRECT|O_NOATIME|O_SYNC|O_DSYNC|O_ASYNC", "/dev/dma_heap/system", O_RDWR | O_NONBLOCK | O_APPEND | O_DIRECT | O_NOATIME | O_SYNC | O_DSYNC | O_ASYNC);
  o("heap O_RDWR|O_NOCTTY|O_CLOEXEC|O_LARGEFILE", "/dev/dma_heap/system", O_RDWR | O_NOCTTY | O_CLOEXEC | O_LARGEFILE);
  o("nonexistent O_CREAT in /proc", "/proc/nonexist", O_CREAT | O_RDWR);
  o("nonexistent O_CREAT in /dev/dma_heap", "/dev/dma_heap/newone", O_CREAT | O_RDWR);
  o("/proc O_RDWR", "/proc", O_RDWR);
  o("/proc O_WRONLY|O_DIRECTORY", "/proc", O_WRONLY | O_DIRECTORY);
  return 0;
}
