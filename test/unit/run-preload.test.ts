/**
 * `dmaheap run`'s fast path (native/preload/dmaheap-preload.c, shipped prebuilt; docs/run.md "The
 * fast path"): a dynamically linked program prints exactly the same with the shim as without it
 * (`--preload off`), the calls that cannot touch the emulated machine stop reaching the
 * supervisor, `--preload auto` (the default) picks the shim for exactly the programs it can serve,
 * and the filter decides the calls it does not look at by their number alone. The test programs
 * are compiled with gcc; those tests skip with the reason where gcc is missing or `dmaheap run`
 * cannot work.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunError, preloadEnv } from '../../src/backends/run/supervisor.js';
import { SECCOMP_RET_ALLOW, SECCOMP_RET_USER_NOTIF, buildFilter } from '../../src/backends/run/filter.js';
import { X86_64 } from '../../src/backends/run/syscalls.js';
import { HEAD_BYTES, choosePreload, classifyProgram, isGlibcLoader, programKind, shippedPreload } from '../../src/backends/run/preload.js';

const repo = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const cli = join(repo, 'dist/src/apps/cli/main.js');

function run(args: readonly string[], env: NodeJS.ProcessEnv = {}): { status: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [cli, 'run', ...args], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DMAHEAP_PRELOAD: 'off', ...env }, timeout: 120_000 });
  return { status: r.status ?? 128 + 9, out: r.stdout, err: r.stderr };
}

const has = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
const unsupported: string | null = (() => {
  if (process.platform !== 'linux' || (process.arch !== 'x64' && process.arch !== 'arm64')) return `dmaheap run needs Linux on x86-64 or arm64 (this is ${process.platform} ${process.arch})`;
  if (!has('gcc')) return 'gcc is not installed (Debian: apt-get install gcc): the test programs are compiled by the test';
  const r = run(['--', '/bin/true']);
  return r.status === 0 ? null : `dmaheap run does not work on this host: ${r.err.trim()}`;
})();
const python = has('python3') ? null : 'python3 is not installed';

/**
 * Every libc call the shim takes over, on an emulated fd, a host fd, an fd that arrived with
 * SCM_RIGHTS, in a forked child, on emulated paths reached absolutely and relatively: a call the
 * shim wrongly sent to the host shows (read of a dma-buf is EINVAL on the emulated kernel, the
 * memfd behind it would give bytes; the host has no /dev/dma_heap).
 */
const CHECK_C = `#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <signal.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/dma-heap.h>

static void probe(const char *what, int fd) {
  struct stat st;
  char b[64];
  int r1 = fstat(fd, &st);
  int fl = fcntl(fd, F_GETFL);
  errno = 0;
  ssize_t n = read(fd, b, sizeof b);
  int e = errno;
  off_t end = lseek(fd, 0, SEEK_END);
  printf("%s: fstat %d mode %o size %lld; F_GETFL %o; read %zd errno %d; lseek end %lld\\n", what, r1, (unsigned)(st.st_mode & 0170000), (long long)st.st_size, (unsigned)fl & ~0100000u, n, e, (long long)end);
}

int main(void) {
  int heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
  if (heap < 0) { perror("open heap"); return 1; }
  struct dma_heap_allocation_data a = { .len = 8192, .fd_flags = O_RDWR | O_CLOEXEC };
  if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &a) < 0) { perror("alloc"); return 1; }
  int fd = (int)a.fd;
  probe("allocated", fd);
  int dup = fcntl(fd, F_DUPFD_CLOEXEC, 20);
  probe("F_DUPFD_CLOEXEC", dup);
  close(dup);
  probe("closed dup (EBADF)", dup);
  /* SCM_RIGHTS to ourselves: the fd that arrives is used at once */
  int sv[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  char c = 'x';
  struct iovec iov = { &c, 1 };
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
  struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
  cm->cmsg_level = SOL_SOCKET; cm->cmsg_type = SCM_RIGHTS; cm->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cm), &fd, sizeof fd);
  sendmsg(sv[0], &m, 0);
  struct msghdr r = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
  recvmsg(sv[1], &r, 0);
  int got;
  memcpy(&got, CMSG_DATA(CMSG_FIRSTHDR(&r)), sizeof got);
  probe("received", got);
  close(got);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    probe("child", fd);
    int h2 = openat(AT_FDCWD, "/dev/dma_heap/system", O_RDONLY);
    printf("child: heap %s\\n", h2 >= 0 ? "opened" : "missing");
    fflush(stdout);
    _exit(0);
  }
  waitpid(pid, NULL, 0);
  close(fd);
  probe("closed (EBADF)", fd);
  /* directories: an emulated one and a host one */
  DIR *d = opendir("/dev/dma_heap");
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) n++;
  closedir(d);
  printf("/dev/dma_heap: %d entries\\n", n);
  chdir("/sys/kernel");
  struct stat st = { 0 };
  int s1 = stat("debug", &st);
  printf("cwd /sys/kernel: stat debug %d mode %o, access debug/dma_buf/bufinfo %d\\n", s1, (unsigned)(st.st_mode & 0170000), access("debug/dma_buf/bufinfo", R_OK));
  chdir("/");
  memset(&st, 0, sizeof st);
  s1 = stat("dev/dma_heap/system", &st);
  printf("cwd /: stat dev/dma_heap/system %d mode %o rdev major %u\\n", s1, (unsigned)(st.st_mode & 0170000), major(st.st_rdev));
  chdir("/dev");
  printf("cwd /dev: open dma_heap/system %s\\n", open("dma_heap/system", O_RDONLY) >= 0 ? "ok" : "missing");
  chdir("/usr");
  printf("cwd /usr: open ../dev/dma_heap/system %s\\n", open("../dev/dma_heap/system", O_RDONLY) >= 0 ? "ok" : "missing");
  /* a raw clone skips glibc's fork handlers: the child must not go by its parent's bitmap */
  struct dma_heap_allocation_data a2 = { .len = 4096, .fd_flags = O_RDWR | O_CLOEXEC };
  ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &a2);
  int p[2];
  if (pipe(p) != 0) return 1;
  fflush(stdout);
  long kid = syscall(SYS_clone, (long)SIGCHLD, 0L, 0L, 0L, 0L);
  if (kid == 0) {
    char x, b2[16];
    if (read(p[0], &x, 1) != 1) _exit(1);
    errno = 0;
    ssize_t n2 = read((int)a2.fd, b2, sizeof b2);
    printf("raw clone child, its parent's copy closed: read %zd errno %d\\n", n2, errno);
    fflush(stdout);
    _exit(0);
  }
  close((int)a2.fd);
  if (write(p[1], "g", 1) != 1) return 1;
  waitpid((pid_t)kid, NULL, 0);
  return 0;
}
`;

