#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <sys/syscall.h>

static const char *en(int e) {
  switch (e) { case 0: return "0"; case EPERM: return "EPERM"; case ENOENT: return "ENOENT";
  case EINVAL: return "EINVAL"; case EBADF: return "EBADF"; case EFAULT: return "EFAULT"; case E2BIG: return "E2BIG"; case ENXIO: return "ENXIO";
  default: { static char b[32]; snprintf(b, 32, "errno%d", e); return b; } }
}
#define R(name, expr) do { errno = 0; long long _r = (long long)(expr); printf("%s: ret=%lld errno=%s\n", name, _r, _r < 0 ? en(errno) : "0"); fflush(stdout); } while (0)
static long blocks(int fd) { struct stat st; fstat(fd, &st); return st.st_blocks; }

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  { FILE *f = fopen("/proc/sys/vm/mmap_min_addr", "r"); char s[32] = ""; if (f) { fgets(s, sizeof s, f); fclose(f); } printf("mmap_min_addr=%s", s); }
  int m = syscall(SYS_memfd_create, "a", MFD_ALLOW_SEALING);
  R("write NULL 10 at 0 (size 0)", write(m, NULL, 10));
  printf("blocks=%ld size=%ld\n", blocks(m), (long)lseek(m, 0, SEEK_END));
  R("ftruncate 8192", ftruncate(m, 8192));
  R("lseek 4096", lseek(m, 4096, SEEK_SET));
  R("write NULL 10 at 4096", write(m, NULL, 10));
  printf("blocks=%ld\n", blocks(m));
  R("SEEK_DATA 0", lseek(m, 0, SEEK_DATA));
  R("seal grow", fcntl(m, F_ADD_SEALS, F_SEAL_GROW));
  R("lseek 8190", lseek(m, 8190, SEEK_SET));
  R("grow-sealed write NULL 10", write(m, NULL, 10));
  char *b = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(b + 4096, 4096);
  R("grow-sealed write buf 10", write(m, b, 10));
  /* kernfs */
  int sc = open("/sys/fs/cgroup/cgroup.subtree_control", O_WRONLY);
  R("enable memory", write(sc, "+memory", 7));
  mkdir("/sys/fs/cgroup/wtp", 0755);
  int cg = open("/sys/fs/cgroup/wtp/memory.max", O_WRONLY);
  R("open memory.max", cg);
  memcpy(b + 4096 - 4, "max\n", 4);
  R("kernfs write 4 ok", write(cg, b + 4096 - 4, 4));
  R("kernfs write 8 crossing", write(cg, b + 4096 - 4, 8));
  R("kernfs write 5000 crossing", write(cg, b + 4096 - 4, 5000));
  R("kernfs write 4097 NULL", write(cg, NULL, 4097));
  R("kernfs write 10 NULL", write(cg, NULL, 10));
  R("kernfs write -1", write(cg, b, (size_t)-1));
  R("kernfs write 0", write(cg, b, 0));
  close(cg); rmdir("/sys/fs/cgroup/wtp");
  return 0;
}
