/* The AF_UNIX socket pair the SCM_RIGHTS cases use, as a file: fstat, the fd link's shape,
 * F_GETFL, fdinfo (scm_fds), poll and epoll readiness before and after a message and after the
 * peer's close, recvmsg flags, sendmsg's limits (SCM_MAX_FD), socketpair's argument checks.
 * gcc -static -O1 -o /tmp/unix-socket unix-socket.c; run-in-kernel.sh /tmp/unix-socket */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

static const char *en(int e) {
  static char b[32];
  switch (e) {
  case 0: return "0"; case EINVAL: return "EINVAL"; case EBADF: return "EBADF"; case EAGAIN: return "EAGAIN"; case EPIPE: return "EPIPE";
  case EAFNOSUPPORT: return "EAFNOSUPPORT"; case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT"; case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
  case EFAULT: return "EFAULT"; case ENOTSOCK: return "ENOTSOCK"; case ENXIO: return "ENXIO"; case EOPNOTSUPP: return "EOPNOTSUPP"; case EPROTOTYPE: return "EPROTOTYPE";
  default: snprintf(b, 32, "errno%d", e); return b;
  }
}
#define R(name, expr) do { errno = 0; long _r = (long)(expr); printf("%s: ret=%ld errno=%s\n", name, _r, _r < 0 ? en(errno) : "0"); fflush(stdout); } while (0)

static int sendfds(int s, const int *fds, int n) {
  char c = 'x';
  struct iovec io = { &c, 1 };
  static char buf[CMSG_SPACE(sizeof(int) * 300)];
  struct msghdr m = { 0 };
  m.msg_iov = &io; m.msg_iovlen = 1;
  if (n > 0) {
    m.msg_control = buf; m.msg_controllen = CMSG_SPACE(sizeof(int) * n);
    struct cmsghdr *c0 = CMSG_FIRSTHDR(&m);
    c0->cmsg_level = SOL_SOCKET; c0->cmsg_type = SCM_RIGHTS; c0->cmsg_len = CMSG_LEN(sizeof(int) * n);
    memcpy(CMSG_DATA(c0), fds, sizeof(int) * n);
  }
  return sendmsg(s, &m, MSG_NOSIGNAL);
}

static void fdinfo(const char *name, int fd) {
  char p[64], b[4096];
  snprintf(p, sizeof p, "/proc/self/fdinfo/%d", fd);
  int f = open(p, O_RDONLY);
  long n = read(f, b, sizeof b - 1);
  close(f);
  b[n < 0 ? 0 : n] = 0;
  printf("%s:\n", name);
  for (char *l = b; *l; ) {
    char *e = strchr(l, '\n');
    if (e) *e = 0;
    if (strncmp(l, "mnt_id:", 7) == 0) printf("mnt_id:\tMNT\n");
    else if (strncmp(l, "ino:", 4) == 0) printf("ino:\tINO\n");
    else printf("%s\n", l);
    if (!e) break;
    l = e + 1;
  }
  fflush(stdout);
}

static void pl(const char *name, int fd) {
  struct pollfd q = { fd, POLLIN | POLLOUT | POLLPRI | POLLRDHUP, 0 };
  int r = poll(&q, 1, 0);
  printf("%s: ret=%d revents=0x%x\n", name, r, q.revents);
  fflush(stdout);
}

int main(void) {
  int sv[2];
  R("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
  struct stat st;
  fstat(sv[0], &st);
  printf("fstat: mode=0%o size=%ld blocks=%ld blksize=%ld nlink=%lu\n", st.st_mode, (long)st.st_size, (long)st.st_blocks, (long)st.st_blksize, (unsigned long)st.st_nlink);
  char p[64], l[128];
  snprintf(p, sizeof p, "/proc/self/fd/%d", sv[0]);
  long n = readlink(p, l, sizeof l - 1);
  l[n < 0 ? 0 : n] = 0;
  printf("link: %s\n", strncmp(l, "socket:[", 8) == 0 ? "socket:[INO]" : l);
  R("F_GETFL", fcntl(sv[0], F_GETFL));
  R("reopen", open(p, O_RDWR));
  fdinfo("fdinfo empty", sv[1]);
  pl("poll idle s0", sv[0]);
  pl("poll idle s1", sv[1]);
  int m = syscall(SYS_memfd_create, "m", 0);
  int two[2] = { m, m };
  R("sendmsg 2 fds", sendfds(sv[0], two, 2));
  fdinfo("fdinfo queued s1", sv[1]);
  fdinfo("fdinfo queued s0", sv[0]);
  pl("poll queued s1", sv[1]);
  int many[300];
  for (int i = 0; i < 300; i++) many[i] = m;
  R("sendmsg 253 fds", sendfds(sv[0], many, 253));
  R("sendmsg 254 fds", sendfds(sv[0], many, 254));
  /* the fd numbers are written before the family, type and protocol are checked */
  int bad[2] = { -7, -7 };
  R("socketpair AF_INET", socketpair(AF_INET, SOCK_STREAM, 0, bad)); printf("sv written: %d\n", bad[0] != -7); bad[0] = bad[1] = -7;
  R("socketpair family 99", socketpair(99, SOCK_STREAM, 0, bad)); printf("sv written: %d\n", bad[0] != -7); bad[0] = bad[1] = -7;
  R("socketpair type 99", socketpair(AF_UNIX, 99, 0, bad)); printf("sv written: %d\n", bad[0] != -7); bad[0] = bad[1] = -7;
  R("socketpair protocol 7", socketpair(AF_UNIX, SOCK_STREAM, 7, bad)); printf("sv written: %d\n", bad[0] != -7); bad[0] = bad[1] = -7;
  R("socketpair NULL", socketpair(AF_UNIX, SOCK_STREAM, 0, NULL));
  R("socketpair flags", socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, two));
  R("F_GETFL nonblock", fcntl(two[0], F_GETFL));
  R("F_GETFD cloexec", fcntl(two[0], F_GETFD));
  close(two[0]); close(two[1]);
  close(sv[0]);
  pl("poll peer closed s1", sv[1]);
  return 0;
}
