/* The path walk over the emulated kernel's mounts, asked of a real kernel: trailing slashes,
 * O_DIRECTORY, ENOTDIR vs ENOENT, symbolic and magic links (/proc/self, /proc/<pid>/fd/<n>,
 * /sys/class/dma_heap/<name>), O_NOFOLLOW, `..` at a mount root and at `/`, search permission,
 * ENAMETOOLONG, mkdir/rmdir/readlink through the same walk. One line per case:
 * `<case>: ret=<n> errno=<NAME>` (open: `ok <F_GETFL>` or the errno; stat: mode/uid). */
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
#include <sys/sysmacros.h>

static const char *en(int e) {
  static char b[32];
  switch (e) {
  case 0: return "0"; case EINVAL: return "EINVAL"; case ENOTDIR: return "ENOTDIR"; case EISDIR: return "EISDIR";
  case ENOENT: return "ENOENT"; case EEXIST: return "EEXIST"; case EACCES: return "EACCES"; case ELOOP: return "ELOOP";
  case EOPNOTSUPP: return "EOPNOTSUPP"; case EROFS: return "EROFS"; case EPERM: return "EPERM"; case EBADF: return "EBADF";
  case ENXIO: return "ENXIO"; case ENOTTY: return "ENOTTY"; case ENAMETOOLONG: return "ENAMETOOLONG"; case EBUSY: return "EBUSY";
  case ENOTEMPTY: return "ENOTEMPTY"; case ENODEV: return "ENODEV"; case EXDEV: return "EXDEV";
  default: snprintf(b, 32, "errno%d", e); return b;
  }
}
#define R(name, expr) do { errno = 0; long _r = (long)(expr); printf("%s: ret=%ld errno=%s\n", name, _r, _r < 0 ? en(errno) : "0"); fflush(stdout); } while (0)

/* open, then F_GETFL and st_mode/ino of the fd */
static void o(const char *name, const char *path, long flags) {
  errno = 0;
  long fd = syscall(SYS_open, path, flags, 0600);
  if (fd < 0) { printf("%s: errno=%s\n", name, en(errno)); fflush(stdout); return; }
  struct stat st;
  fstat(fd, &st);
  printf("%s: ok F_GETFL=0%lo mode=0%o uid=%d\n", name, (long)fcntl(fd, F_GETFL), st.st_mode, st.st_uid);
  fflush(stdout);
  close(fd);
}

static void rl(const char *name, const char *path) {
  char b[256];
  errno = 0;
  long n = readlink(path, b, sizeof b - 1);
  if (n < 0) printf("%s: errno=%s\n", name, en(errno));
  else {
    b[n] = 0;
    /* /proc/self's body is the caller's pid: printed as <pid> so that the output does not depend on how many tasks ran before */
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    printf("%s: link=%s\n", name, strcmp(b, pid) == 0 ? "<pid>" : b);
  }
  fflush(stdout);
}

/* stat()'s device and inode, to compare `..` with the directory it should be */
static void id(const char *name, const char *path) {
  struct stat st;
  if (stat(path, &st) < 0) { printf("%s: errno=%s\n", name, en(errno)); fflush(stdout); return; }
  printf("%s: dev=%u:%u ino=%lu mode=0%o nlink=%lu\n", name, major(st.st_dev), minor(st.st_dev), (unsigned long)st.st_ino, st.st_mode, (unsigned long)st.st_nlink);
  fflush(stdout);
}
static void same(const char *name, const char *a, const char *b) {
  struct stat x, y;
  int ra = stat(a, &x), rb = stat(b, &y);
  if (ra < 0 || rb < 0) { printf("%s: errno=%s\n", name, en(errno)); fflush(stdout); return; }
  printf("%s: %s\n", name, x.st_dev == y.st_dev && x.st_ino == y.st_ino ? "same" : "different");
  fflush(stdout);
}

