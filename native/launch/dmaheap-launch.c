/*
 * dmaheap-launch: the native part of `dmaheap run`. SPDX-License-Identifier: MIT
 *
 * A freestanding (no libc) static launcher. The supervisor (TypeScript) spawns it, hands it a
 * seccomp filter, receives the filter's user-notification listener fd, and lets it exec the program.
 *
 * Protocol v1:   dmaheap-launch CTLFD PROGRAM [ARGS...]
 *   CTLFD is an inherited fd (socket or pipe) to the supervisor; the program's argv is argv[2..].
 *   1. read from CTLFD: "DHL1", u32 n (LE, 1..4096), u64 cookie (LE), then n * 8 bytes of
 *      struct sock_filter (u16 code, u8 jt, u8 jf, u32 k; native layout).
 *   2. prctl(PR_SET_NO_NEW_PRIVS, 1); L = seccomp(SECCOMP_SET_MODE_FILTER,
 *      SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_SPEC_ALLOW, {n, filter}).
 *      SPEC_ALLOW: the filter is there to emulate calls, not to sandbox, so the program keeps the
 *      speculation controls it had (where spec_store_bypass_disable=seccomp, a filter without it
 *      would turn on SSBD for the program and slow down every load and store it makes).
 *   3. every syscall the launcher makes passes the cookie as its 6th argument (args[5]: r9 on
 *      x86-64, x5 on arm64); the supervisor's filter allows those, so the launcher is never stopped.
 *   4. write "OK <L>\n" to CTLFD, or on failure "ERR <step> <errno>\n" (step: read, magic, count,
 *      prctl, seccomp; errno 0 for a non-syscall error) and exit 125.
 *   5. read one byte: 'g' goes on; anything else or EOF exits 125.
 *   6. close(L), close(CTLFD), then execve PROGRAM (searched in the PATH of envp when it has no
 *      '/'; default "/usr/local/bin:/usr/bin:/bin"). On failure one line on fd 2:
 *      "dmaheap run: PROGRAM: <reason>" and exit 127 (not found) or 126 (found, not executable).
 *   Bad argv: a usage line on fd 2 and exit 125.
 * Writes to CTLFD use send(MSG_NOSIGNAL) on a socket (write() on a pipe), so a supervisor that has
 * gone away gives exit 125 rather than SIGPIPE.
 *
 * Constants are from the kernel uAPI: include/uapi/linux/seccomp.h (SECCOMP_SET_MODE_FILTER,
 * SECCOMP_FILTER_FLAG_NEW_LISTENER, SECCOMP_FILTER_FLAG_SPEC_ALLOW), include/uapi/linux/filter.h (struct sock_filter,
 * struct sock_fprog), include/uapi/linux/prctl.h (PR_SET_NO_NEW_PRIVS); syscall numbers from
 * arch/x86/entry/syscalls/syscall_64.tbl and include/uapi/asm-generic/unistd.h (arm64).
 */

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long u64;

#if defined(__x86_64__)
enum { NR_read = 0, NR_write = 1, NR_close = 3, NR_sendto = 44, NR_execve = 59, NR_prctl = 157,
       NR_exit_group = 231, NR_seccomp = 317 };
#elif defined(__aarch64__)
enum { NR_read = 63, NR_write = 64, NR_close = 57, NR_sendto = 206, NR_execve = 221, NR_prctl = 167,
       NR_exit_group = 94, NR_seccomp = 277 };
#else
#error "dmaheap-launch supports x86_64 and aarch64"
#endif

#define PR_SET_NO_NEW_PRIVS 38
#define SECCOMP_SET_MODE_FILTER 1
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#define MSG_NOSIGNAL 0x4000
#define ENOENT 2
#define EINTR 4
#define ENOEXEC 8
#define EACCES 13
#define ENOTDIR 20
#define ENOTSOCK 88
#define MAX_INSNS 4096
#define PATH_BUF 4096

struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; };
struct sock_fprog { unsigned short len; struct sock_filter *filter; };

static u64 cookie;
static struct sock_filter insns[MAX_INSNS];
static u8 header[16];
static char pathbuf[PATH_BUF];
static char line[PATH_BUF + 64];

/* Raw syscall; the 6th argument is always the cookie (protocol step 3). */
static long sys(long nr, long a, long b, long c, long d, long e) {
#if defined(__x86_64__)
  register long r10 __asm__("r10") = d, r8 __asm__("r8") = e, r9 __asm__("r9") = (long)cookie;
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
#else
  register long x8 __asm__("x8") = nr, x0 __asm__("x0") = a, x1 __asm__("x1") = b, x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d, x4 __asm__("x4") = e, x5 __asm__("x5") = (long)cookie;
  __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
  return x0;
#endif
}

static __attribute__((noreturn)) void die(int status) {
  for (;;) sys(NR_exit_group, status, 0, 0, 0, 0);
}

static long slen(const char *s) { long n = 0; while (s[n]) n++; return n; }

/* Append s to line at *at, bounded by the buffer (one byte kept for the newline). */
static void put(long *at, const char *s) {
  while (*s && *at < (long)sizeof line - 1) line[(*at)++] = *s++;
}

static void putnum(long *at, u64 v) {
  char d[24];
  int i = 0;
  do d[i++] = (char)('0' + v % 10); while ((v /= 10) && i < 23);
  while (i > 0 && *at < (long)sizeof line - 1) line[(*at)++] = d[--i];
}

static long ctlfd;

/* Write the whole line to fd (CTLFD via send with MSG_NOSIGNAL where it is a socket). */
static int emit(long fd, long n) {
  long off = 0, r;
  int sock = fd == ctlfd;
  while (off < n) {
    if (sock) {
      r = sys(NR_sendto, fd, (long)(line + off), n - off, MSG_NOSIGNAL, 0);
      if (r == -ENOTSOCK) { sock = 0; continue; }
    } else {
      r = sys(NR_write, fd, (long)(line + off), n - off, 0, 0);
    }
    if (r == -EINTR) continue;
    if (r <= 0) return -1;
    off += r;
  }
  return 0;
}

static __attribute__((noreturn)) void fail(const char *step, long err) {
  long at = 0;
  put(&at, "ERR "); put(&at, step); put(&at, " "); putnum(&at, (u64)err);
  line[at++] = '\n';
  emit(ctlfd, at);
  die(125);
}

/* Read exactly n bytes; 0, or the errno (-1 for EOF before n bytes). */
static long readall(void *buf, long n) {
  long off = 0;
  while (off < n) {
    long r = sys(NR_read, ctlfd, (long)((u8 *)buf + off), n - off, 0, 0);
    if (r == -EINTR) continue;
    if (r < 0) return -r;
    if (r == 0) return -1;
    off += r;
  }
  return 0;
}

static u64 le(const u8 *p, int n) {
  u64 v = 0;
  while (n-- > 0) v = v << 8 | p[n];
  return v;
}

static __attribute__((noreturn)) void usage(void) {
  static const char msg[] = "usage: dmaheap-launch CTLFD PROGRAM [ARGS...] (run by dmaheap run, not by hand)\n";
  long at = 0;
  put(&at, msg);
  emit(2, at);
  die(125);
}

