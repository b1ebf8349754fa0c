/* The generic file layer around a dma-buf, asked of a real kernel: fcntl in full (every command
 * on a heap fd, a dma-buf, a memfd, procfs, sysfs, debugfs and cgroup files, an O_PATH fd),
 * epoll (which files may be watched, what a dma-buf reports), the escaping of a dma-buf's and a
 * memfd's name in /proc/<pid>/maps, fd links, fdinfo and bufinfo, st_size of pseudo files, the
 * file references fork, exec and SCM_RIGHTS hold (bufinfo's count column), and what an O_PATH
 * fd of a dma-buf may do. One line per case: `<case>: ret=<n> errno=<NAME>` or the text read.
 * Run as root: gcc -static -O1 -o /tmp/fd-generic fd-generic.c; run-in-kernel.sh /tmp/fd-generic */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/resource.h>
#include <stdint.h>

static const char *en(int e) {
  static char b[32];
  switch (e) {
  case 0: return "0"; case EINVAL: return "EINVAL"; case ENOTDIR: return "ENOTDIR"; case EISDIR: return "EISDIR";
  case ENOENT: return "ENOENT"; case EEXIST: return "EEXIST"; case EACCES: return "EACCES"; case ELOOP: return "ELOOP";
  case EOPNOTSUPP: return "EOPNOTSUPP"; case EROFS: return "EROFS"; case EPERM: return "EPERM"; case EBADF: return "EBADF";
  case ENXIO: return "ENXIO"; case ENOTTY: return "ENOTTY"; case EAGAIN: return "EAGAIN"; case ENOTSOCK: return "ENOTSOCK";
  case EMFILE: return "EMFILE"; case EBUSY: return "EBUSY"; case ENODEV: return "ENODEV"; case EFAULT: return "EFAULT";
  case ESRCH: return "ESRCH"; case EPIPE: return "EPIPE"; case ESPIPE: return "ESPIPE";
  default: snprintf(b, 32, "errno%d", e); return b;
  }
}
#define R(name, expr) do { errno = 0; long _r = (long)(expr); printf("%s: ret=%ld errno=%s\n", name, _r, _r < 0 ? en(errno) : "0"); fflush(stdout); } while (0)

struct alloc_data { uint64_t len; uint32_t fd; uint32_t fd_flags; uint64_t heap_flags; };
#define DMA_HEAP_IOCTL_ALLOC 0xc0184800
#define DMA_BUF_SET_NAME_B 0x40086201

static int alloc(size_t len) {
  int h = open("/dev/dma_heap/system", O_RDWR);
  struct alloc_data a = { len, 0, O_RDWR | O_CLOEXEC, 0 };
  if (ioctl(h, DMA_HEAP_IOCTL_ALLOC, &a) < 0) { perror("alloc"); exit(1); }
  close(h);
  return a.fd;
}

static unsigned long ino_of(int fd) { struct stat st; fstat(fd, &st); return st.st_ino; }

/* The bufinfo line of the dma-buf with inode `ino`, with the inode number masked as INO */
static void bufinfo(const char *name, unsigned long ino) {
  static char b[65536];
  int fd = open("/sys/kernel/debug/dma_buf/bufinfo", O_RDONLY);
  long n = 0, r;
  while ((r = read(fd, b + n, sizeof b - 1 - n)) > 0) n += r;
  b[n] = 0;
  close(fd);
  char want[32];
  snprintf(want, sizeof want, "\t%08lu\t", ino);
  for (char *l = b; *l; ) {
    char *e = strchr(l, '\n');
    if (e) *e = 0;
    char *at = strstr(l, want);
    if (at) {
      *at = 0;
      printf("%s: %s\tINO\t%s\n", name, l, at + strlen(want));
      fflush(stdout);
      return;
    }
    if (!e) break;
    l = e + 1;
  }
  printf("%s: gone\n", name);
  fflush(stdout);
}

