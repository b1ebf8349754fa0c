#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <fcntl.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <grp.h>

static const char *en(int e) {
  switch (e) { case 0: return "0"; case EACCES: return "EACCES"; case EPERM: return "EPERM"; case ENOENT: return "ENOENT";
  case EINVAL: return "EINVAL"; case EBADF: return "EBADF"; case ENXIO: return "ENXIO"; case EFAULT: return "EFAULT";
  case ENOMEM: return "ENOMEM"; case EFBIG: return "EFBIG"; case ENOTDIR: return "ENOTDIR"; case EISDIR: return "EISDIR"; case ESRCH: return "ESRCH"; case EPIPE: return "EPIPE"; case EMFILE: return "EMFILE"; case EOVERFLOW: return "EOVERFLOW";
  default: { static char b[32]; snprintf(b, 32, "errno%d", e); return b; } }
}
#define R(name, expr) do { errno = 0; long _r = (long)(expr); printf("%s: ret=%ld errno=%s\n", name, _r, _r < 0 ? en(errno) : "0"); } while (0)

static void lsld(const char *p) {
  struct stat st;
  if (lstat(p, &st) < 0) { printf("lstat %s: errno=%s\n", p, en(errno)); return; }
  printf("lstat %s: mode=%o uid=%d gid=%d\n", p, st.st_mode, st.st_uid, st.st_gid);
}

static void probe_target(const char *who, int pid, int fd) {
  char p[128], b[256];
  printf("== %s -> pid %d (fd %d)\n", who, pid, fd);
  snprintf(p, sizeof p, "/proc/%d/fd", pid); R("open fd dir", open(p, O_RDONLY | O_DIRECTORY));
  { DIR *d = opendir(p); if (!d) printf("opendir fd: errno=%s\n", en(errno)); else { int n = 0; errno = 0; while (readdir(d)) n++; printf("readdir fd: n=%d errno=%s\n", n, en(errno)); closedir(d); } }
  snprintf(p, sizeof p, "/proc/%d/fdinfo", pid); R("open fdinfo dir", open(p, O_RDONLY | O_DIRECTORY));
  { DIR *d = opendir(p); if (!d) printf("opendir fdinfo: errno=%s\n", en(errno)); else { int n = 0; errno = 0; while (readdir(d)) n++; printf("readdir fdinfo: n=%d errno=%s\n", n, en(errno)); closedir(d); } }
  snprintf(p, sizeof p, "/proc/%d/fd/%d", pid, fd);
  R("readlink fd/n", readlink(p, b, sizeof b));
  { struct stat st; R("lstat fd/n", lstat(p, &st)); R("stat fd/n", stat(p, &st)); }
  R("open fd/n O_RDONLY", open(p, O_RDONLY));
  R("open fd/n O_RDWR", open(p, O_RDWR));
  snprintf(p, sizeof p, "/proc/%d/fd/9999", pid); R("open fd/9999", open(p, O_RDONLY)); R("readlink fd/9999", readlink(p, b, sizeof b));
  snprintf(p, sizeof p, "/proc/%d/fdinfo/%d", pid, fd); R("open fdinfo/n", open(p, O_RDONLY));
  { struct stat st; R("stat fdinfo/n", stat(p, &st)); }
  snprintf(p, sizeof p, "/proc/%d/fdinfo/9999", pid); R("open fdinfo/9999", open(p, O_RDONLY));
  snprintf(p, sizeof p, "/proc/%d/maps", pid); R("open maps", open(p, O_RDONLY));
  snprintf(p, sizeof p, "/proc/%d/pagemap", pid); R("open pagemap", open(p, O_RDONLY));
  snprintf(p, sizeof p, "/proc/%d/comm", pid); R("open comm", open(p, O_RDONLY));
  snprintf(p, sizeof p, "/proc/%d", pid); R("open pid dir", open(p, O_RDONLY | O_DIRECTORY));
  fflush(stdout);
}

static int as_user(int uid, int gid, int target, int fd, const char *who) {
  pid_t c = fork();
  if (c == 0) {
    gid_t g = gid; setgroups(1, &g);
    if (setresgid(gid, gid, gid) || setresuid(uid, uid, uid)) { perror("setres"); _exit(1); }
    prctl(PR_SET_DUMPABLE, 1);
    probe_target(who, target, fd);
    _exit(0);
  }
  int st; waitpid(c, &st, 0); return st;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int mfd = syscall(SYS_memfd_create, "victim", 0);
  write(mfd, "secret", 6);
  printf("root memfd fd=%d\n", mfd);
  char p[64];
  snprintf(p, sizeof p, "/proc/%d", getpid()); lsld(p);
  snprintf(p, sizeof p, "/proc/%d/fd", getpid()); lsld(p);
  snprintf(p, sizeof p, "/proc/%d/fdinfo", getpid()); lsld(p);
  snprintf(p, sizeof p, "/proc/%d/maps", getpid()); lsld(p);
  snprintf(p, sizeof p, "/proc/%d/pagemap", getpid()); lsld(p);
  snprintf(p, sizeof p, "/proc/%d/comm", getpid()); lsld(p);
  snprintf(p, sizeof p, "/proc/%d/fd/%d", getpid(), mfd); lsld(p);
  snprintf(p, sizeof p, "/proc/%d/fdinfo/%d", getpid(), mfd); lsld(p);
  as_user(1000, 1000, getpid(), mfd, "uid1000 vs root");
  /* a uid-1000 holder (dumpable) and three visitors */
  int pp[2]; pipe(pp); int qq[2]; pipe(qq);
  pid_t holder = fork();
  if (holder == 0) {
    gid_t g = 1000; setgroups(1, &g);
    setresgid(1000, 1000, 1000); setresuid(1000, 1000, 1000);
    prctl(PR_SET_DUMPABLE, 1);
    int f = syscall(SYS_memfd_create, "userfd", 0);
    write(f, "usersecret", 10);
    char s[64]; snprintf(s, sizeof s, "/proc/%d", getpid()); lsld(s);
    snprintf(s, sizeof s, "/proc/%d/fd", getpid()); lsld(s);
    snprintf(s, sizeof s, "/proc/%d/fd/%d", getpid(), f); lsld(s);
    write(pp[1], &f, sizeof f); char x; read(qq[0], &x, 1); _exit(0);
  }
  int hfd; read(pp[0], &hfd, sizeof hfd);
  as_user(1000, 1000, holder, hfd, "uid1000/gid1000 vs uid1000/gid1000");
  as_user(1000, 1001, holder, hfd, "uid1000/gid1001 vs uid1000/gid1000");
  as_user(1001, 1000, holder, hfd, "uid1001/gid1000 vs uid1000/gid1000");
  probe_target("root vs uid1000", holder, hfd);
  /* non-dumpable uid-1000 holder */
  write(qq[1], "x", 1); waitpid(holder, NULL, 0);
  return 0;
}