/**
 * stdio.c N: N times, fread 64 KiB of /dev/zero and fwrite it to /dev/null (4 KiB stdio buffers:
 * libc's own read and write, from inside libc), then fwrite 64 KiB to a dma-buf fd opened with
 * fdopen: EINVAL at the fflush, as Linux gives (a dma-buf has no write). Prints what it saw on
 * stderr.
 */
const STDIO_C = `#include <errno.h>
#include <fcntl.h>
#include <linux/dma-heap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
static char b[65536];
int main(int argc, char **argv) {
  int n = atoi(argv[1]);
  FILE *z = fopen("/dev/zero", "r");
  FILE *o = fopen("/dev/null", "w");
  for (int i = 0; i < n; i++) {
    if (fread(b, 1, sizeof b, z) != sizeof b) return 2;
    if (fwrite(b, 1, sizeof b, o) != sizeof b) return 3;
  }
  fflush(o);
  int h = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
  struct dma_heap_allocation_data d = { .len = 65536, .fd_flags = O_RDWR | O_CLOEXEC };
  if (ioctl(h, DMA_HEAP_IOCTL_ALLOC, &d) != 0) return 4;
  FILE *f = fdopen(d.fd, "w");
  size_t w = fwrite(b, 1, 100, f);
  int r = fflush(f);
  fprintf(stderr, "fwrite %zu fflush %d errno %s\\n", w, r, r == 0 ? "0" : strerror(errno));
  return 0;
}
`;

/** ioctl.c TYPE N: N ioctls of type TYPE ('T': TCGETS, 'H': DMA_HEAP_IOCTL_ALLOC) on /dev/zero, a host fd. */
const IOCTL_C = `#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include <linux/dma-heap.h>
int main(int argc, char **argv) {
  int fd = open("/dev/zero", O_RDONLY);
  int n = atoi(argv[2]);
  struct termios t;
  struct dma_heap_allocation_data d = { .len = 4096, .fd_flags = O_RDWR };
  for (int i = 0; i < n; i++) {
    if (argv[1][0] == 'T' && ioctl(fd, TCGETS, &t) != -1) return 2;
    if (argv[1][0] == 'H' && ioctl(fd, DMA_HEAP_IOCTL_ALLOC, &d) != -1) return 3;
  }
  return 0;
}
`;

/**
 * leftover.c: DMA_HEAP_IOCTL_ALLOC made with syscall() whose fourth register holds the shim's
 * FAST_ALLOC word, as a register left over from the shim's own call could: with the number of
 * a live dma-buf, of a free fd and of a host file in its upper half. Each must be an ordinary
 * ALLOC (0 and a new fd), as Linux gives, whatever the registers it does not read.
 */
const LEFTOVER_C = `#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/dma-heap.h>
static int heap;
static void raw(const char *what, long target) {
  struct dma_heap_allocation_data d = { .len = 4096, .fd_flags = O_RDWR | O_CLOEXEC };
  long r = syscall(SYS_ioctl, heap, DMA_HEAP_IOCTL_ALLOC, &d, 0x4448414cL | (target << 32), 4096L, (long)(O_RDWR | O_CLOEXEC) << 32);
  printf("%s: %ld, fd %u\\n", what, r, d.fd);
}
int main(void) {
  heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
  struct dma_heap_allocation_data d = { .len = 4096, .fd_flags = O_RDWR | O_CLOEXEC };
  if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d) != 0) return 1;
  printf("through libc: fd %u\\n", d.fd);
  raw("a live dma-buf's number", d.fd);
  raw("a free number", 900);
  raw("a host file's number", open("/etc/hostname", O_RDONLY));
  return 0;
}
`;

/**
 * Forks five children that each make argv[1] + 1 calls the fast path could take (fcntl F_GETFD
 * on stdout, then the write of their line: stdout's buffer was made before the fork), then
 * isatty, fstatfs and statfs on host files.
 */
const FORKS_C = `#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 0;
  printf("%d calls in each child\\n", n);
  for (int k = 0; k < 5; k++) {
    fflush(stdout);
    pid_t kid = fork();
    if (kid == 0) {
      int sum = 0;
      for (int i = 0; i < n; i++) sum += fcntl(1, F_GETFD);
      printf("child %d: F_GETFD sum %d\\n", k, sum);
      fflush(stdout);
      _exit(0);
    }
    waitpid(kid, NULL, 0);
  }
  struct statfs a, b;
  int fd = open("/etc/hostname", O_RDONLY);
  printf("isatty(fd) %d; fstatfs %d, statfs %d, same type %d\\n", isatty(fd), fstatfs(fd, &a), statfs("/etc/hostname", &b), a.f_type == b.f_type);
  return 0;
}
`;

/** stat and open of names that pass through an emulated directory and climb back out of it, or the other way. */
const CLIMB_C = `#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
int main(void) {
  const char *names[] = {"/dev/dma_heap/../../usr", "/usr/../dev/dma_heap", "/dev/../usr", "/usr/lib/../../dev/dma_heap/system", "/sys/kernel/debug/../../../etc/hostname"};
  for (int i = 0; i < 5; i++) {
    struct stat s;
    int r = stat(names[i], &s);
    int fd = open(names[i], O_RDONLY);
    printf("%s: stat %d type %o, open %s\\n", names[i], r, r == 0 ? s.st_mode & S_IFMT : 0, fd >= 0 ? "ok" : "failed");
    if (fd >= 0) close(fd);
  }
  return 0;
}
`;

let dir = '';
let so = '';
const built = (name: string): string => join(dir, name);