/* lines of /proc/self/maps that contain `what`, without the address and inode columns */
static void maps(const char *name, const char *what) {
  static char b[65536];
  int fd = open("/proc/self/maps", O_RDONLY);
  long n = 0, r;
  while ((r = read(fd, b + n, sizeof b - 1 - n)) > 0) n += r;
  b[n] = 0;
  close(fd);
  for (char *l = b; *l; ) {
    char *e = strchr(l, '\n');
    if (e) *e = 0;
    if (strstr(l, what)) {
      /* address range, perms, offset, dev, inode, path: print perms, offset and path */
      char perms[8], path[512] = "";
      unsigned long off;
      int pos = 0;
      if (sscanf(l, "%*s %7s %lx %*s %*s %n", perms, &off, &pos) >= 2) snprintf(path, sizeof path, "%s", l + pos);
      printf("%s: %s %08lx %s\n", name, perms, off, path);
    }
    if (!e) break;
    l = e + 1;
  }
  fflush(stdout);
}

static void flink(const char *name, int fd) {
  char p[64], l[512];
  snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
  long n = readlink(p, l, sizeof l - 1);
  if (n < 0) { printf("%s: errno=%s\n", name, en(errno)); fflush(stdout); return; }
  l[n] = 0;
  printf("%s: %ld %s\n", name, n, l);
  fflush(stdout);
}

