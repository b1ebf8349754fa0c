#define _GNU_SOURCE
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
static const char *en(int e) { static char b[32]; switch (e) { case 0: return "0"; case EINVAL: return "EINVAL"; case ENOTDIR: return "ENOTDIR"; case EISDIR: return "EISDIR"; case ENOENT: return "ENOENT"; case EEXIST: return "EEXIST"; case EACCES: return "EACCES"; case ELOOP: return "ELOOP"; case EOPNOTSUPP: return "EOPNOTSUPP"; case EROFS: return "EROFS"; case EPERM: return "EPERM"; case EBADF: return "EBADF"; case ENXIO: return "ENXIO"; case ENOTTY: return "ENOTTY"; default: snprintf(b, 32, "errno%d", e); return b; } }
#define R(name, expr) do { errno = 0; long _r = (long)(expr); printf("%s: ret=%ld errno=%s\n", name, _r, _r < 0 ? en(errno) : "0"); fflush(stdout); } while (0)
static void o(const char *name, const char *path, long flags) {
  errno = 0; long fd = syscall(SYS_open, path, flags, 0600);
  if (fd < 0) { printf("%s: errno=%s\n", name, en(errno)); return; }
  printf("%s: ok F_GETFL=0%lo\n", name, (long)fcntl(fd, F_GETFL)); close(fd);
}
int main(void) {
  int m = syscall(SYS_memfd_create, "m", 0); ftruncate(m, 4096);
  char p[64]; snprintf(p, sizeof p, "/proc/self/fd/%d", m);
  o("O_DIRECT meminfo", "/proc/meminfo", O_RDONLY | O_DIRECT);
  o("O_DIRECT heap", "/dev/dma_heap/system", O_RDWR | O_DIRECT);
  o("O_DIRECT udmabuf", "/dev/udmabuf", O_RDWR | O_DIRECT);
  o("O_DIRECT memfd reopen", p, O_RDWR | O_DIRECT);
  o("O_DIRECT bufinfo", "/sys/kernel/debug/dma_buf/bufinfo", O_RDONLY | O_DIRECT);
  o("O_DIRECT cgroup.procs", "/sys/fs/cgroup/cgroup.procs", O_RDONLY | O_DIRECT);
  o("O_DIRECT /proc dir", "/proc", O_RDONLY | O_DIRECT);
  o("O_NONBLOCK|O_APPEND|O_NOATIME|O_SYNC heap", "/dev/dma_heap/system", O_RDWR | O_NONBLOCK | O_APPEND | O_NOATIME | O_SYNC);
  o("O_ASYNC heap", "/dev/dma_heap/system", O_RDWR | O_ASYNC);
  o("O_NOFOLLOW memfd link", p, O_RDWR | O_NOFOLLOW);
  o("O_NOFOLLOW /proc/self/fd", "/proc/self/fd", O_RDONLY | O_NOFOLLOW);
  o("O_NOFOLLOW /proc/self/maps", "/proc/self/maps", O_RDONLY | O_NOFOLLOW);
  o("O_CREAT|O_EXCL heap", "/dev/dma_heap/system", O_RDWR | O_CREAT | O_EXCL);
  o("O_CREAT|O_EXCL memfd link", p, O_RDWR | O_CREAT | O_EXCL);
  o("O_CREAT|O_EXCL /proc", "/proc", O_RDONLY | O_CREAT | O_EXCL);
  o("O_CREAT /proc", "/proc", O_RDONLY | O_CREAT);
  o("O_TMPFILE|O_RDWR /dev/dma_heap", "/dev/dma_heap", O_TMPFILE | O_RDWR);
  o("O_TMPFILE|O_RDONLY /proc", "/proc", O_TMPFILE | O_RDONLY);
  o("__O_TMPFILE without O_DIRECTORY", "/proc", 020000000 | O_RDWR);
  o("O_TMPFILE|O_RDWR /sys/fs/cgroup", "/sys/fs/cgroup", O_TMPFILE | O_RDWR);
  o("O_PATH|O_RDWR|O_TRUNC meminfo", "/proc/meminfo", O_PATH | O_RDWR | O_TRUNC);
  o("O_PATH nonexistent", "/proc/nonexist", O_PATH);
  o("O_PATH heap", "/dev/dma_heap/system", O_PATH);
  o("O_PATH debugfs bufinfo", "/sys/kernel/debug/dma_buf/bufinfo", O_PATH);
  long pf = syscall(SYS_open, "/dev/dma_heap/system", O_PATH | O_CLOEXEC, 0);
  char b[16]; struct stat st;
  R("O_PATH read", read(pf, b, 8));
  R("O_PATH write", write(pf, b, 8));
  R("O_PATH lseek", lseek(pf, 0, SEEK_SET));
  R("O_PATH fstat", fstat(pf, &st));
  printf("O_PATH st_mode=0%o\n", st.st_mode);
  R("O_PATH ioctl FIOCLEX", ioctl(pf, FIOCLEX));
  R("O_PATH ioctl alloc", ioctl(pf, 0xc0184800, b));
  R("O_PATH mmap", (long)mmap(NULL, 4096, PROT_READ, MAP_SHARED, pf, 0) == -1 ? -1 : 0);
  R("O_PATH F_GETFD", fcntl(pf, F_GETFD));
  R("O_PATH F_SETFD", fcntl(pf, F_SETFD, 0));
  R("O_PATH F_GETFL", fcntl(pf, F_GETFL));
  R("O_PATH F_SETFL", fcntl(pf, F_SETFL, O_NONBLOCK));
  R("O_PATH F_DUPFD", fcntl(pf, F_DUPFD, 0));
  R("O_PATH F_GET_SEALS", fcntl(pf, 1034));
  R("O_PATH dup", dup(pf));
  R("O_PATH ftruncate", ftruncate(pf, 0));
  { struct pollfd q = { (int)pf, POLLIN, 0 }; R("O_PATH poll", poll(&q, 1, 0)); printf("revents=%d\n", q.revents); }
  char l[128] = ""; snprintf(p, sizeof p, "/proc/self/fd/%ld", pf); R("O_PATH readlink", readlink(p, l, sizeof l)); printf("link=%s\n", l);
  o("reopen O_PATH fd RDWR", p, O_RDWR);
  { char q[64]; snprintf(q, sizeof q, "/proc/self/fdinfo/%ld", pf); int fi = open(q, O_RDONLY); char t[256] = ""; read(fi, t, sizeof t - 1); printf("fdinfo: %s", t); }
  long mp = syscall(SYS_open, "/proc/meminfo", O_PATH, 0);
  R("O_PATH meminfo fstat", fstat(mp, &st)); printf("st_mode=0%o\n", st.st_mode);
  R("O_PATH close", close(pf));
  return 0;
}