test.before(() => {
  if (unsupported !== null) return;
  dir = mkdtempSync(join(tmpdir(), 'dmaheap-preload-'));
  // the shipped shim (run-launcher.test.ts checks that it is what its source builds)
  so = shippedPreload();
  const cc = (args: string[]): void => {
    const r = spawnSync('gcc', args, { encoding: 'utf8' });
    assert.equal(r.status, 0, `gcc ${args.join(' ')}: ${r.stderr}`);
  };
  writeFileSync(built('check.c'), CHECK_C);
  cc(['-O2', '-o', built('check'), built('check.c')]);
  cc(['-O2', '-o', built('alloc'), join(repo, 'examples/run/alloc.c')]);
  cc(['-O2', '-o', built('run-generic'), join(repo, 'test/oracle/issue-12/run-generic.c')]);
  writeFileSync(built('stdio.c'), STDIO_C);
  cc(['-O2', '-o', built('stdio'), built('stdio.c')]);
  cc(['-O2', '-o', built('fast-path'), join(repo, 'test/fixtures/run/fast-path.c')]);
  writeFileSync(built('ioctl.c'), IOCTL_C);
  cc(['-O2', '-o', built('ioctl'), built('ioctl.c')]);
  writeFileSync(built('leftover.c'), LEFTOVER_C);
  cc(['-O2', '-o', built('leftover'), built('leftover.c')]);
  writeFileSync(built('climb.c'), CLIMB_C);
  cc(['-O2', '-o', built('climb'), built('climb.c')]);
  writeFileSync(built('forks.c'), FORKS_C);
  cc(['-O2', '-o', built('forks'), built('forks.c')]);
});