/* /proc/self/fdinfo/<fd> with ino and mnt_id masked */
static void fdinfo(const char *name, int fd) {
  char p[64], b[4096];
  snprintf(p, sizeof p, "/proc/self/fdinfo/%d", fd);
  int f = open(p, O_RDONLY);
  long n = read(f, b, sizeof b - 1);
  close(f);
  if (n < 0) { printf("%s: errno=%s\n", name, en(errno)); fflush(stdout); return; }
  b[n] = 0;
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

static void size(const char *name, const char *path) {
  struct stat st;
  if (stat(path, &st) < 0) { printf("%s: errno=%s\n", name, en(errno)); fflush(stdout); return; }
  printf("%s: st_size=%ld st_blocks=%ld st_blksize=%ld mode=0%o\n", name, (long)st.st_size, (long)st.st_blocks, (long)st.st_blksize, st.st_mode);
  fflush(stdout);
}
static void fsize(const char *name, int fd) {
  struct stat st;
  if (fstat(fd, &st) < 0) { printf("%s: errno=%s\n", name, en(errno)); fflush(stdout); return; }
  printf("%s: st_size=%ld st_blocks=%ld st_blksize=%ld mode=0%o\n", name, (long)st.st_size, (long)st.st_blocks, (long)st.st_blksize, st.st_mode);
  fflush(stdout);
}

/* every fcntl command on one fd */
static void fcntls(const char *k, int fd) {
  char n[128];
  struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
#define F(label, expr) do { snprintf(n, sizeof n, "%s fcntl %s", k, label); R(n, expr); } while (0)
  F("F_GETFD", fcntl(fd, F_GETFD));
  F("F_GETFL", fcntl(fd, F_GETFL));
  fl.l_type = F_RDLCK; F("F_GETLK RDLCK", fcntl(fd, F_GETLK, &fl)); printf("l_type=%d\n", fl.l_type);
  fl.l_type = F_WRLCK; F("F_GETLK WRLCK", fcntl(fd, F_GETLK, &fl)); printf("l_type=%d\n", fl.l_type);
  fl.l_type = F_RDLCK; F("F_SETLK RDLCK", fcntl(fd, F_SETLK, &fl));
  fl.l_type = F_WRLCK; F("F_SETLK WRLCK", fcntl(fd, F_SETLK, &fl));
  fl.l_type = F_UNLCK; F("F_SETLKW UNLCK", fcntl(fd, F_SETLKW, &fl));
  fl.l_type = 7; F("F_SETLK type7", fcntl(fd, F_SETLK, &fl));
  fl.l_type = F_RDLCK; fl.l_pid = 0; F("F_OFD_GETLK", fcntl(fd, F_OFD_GETLK, &fl)); printf("l_type=%d\n", fl.l_type);
  fl.l_type = F_RDLCK; fl.l_pid = 0; F("F_OFD_SETLK", fcntl(fd, F_OFD_SETLK, &fl));
  fl.l_type = F_UNLCK; fl.l_pid = 0; F("F_OFD_SETLKW", fcntl(fd, F_OFD_SETLKW, &fl));
  fl.l_type = F_RDLCK; fl.l_pid = 1; F("F_OFD_GETLK pid1", fcntl(fd, F_OFD_GETLK, &fl));
  F("F_GETLK NULL", fcntl(fd, F_GETLK, NULL));
  F("F_GETOWN", fcntl(fd, F_GETOWN));
  F("F_SETOWN 0", fcntl(fd, F_SETOWN, 0));
  { struct f_owner_ex o = { 0, 0 }; F("F_GETOWN_EX", fcntl(fd, F_GETOWN_EX, &o)); printf("type=%d pid=%d\n", o.type, o.pid); }
  F("F_GETSIG", fcntl(fd, F_GETSIG));
  F("F_SETSIG 0", fcntl(fd, F_SETSIG, 0));
  F("F_SETSIG 65", fcntl(fd, F_SETSIG, 65));
  F("F_GETLEASE", fcntl(fd, F_GETLEASE));
  F("F_SETLEASE RDLCK", fcntl(fd, F_SETLEASE, F_RDLCK));
  F("F_SETLEASE UNLCK", fcntl(fd, F_SETLEASE, F_UNLCK));
  F("F_NOTIFY", fcntl(fd, F_NOTIFY, DN_MODIFY));
  F("F_GETPIPE_SZ", fcntl(fd, F_GETPIPE_SZ));
  F("F_SETPIPE_SZ", fcntl(fd, F_SETPIPE_SZ, 4096));
  F("F_GET_SEALS", fcntl(fd, F_GET_SEALS));
  F("F_ADD_SEALS", fcntl(fd, F_ADD_SEALS, 0));
  { uint64_t h = 0; F("F_GET_RW_HINT", fcntl(fd, 1035, &h)); }
  { uint64_t h = 2; F("F_SET_RW_HINT", fcntl(fd, 1036, &h)); }
  { uint64_t h = 0; F("F_GET_FILE_RW_HINT", fcntl(fd, 1037, &h)); }
  F("F_DUPFD_QUERY self", fcntl(fd, 1027, fd));
  F("F_DUPFD_QUERY 0", fcntl(fd, 1027, 0));
  F("F_CREATED_QUERY", fcntl(fd, 1028, 0));
  F("cmd 12 (F_GETLK64 on 64-bit = F_GETLK? no: 12)", fcntl(fd, 12, &fl));
  F("cmd 1029", fcntl(fd, 1029, 0));
  F("cmd 9999", fcntl(fd, 9999, 0));
  F("cmd -1", fcntl(fd, -1, 0));
  { int d = fcntl(fd, F_DUPFD_CLOEXEC, 100); snprintf(n, sizeof n, "%s fcntl F_DUPFD_CLOEXEC 100", k); R(n, d); F("dup F_GETFD", fcntl(d, F_GETFD)); close(d); }
#undef F
}

static void setfl(const char *k, int fd) {
  char n[128];
#define F(label, expr) do { snprintf(n, sizeof n, "%s %s", k, label); R(n, expr); printf("F_GETFL=0%o\n", fcntl(fd, F_GETFL)); } while (0)
  F("F_SETFL O_DIRECT", fcntl(fd, F_SETFL, O_DIRECT));
  F("F_SETFL O_ASYNC", fcntl(fd, F_SETFL, O_ASYNC));
  F("F_SETFL O_NONBLOCK|O_APPEND|O_NOATIME", fcntl(fd, F_SETFL, O_NONBLOCK | O_APPEND | O_NOATIME));
  F("F_SETFL O_RDONLY|O_TRUNC|O_CREAT|O_SYNC", fcntl(fd, F_SETFL, O_TRUNC | O_CREAT | O_SYNC | O_DSYNC));
  F("F_SETFL 0", fcntl(fd, F_SETFL, 0));
#undef F
}

static void ep(const char *name, int e, int fd, unsigned ev) {
  struct epoll_event x = { .events = ev, .data.u64 = fd };
  R(name, epoll_ctl(e, EPOLL_CTL_ADD, fd, &x));
}
static void wait_(const char *name, int e) {
  struct epoll_event out[8];
  errno = 0;
  int n = epoll_wait(e, out, 8, 0);
  printf("%s: ret=%d errno=%s", name, n, n < 0 ? en(errno) : "0");
  for (int i = 0; i < n; i++) printf(" [%llu 0x%x]", (unsigned long long)out[i].data.u64, out[i].events);
  printf("\n");
  fflush(stdout);
}

static int sendfd(int s, int fd) {
  char c = 'x';
  struct iovec io = { &c, 1 };
  union { char b[CMSG_SPACE(sizeof(int))]; struct cmsghdr a; } u;
  memset(&u, 0, sizeof u);
  struct msghdr m = { 0 };
  m.msg_iov = &io; m.msg_iovlen = 1; m.msg_control = u.b; m.msg_controllen = sizeof u.b;
  struct cmsghdr *c0 = CMSG_FIRSTHDR(&m);
  c0->cmsg_level = SOL_SOCKET; c0->cmsg_type = SCM_RIGHTS; c0->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c0), &fd, sizeof fd);
  return sendmsg(s, &m, MSG_NOSIGNAL);
}
/* receives one byte and up to one fd; prints the fd got (or -1), msg_flags */
static int recvfd(const char *name, int s, int flags, int space) {
  char c;
  struct iovec io = { &c, 1 };
  union { char b[CMSG_SPACE(sizeof(int))]; struct cmsghdr a; } u;
  memset(&u, 0, sizeof u);
  struct msghdr m = { 0 };
  m.msg_iov = &io; m.msg_iovlen = 1; m.msg_control = space ? u.b : NULL; m.msg_controllen = space ? sizeof u.b : 0;
  errno = 0;
  long r = recvmsg(s, &m, flags | MSG_DONTWAIT);
  int fd = -1;
  struct cmsghdr *c0 = space ? CMSG_FIRSTHDR(&m) : NULL;
  if (r > 0 && c0 && c0->cmsg_type == SCM_RIGHTS && c0->cmsg_len >= CMSG_LEN(sizeof(int))) memcpy(&fd, CMSG_DATA(c0), sizeof fd);
  printf("%s: ret=%ld errno=%s fd=%d ctrunc=%d\n", name, r, r < 0 ? en(errno) : "0", fd, (m.msg_flags & MSG_CTRUNC) != 0);
  fflush(stdout);
  return fd;
}