/* execve with the PATH search of protocol step 6; returns the errno to report. */
static long run(char *prog, char **argv, char **envp) {
  long r, i, n = slen(prog), seen_eacces = 0;
  const char *path = "/usr/local/bin:/usr/bin:/bin";
  for (i = 0; i < n; i++)
    if (prog[i] == '/') return -sys(NR_execve, (long)prog, (long)argv, (long)envp, 0, 0);
  if (n == 0) return ENOENT;
  for (i = 0; envp[i]; i++) {
    const char *e = envp[i];
    if (e[0] == 'P' && e[1] == 'A' && e[2] == 'T' && e[3] == 'H' && e[4] == '=') { path = e + 5; break; }
  }
  for (;;) {
    const char *end = path;
    long dl, k = 0;
    while (*end && *end != ':') end++;
    dl = end - path;
    if (dl == 0) { path = "."; dl = 1; }
    if (dl + 1 + n + 1 <= PATH_BUF) {
      for (i = 0; i < dl; i++) pathbuf[k++] = path[i];
      pathbuf[k++] = '/';
      for (i = 0; i <= n; i++) pathbuf[k++] = prog[i];
      r = -sys(NR_execve, (long)pathbuf, (long)argv, (long)envp, 0, 0);
      if (r == EACCES) seen_eacces = 1;
      else if (r != ENOENT && r != ENOTDIR) return r;
    }
    if (!*end) break;
    path = end + 1;
  }
  return seen_eacces ? EACCES : ENOENT;
}

__attribute__((noreturn, used)) void start_c(long *sp) {
  long argc = sp[0], i, err, at = 0;
  char **argv = (char **)(sp + 1), **envp = argv + argc + 1;
  struct sock_fprog prog;
  long listener, n;
  u8 go = 0;
  const char *fd = argc >= 3 ? argv[1] : "";

  ctlfd = -1;
  if (!fd[0]) usage();
  for (i = 0, n = 0; fd[i]; i++) {
    if (fd[i] < '0' || fd[i] > '9' || i >= 9) usage();
    n = n * 10 + (fd[i] - '0');
  }
  ctlfd = n;

  if ((err = readall(header, sizeof header))) fail("read", err < 0 ? 0 : err);
  if (header[0] != 'D' || header[1] != 'H' || header[2] != 'L' || header[3] != '1') fail("magic", 0);
  n = (long)le(header + 4, 4);
  if (n < 1 || n > MAX_INSNS) fail("count", 0);
  cookie = le(header + 8, 8);
  if ((err = readall(insns, n * (long)sizeof insns[0]))) fail("read", err < 0 ? 0 : err);

  if ((err = sys(NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) < 0) fail("prctl", -err);
  prog.len = (unsigned short)n;
  prog.filter = insns;
  listener = sys(NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_SPEC_ALLOW, (long)&prog, 0, 0);
  if (listener < 0) fail("seccomp", -listener);

  put(&at, "OK "); putnum(&at, (u64)listener);
  line[at++] = '\n';
  if (emit(ctlfd, at) || readall(&go, 1) || go != 'g') die(125);
  sys(NR_close, listener, 0, 0, 0, 0);
  sys(NR_close, ctlfd, 0, 0, 0, 0);
  ctlfd = -1;

  err = run(argv[2], argv + 2, envp);
  at = 0;
  put(&at, "dmaheap run: "); put(&at, argv[2]);
  put(&at, err == ENOENT ? ": No such file or directory" : err == EACCES ? ": Permission denied"
           : err == ENOEXEC ? ": Exec format error" : ": cannot execute (errno ");
  if (err != ENOENT && err != EACCES && err != ENOEXEC) { putnum(&at, (u64)err); put(&at, ")"); }
  line[at++] = '\n';
  emit(2, at);
  die(err == ENOENT ? 127 : 126);
}

/* Entry: the initial stack holds argc, argv[], NULL, envp[], NULL; align it and call start_c. */
#if defined(__x86_64__)
__asm__(".text\n.global _start\n.type _start,@function\n_start:\n"
        "  xor %rbp, %rbp\n  mov %rsp, %rdi\n  and $-16, %rsp\n  call start_c\n  hlt\n");
#else
__asm__(".text\n.global _start\n.type _start,%function\n_start:\n"
        "  mov x29, #0\n  mov x30, #0\n  mov x0, sp\n  and sp, x0, #-16\n  bl start_c\n  brk #0\n");
#endif
