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
#include <sys/stat.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/resource.h>


static const char *en(int e) {
  switch (e) { case 0: return "0"; case EACCES: return "EACCES"; case EPERM: return "EPERM"; case ENOENT: return "ENOENT";
  case EINVAL: return "EINVAL"; case EBADF: return "EBADF"; case ENXIO: return "ENXIO"; case EFAULT: return "EFAULT";
  case ENOMEM: return "ENOMEM"; case EFBIG: return "EFBIG"; case ESRCH: return "ESRCH"; case EPIPE: return "EPIPE"; case EMFILE: return "EMFILE"; case EOVERFLOW: return "EOVERFLOW";
  case ECONNREFUSED: return "ECONNREFUSED"; case ECONNRESET: return "ECONNRESET"; case ENOTCONN: return "ENOTCONN";
  default: { static char b[32]; snprintf(b, 32, "errno%d", e); return b; } }
}
#define R(name, expr) do { errno = 0; long long _r = (long long)(expr); printf("%s: ret=%lld errno=%s\n", name, _r, _r < 0 ? en(errno) : "0"); fflush(stdout); } while (0)
#define RP(name, expr) do { errno = 0; void *_r = (void *)(expr); printf("%s: ret=%s errno=%s\n", name, _r == MAP_FAILED ? "MAP_FAILED" : "ok", _r == MAP_FAILED ? en(errno) : "0"); fflush(stdout); } while (0)