static void ls(const char *name, const char *path) {
  DIR *d = opendir(path);
  if (d == NULL) { printf("%s: errno=%s\n", name, en(errno)); fflush(stdout); return; }
  printf("%s:", name);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) printf(" %s", e->d_name);
  printf("\n");
  fflush(stdout);
  closedir(d);
}

static void catf(const char *name, const char *path) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) { printf("%s: errno=%s\n", name, en(errno)); fflush(stdout); return; }
  char b[8192];
  long n = read(fd, b, sizeof b - 1);
  close(fd);
  if (n < 0) { printf("%s: read errno=%s\n", name, en(errno)); fflush(stdout); return; }
  b[n] = 0;
  printf("%s: %ld bytes\n%s", name, n, b);
  if (n > 0 && b[n - 1] != '\n') printf("\n");
  fflush(stdout);
}

static char *rep(char c, int n) { char *s = malloc(n + 1); memset(s, c, n); s[n] = 0; return s; }

static void user_cases(void) {
  char p[600];
  o("user open /sys/kernel/debug", "/sys/kernel/debug", O_RDONLY);
  o("user open /sys/kernel/debug/", "/sys/kernel/debug/", O_RDONLY);
  o("user O_PATH /sys/kernel/debug", "/sys/kernel/debug", O_PATH);
  o("user O_PATH /sys/kernel/debug/dma_buf", "/sys/kernel/debug/dma_buf", O_PATH);
  o("user open /sys/kernel/debug/nonexist", "/sys/kernel/debug/nonexist", O_RDONLY);
  o("user open /sys/kernel/debug/dma_buf/bufinfo", "/sys/kernel/debug/dma_buf/bufinfo", O_RDONLY);
  o("user open /sys/kernel/debug/..", "/sys/kernel/debug/..", O_RDONLY);
  rl("user readlink /sys/kernel/debug", "/sys/kernel/debug");
  rl("user readlink /sys/kernel/debug/x", "/sys/kernel/debug/x");
  R("user mkdir /sys/kernel/debug/x", mkdir("/sys/kernel/debug/x", 0755));
  snprintf(p, sizeof p, "/sys/kernel/debug/%s", rep('n', 256));
  o("user open debugfs/<256>", p, O_RDONLY);
  o("user open /proc/1/fd/", "/proc/1/fd/", O_RDONLY);
  o("user open /proc/1/fd/0/", "/proc/1/fd/0/", O_RDONLY);
  o("user open /proc/1/fd/..", "/proc/1/fd/..", O_RDONLY);
  o("user O_PATH /proc/1/fd", "/proc/1/fd", O_PATH);
  o("user O_PATH /proc/1/fd/0", "/proc/1/fd/0", O_PATH);
  o("user O_PATH|O_NOFOLLOW /proc/1/fd/0", "/proc/1/fd/0", O_PATH | O_NOFOLLOW);
  o("user O_PATH /proc/1/fdinfo", "/proc/1/fdinfo", O_PATH);
  o("user O_PATH /proc/1/fdinfo/0", "/proc/1/fdinfo/0", O_PATH);
  o("user open /proc/1/fdinfo/nonexist", "/proc/1/fdinfo/nonexist", O_RDONLY);
  o("user open /proc/1/maps", "/proc/1/maps", O_RDONLY);
  o("user O_PATH /proc/1/maps", "/proc/1/maps", O_PATH);
  o("user open /dev/dma_heap/system/", "/dev/dma_heap/system/", O_RDONLY);
  o("user open /dev/dma_heap/system O_RDONLY", "/dev/dma_heap/system", O_RDONLY);
  o("user O_DIRECTORY /dev/dma_heap/system", "/dev/dma_heap/system", O_RDONLY | O_DIRECTORY);
  o("user open cg700/cgroup.procs", "/sys/fs/cgroup/vfsprobe700/cgroup.procs", O_RDONLY);
  o("user O_PATH cg700", "/sys/fs/cgroup/vfsprobe700", O_PATH);
  o("user O_PATH cg700/cgroup.procs", "/sys/fs/cgroup/vfsprobe700/cgroup.procs", O_PATH);
  ls("user ls cg700", "/sys/fs/cgroup/vfsprobe700");
  o("user open cg711 (--x)", "/sys/fs/cgroup/vfsprobe711", O_RDONLY);
  o("user open cg711/cgroup.procs", "/sys/fs/cgroup/vfsprobe711/cgroup.procs", O_RDONLY);
  o("user open cg700/nonexist", "/sys/fs/cgroup/vfsprobe700/nonexist", O_RDONLY);
  R("user mkdir cg700/x", mkdir("/sys/fs/cgroup/vfsprobe700/x", 0755));
  R("user mkdir cg755/x", mkdir("/sys/fs/cgroup/vfsprobe755/x", 0755));
  R("user rmdir cg700/x", rmdir("/sys/fs/cgroup/vfsprobe700/x"));
}

