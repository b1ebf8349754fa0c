#define _GNU_SOURCE
#include <stdio.h>
#include <errno.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/syscall.h>
int main(void) {
  int m = syscall(SYS_memfd_create, "m", 0); ftruncate(m, 4096);
  char p[64]; snprintf(p, sizeof p, "/proc/self/fd/%d", m);
  errno = 0; int r = open(p, O_RDWR | O_DIRECT); printf("memfd reopen O_DIRECT: %d errno=%d\n", r, r < 0 ? errno : 0);
  errno = 0; r = fcntl(m, F_SETFL, O_DIRECT); printf("memfd F_SETFL O_DIRECT: %d errno=%d F_GETFL=0%o\n", r, r < 0 ? errno : 0, fcntl(m, F_GETFL));
  int h = open("/dev/dma_heap/system", O_RDWR);
  errno = 0; r = fcntl(h, F_SETFL, O_DIRECT); printf("heap F_SETFL O_DIRECT: %d errno=%d\n", r, r < 0 ? errno : 0);
  int i = open("/proc/meminfo", O_RDONLY);
  errno = 0; r = fcntl(i, F_SETFL, O_DIRECT); printf("meminfo F_SETFL O_DIRECT: %d errno=%d\n", r, r < 0 ? errno : 0);
  errno = 0; r = fcntl(h, F_SETFL, O_NONBLOCK | O_APPEND | O_NOATIME | 0x40000000); printf("heap F_SETFL misc: %d errno=%d F_GETFL=0%o\n", r, r < 0 ? errno : 0, fcntl(h, F_GETFL));
  return 0;
}