static int sendfd(int sock, int fd) {
  char c = 'x'; struct iovec iov = { &c, 1 };
  char cbuf[CMSG_SPACE(sizeof(int))]; memset(cbuf, 0, sizeof cbuf);
  struct msghdr m = { 0 }; m.msg_iov = &iov; m.msg_iovlen = 1; m.msg_control = cbuf; m.msg_controllen = sizeof cbuf;
  struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm->cmsg_level = SOL_SOCKET; cm->cmsg_type = SCM_RIGHTS; cm->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cm), &fd, sizeof(int));
  return sendmsg(sock, &m, MSG_NOSIGNAL);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  RP("mmap anon private 2^40", mmap(NULL, 1ULL << 40, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  RP("mmap anon private 2^40 noreserve", mmap(NULL, 1ULL << 40, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
  RP("mmap anon private 2^40 PROT_READ", mmap(NULL, 1ULL << 40, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  RP("mmap anon shared 2^40", mmap(NULL, 1ULL << 40, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  RP("mmap anon private 3G", mmap(NULL, 3ULL << 30, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  RP("mmap anon private 2^47", mmap(NULL, 1ULL << 47, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
  RP("mmap anon private 2^47-4096 noreserve", mmap(NULL, (1ULL << 47) - 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
  RP("mmap anon private -1", mmap(NULL, (size_t)-1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  RP("mmap anon private -4096", mmap(NULL, (size_t)-4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  RP("mmap anon private 0", mmap(NULL, 0, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  RP("mmap anon private offset -4096", mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, -4096));
  RP("mmap anon fixed at 2^47", mmap((void *)(1ULL << 47), 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
  RP("mmap anon hint 2^47", mmap((void *)(1ULL << 47), 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));

  int fd = syscall(SYS_memfd_create, "m", MFD_ALLOW_SEALING);
  char *buf = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  mprotect(buf + 4096, 4096, PROT_NONE);
  memset(buf, 'a', 4096);
  R("write 2^40 from 4K buf", write(fd, buf, 1ULL << 40));
  R("write -1 count", write(fd, buf, (size_t)-1));
  R("write 2^47 count", write(fd, buf, 1ULL << 47));
  R("write 2^47-buf count", write(fd, buf, (1ULL << 47) - (uintptr_t)buf - 4096));
  R("write NULL 10", write(fd, NULL, 10));
  R("write 0 count NULL", write(fd, NULL, 0));
  R("write 4097 from 4K buf", write(fd, buf, 4097));
  R("write 4096 from 4K buf+1", write(fd, buf + 1, 4096));
  R("lseek 0", lseek(fd, 0, SEEK_SET));
  R("read 2^40 into 4K buf", read(fd, buf, 1ULL << 40));
  R("pos after", lseek(fd, 0, SEEK_CUR));
  R("lseek 0", lseek(fd, 0, SEEK_SET));
  R("read -1 count", read(fd, buf, (size_t)-1));
  R("read NULL 10", read(fd, NULL, 10));
  R("lseek end", lseek(fd, 0, SEEK_END));
  R("read NULL 10 at EOF", read(fd, NULL, 10));
  R("read -1 count at EOF", read(fd, buf, (size_t)-1));
  R("read 2^47 at EOF", read(fd, buf, 1ULL << 47));
  R("ftruncate 2^62", ftruncate(fd, 1LL << 62));
  R("lseek end", lseek(fd, 0, SEEK_END));
  R("ftruncate LLONG_MAX", ftruncate(fd, LLONG_MAX));
  R("lseek end", lseek(fd, 0, SEEK_END));
  R("ftruncate LLONG_MAX-4095", ftruncate(fd, LLONG_MAX - 4095));
  R("ftruncate -1", ftruncate(fd, -1));
  R("lseek LLONG_MAX", lseek(fd, LLONG_MAX, SEEK_SET));
  R("lseek cur +1", lseek(fd, 1, SEEK_CUR));
  R("write at LLONG_MAX", write(fd, buf, 10));
  R("pwrite at LLONG_MAX-5", pwrite(fd, buf, 10, LLONG_MAX - 5));
  R("pwrite at LLONG_MAX-8192", pwrite(fd, buf, 10, LLONG_MAX - 8192));
  R("ftruncate 2^62", ftruncate(fd, 1LL << 62));
  R("pwrite at 2^40", pwrite(fd, buf, 10, 1LL << 40));
  R("SEEK_DATA 0", lseek(fd, 0, SEEK_DATA));
  R("SEEK_HOLE 0", lseek(fd, 0, SEEK_HOLE));
  R("SEEK_DATA 2^40+5", lseek(fd, (1LL << 40) + 5, SEEK_DATA));
  R("SEEK_HOLE 2^40+5", lseek(fd, (1LL << 40) + 5, SEEK_HOLE));
  R("SEEK_DATA 2^40+4096", lseek(fd, (1LL << 40) + 4096, SEEK_DATA));
  R("SEEK_HOLE 2^40+4096", lseek(fd, (1LL << 40) + 4096, SEEK_HOLE));
  R("SEEK_DATA -1", lseek(fd, -1, SEEK_DATA));
  R("SEEK_HOLE -1", lseek(fd, -1, SEEK_HOLE));
  R("SEEK_DATA 2^62", lseek(fd, 1LL << 62, SEEK_DATA));
  R("SEEK_HOLE 2^62-1", lseek(fd, (1LL << 62) - 1, SEEK_HOLE));
  R("lseek whence 5", lseek(fd, 0, 5));
  R("lseek -1 SET", lseek(fd, -1, SEEK_SET));
  R("ftruncate 8192", ftruncate(fd, 8192));
  R("seal write", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
  R("sealed write NULL", write(fd, NULL, 10));
  R("sealed write buf", write(fd, buf, 10));
  R("sealed write 0", write(fd, buf, 0));
  R("readlink bufsiz 0", readlink("/proc/self/exe", buf, 0));
  R("readlink bufsiz -1", syscall(SYS_readlink, "/proc/self/exe", buf, -1));

  { FILE *f = fopen("/proc/sys/fs/nr_open", "r"); char s[32] = ""; if (f) { fgets(s, sizeof s, f); fclose(f); } printf("nr_open=%s", s); }
  struct rlimit rl;
  rl.rlim_cur = RLIM_INFINITY; rl.rlim_max = RLIM_INFINITY; R("setrlimit inf", setrlimit(RLIMIT_NOFILE, &rl));
  rl.rlim_cur = 1048577; rl.rlim_max = 1048577; R("setrlimit nr_open+1", setrlimit(RLIMIT_NOFILE, &rl));
  rl.rlim_cur = 5; rl.rlim_max = 4; R("setrlimit cur>max", setrlimit(RLIMIT_NOFILE, &rl));
  rl.rlim_cur = 10; rl.rlim_max = RLIM_INFINITY; R("setrlimit 10/inf", setrlimit(RLIMIT_NOFILE, &rl));
  rl.rlim_cur = 1048576; rl.rlim_max = 1048576; R("setrlimit nr_open", setrlimit(RLIMIT_NOFILE, &rl));
  R("dup2 1048575", dup2(0, 1048575));
  R("dup2 1048576", dup2(0, 1048576));
  R("dup2 INT_MAX", dup2(0, INT_MAX));
  R("dup2 -1", dup2(0, -1));
  R("close 1048575", close(1048575));
  R("F_DUPFD 1048576", fcntl(0, F_DUPFD, 1048576));
  R("F_DUPFD -1", syscall(SYS_fcntl, 0, F_DUPFD, -1L));
  { long r = syscall(SYS_fcntl, 0, F_DUPFD, (1L << 32) + 5); R("F_DUPFD 2^32+5", r); if (r >= 0) close(r); }
  { int d = dup(0); char n[64]; snprintf(n, sizeof n, "close 2^32+%d (its low 32 bits)", d); R(n, syscall(SYS_close, (1L << 32) + d)); R("F_GETFD of it after", fcntl(d, F_GETFD)); }
  R("dup2 100", dup2(0, 100));
  rl.rlim_cur = 10; rl.rlim_max = 10; R("setrlimit 10", setrlimit(RLIMIT_NOFILE, &rl));
  {
    struct pollfd p[11]; for (int i = 0; i < 11; i++) { p[i].fd = -1; p[i].events = 0; }
    R("poll 11 > rlimit 10", poll(p, 11, 0));
    R("poll 10", poll(p, 10, 0));
  }
  pid_t c = fork();
  if (c == 0) {
    R("child F_GETFD 100", fcntl(100, F_GETFD));
    R("child dup 100", dup(100));
    R("child close 100", close(100));
    R("child F_DUPFD from 50", fcntl(0, F_DUPFD, 50));
    _exit(0);
  }
  waitpid(c, NULL, 0);
  rl.rlim_cur = 1024; rl.rlim_max = 1024; setrlimit(RLIMIT_NOFILE, &rl);
  const char *names[3] = { "stream", "seqpacket", "dgram" };
  int types[3] = { SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM };
  for (int i = 0; i < 3; i++) {
    int sv[2]; socketpair(AF_UNIX, types[i], 0, sv);
    pid_t k = fork();
    if (k == 0) { close(sv[0]); _exit(0); }
    close(sv[1]); waitpid(k, NULL, 0);
    char n[64]; snprintf(n, sizeof n, "sendmsg SCM_RIGHTS to exited peer (%s)", names[i]);
    R(n, sendfd(sv[0], fd));
    close(sv[0]);
  }
  return 0;
}