test.after(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

/** The program under dmaheap run without and with the shim: the same status, stdout and stderr. */
function same(args: readonly string[]): string {
  const plain = run(args);
  const fast = run(['--preload', so, ...args]);
  assert.equal(fast.status, plain.status, `${args.join(' ')}: status`);
  assert.equal(fast.err, plain.err, `${args.join(' ')}: stderr`);
  assert.equal(fast.out, plain.out, `${args.join(' ')}: stdout`);
  return fast.out;
}

test('preload: libc calls on emulated and host fds and paths give what the supervisor gives', { skip: unsupported ?? false }, () => {
  assert.equal(same(['--', built('check')]), [
    'allocated: fstat 0 mode 0 size 8192; F_GETFL 2; read -1 errno 22; lseek end 8192',
    'F_DUPFD_CLOEXEC: fstat 0 mode 0 size 8192; F_GETFL 2; read -1 errno 22; lseek end 8192',
    'closed dup (EBADF): fstat -1 mode 0 size 0; F_GETFL 37777677777; read -1 errno 9; lseek end -1',
    'received: fstat 0 mode 0 size 8192; F_GETFL 2; read -1 errno 22; lseek end 8192',
    'child: fstat 0 mode 0 size 8192; F_GETFL 2; read -1 errno 22; lseek end 8192',
    'child: heap opened',
    'closed (EBADF): fstat -1 mode 0 size 0; F_GETFL 37777677777; read -1 errno 9; lseek end -1',
    '/dev/dma_heap: 5 entries',
    'cwd /sys/kernel: stat debug 0 mode 40000, access debug/dma_buf/bufinfo 0',
    'cwd /: stat dev/dma_heap/system 0 mode 20000 rdev major 254',
    'cwd /dev: open dma_heap/system ok',
    'cwd /usr: open ../dev/dma_heap/system ok',
    'raw clone child, its parent\'s copy closed: read -1 errno 22',
    '',
  ].join('\n'));
});

test('preload: the C example built dynamically prints what docs/run.md shows', { skip: unsupported ?? false }, () => {
  assert.equal(same(['--profile', '6.1', '--', built('alloc')]), 'allocated 1048576 bytes: fd 4\nfilled: 1048576 of 1048576 bytes read back 0xa5\nsize:\t1048576\ncount:\t2\nexp_name:\tsystem\nname:\tc-example\nTotal 0 objects, 0 bytes\n');
});

test('preload: run-generic.c built dynamically prints what the 6.1, 6.12 and 7.3 referees printed', { skip: unsupported ?? false }, () => {
  for (const v of ['6.1', '6.12', '7.3']) {
    const r = run(['--preload', so, '--profile', v, '--', built('run-generic')]);
    assert.equal(r.err, '', v);
    assert.equal(r.out, readFileSync(join(repo, `test/oracle/issue-12/run-generic.${v}.out`), 'utf8'), `profile ${v}`);
  }
});

test('preload: ls -l /dev/dma_heap and the Python examples print the same with the shim', { skip: unsupported ?? python ?? false }, () => {
  assert.match(same(['--board', join(repo, 'examples/boards/imx8mp.dts'), '--profile', '6.19', '--', 'ls', '-l', '/dev/dma_heap']), /^total 0\ncrw------- 1 root root 254, 3 Jan {2}1 {2}1970 cma-video\n/);
  assert.match(same(['--', 'python3', 'examples/run/alloc.py']), /^allocated 1048576 bytes: fd 4\nread back: hello\n/);
  same(['--', 'python3', 'examples/run/share.py']);
});

interface Calls {
  served: number;
  mirrored: number;
  continued: number;
  logged: number;
  fastAllocs: number;
}

/** What the supervisor counted (--stats --json). */
function calls(args: readonly string[]): Calls {
  const r = run(['--stats', '--json', ...args]);
  assert.equal(r.status, 0, r.err);
  const line = r.err.split('\n').find((l) => l.startsWith('{"status"'));
  assert.notEqual(line, undefined, r.err);
  return (JSON.parse(line!) as { calls: Calls }).calls;
}

/** Calls the supervisor saw. */
function stops(args: readonly string[]): number {
  const c = calls(args);
  return c.served + c.continued;
}

test('preload: a name that climbs out of an emulated directory is the bridge\'s to answer with the shim too', { skip: unsupported ?? false }, () => {
  // the shim once normalised first and sent /dev/dma_heap/../../usr to the host, which has no
  // /dev/dma_heap: ENOENT where the bridge answers /usr
  assert.equal(same(['--', built('climb')]), [
    '/dev/dma_heap/../../usr: stat 0 type 40000, open ok',
    '/usr/../dev/dma_heap: stat 0 type 40000, open ok',
    '/dev/../usr: stat 0 type 40000, open ok',
    '/usr/lib/../../dev/dma_heap/system: stat 0 type 20000, open ok',
    '/sys/kernel/debug/../../../etc/hostname: stat 0 type 100000, open ok',
    '',
  ].join('\n'));
});

test('preload: a forked child registers at its eighth call the fast path could take, so a child that only redirects and executes never does', { skip: unsupported ?? false }, () => {
  const out = (n: number): string => `${n} calls in each child\n` + Array.from({ length: 5 }, (_, k) => `child ${k}: F_GETFD sum 0\n`).join('') + 'isatty(fd) 0; fstatfs 0, statfs 0, same type 1\n';
  for (const n of [0, 6, 7, 40]) assert.equal(same(['--', built('forks'), String(n)]), out(n));
  // the registrations are served calls: the program's own, and one per child at its eighth call
  // (six fcntl and the write are seven; seven and the write, eight)
  const c = (n: number): Calls => calls(['--preload', so, '--', built('forks'), String(n)]);
  const [c0, c6, c7, c40] = [c(0), c(6), c(7), c(40)];
  assert.equal(c6.served, c0.served);
  assert.equal(c7.served, c0.served + 5);
  assert.equal(c40.served, c0.served + 5);
  // until then each such call stops; from the registration on none does
  assert.equal(c6.continued - c0.continued, 5 * 6);
  assert.equal(c40.continued - c7.continued, 0);
});

test('preload: an ioctl on a host fd runs natively, except the dma-heap, dma-buf and udmabuf types, which the bridge must see', { skip: unsupported ?? false }, () => {
  const stopped = (type: string, n: number): number => stops(['--preload', so, '--', built('ioctl'), type, String(n)]);
  // /dev/zero is opened through the supervisor (a /dev path) and is the host's: 100 more TCGETS
  // (ENOTTY natively) stop no more, 100 more DMA_HEAP_IOCTL_ALLOC stop each
  assert.equal(stopped('T', 101) - stopped('T', 1), 0);
  assert.equal(stopped('H', 101) - stopped('H', 1), 100);
});

test('preload: an ALLOC whose fourth register holds a leftover FAST_ALLOC word is an ordinary ALLOC', { skip: unsupported ?? false }, () => {
  assert.equal(same(['--', built('leftover')]), [
    'through libc: fd 4',
    "a live dma-buf's number: 0, fd 5",
    'a free number: 0, fd 6',
    // fd 7 is /etc/hostname
    "a host file's number: 0, fd 8",
    '',
  ].join('\n'));
});

test('preload: the buffer fast path (ALLOC on the shim\'s memfd; mmap, munmap, close logged and replayed) changes nothing the program sees', { skip: unsupported ?? false }, () => {
  const out = same(['--', built('fast-path')]);
  const lines = out.split('\n');
  for (const l of [
    'alloc: fd 4, 5, 6',
    'allocated: fd 4 -> /dmabuf: F_GETFD 1',
    'allocated: fd 5 -> /dmabuf: F_GETFD 0',
    'written through one mapping, read through the other: 0xa5',
    'mmap rw of a read-only buffer: Permission denied',
    'mmap past the end: Invalid argument',
    'mmap at its end: Invalid argument',
    'mmap an odd offset: Invalid argument',
    'mapped: maps 8192 rw-s 00000000 /dmabuf:',
    'mapped: 3 dma-buf mappings',
    // the 8 KiB buffer: its fd and two mappings
    'mapped: 00008192\t00000002\t02080007\t00000003\tsystem\t00000001\t<none>',
    'unmapped: 0 dma-buf mappings',
    '100 mapped: 100 dma-buf mappings',
    '100 unmapped: 0 dma-buf mappings',
    'child: 0 dma-buf mappings',
    'child: fd 4 ->  F_GETFD -1',
    // the child's fd and mapping of it are gone, the parent's stay
    'child: 00008192\t00000002\t02080007\t00000002\tsystem\t00000001\t<none>',
    'parent reads the child\'s write: 0x5a',
    'parent: 1 dma-buf mappings',
    'after vfork: fd 5 -> /dmabuf: F_GETFD 0',
    'close: 0 0 0; again: -1 Bad file descriptor',
    'closed: Total 0 objects, 0 bytes',
    'alloc len 0: Invalid argument',
    'alloc fd_flags O_APPEND: Invalid argument',
    'alloc heap_flags 1: Invalid argument',
    'alloc NULL: -1 Bad address',
    // dma_heap_ioctl's copy_to_user fails after the fd was installed: it stays (as in Linux)
    'alloc into a read-only struct: -1 Bad address',
    'the next alloc: fd 5',
    'leaked: fd 4 -> /dmabuf: F_GETFD 0',
    'end: Total 2 objects, 8192 bytes',
  ]) assert.ok(lines.includes(l), `missing: ${l}\n${out}`);
  // the fast path did the work: five ALLOCs on the shim's memfd (the three EINVALs went back to
  // it; the NULL struct, unreadable to the shim, went the usual way), the mappings, unmappings
  // and closes from the log (the 100 mappings: the first 64 fit the shim's table)
  const fast = calls(['--preload', so, '--', built('fast-path')]);
  assert.equal(fast.fastAllocs, 5);
  assert.equal(fast.logged, 142);
  // not with --sanitize (it checks accesses at each munmap and close) nor --trace
  const sanitized = calls(['--preload', so, '--sanitize', '--', built('fast-path')]);
  assert.deepEqual([sanitized.fastAllocs, sanitized.logged], [0, 0]);
  const traceDir = mkdtempSync(join(tmpdir(), 'dmaheap-fast-trace-'));
  try {
    const traced = calls(['--preload', so, '--trace', join(traceDir, 't.jsonl'), '--', built('fast-path')]);
    assert.deepEqual([traced.fastAllocs, traced.logged], [0, 0]);
  } finally {
    rmSync(traceDir, { recursive: true, force: true });
  }
});

test('preload: a program that never touches the emulated machine stops no more when it does more', { skip: unsupported ?? false }, () => {
  // find over src once and three times, printing nothing: each directory costs openat, fstat,
  // getdents64, close, fcntl... under the supervisor, and none of them with the shim
  const once = ['--', 'find', join(repo, 'src'), '-name', 'no such file'];
  const thrice = ['--', 'find', join(repo, 'src'), join(repo, 'src'), join(repo, 'src'), '-name', 'no such file'];
  const plain = stops(thrice) - stops(once);
  const fast = stops(['--preload', so, ...thrice]) - stops(['--preload', so, ...once]);
  assert.ok(plain > 100, `without the shim the second and third walks cost ${plain} stops`);
  // what is left is find's fchdir back to where it started, once per starting point: the
  // supervisor must see the working directory change (relative emulated paths)
  assert.ok(fast <= 2, `with the shim the second and third walks cost ${fast} stops`);
});

test('preload: the environment the program gets, and a missing shim', { skip: process.platform === 'linux' ? false : 'Linux only' }, () => {
  const d = mkdtempSync(join(tmpdir(), 'dmaheap-preload-env-'));
  try {
    const f = join(d, 'shim.so');
    writeFileSync(f, '');
    const gate = { cookie: 0xabcdef01n, page: 0x4000123000n };
    assert.deepEqual({ ...preloadEnv(f, gate, { PATH: '/bin' }) }, { PATH: '/bin', LD_PRELOAD: f, DMAHEAP_RUN_COOKIE: 'abcdef01', DMAHEAP_RUN_STUB: '4000123000' });
    assert.equal(preloadEnv(f, gate, { LD_PRELOAD: '/usr/lib/x.so' })['LD_PRELOAD'], `/usr/lib/x.so:${f}`);
    assert.throws(() => preloadEnv(join(d, 'none.so'), gate, {}), (e: unknown) => e instanceof RunError && /none\.so is missing or not readable/.test(e.message) && /gcc -shared/.test(e.hint));
    writeFileSync(join(d, 'a b.so'), '');
    assert.throws(() => preloadEnv(join(d, 'a b.so'), gate, {}), (e: unknown) => e instanceof RunError && /space or a colon/.test(e.message));
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('preload: DMAHEAP_PRELOAD naming a missing file is an error before the program starts (exit 125)', { skip: unsupported ?? false }, () => {
  const r = run(['--', '/bin/true'], { DMAHEAP_PRELOAD: join(tmpdir(), 'no-such-dmaheap-preload.so') });
  assert.equal(r.status, 125);
  assert.match(r.err, /no-such-dmaheap-preload\.so is missing or not readable/);
});

/** A classic-BPF interpreter for the filter's instructions (ld abs, and, jeq, jset, ret). */
function runBpf(prog: Uint8Array, data: { nr: number; arch: number; ip: bigint; args: bigint[] }): number {
  const d = new DataView(new ArrayBuffer(64));
  d.setInt32(0, data.nr, true);
  d.setUint32(4, data.arch, true);
  d.setBigUint64(8, data.ip, true);
  data.args.forEach((a, i) => d.setBigUint64(16 + 8 * i, a, true));
  const v = new DataView(prog.buffer, prog.byteOffset, prog.byteLength);
  let acc = 0;
  for (let pc = 0; pc < prog.length / 8; pc++) {
    const code = v.getUint16(pc * 8, true);
    const jt = prog[pc * 8 + 2]!;
    const jf = prog[pc * 8 + 3]!;
    const k = v.getUint32(pc * 8 + 4, true);
    if (code === 0x20) acc = d.getUint32(k, true);
    else if (code === 0x54) acc = (acc & k) >>> 0;
    else if (code === 0x15) pc += acc === k ? jt : jf;
    else if (code === 0x45) pc += (acc & k) !== 0 ? jt : jf;
    else if (code === 0x06) return k;
    else throw new Error(`opcode ${code}`);
  }
  throw new Error('fell off the end');
}

test('preload: the filter lets the shim\'s calls through from the shim\'s page only, whatever their arguments', () => {
  const arch = X86_64;
  const launcher = 0x1111_2222_3333_4445n;
  const gate = { cookie: 0x5555_6666_7777_8889n, page: 0x40_1234_5000n };
  const f = buildFilter(arch, launcher, gate);
  const openat = (ip: bigint, a5: bigint): number => runBpf(f, { nr: arch.nr.openat!, arch: arch.auditArch, ip, args: [0n, 0n, 0n, 0n, 0n, a5] });
  assert.equal(openat(gate.page + 0xaan, gate.cookie), SECCOMP_RET_ALLOW);
  assert.equal(openat(gate.page + 0xfffn, 0n), SECCOMP_RET_ALLOW);
  // from anywhere else (libc, a signal handler run when the shim's call returns), whatever is left in a register
  assert.equal(openat(gate.page + 0x1000n, gate.cookie), SECCOMP_RET_USER_NOTIF);
  assert.equal(openat(gate.page - 1n, gate.cookie), SECCOMP_RET_USER_NOTIF);
  assert.equal(openat(gate.page + (1n << 32n) + 0xaan, gate.cookie), SECCOMP_RET_USER_NOTIF);
  assert.equal(openat(0x40_1000n, 0n), SECCOMP_RET_USER_NOTIF);
  // the launcher's cookie from anywhere, and everything else as without the shim
  assert.equal(openat(0x40_1000n, launcher), SECCOMP_RET_ALLOW);
  assert.equal(openat(0x40_1000n, launcher ^ (1n << 40n)), SECCOMP_RET_USER_NOTIF);
  assert.equal(runBpf(f, { nr: 39 /* getpid */, arch: arch.auditArch, ip: 0n, args: [0n, 0n, 0n, 0n, 0n, 0n] }), SECCOMP_RET_ALLOW);
  // mmap from the shim's page whatever its offset (the sixth argument); from anywhere else a
  // file mapping stops and an anonymous one is allowed (a MAP_FIXED one stops), as without the shim
  const mmap = (ip: bigint, fd: bigint, off: bigint, flags = 1n): number => runBpf(f, { nr: arch.nr.mmap!, arch: arch.auditArch, ip, args: [0n, 4096n, 3n, flags, fd, off] });
  assert.equal(mmap(gate.page + 0xaan, 5n, 0x3000n), SECCOMP_RET_ALLOW);
  assert.equal(mmap(gate.page + 0x1000n, 5n, 0n), SECCOMP_RET_USER_NOTIF);
  assert.equal(mmap(gate.page + (1n << 32n) + 0xaan, 5n, 0n), SECCOMP_RET_USER_NOTIF);
  assert.equal(mmap(0x40_1000n, 5n, gate.cookie), SECCOMP_RET_USER_NOTIF);
  assert.equal(mmap(0x40_1000n, 0xffff_ffffn, 0n), SECCOMP_RET_ALLOW);
  assert.equal(mmap(0x40_1000n, 0xffff_ffffn, 0n, 0x11n), SECCOMP_RET_USER_NOTIF);
  assert.equal(runBpf(buildFilter(arch, launcher), { nr: arch.nr.mmap!, arch: arch.auditArch, ip: gate.page + 0xaan, args: [0n, 4096n, 3n, 1n, 5n, 0n] }), SECCOMP_RET_USER_NOTIF);
  assert.deepEqual(buildFilter(arch, launcher, undefined), buildFilter(arch, launcher));
  assert.equal(runBpf(buildFilter(arch, launcher), { nr: arch.nr.openat!, arch: arch.auditArch, ip: gate.page, args: [0n, 0n, 0n, 0n, 0n, gate.cookie] }), SECCOMP_RET_USER_NOTIF);
  // another audit arch, and an x32 call (the x86-64 arch with __X32_SYSCALL_BIT in the number): ENOSYS
  const ENOSYS = 0x00050000 | 38;
  assert.equal(runBpf(f, { nr: 5, arch: 0x40000003 /* AUDIT_ARCH_I386 */, ip: gate.page, args: [0n, 0n, 0n, 0n, 0n, 0n] }), ENOSYS);
  assert.equal(runBpf(f, { nr: 0x40000000 + 257, arch: arch.auditArch, ip: gate.page, args: [0n, 0n, 0n, 0n, 0n, 0n] }), ENOSYS);
  assert.equal(runBpf(f, { nr: 0x40000000 + 39, arch: arch.auditArch, ip: 0n, args: [0n, 0n, 0n, 0n, 0n, 0n] }), ENOSYS);
});

/** A minimal ELF64 LE header for `machine` with one program header (`interp` as PT_INTERP, or a PT_LOAD). */
function elf(machine: number, interp: string | null, o: { type?: number; phoff?: number; cls?: number } = {}): Buffer {
  const b = Buffer.alloc(512);
  b.writeUInt32BE(0x7f454c46, 0);
  b[4] = o.cls ?? 2;
  b[5] = 1;
  b.writeUInt16LE(o.type ?? 3, 16);
  b.writeUInt16LE(machine, 18);
  b.writeBigUInt64LE(BigInt(o.phoff ?? 64), 32);
  b.writeUInt16LE(56, 54);
  b.writeUInt16LE(1, 56);
  const p = o.phoff ?? 64;
  if (p + 56 <= b.length) {
    b.writeUInt32LE(interp === null ? 1 : 3, p);
    if (interp !== null) {
      b.writeBigUInt64LE(0x100n, p + 8);
      b.writeBigUInt64LE(BigInt(interp.length + 1), p + 32);
      b.write(`${interp}\0`, 0x100, 'latin1');
    }
  }
  return b;
}

test('preload auto: what each program file is (ELF headers, scripts, bad input)', () => {
  const at = (b: Buffer) => (pos: number, n: number): Uint8Array | null => (pos + n <= b.length ? b.subarray(pos, pos + n) : null);
  const kind = (b: Buffer, arch = 'x64') => classifyProgram(b, arch, at(b));
  assert.deepEqual(kind(elf(62, '/lib64/ld-linux-x86-64.so.2')), { kind: 'dynamic', interp: '/lib64/ld-linux-x86-64.so.2' });
  assert.deepEqual(kind(elf(62, null, { type: 2 })), { kind: 'static' });
  assert.deepEqual(kind(elf(183, '/lib/ld-linux-aarch64.so.1'), 'arm64'), { kind: 'dynamic', interp: '/lib/ld-linux-aarch64.so.1' });
  assert.deepEqual(kind(elf(183, '/lib/ld-linux-aarch64.so.1')), { kind: 'other', why: 'an ELF for machine 183, not this x64 host' });
  assert.deepEqual(kind(elf(62, null, { cls: 1 })), { kind: 'other', why: 'not a 64-bit little-endian ELF' });
  assert.deepEqual(kind(elf(62, null, { type: 1 })), { kind: 'other', why: 'ELF type 1 is not an executable' });
  assert.deepEqual(kind(elf(62, null, { phoff: 4096 })), { kind: 'other', why: 'program headers beyond the first 4 KiB' });
  assert.deepEqual(kind(elf(62, null, { phoff: 2 ** 40 })), { kind: 'other', why: 'program headers beyond the first 4 KiB' });
  const huge = elf(62, '/x');
  huge.writeBigUInt64LE(2n ** 40n, 64 + 32);
  assert.deepEqual(kind(huge), { kind: 'other', why: `a PT_INTERP of ${2 ** 40} bytes` });
  const away = elf(62, '/x');
  away.writeBigUInt64LE(2n ** 33n, 64 + 8);
  assert.deepEqual(kind(away), { kind: 'other', why: 'an unreadable PT_INTERP' });
  assert.deepEqual(kind(Buffer.from('#!/usr/bin/env python3\nprint(1)\n')), { kind: 'script', interp: '/usr/bin/env' });
  assert.deepEqual(kind(Buffer.from('#! \t/bin/sh -e\n')), { kind: 'script', interp: '/bin/sh' });
  assert.deepEqual(kind(Buffer.from('#!\n')), { kind: 'other', why: 'a #! line without an interpreter' });
  assert.deepEqual(kind(Buffer.from('hello')), { kind: 'other', why: 'not an ELF file or a script' });
  assert.deepEqual(kind(Buffer.alloc(0)), { kind: 'other', why: 'not an ELF file or a script' });
  assert.equal(HEAD_BYTES, 4096);
  assert.ok(isGlibcLoader('/lib64/ld-linux-x86-64.so.2'));
  assert.ok(isGlibcLoader('/lib/ld-linux-aarch64.so.1'));
  assert.ok(!isGlibcLoader('/lib/ld-musl-x86_64.so.1'));
  assert.ok(!isGlibcLoader('/system/bin/linker64'));
});

test('preload auto: the shipped shim for glibc programs only; off and a path as given', { skip: process.platform === 'linux' ? false : 'Linux only' }, () => {
  const d = mkdtempSync(join(tmpdir(), 'dmaheap-preload-auto-'));
  try {
    const put = (name: string, b: Buffer | string): string => {
      writeFileSync(join(d, name), b, { mode: 0o755 });
      return join(d, name);
    };
    const glibc = put('glibc', elf(62, '/lib64/ld-linux-x86-64.so.2'));
    const musl = put('musl', elf(62, '/lib/ld-musl-x86_64.so.1'));
    const stat = put('static', elf(62, null, { type: 2 }));
    const script = put('script.sh', `#!${glibc} -x\n`);
    const script2 = put('script2.sh', `#!${script}\n`);
    const shim = shippedPreload('x64');
    const c = (setting: string, program: string, glibcVersion: string | null = '2.36') => choosePreload(setting, program, glibcVersion, 'x64', d);
    assert.deepEqual(c('auto', glibc), { shim, why: 'auto: linked dynamically against glibc (/lib64/ld-linux-x86-64.so.2)' });
    assert.deepEqual(c('', 'glibc'), { shim, why: 'auto: linked dynamically against glibc (/lib64/ld-linux-x86-64.so.2)' });
    assert.deepEqual(c('auto', script), { shim, why: 'auto: linked dynamically against glibc (/lib64/ld-linux-x86-64.so.2)' });
    assert.deepEqual(c('auto', script2), { shim: null, why: `auto: ${script} is a script itself` });
    assert.deepEqual(c('auto', musl), { shim: null, why: "auto: its loader /lib/ld-musl-x86_64.so.1 is not glibc's" });
    assert.deepEqual(c('auto', stat), { shim: null, why: 'auto: a statically linked program' });
    assert.deepEqual(c('auto', 'no-such-program'), { shim: null, why: 'auto: no-such-program is not on PATH' });
    assert.deepEqual(c('auto', join(d, 'none')), { shim: null, why: `auto: cannot read ${join(d, 'none')}` });
    // a FIFO is never opened (its open would wait for a writer), a directory is not a program
    const fifo = join(d, 'fifo');
    if (spawnSync('mkfifo', [fifo]).status === 0) assert.deepEqual(c('auto', fifo), { shim: null, why: `auto: cannot read ${fifo}` });
    assert.deepEqual(c('auto', d), { shim: null, why: `auto: cannot read ${d}` });
    const fifoScript = put('fifo-script.sh', `#!${fifo}\n`);
    if (existsSync(fifo)) assert.deepEqual(c('auto', fifoScript), { shim: null, why: `auto: cannot read ${fifo}` });
    assert.deepEqual(c('auto', glibc, '2.31'), { shim: null, why: 'auto: glibc 2.31 is older than 2.34' });
    assert.deepEqual(c('auto', glibc, null), { shim: null, why: 'auto: this host has no glibc' });
    assert.deepEqual(c('off', glibc), { shim: null, why: 'off (--preload off)' });
    assert.deepEqual(c('/x/my.so', stat), { shim: '/x/my.so', why: 'the shared object given (/x/my.so)' });
    // the real thing: this host's programs
    if (process.arch === 'x64' || process.arch === 'arm64') {
      assert.equal(programKind('/bin/true').kind, 'dynamic');
      // the peer tests' binaries (beside the repository, where they are) are static
      const peer = join(repo, '../shared/peer-tests/bin');
      if (process.arch === 'x64' && existsSync(peer)) {
        for (const f of readdirSync(peer)) assert.equal(programKind(join(peer, f)).kind, 'static', f);
      }
    }
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('preload auto: the default gives a dynamic glibc program the shim and a static one none (--stats)', { skip: unsupported ?? false }, () => {
  const st = (args: readonly string[]): string => {
    const r = run(['--stats', '--json', ...args], { DMAHEAP_PRELOAD: '' });
    assert.equal(r.status, 0, r.err);
    const line = r.err.split('\n').find((l) => l.startsWith('{"status"'));
    return (JSON.parse(line!) as { preload: { why: string } }).preload.why;
  };
  assert.match(st(['--', built('alloc')]), /^auto: linked dynamically against glibc \(.*ld-linux.*\)$/);
  const stat = join(dir, 'alloc-static');
  const r = spawnSync('gcc', ['-O2', '-static', '-o', stat, join(repo, 'examples/run/alloc.c')], { encoding: 'utf8' });
  if (r.status === 0) assert.equal(st(['--', stat]), 'auto: a statically linked program');
  assert.equal(st(['--preload', 'off', '--', built('alloc')]), 'off (--preload off)');
  // the default and the shim given by path print the same as the slow path
  const auto = run(['--profile', '6.1', '--', built('alloc')], { DMAHEAP_PRELOAD: '' });
  const off = run(['--profile', '6.1', '--preload', 'off', '--', built('alloc')]);
  assert.equal(auto.out, off.out);
  assert.equal(auto.err, off.err);
});

test('the filter decides a call it does not look at by its number alone (the kernel then caches it)', () => {
  for (const gate of [undefined, { cookie: 0x5555_6666_7777_8889n, page: 0x40_1234_5000n }]) {
    const f = buildFilter(X86_64, 0x1111_2222_3333_4445n, gate);
    const v = new DataView(f.buffer, f.byteOffset, f.byteLength);
    // walk every path a non-watched number takes: only loads of arch (4) and nr (0)
    const loads = new Set<number>();
    const nr = 39; // getpid
    let acc = 0;
    for (let pc = 0; pc < f.length / 8; pc++) {
      const code = v.getUint16(pc * 8, true);
      const k = v.getUint32(pc * 8 + 4, true);
      if (code === 0x20) {
        loads.add(k);
        acc = k === 4 ? X86_64.auditArch : k === 0 ? nr : 0;
      } else if (code === 0x15) pc += acc === k ? f[pc * 8 + 2]! : f[pc * 8 + 3]!;
      else if (code === 0x45) pc += (acc & k) !== 0 ? f[pc * 8 + 2]! : f[pc * 8 + 3]!;
      else if (code === 0x06) {
        assert.equal(k, SECCOMP_RET_ALLOW);
        break;
      } else assert.fail(`opcode ${code} on getpid's path`);
    }
    assert.deepEqual([...loads].sort(), [0, 4]);
    // every jump lands inside the program
    for (let pc = 0; pc < f.length / 8; pc++) {
      if ((v.getUint16(pc * 8, true) & 0x07) === 0x05) assert.ok(pc + 1 + Math.max(f[pc * 8 + 2]!, f[pc * 8 + 3]!) < f.length / 8, `jump at ${pc}`);
    }
  }
});

test('preload: libc\'s own read and write (stdio) run natively on host fds and are the emulated kernel\'s on a dma-buf', { skip: unsupported ?? false }, () => {
  const few = stops(['--preload', '', '--', built('stdio'), '4']);
  const many = stops(['--preload', '', '--', built('stdio'), '64']);
  const offFew = stops(['--', built('stdio'), '4']);
  const offMany = stops(['--', built('stdio'), '64']);
  // 60 more rounds of 64 KiB in and out (stdio reads and writes a request that large in one
  // call): 120 calls of libc's own read and write, none stopped with the shim
  assert.equal(many, few);
  assert.ok(offMany - offFew >= 120, `without the shim: ${offMany - offFew}`);
  for (const mode of ['', 'off']) {
    const r = run(['--preload', mode, '--', built('stdio'), '1']);
    assert.equal(r.status, 0, r.err);
    assert.equal(r.err, 'fwrite 100 fflush -1 errno Invalid argument\n', mode);
  }
});

test('preload: the program\'s /proc/self/maps and smaps show none of the shim', { skip: unsupported ?? false }, () => {
  for (const file of ['maps', 'smaps']) {
    const r = run(['--preload', '', '--', 'cat', `/proc/self/${file}`]);
    assert.equal(r.status, 0, r.err);
    const heads = r.out.split('\n').filter((l) => /^[0-9a-f]+-[0-9a-f]+ /.test(l));
    assert.ok(heads.length > 10, r.out);
    assert.deepEqual(heads.filter((l) => /dmaheap/.test(l)), [], file);
    // libc's text is one mapping, as without dmaheap run (the shim's patch split it in three)
    assert.equal(heads.filter((l) => / r-xp .*\/libc\.so\.6$/.test(l)).length, 1, file);
    // no anonymous executable page (the stub)
    assert.deepEqual(heads.filter((l) => / r-xp [0-9a-f]+ 00:00 0 *$/.test(l)), [], file);
  }
});

/**
 * patched.c: stdio through libc's patched read and write, a locale loaded (libc's own
 * __open_nocancel, __fstat64, mmap and __close_nocancel), a file mapped and FIONREAD on a pipe
 * (the patched mmap and ioctl); whether libc's text is in pieces (each patched page splits it).
 */
const PATCHED_C = `#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <unistd.h>
int main(void) {
  for (int i = 0; i < 3; i++) printf("line %d\\n", i);
  fflush(stdout);
  char b[512];
  ssize_t n = read(0, b, sizeof b);
  const char *loc = setlocale(LC_ALL, "C.UTF-8");
  int fd = open("/proc/self/exe", O_RDONLY);
  unsigned char *elf = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
  int p[2], queued = -1;
  if (pipe(p) != 0 || write(p[1], "abc", 3) != 3 || ioctl(p[0], FIONREAD, &queued) != 0) return 2;
  FILE *f = fopen("/proc/self/maps", "r");
  int pieces = 0;
  while (fgets(b, sizeof b, f) != NULL) if (strstr(b, " r-xp ") != NULL && strstr(b, "/libc.so.6") != NULL) pieces++;
  printf("read %zd; locale %s; mapped %.3s; FIONREAD %d; libc text %s\\n", n, loc == NULL ? "missing" : loc, elf == MAP_FAILED ? "---" : (char *)elf + 1, queued, pieces >= 3 ? "in pieces" : "whole");
  return 0;
}
`;

test('preload: the shipped shims\' entry patch jumps into the hook on x86-64 and on arm64 (under qemu-aarch64)', (t) => {
  // no supervisor: the registration fails and every call takes the slow path, so the patched
  // functions must reach the kernel through their hook's plain system call; libc's text in
  // pieces shows the patches were made
  const d = mkdtempSync(join(tmpdir(), 'dmaheap-patch-'));
  try {
    writeFileSync(join(d, 'patched.c'), PATCHED_C);
    const fake = { DMAHEAP_RUN_COOKIE: '1234567', DMAHEAP_RUN_STUB: '4000001000' };
    const want = 'line 0\nline 1\nline 2\nread 6; locale C.UTF-8; mapped ELF; FIONREAD 3; libc text in pieces\n';
    let ran = 0;
    for (const arch of ['x64', 'arm64'] as const) {
      const cc = arch === 'x64' ? 'gcc' : 'aarch64-linux-gnu-gcc';
      const native = process.platform === 'linux' && process.arch === arch;
      if (!has(cc) || (!native && (arch === 'x64' || !has('qemu-aarch64')))) {
        t.diagnostic(`${arch}: skipped (${cc}${native ? '' : ' and qemu-aarch64 (Debian: gcc-aarch64-linux-gnu, qemu-user)'} needed)`);
        continue;
      }
      const exe = join(d, `patched-${arch}`);
      const c = spawnSync(cc, ['-O2', '-o', exe, join(d, 'patched.c')], { encoding: 'utf8' });
      assert.equal(c.status, 0, c.stderr);
      const r = native
        ? spawnSync(exe, [], { input: 'hello\n', encoding: 'utf8', env: { ...process.env, ...fake, LD_PRELOAD: shippedPreload(arch) } })
        : spawnSync('qemu-aarch64', ['-L', '/usr/aarch64-linux-gnu', '-E', `LD_PRELOAD=${shippedPreload(arch)}`, exe], { input: 'hello\n', encoding: 'utf8', env: { ...process.env, ...fake } });
      assert.equal(r.stderr, '', arch);
      assert.equal(r.stdout, want, arch);
      ran++;
    }
    if (ran === 0) t.skip('neither arch could run here');
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