int main(int argc, char **argv) {
  if (argc > 2 && strcmp(argv[1], "exec") == 0) {
    /* after execve: the close-on-exec dma-buf fd is gone, the other stays */
    int keep = atoi(argv[2]), gone = atoi(argv[3]);
    unsigned long ino = strtoul(argv[4], NULL, 10);
    R("exec F_GETFD kept", fcntl(keep, F_GETFD));
    R("exec F_GETFD cloexec", fcntl(gone, F_GETFD));
    bufinfo("exec bufinfo", ino);
    return 0;
  }
  char p[128];

  /* ---- st_size of pseudo files ---- */
  size("size sysfs cma attr", "/sys/kernel/mm/cma/reserved/alloc_pages_success");
  size("size sysfs dev attr", "/sys/class/dma_heap/system/dev");
  size("size sysfs uevent", "/sys/class/dma_heap/system/uevent");
  size("size procfs meminfo", "/proc/meminfo");
  size("size procfs self/maps", "/proc/self/maps");
  size("size procfs self/status", "/proc/self/status");
  size("size procfs fdinfo/0", "/proc/self/fdinfo/0");
  size("size procfs self/fd", "/proc/self/fd");
  size("size procfs config.gz", "/proc/config.gz");
  size("size debugfs bufinfo", "/sys/kernel/debug/dma_buf/bufinfo");
  size("size debugfs cma count", "/sys/kernel/debug/cma/reserved/count");
  size("size cgroup.procs", "/sys/fs/cgroup/cgroup.procs");
  size("size cgroup memory.stat", "/sys/fs/cgroup/memory.stat");
  size("size sysfs dir", "/sys/kernel/mm/cma/reserved");
  size("size heap node", "/dev/dma_heap/system");
  size("size udmabuf node", "/dev/udmabuf");

  /* ---- fcntl ---- */
  int heap = open("/dev/dma_heap/system", O_RDWR);
  int buf = alloc(16384);
  int mfd = syscall(SYS_memfd_create, "m", MFD_ALLOW_SEALING);
  ftruncate(mfd, 4096);
  int meminfo = open("/proc/meminfo", O_RDONLY);
  int attr = open("/sys/kernel/mm/cma/reserved/alloc_pages_success", O_RDONLY);
  int binfo = open("/sys/kernel/debug/dma_buf/bufinfo", O_RDONLY);
  int procs = open("/sys/fs/cgroup/cgroup.procs", O_RDWR);
  snprintf(p, sizeof p, "/proc/self/fd/%d", buf);
  int opath = open(p, O_PATH);
  R("O_PATH dma-buf", opath);
  fsize("dma-buf fstat", buf);
  fsize("O_PATH dma-buf fstat", opath);
  fcntls("heap", heap);
  fcntls("dma-buf", buf);
  fcntls("memfd", mfd);
  fcntls("meminfo", meminfo);
  fcntls("sysfs", attr);
  fcntls("bufinfo", binfo);
  fcntls("cgroup.procs", procs);
  fcntls("O_PATH", opath);
  setfl("heap", heap);
  setfl("dma-buf", buf);
  setfl("memfd", mfd);
  setfl("meminfo", meminfo);
  setfl("sysfs", attr);
  setfl("O_PATH", opath);

  /* ---- what an O_PATH fd of a dma-buf may do ---- */
  { char b[8]; R("O_PATH dma-buf read", read(opath, b, 8)); }
  R("O_PATH dma-buf mmap", mmap(NULL, 4096, PROT_READ, MAP_SHARED, opath, 0) == MAP_FAILED ? -1 : 0);
  R("O_PATH dma-buf ioctl SET_NAME", ioctl(opath, DMA_BUF_SET_NAME_B, "x"));
  flink("O_PATH dma-buf link", opath);
  fdinfo("O_PATH dma-buf fdinfo", opath);
  snprintf(p, sizeof p, "/proc/self/fd/%d", buf);
  R("reopen dma-buf RDWR", open(p, O_RDWR));
  R("reopen dma-buf O_PATH|O_DIRECTORY", open(p, O_PATH | O_DIRECTORY));
  snprintf(p, sizeof p, "/proc/self/fd/%d/", buf);
  R("reopen dma-buf trailing slash", open(p, O_PATH));

  /* ---- epoll ---- */
  int e = epoll_create1(EPOLL_CLOEXEC);
  R("epoll_create1", e);
  R("epoll_create1 bad flag", epoll_create1(1));
  R("epoll_create 0", epoll_create(0));
  ep("epoll ADD heap", e, heap, EPOLLIN);
  ep("epoll ADD dma-buf", e, buf, EPOLLIN | EPOLLOUT);
  ep("epoll ADD dma-buf again", e, buf, EPOLLIN);
  ep("epoll ADD memfd", e, mfd, EPOLLIN);
  ep("epoll ADD meminfo", e, meminfo, EPOLLIN);
  ep("epoll ADD sysfs", e, attr, EPOLLIN | EPOLLPRI);
  ep("epoll ADD bufinfo", e, binfo, EPOLLIN);
  ep("epoll ADD cgroup.procs", e, procs, EPOLLIN);
  ep("epoll ADD O_PATH", e, opath, EPOLLIN);
  ep("epoll ADD self", e, e, EPOLLIN);
  ep("epoll ADD bad fd", e, 999, EPOLLIN);
  ep("epoll ADD on non-epoll", heap, buf, EPOLLIN);
  { int pf = syscall(SYS_pidfd_open, getpid(), 0); ep("epoll ADD pidfd", e, pf, EPOLLIN); close(pf); }
  { struct epoll_event x = { EPOLLIN, { 0 } }; R("epoll bad op", epoll_ctl(e, 9, buf, &x)); }
  { struct epoll_event x = { EPOLLIN, { .u64 = buf } }; R("epoll MOD dma-buf IN", epoll_ctl(e, EPOLL_CTL_MOD, buf, &x)); }
  { struct epoll_event x = { EPOLLIN, { 0 } }; R("epoll MOD memfd", epoll_ctl(e, EPOLL_CTL_MOD, mfd, &x)); }
  { struct epoll_event x = { EPOLLIN | EPOLLEXCLUSIVE, { 0 } }; R("epoll MOD EXCLUSIVE", epoll_ctl(e, EPOLL_CTL_MOD, buf, &x)); }
  R("epoll DEL memfd", epoll_ctl(e, EPOLL_CTL_DEL, mfd, NULL));
  wait_("epoll_wait", e);
  fdinfo("epoll fdinfo", e);
  flink("epoll link", e);
  fsize("epoll fstat", e);
  { struct epoll_event o[1]; R("epoll_wait maxevents 0", epoll_wait(e, o, 0, 0)); R("epoll_wait on dma-buf", epoll_wait(buf, o, 1, 0)); }
  { struct epoll_event x = { EPOLLOUT, { .u64 = buf } }; R("epoll MOD dma-buf OUT", epoll_ctl(e, EPOLL_CTL_MOD, buf, &x)); }
  wait_("epoll_wait OUT", e);
  { struct epoll_event x = { EPOLLIN | EPOLLOUT | EPOLLET, { .u64 = buf } }; R("epoll MOD dma-buf ET", epoll_ctl(e, EPOLL_CTL_MOD, buf, &x)); }
  wait_("epoll_wait ET 1", e);
  wait_("epoll_wait ET 2", e);
  { struct epoll_event x = { EPOLLIN | EPOLLONESHOT, { .u64 = buf } }; R("epoll MOD dma-buf ONESHOT", epoll_ctl(e, EPOLL_CTL_MOD, buf, &x)); }
  wait_("epoll_wait ONESHOT 1", e);
  wait_("epoll_wait ONESHOT 2", e);
  { struct pollfd q = { buf, POLLIN | POLLOUT | POLLPRI, 0 }; R("poll dma-buf", poll(&q, 1, 0)); printf("revents=0x%x\n", q.revents); }
  { struct pollfd q = { e, POLLIN, 0 }; R("poll epoll", poll(&q, 1, 0)); printf("revents=0x%x\n", q.revents); }
  /* a registration lives as long as the file: a dup keeps it after the fd closes */
  { int d = dup(buf); int b2 = alloc(4096); ep("epoll ADD b2", e, b2, EPOLLIN); close(b2);
    struct epoll_event x = { EPOLLIN, { .u64 = buf } }; epoll_ctl(e, EPOLL_CTL_MOD, buf, &x);
    wait_("epoll_wait after close of b2", e);
    R("epoll DEL closed fd", epoll_ctl(e, EPOLL_CTL_DEL, b2, NULL));
    close(buf); wait_("epoll_wait after close of a dup'd fd", e);
    R("epoll DEL closed dup'd fd", epoll_ctl(e, EPOLL_CTL_DEL, buf, NULL));
    buf = dup2(d, buf); close(d); }
  close(e);

  /* ---- escaping of names ---- */
  {
    const char *names[] = { "a b", "nl\nx", "bs\\y", "tab\tz", "pct%d", "" };
    for (int i = 0; i < 6; i++) {
      int b = alloc(4096);
      char k[64];
      snprintf(k, sizeof k, "name%d", i);
      char nm[64]; snprintf(nm, sizeof nm, "%s", names[i]);
      snprintf(p, sizeof p, "%s set_name", k); R(p, ioctl(b, DMA_BUF_SET_NAME_B, nm));
      void *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, b, 0);
      snprintf(p, sizeof p, "%s maps", k); maps(p, "dmabuf");
      snprintf(p, sizeof p, "%s link", k); flink(p, b);
      snprintf(p, sizeof p, "%s fdinfo", k); fdinfo(p, b);
      snprintf(p, sizeof p, "%s bufinfo", k); bufinfo(p, ino_of(b));
      munmap(m, 4096);
      close(b);
    }
    int m = syscall(SYS_memfd_create, "sp ace\nnl\\bs", 0);
    ftruncate(m, 4096);
    void *a = mmap(NULL, 4096, PROT_READ, MAP_SHARED, m, 0);
    maps("memfd maps", "memfd");
    flink("memfd link", m);
    munmap(a, 4096);
    close(m);
    char big[40]; memset(big, 'q', 39); big[39] = 0;
    int b = alloc(4096);
    R("set_name 39 bytes", ioctl(b, DMA_BUF_SET_NAME_B, big));
    flink("name 39 link", b);
    big[31] = 0;
    R("set_name 31 bytes", ioctl(b, DMA_BUF_SET_NAME_B, big));
    flink("name 31 link", b);
    close(b);
  }

  /* ---- fork, exec: the references each side holds ---- */
  {
    int b = alloc(8192);
    unsigned long ino = ino_of(b);
    bufinfo("fork before", ino);
    void *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, b, 0);
    bufinfo("fork mapped", ino);
    int d = dup(b);
    fcntl(d, F_SETFD, 0);
    bufinfo("fork dup", ino);
    pid_t c = fork();
    if (c == 0) {
      bufinfo("fork child", ino);
      R("fork child F_GETFD cloexec", fcntl(b, F_GETFD));
      R("fork child F_GETFD dup", fcntl(d, F_GETFD));
      fdinfo("fork child fdinfo", b);
      maps("fork child maps", "dmabuf");
      close(b);
      bufinfo("fork child closed one", ino);
      munmap(m, 8192);
      bufinfo("fork child unmapped", ino);
      char a1[16], a2[16], a3[32];
      snprintf(a1, sizeof a1, "%d", d); snprintf(a2, sizeof a2, "%d", b); snprintf(a3, sizeof a3, "%lu", ino);
      /* re-open b close-on-exec on the same number so exec has one of each */
      int again = fcntl(d, F_DUPFD_CLOEXEC, b);
      (void)again;
      bufinfo("fork child before exec", ino);
      execl("/proc/self/exe", argv[0], "exec", a1, a2, a3, (char *)NULL);
      printf("exec failed: %s\n", en(errno));
      _exit(1);
    }
    int st;
    waitpid(c, &st, 0);
    bufinfo("fork parent after child exit", ino);
    munmap(m, 8192);
    close(d);
    bufinfo("fork parent unmapped", ino);
    close(b);
    bufinfo("fork parent closed", ino);
  }

  /* ---- SCM_RIGHTS: references in flight ---- */
  {
    int sv[2];
    R("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    int b = alloc(4096);
    unsigned long ino = ino_of(b);
    bufinfo("scm before", ino);
    R("scm sendmsg", sendfd(sv[0], b));
    bufinfo("scm in flight", ino);
    close(b);
    bufinfo("scm sender closed", ino);
    int r = recvfd("scm recvmsg", sv[1], MSG_CMSG_CLOEXEC, 1);
    bufinfo("scm received", ino);
    R("scm received F_GETFD", fcntl(r, F_GETFD));
    flink("scm received link", r);
    fdinfo("scm received fdinfo", r);
    R("scm sendmsg O_PATH", sendfd(sv[0], opath));
    r = recvfd("scm recvmsg O_PATH", sv[1], 0, 1);
    flink("scm O_PATH link", r);
    R("scm received O_PATH F_GETFL", fcntl(r, F_GETFL));
    close(r);
    /* no control space: the fd is dropped, MSG_CTRUNC */
    b = alloc(4096); ino = ino_of(b);
    sendfd(sv[0], b); close(b);
    bufinfo("scm ctrunc in flight", ino);
    recvfd("scm recvmsg no space", sv[1], 0, 0);
    bufinfo("scm ctrunc after", ino);
    /* the receiver's table is full: MSG_CTRUNC, the fd dropped */
    b = alloc(4096); ino = ino_of(b);
    sendfd(sv[0], b); close(b);
    struct rlimit old, lim;
    getrlimit(RLIMIT_NOFILE, &old);
    int hi = dup(0); close(hi);
    lim.rlim_cur = hi; lim.rlim_max = old.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    recvfd("scm recvmsg EMFILE", sv[1], 0, 1);
    setrlimit(RLIMIT_NOFILE, &old);
    bufinfo("scm EMFILE after", ino);
    /* closing the receiving end drops what is queued */
    b = alloc(4096); ino = ino_of(b);
    sendfd(sv[0], b); close(b);
    bufinfo("scm queued", ino);
    close(sv[1]);
    bufinfo("scm receiver closed", ino);
    R("scm sendmsg to closed", sendfd(sv[0], 0));
    close(sv[0]);
    /* closing the sending end leaves it queued for the receiver */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    b = alloc(4096); ino = ino_of(b);
    sendfd(sv[0], b); close(b); close(sv[0]);
    bufinfo("scm sender socket closed", ino);
    r = recvfd("scm recvmsg after sender closed", sv[1], 0, 1);
    bufinfo("scm received after sender closed", ino);
    close(r); close(sv[1]);
    bufinfo("scm all closed", ino);
    R("scm sendmsg on dma-buf", sendfd(buf, 0));
    R("scm sendmsg bad fd", sendfd(sv[0], 0));
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    R("scm sendmsg closed fd", sendfd(sv[0], 999));
    close(sv[0]); close(sv[1]);
  }
  return 0;
}