int main(void) {
  char p[8192], q[600];
  int m = syscall(SYS_memfd_create, "m", 0);
  ftruncate(m, 4096);
  int pfd = open("/proc", O_RDONLY | O_DIRECTORY);
  int mi = open("/proc/meminfo", O_RDONLY);
  int cgp = open("/sys/fs/cgroup/cgroup.procs", O_RDONLY);
  int hp = open("/dev/dma_heap/system", O_PATH);
  int h = open("/dev/dma_heap/system", O_RDONLY);
  int sysd = open("/sys/class/dma_heap/system", O_RDONLY | O_DIRECTORY);
  int pidfd = syscall(SYS_pidfd_open, getpid(), 0);
  printf("fds: memfd=%d proc=%d meminfo=%d cgprocs=%d heappath=%d heap=%d sysclass=%d pidfd=%d\n", m, pfd, mi, cgp, hp, h, sysd, pidfd);

  /* trailing slashes, O_DIRECTORY, names below a non-directory */
  o("open /dev/dma_heap/system/", "/dev/dma_heap/system/", O_RDONLY);
  o("open /dev/dma_heap/system/ O_RDWR", "/dev/dma_heap/system/", O_RDWR);
  o("O_PATH /dev/dma_heap/system/", "/dev/dma_heap/system/", O_PATH);
  o("O_DIRECTORY /dev/dma_heap/system", "/dev/dma_heap/system", O_RDONLY | O_DIRECTORY);
  o("O_PATH|O_DIRECTORY /dev/dma_heap/system", "/dev/dma_heap/system", O_PATH | O_DIRECTORY);
  o("open /dev/dma_heap/system/x", "/dev/dma_heap/system/x", O_RDONLY);
  o("open /dev/dma_heap/system/.", "/dev/dma_heap/system/.", O_RDONLY);
  o("open /dev/dma_heap/system/..", "/dev/dma_heap/system/..", O_RDONLY);
  o("open /dev/udmabuf/", "/dev/udmabuf/", O_RDWR);
  o("open /dev/dma_heap/nonexist/", "/dev/dma_heap/nonexist/", O_RDONLY);
  o("open /dev/dma_heap/nonexist/x", "/dev/dma_heap/nonexist/x", O_RDONLY);
  o("open /dev/dma_heap/", "/dev/dma_heap/", O_RDONLY);
  o("open /dev/dma_heap//system", "/dev/dma_heap//system", O_RDONLY);
  o("open /dev/./dma_heap/../dma_heap/system", "/dev/./dma_heap/../dma_heap/system", O_RDONLY);
  o("open /proc/meminfo/", "/proc/meminfo/", O_RDONLY);
  o("open /proc/meminfo/x", "/proc/meminfo/x", O_RDONLY);
  o("open /proc/meminfo/.", "/proc/meminfo/.", O_RDONLY);
  o("open /proc/nonexist/x", "/proc/nonexist/x", O_RDONLY);
  o("open /sys/fs/cgroup/cgroup.procs/", "/sys/fs/cgroup/cgroup.procs/", O_RDONLY);
  o("open /sys/kernel/debug/dma_buf/bufinfo/", "/sys/kernel/debug/dma_buf/bufinfo/", O_RDONLY);
  o("open /sys/class/dma_heap/system/dev/", "/sys/class/dma_heap/system/dev/", O_RDONLY);
  o("open empty path", "", O_RDONLY);
  o("open relative proc/meminfo from /", (chdir("/"), "proc/meminfo"), O_RDONLY);
  o("open relative . from /", ".", O_RDONLY);

  /* O_CREAT with a trailing slash, O_CREAT|O_EXCL */
  o("O_CREAT /dev/dma_heap/system/", "/dev/dma_heap/system/", O_RDWR | O_CREAT);
  o("O_CREAT /proc/nonexist/", "/proc/nonexist/", O_RDWR | O_CREAT);
  o("O_CREAT /proc/meminfo/", "/proc/meminfo/", O_RDONLY | O_CREAT);
  o("O_CREAT /proc/", "/proc/", O_RDONLY | O_CREAT);
  o("O_CREAT|O_EXCL /proc/", "/proc/", O_RDONLY | O_CREAT | O_EXCL);
  o("O_CREAT /proc/self", "/proc/self", O_RDONLY | O_CREAT);
  o("O_CREAT|O_EXCL /proc/self", "/proc/self", O_RDONLY | O_CREAT | O_EXCL);
  o("O_CREAT /sys/class/dma_heap/system", "/sys/class/dma_heap/system", O_RDONLY | O_CREAT);
  o("O_CREAT /proc/meminfo/x", "/proc/meminfo/x", O_RDWR | O_CREAT);
  o("O_CREAT /sys/nonexist", "/sys/nonexist", O_RDWR | O_CREAT);
  o("O_CREAT /sys/kernel/debug/nonexist", "/sys/kernel/debug/nonexist", O_RDWR | O_CREAT);
  o("O_CREAT /sys/fs/cgroup/nonexist", "/sys/fs/cgroup/nonexist", O_RDWR | O_CREAT);
  o("O_TMPFILE /dev/dma_heap/system", "/dev/dma_heap/system", O_TMPFILE | O_RDWR);
  o("O_TMPFILE /proc/self", "/proc/self", O_TMPFILE | O_RDWR);
  o("O_TMPFILE /sys/kernel/debug", "/sys/kernel/debug", O_TMPFILE | O_RDWR);
  o("O_TMPFILE /sys", "/sys", O_TMPFILE | O_RDWR);

  /* symbolic links: /proc/self, /sys/class/dma_heap/<name>; magic links /proc/self/fd/<n> */
  o("open /proc/self/", "/proc/self/", O_RDONLY);
  o("O_NOFOLLOW /proc/self/", "/proc/self/", O_RDONLY | O_NOFOLLOW);
  o("O_NOFOLLOW|O_PATH /proc/self", "/proc/self", O_PATH | O_NOFOLLOW);
  o("O_NOFOLLOW|O_PATH|O_DIRECTORY /proc/self", "/proc/self", O_PATH | O_NOFOLLOW | O_DIRECTORY);
  o("O_NOFOLLOW|O_DIRECTORY /proc/self", "/proc/self", O_RDONLY | O_NOFOLLOW | O_DIRECTORY);
  o("open /proc/self/.", "/proc/self/.", O_RDONLY);
  same("/proc/self/.. is /proc", "/proc/self/..", "/proc");
  same("/proc/self/fd/.. is /proc/self", "/proc/self/fd/..", "/proc/self");
  o("open /sys/class/dma_heap/system", "/sys/class/dma_heap/system", O_RDONLY);
  o("O_NOFOLLOW /sys/class/dma_heap/system", "/sys/class/dma_heap/system", O_RDONLY | O_NOFOLLOW);
  o("O_NOFOLLOW|O_PATH /sys/class/dma_heap/system", "/sys/class/dma_heap/system", O_PATH | O_NOFOLLOW);
  o("O_NOFOLLOW /sys/class/dma_heap/system/dev", "/sys/class/dma_heap/system/dev", O_RDONLY | O_NOFOLLOW);
  rl("readlink /sys/class/dma_heap/system", "/sys/class/dma_heap/system");
  rl("readlink /sys/class/dma_heap/system/", "/sys/class/dma_heap/system/");
  ls("ls /sys/class/dma_heap/system", "/sys/class/dma_heap/system");
  ls("ls /sys/devices/virtual/dma_heap", "/sys/devices/virtual/dma_heap");
  ls("ls /sys/class/dma_heap", "/sys/class/dma_heap");
  same("/sys/class/dma_heap/system/.. is /sys/devices/virtual/dma_heap", "/sys/class/dma_heap/system/..", "/sys/devices/virtual/dma_heap");
  catf("cat /sys/class/dma_heap/system/dev", "/sys/class/dma_heap/system/dev");
  catf("cat /sys/class/dma_heap/system/uevent", "/sys/class/dma_heap/system/uevent");
  id("stat /sys/class/dma_heap/system/dev", "/sys/class/dma_heap/system/dev");
  rl("readlink /sys/class/dma_heap/system/subsystem", "/sys/class/dma_heap/system/subsystem");
  rl("readlink /proc/self", "/proc/self");
  rl("readlink /proc/self/", "/proc/self/");
  rl("readlink /proc/meminfo", "/proc/meminfo");
  rl("readlink /proc/meminfo/", "/proc/meminfo/");
  rl("readlink /", "/");
  rl("readlink empty", "");
  rl("readlink /nonexist", "/nonexist");
  rl("readlink /dev/dma_heap/system", "/dev/dma_heap/system");
  rl("readlink /dev/dma_heap/system/", "/dev/dma_heap/system/");
  snprintf(p, sizeof p, "/proc/self/fd/%d", m); rl("readlink fd/memfd", p);
  snprintf(p, sizeof p, "/proc/self/fd/%d/", m); rl("readlink fd/memfd/", p);
  snprintf(p, sizeof p, "/proc/self/fd/%d", pfd); rl("readlink fd/proc-dir", p);
  snprintf(p, sizeof p, "/proc/self/fd/%d", mi); rl("readlink fd/meminfo", p);
  snprintf(p, sizeof p, "/proc/self/fd/%d", cgp); rl("readlink fd/cgroup.procs", p);
  snprintf(p, sizeof p, "/proc/self/fd/%d", sysd); rl("readlink fd/sysclass-dir", p);
  snprintf(p, sizeof p, "/proc/self/fd/%d", pidfd); rl("readlink fd/pidfd", p);
  snprintf(p, sizeof p, "/proc/self/fd/%d/", m); o("open fd/memfd/", p, O_RDONLY);
  snprintf(p, sizeof p, "/proc/self/fd/%d/x", m); o("open fd/memfd/x", p, O_RDONLY);
  snprintf(p, sizeof p, "/proc/self/fd/%d/..", m); o("open fd/memfd/..", p, O_RDONLY);
  snprintf(p, sizeof p, "/proc/self/fd/%d", m); o("O_DIRECTORY fd/memfd", p, O_RDONLY | O_DIRECTORY);
  snprintf(p, sizeof p, "/proc/self/fd/%d", m); o("O_PATH|O_NOFOLLOW fd/memfd", p, O_PATH | O_NOFOLLOW);
  snprintf(p, sizeof p, "/proc/self/fd/%d", h); o("O_PATH|O_NOFOLLOW fd/heap(RDONLY)", p, O_PATH | O_NOFOLLOW);
  snprintf(p, sizeof p, "/proc/self/fd/%d", m); o("O_PATH fd/memfd", p, O_PATH);
  snprintf(p, sizeof p, "/proc/self/fd/%d", pfd); o("open fd/proc-dir", p, O_RDONLY);
  snprintf(p, sizeof p, "/proc/self/fd/%d/", pfd); o("open fd/proc-dir/", p, O_RDONLY);
  snprintf(p, sizeof p, "/proc/self/fd/%d/meminfo", pfd); o("open fd/proc-dir/meminfo", p, O_RDONLY);
  snprintf(p, sizeof p, "/proc/self/fd/%d/..", pfd); same("fd/proc-dir/.. is /", p, "/");
  snprintf(p, sizeof p, "/proc/self/fd/%d", mi); o("open fd/meminfo", p, O_RDONLY);
  snprintf(p, sizeof p, "/proc/self/fd/%d", cgp); o("open fd/cgroup.procs", p, O_RDONLY);
  snprintf(p, sizeof p, "/proc/self/fd/%d", sysd); o("open fd/sysclass-dir", p, O_RDONLY);
  snprintf(p, sizeof p, "/proc/self/fd/%d/dev", sysd); o("open fd/sysclass-dir/dev", p, O_RDONLY);
  snprintf(p, sizeof p, "/proc/self/fd/%d", pidfd); o("open fd/pidfd", p, O_RDONLY);
  snprintf(p, sizeof p, "/proc/self/fd/%d", hp); o("open fd/heap-O_PATH/", p, O_RDONLY | O_DIRECTORY);

  /* `..` at mount roots and at / */
  same("/.. is /", "/..", "/");
  same("/../.. is /", "/../..", "/");
  same("/proc/.. is /", "/proc/..", "/");
  same("/sys/.. is /", "/sys/..", "/");
  same("/dev/.. is /", "/dev/..", "/");
  same("/sys/fs/cgroup/.. is /sys/fs", "/sys/fs/cgroup/..", "/sys/fs");
  same("/sys/kernel/debug/.. is /sys/kernel", "/sys/kernel/debug/..", "/sys/kernel");
  o("open /../proc/meminfo", "/../proc/meminfo", O_RDONLY);
  o("open /sys/kernel/debug/../debug/dma_buf/bufinfo", "/sys/kernel/debug/../debug/dma_buf/bufinfo", O_RDONLY);
  id("stat /", "/");
  id("stat /proc", "/proc");
  id("stat /proc/self", "/proc/self");
  id("stat /proc/self/fd", "/proc/self/fd");
  id("stat /proc/self/fdinfo", "/proc/self/fdinfo");
  id("stat /proc/sys", "/proc/sys");
  id("stat /proc/sys/kernel", "/proc/sys/kernel");
  id("stat /proc/meminfo", "/proc/meminfo");
  id("stat /sys", "/sys");
  id("stat /sys/kernel", "/sys/kernel");
  id("stat /sys/kernel/mm", "/sys/kernel/mm");
  id("stat /sys/kernel/mm/cma", "/sys/kernel/mm/cma");
  id("stat /sys/kernel/dmabuf", "/sys/kernel/dmabuf");
  id("stat /sys/kernel/dmabuf/buffers", "/sys/kernel/dmabuf/buffers");
  id("stat /sys/class", "/sys/class");
  id("stat /sys/class/dma_heap", "/sys/class/dma_heap");
  id("stat /sys/fs", "/sys/fs");
  id("stat /sys/fs/cgroup", "/sys/fs/cgroup");
  id("stat /sys/kernel/debug", "/sys/kernel/debug");
  id("stat /sys/kernel/debug/dma_buf", "/sys/kernel/debug/dma_buf");
  id("stat /sys/kernel/debug/dma_buf/bufinfo", "/sys/kernel/debug/dma_buf/bufinfo");
  id("stat /sys/kernel/debug/cma", "/sys/kernel/debug/cma");
  id("stat /sys/module/dma_heap", "/sys/module/dma_heap");
  id("stat /dev", "/dev");
  id("stat /dev/dma_heap", "/dev/dma_heap");
  id("stat /dev/dma_heap/system", "/dev/dma_heap/system");
  id("stat /dev/udmabuf", "/dev/udmabuf");
  ls("ls /sys/kernel/debug/dma_buf", "/sys/kernel/debug/dma_buf");
  ls("ls /proc/sys", "/proc/sys");
  ls("ls /proc/sys/kernel (osrelease?)", "/proc/sys/kernel");
  ls("ls /sys/module/dma_heap", "/sys/module/dma_heap");
  ls("ls /sys/kernel/mm/cma/reserved", "/sys/kernel/mm/cma/reserved");
  ls("ls /sys/kernel/debug/cma/reserved", "/sys/kernel/debug/cma/reserved");
  ls("ls /dev/dma_heap", "/dev/dma_heap");

  /* ENAMETOOLONG: a component of 255/256 bytes on each file system, a path of 4095/4096 bytes */
  const char *dirs[] = { "", "/proc", "/sys", "/sys/fs/cgroup", "/sys/kernel/debug", "/dev", "/dev/dma_heap", "/proc/self/fd", "/sys/class/dma_heap" };
  for (unsigned i = 0; i < sizeof dirs / sizeof *dirs; i++) {
    snprintf(p, sizeof p, "%s/%s", dirs[i], rep('n', 255)); snprintf(q, sizeof q, "open %s/<255>", dirs[i]); o(q, p, O_RDONLY);
    snprintf(p, sizeof p, "%s/%s", dirs[i], rep('n', 256)); snprintf(q, sizeof q, "open %s/<256>", dirs[i]); o(q, p, O_RDONLY);
    snprintf(p, sizeof p, "%s/%s/x", dirs[i], rep('n', 256)); snprintf(q, sizeof q, "open %s/<256>/x", dirs[i]); o(q, p, O_RDONLY);
    snprintf(p, sizeof p, "%s/%s", dirs[i], rep('n', 256)); snprintf(q, sizeof q, "O_CREAT %s/<256>", dirs[i]); o(q, p, O_RDWR | O_CREAT);
    snprintf(p, sizeof p, "%s/%s", dirs[i], rep('n', 256)); snprintf(q, sizeof q, "mkdir %s/<256>", dirs[i]); R(q, mkdir(p, 0755));
    snprintf(p, sizeof p, "%s/%s", dirs[i], rep('n', 256)); snprintf(q, sizeof q, "readlink %s/<256>", dirs[i]); rl(q, p);
  }
  {
    /* "/" + "./" * k + "proc/meminfo": lengths 4095 and 4096 */
    int base = strlen("/proc/meminfo");
    int k = (4095 - base) / 2;
    char *s = p; *s++ = '/';
    for (int j = 0; j < k; j++) { *s++ = '.'; *s++ = '/'; }
    strcpy(s, "proc/meminfo");
    int len = strlen(p);
    if (len < 4095) { memmove(p + 1 + (4095 - len), p + 1, len); memset(p + 1, '/', 4095 - len); }
    printf("len=%zu\n", strlen(p));
    o("open path of 4095 bytes", p, O_RDONLY);
    memmove(p + 1, p, 4096); p[0] = '/';
    printf("len=%zu\n", strlen(p));
    o("open path of 4096 bytes", p, O_RDONLY);
    rl("readlink path of 4096 bytes", p);
    R("mkdir path of 4096 bytes", mkdir(p, 0755));
    snprintf(p, sizeof p, "/nonexist/%s", rep('n', 4096 - 10)); o("open 4096 bytes under a missing dir", p, O_RDONLY);
  }

  /* mkdir and rmdir through the walk */
  R("mkdir /dev/dma_heap/system/x", mkdir("/dev/dma_heap/system/x", 0755));
  R("mkdir /proc/meminfo/x", mkdir("/proc/meminfo/x", 0755));
  R("mkdir /dev/dma_heap/system", mkdir("/dev/dma_heap/system", 0755));
  R("mkdir /proc/self", mkdir("/proc/self", 0755));
  R("mkdir /proc/self/", mkdir("/proc/self/", 0755));
  R("mkdir /sys/class/dma_heap/system", mkdir("/sys/class/dma_heap/system", 0755));
  R("mkdir /proc/x", mkdir("/proc/x", 0755));
  R("mkdir /proc/nonexist/x", mkdir("/proc/nonexist/x", 0755));
  snprintf(p, sizeof p, "/proc/self/fd/%d/x", m); R("mkdir fd/memfd/x", mkdir(p, 0755));
  R("mkdir cgroup with trailing slash", mkdir("/sys/fs/cgroup/vfsprobe-slash/", 0755));
  R("rmdir cgroup with trailing slash", rmdir("/sys/fs/cgroup/vfsprobe-slash/"));
  R("mkdir cgroup via ..", mkdir("/sys/fs/cgroup/../cgroup/vfsprobe-dd", 0755));
  R("rmdir cgroup/.", rmdir("/sys/fs/cgroup/vfsprobe-dd/."));
  R("rmdir cgroup/..", rmdir("/sys/fs/cgroup/vfsprobe-dd/.."));
  R("rmdir cgroup via ..", rmdir("/sys/fs/cgroup/vfsprobe-dd/../vfsprobe-dd"));
  R("rmdir /proc/self", rmdir("/proc/self"));
  R("rmdir /proc/self/", rmdir("/proc/self/"));
  R("rmdir /sys/class/dma_heap/system", rmdir("/sys/class/dma_heap/system"));
  R("rmdir /proc/meminfo", rmdir("/proc/meminfo"));
  R("rmdir /proc/meminfo/", rmdir("/proc/meminfo/"));
  R("rmdir /dev/dma_heap/system", rmdir("/dev/dma_heap/system"));
  R("rmdir /proc/self/fd", rmdir("/proc/self/fd"));
  R("rmdir /proc/nonexist/x", rmdir("/proc/nonexist/x"));
  R("rmdir /proc/meminfo/x", rmdir("/proc/meminfo/x"));
  R("rmdir /sys/kernel/debug", rmdir("/sys/kernel/debug"));
  R("rmdir /sys/fs/cgroup", rmdir("/sys/fs/cgroup"));
  R("rmdir /proc", rmdir("/proc"));
  R("rmdir /sys", rmdir("/sys"));
  R("rmdir /dev/dma_heap", rmdir("/dev/dma_heap"));
  R("rmdir /", rmdir("/"));

  /* search permission and ptrace checks as another user */
  mkdir("/sys/fs/cgroup/vfsprobe700", 0700);
  mkdir("/sys/fs/cgroup/vfsprobe711", 0711);
  mkdir("/sys/fs/cgroup/vfsprobe755", 0755);
  chmod("/sys/fs/cgroup/vfsprobe700", 0700);
  chmod("/sys/fs/cgroup/vfsprobe711", 0711);
  id("stat cg700", "/sys/fs/cgroup/vfsprobe700");
  pid_t c = fork();
  if (c == 0) {
    setresgid(1000, 1000, 1000);
    setresuid(1000, 1000, 1000);
    prctl(PR_SET_DUMPABLE, 1);
    user_cases();
    _exit(0);
  }
  waitpid(c, NULL, 0);
  rmdir("/sys/fs/cgroup/vfsprobe700");
  rmdir("/sys/fs/cgroup/vfsprobe711");
  rmdir("/sys/fs/cgroup/vfsprobe755");
  catf("mountinfo", "/proc/self/mountinfo");
  return 0;
}
