#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <fcntl.h>
#include <poll.h>
#include <limits.h>
#include <stdint.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <sys/resource.h>

static const char *en(int e) {
  switch (e) { case 0: return "0"; case EACCES: return "EACCES"; case EPERM: return "EPERM"; case ENOENT: return "ENOENT";
  case EINVAL: return "EINVAL"; case EBADF: return "EBADF"; case ENXIO: return "ENXIO"; case EFAULT: return "EFAULT";
  case ENOMEM: return "ENOMEM"; case EFBIG: return "EFBIG"; case E2BIG: return "E2BIG"; case EMFILE: return "EMFILE";
  default: { static char b[32]; snprintf(b, 32, "errno%d", e); return b; } }
}
#define R(name, expr) do { errno = 0; long long _r = (long long)(expr); printf("%s: ret=%lld errno=%s\n", name, _r, _r < 0 ? en(errno) : "0"); fflush(stdout); } while (0)
#define RP(name, expr) do { errno = 0; void *_r = (void *)(expr); printf("%s: ret=%s errno=%s\n", name, _r == MAP_FAILED ? "MAP_FAILED" : "ok", _r == MAP_FAILED ? en(errno) : "0"); fflush(stdout); } while (0)

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const size_t ps = 4096;
  const uintptr_t top = (1ULL << 47) - ps;
  RP("MAP_FIXED [2^47-8192, +4096)", mmap((void *)(top - ps), ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
  RP("MAP_FIXED [2^47-4096, +4096)", mmap((void *)top, ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
  RP("MAP_FIXED at -4096", mmap((void *)-4096L, ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
  RP("MAP_FIXED misaligned 2^47", mmap((void *)((1ULL << 47) + 1), ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
  RP("MAP_FIXED misaligned low", mmap((void *)0x100001, ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
  RP("root MAP_FIXED at 4096", mmap((void *)4096, ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
  R("munmap 4096", munmap((void *)4096, ps));
  R("munmap top-4096 4096", munmap((void *)(top - ps), ps));
  R("munmap top 4096", munmap((void *)top, ps));
  R("munmap 0 2^47", munmap((void *)0, 1ULL << 47));
  R("munmap -4096", munmap((void *)-4096L, ps));
  R("munmap len -1", munmap((void *)0x100000, (size_t)-1));
  R("munmap misaligned", munmap((void *)0x100001, ps));
  R("munmap len 0", munmap((void *)0x100000, 0));
  pid_t u = fork();
  if (u == 0) {
    gid_t g = 1000; setgroups(1, &g); setresgid(1000, 1000, 1000); setresuid(1000, 1000, 1000);
    RP("user MAP_FIXED at 4096", mmap((void *)4096, ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
    RP("user MAP_FIXED at 0", mmap((void *)0, ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
    RP("user MAP_FIXED at 65536", mmap((void *)65536, ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
    _exit(0);
  }
  waitpid(u, NULL, 0);
  /* fork after lowering RLIMIT_NOFILE below an open fd */
  int m = syscall(SYS_memfd_create, "f", 0);
  R("dup2 m 100", dup2(m, 100));
  struct rlimit rl = { 10, 10 };
  R("setrlimit 10", setrlimit(RLIMIT_NOFILE, &rl));
  pid_t c = fork();
  if (c == 0) {
    R("child F_GETFD 100", fcntl(100, F_GETFD));
    R("child dup 100 (lowest free)", dup(100));
    R("child dup2 100 50", dup2(100, 50));
    R("child F_DUPFD 100 from 5", fcntl(100, F_DUPFD, 5));
    R("child close 100", close(100));
    R("child close 100 again", close(100));
    _exit(0);
  }
  waitpid(c, NULL, 0);
  rl.rlim_cur = 1024; rl.rlim_max = 1024; setrlimit(RLIMIT_NOFILE, &rl);
  {
    struct pollfd p[2] = { { INT_MAX, POLLIN, 0 }, { -5, POLLIN, 0 } };
    R("poll INT_MAX and -5", poll(p, 2, 0));
    printf("revents %d %d\n", p[0].revents, p[1].revents);
  }
  char *b = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(b + 4096, 4096);
  /* pagemap read with huge count into small buffer */
  int pm = open("/proc/self/pagemap", O_RDONLY);
  R("pagemap read 2^40 into 4K", read(pm, b, 1ULL << 40));
  R("pagemap pos", lseek(pm, 0, SEEK_CUR));
  R("pagemap read 7", read(pm, b, 7));
  return 0;
}
