/* mm-vma.c - the generic mm calls around a dma-buf, on the real kernel: every generic check of
 * mmap (MAP_SHARED_VALIDATE, MAP_HUGETLB, MAP_GROWSDOWN, MAP_POPULATE, MAP_LOCKED, MAP_NORESERVE,
 * MAP_FIXED(_NOREPLACE), offset overflow, TASK_SIZE, prot bits), partial munmap and VMA
 * splitting and merging as /proc/self/maps and smaps show them, mprotect, mremap, madvise,
 * msync, mlock/munlock/mlock2/mlockall, each on a system-heap buffer, a CMA-heap buffer
 * (`reserved`), a memfd, private and shared anonymous memory.
 *
 *   gcc -static -O1 -o /tmp/mm-vma test/oracle/issue-11/mm-vma.c
 *   ../shared/oracle/run-in-kernel.sh /tmp/mm-vma > test/oracle/issue-11/mm-vma-6.1.out
 *   ORACLE_KERNEL=6.12 ../shared/oracle/run-in-kernel.sh /tmp/mm-vma > ...-6.12.out
 *
 * Lines: `<subject>/<case>: ret=<n|ok|MAP_FAILED> errno=<NAME|0> [extra]`. Addresses are printed
 * relative to the case's own base (`+0x1000`); inode numbers are masked (`*`). A fault is caught
 * with sigsetjmp and printed as SIGSEGV/SIGBUS. The program runs as root; the RLIMIT_MEMLOCK
 * cases drop to uid 1000 in a child. mremap() is variadic in glibc: every call that sets
 * MREMAP_FIXED or MREMAP_DONTUNMAP passes its fifth argument (the kernel reads it for both).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/dma-heap.h>

#define PS 4096UL
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif
#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif
#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif

static const char *en(int e) {
	if (e == 0) return "0";
	const char *n = strerrorname_np(e);
	return n ? n : "E?";
}

static sigjmp_buf jb;
static void onsig(int s) { siglongjmp(jb, s); }

/* A load or store of one byte at p: "ok", "SIGSEGV" or "SIGBUS"; a load's value in *val. */
static const char *touch(volatile unsigned char *p, int write, int *val) {
	int s = sigsetjmp(jb, 1);
	if (s == 0) {
		if (write) *p = 0x5a;
		else if (val) *val = *p;
		else (void)*p;
		return "ok";
	}
	return s == SIGSEGV ? "SIGSEGV" : s == SIGBUS ? "SIGBUS" : "SIG?";
}

static char subj[32];
static void line(const char *c, long ret, int e, const char *fmt, ...) {
	char extra[512] = "";
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(extra, sizeof extra, fmt, ap);
		va_end(ap);
	}
	printf("%s/%s: ret=%ld errno=%s%s%s\n", subj, c, ret, ret < 0 && e ? en(e) : "0", extra[0] ? " " : "", extra);
	fflush(stdout);
}
static void mline(const char *c, void *p, int e, const char *fmt, ...) {
	char extra[512] = "";
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(extra, sizeof extra, fmt, ap);
		va_end(ap);
	}
	printf("%s/%s: ret=%s errno=%s%s%s\n", subj, c, p == MAP_FAILED ? "MAP_FAILED" : "ok", p == MAP_FAILED ? en(e) : "0", extra[0] ? " " : "", extra);
	fflush(stdout);
}

/* A call, its errno taken at once, then the line (extra arguments are evaluated after the call). */
#define LC(name, call, ...) do { errno = 0; long _r = (long)(call); int _e = _r < 0 ? errno : 0; line(name, _r, _e, __VA_ARGS__); } while (0)
#define MC(name, var, call, ...) do { errno = 0; var = (call); int _e = errno; mline(name, var, _e, __VA_ARGS__); } while (0)

/* The VMAs of /proc/self/maps and their smaps VmFlags inside [base, base + span), relative. */
static void maps(const char *c, void *base, size_t span) {
	uintptr_t b = (uintptr_t)base, e = b + span;
	FILE *f = fopen("/proc/self/smaps", "r");
	char l[512];
	int in = 0;
	printf("%s/%s: maps", subj, c);
	int n = 0;
	while (fgets(l, sizeof l, f)) {
		uintptr_t s, t;
		char perms[8], dev[16], path[256] = "";
		unsigned long off, ino;
		if (sscanf(l, "%lx-%lx %7s %lx %15s %lu %255[^\n]", &s, &t, perms, &off, dev, &ino, path) >= 6 && strchr(l, '-') < strchr(l, ' ')) {
			in = s < e && t > b;
			if (in) {
				char *pp = path;
				while (*pp == ' ') pp++;
				printf("%s [+0x%lx-+0x%lx %s %08lx %s %s %s", n++ ? "]" : "", (unsigned long)(s - b), (unsigned long)(t - b), perms, off, dev, ino ? "*" : "0", pp);
			}
			continue;
		}
		if (in && strncmp(l, "VmFlags:", 8) == 0) {
			l[strlen(l) - 1] = 0;
			printf(" |%s", l + 9);
		}
		if (in && (strncmp(l, "Rss:", 4) == 0 || strncmp(l, "Locked:", 7) == 0)) {
			char k[32];
			unsigned long v;
			sscanf(l, "%31s %lu", k, &v);
			printf(" %s%lu", k, v);
		}
	}
	printf("%s\n", n ? "]" : " none");
	fclose(f);
	fflush(stdout);
}

static int heapfd(const char *heap) {
	char p[64];
	snprintf(p, sizeof p, "/dev/dma_heap/%s", heap);
	return open(p, O_RDWR | O_CLOEXEC);
}
static int heap_system = -1, heap_reserved = -1;

/* A new object of `len` bytes of kind: system, reserved, memfd (fd), anon, shanon (-1). */
static int obj(const char *kind, size_t len, int rdonly) {
	if (strcmp(kind, "system") == 0 || strcmp(kind, "reserved") == 0) {
		struct dma_heap_allocation_data a = { .len = len, .fd_flags = (rdonly ? O_RDONLY : O_RDWR) | O_CLOEXEC };
		if (ioctl(strcmp(kind, "system") == 0 ? heap_system : heap_reserved, DMA_HEAP_IOCTL_ALLOC, &a) < 0) { perror("alloc"); exit(1); }
		return a.fd;
	}
	if (strcmp(kind, "memfd") == 0) {
		int fd = memfd_create("t", MFD_CLOEXEC);
		if (ftruncate(fd, len) < 0) { perror("ftruncate"); exit(1); }
		if (rdonly) {
			char p[64];
			snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
			int r = open(p, O_RDONLY | O_CLOEXEC);
			close(fd);
			return r;
		}
		return fd;
	}
	return -1;
}
static int mflags(const char *kind) {
	if (strcmp(kind, "anon") == 0) return MAP_PRIVATE | MAP_ANONYMOUS;
	if (strcmp(kind, "shanon") == 0) return MAP_SHARED | MAP_ANONYMOUS;
	return MAP_SHARED;
}
static int isfile(const char *kind) { return strcmp(kind, "anon") != 0 && strcmp(kind, "shanon") != 0; }

/* A free range of `pages` pages (mapped PROT_NONE, then unmapped: nothing else runs here). */
static unsigned char *hole(size_t pages) {
	unsigned char *p = mmap(NULL, pages * PS, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(p, pages * PS);
	return p;
}

/* Maps `pages` pages of a new object at the start of a 64-page hole: the base, *fd set. */
static unsigned char *mapat(const char *kind, size_t objpages, size_t pages, int prot, int *fd) {
	unsigned char *h = hole(64);
	*fd = obj(kind, objpages * PS, 0);
	unsigned char *p = mmap(h, pages * PS, prot, mflags(kind) | MAP_FIXED, *fd, 0);
	if (p == MAP_FAILED) { printf("%s: setup mmap failed: %s\n", subj, en(errno)); exit(1); }
	return p;
}
static void done(unsigned char *p, size_t pages, int fd) {
	munmap(p, pages * PS);
	if (fd >= 0) close(fd);
}

static const char *present(void *p) {
	static char b[32];
	int fd = open("/proc/self/pagemap", O_RDONLY);
	uint64_t e = 0;
	pread(fd, &e, 8, ((uintptr_t)p / PS) * 8);
	close(fd);
	snprintf(b, sizeof b, "%d", (int)(e >> 63));
	return b;
}
static long vmlck(void) {
	FILE *f = fopen("/proc/self/status", "r");
	char l[256];
	long v = -1;
	while (fgets(l, sizeof l, f)) if (sscanf(l, "VmLck: %ld", &v) == 1) break;
	fclose(f);
	return v;
}
static const char *fdcount(int fd) {
	static char b[32];
	char p[64], l[256];
	snprintf(p, sizeof p, "/proc/self/fdinfo/%d", fd);
	FILE *f = fopen(p, "r");
	strcpy(b, "-");
	if (!f) return b;
	while (fgets(l, sizeof l, f)) if (strncmp(l, "count:", 6) == 0) { l[strlen(l) - 1] = 0; snprintf(b, sizeof b, "%s", l + 7); while (b[0] == ' ' || b[0] == '\t') memmove(b, b + 1, strlen(b)); }
	fclose(f);
	return b;
}

static const char *KINDS[] = { "system", "reserved", "memfd", "anon", "shanon" };
#define NKINDS 5

/* ---------------------------------------------------------------------------------------- */

static void mmap_checks(const char *kind) {
	int fd = obj(kind, 16 * PS, 0);
	int fl = mflags(kind) & ~MAP_TYPE;
	int type = mflags(kind) & MAP_TYPE;
	void *p;
	struct { const char *n; int flags; } tf[] = {
		{ "mmap-shared-validate", fl | MAP_SHARED_VALIDATE },
		{ "mmap-validate-sync", fl | MAP_SHARED_VALIDATE | MAP_SYNC },
		{ "mmap-shared-sync", fl | MAP_SHARED | MAP_SYNC },
		{ "mmap-validate-noreplace", fl | MAP_SHARED_VALIDATE | MAP_FIXED_NOREPLACE },
		{ "mmap-validate-bit30", fl | MAP_SHARED_VALIDATE | 0x40000000 },
		{ "mmap-validate-bit21", fl | MAP_SHARED_VALIDATE | 0x200000 },
		{ "mmap-validate-uninit", fl | MAP_SHARED_VALIDATE | 0x4000000 },
		{ "mmap-private-bit30", fl | MAP_PRIVATE | 0x40000000 },
		{ "mmap-type0", fl },
		{ "mmap-type4", fl | 0x04 },
		{ "mmap-droppable", fl | MAP_DROPPABLE },
		{ "mmap-type15", fl | 0x0f },
		{ "mmap-hugetlb", fl | type | MAP_HUGETLB },
		{ "mmap-hugetlb-private", fl | MAP_PRIVATE | MAP_HUGETLB },
		{ "mmap-growsdown", fl | type | MAP_GROWSDOWN },
		{ "mmap-growsdown-private", fl | MAP_PRIVATE | MAP_GROWSDOWN },
		{ "mmap-stack", fl | type | MAP_STACK },
		{ "mmap-denywrite-executable", fl | type | MAP_DENYWRITE | MAP_EXECUTABLE },
		{ "mmap-32bit", fl | type | MAP_32BIT },
		{ "mmap-noreserve", fl | type | MAP_NORESERVE },
		{ "mmap-locked", fl | type | MAP_LOCKED },
		{ "mmap-populate", fl | type | MAP_POPULATE },
		{ "mmap-populate-nonblock", fl | type | MAP_POPULATE | MAP_NONBLOCK },
	};
	for (unsigned i = 0; i < sizeof tf / sizeof tf[0]; i++) {
		long l0 = vmlck();
		p = mmap(NULL, 4 * PS, PROT_READ | PROT_WRITE, tf[i].flags, fd, 0);
		int e = errno;
		if (p == MAP_FAILED) { mline(tf[i].n, p, e, NULL); continue; }
		long l1 = vmlck();
		mline(tf[i].n, p, e, "below4g=%d present0=%s vmlck_kb=%ld", (uintptr_t)p < (1UL << 32), present(p), l1 - l0);
		maps(tf[i].n, p, 4 * PS);
		munmap(p, 4 * PS);
	}
	struct { const char *n; int prot; } tp[] = {
		{ "mmap-prot-exec", PROT_READ | PROT_EXEC },
		{ "mmap-prot-exec-only", PROT_EXEC },
		{ "mmap-prot-none", PROT_NONE },
		{ "mmap-prot-write-only", PROT_WRITE },
		{ "mmap-prot-sem", PROT_READ | 0x8 },
		{ "mmap-prot-bit4", PROT_READ | 0x10 },
		{ "mmap-prot-growsdown", PROT_READ | PROT_GROWSDOWN },
		{ "mmap-prot-growsup", PROT_READ | PROT_GROWSUP },
		{ "mmap-prot-minus1", -1 },
	};
	for (unsigned i = 0; i < sizeof tp / sizeof tp[0]; i++) {
		p = mmap(NULL, 4 * PS, tp[i].prot, mflags(kind), fd, 0);
		int e = errno;
		mline(tp[i].n, p, e, NULL);
		if (p != MAP_FAILED) {
			maps(tp[i].n, p, 4 * PS);
			int v = -1;
			const char *r = touch(p, 0, &v);
			const char *w = touch(p, 1, NULL);
			line(tp[i].n, 0, 0, "read=%s write=%s", r, w);
			munmap(p, 4 * PS);
		}
	}
	/* offsets and lengths */
	struct { const char *n; size_t len; off_t off; int fd; } tl[] = {
		{ "mmap-off-minus4096", PS, -4096, fd },
		{ "mmap-off-2p62", PS, (off_t)1 << 62, fd },
		{ "mmap-off-2p63-4096", PS, (off_t)(((uint64_t)1 << 63) - 4096), fd },
		{ "mmap-off-minus-2p52", PS, -((off_t)1 << 52), fd },
		{ "mmap-off-2p44", PS, (off_t)1 << 44, fd },
		{ "mmap-off-15p", PS, 15 * PS, fd },
		{ "mmap-off-15p-len2", 2 * PS, 15 * PS, fd },
		{ "mmap-off-16p", PS, 16 * PS, fd },
		{ "mmap-off-unaligned", PS, 100, fd },
		{ "mmap-off-unaligned-badfd", PS, 100, 999 },
		{ "mmap-len0-badfd", 0, 0, 999 },
		{ "mmap-len0", 0, 0, fd },
		{ "mmap-len100", 100, 0, fd },
		{ "mmap-len-minus1", (size_t)-1, 0, fd },
		{ "mmap-len-minus4096", (size_t)-4096, 0, fd },
		{ "mmap-len-2p47", (size_t)1 << 47, 0, fd },
		{ "mmap-len-2p57", (size_t)1 << 57, 0, fd },
		{ "mmap-len-2p63", (size_t)1 << 63, 0, fd },
		{ "mmap-len-17p", 17 * PS, 0, fd },
		{ "mmap-len-2p46", (size_t)1 << 46, 0, fd },
	};
	for (unsigned i = 0; i < sizeof tl / sizeof tl[0]; i++) {
		p = mmap(NULL, tl[i].len, PROT_READ, mflags(kind) | MAP_NORESERVE, isfile(kind) ? tl[i].fd : -1, tl[i].off);
		int e = errno;
		mline(tl[i].n, p, e, NULL);
		if (p != MAP_FAILED) {
			if (tl[i].len == 100) {
				line("mmap-len100-touch", 0, 0, "byte4000=%s byte4095=%s byte4096=%s", touch((unsigned char *)p + 4000, 0, NULL), touch((unsigned char *)p + 4095, 0, NULL), touch((unsigned char *)p + 4096, 0, NULL));
				maps(tl[i].n, p, 2 * PS);
			}
			munmap(p, tl[i].len);
		}
	}
	/* MAP_FIXED, MAP_FIXED_NOREPLACE, hints */
	unsigned char *h = hole(64);
	p = mmap(h, 4 * PS, PROT_READ, mflags(kind) | MAP_FIXED_NOREPLACE, fd, 0);
	mline("noreplace-free", p, errno, "at_hint=%d", p == (void *)h);
	void *q = mmap(h + 2 * PS, 4 * PS, PROT_READ, mflags(kind) | MAP_FIXED_NOREPLACE, fd, 0);
	mline("noreplace-overlap", q, errno, NULL);
	q = mmap(h + 4 * PS, 4 * PS, PROT_READ, mflags(kind) | MAP_FIXED_NOREPLACE, fd, 0);
	mline("noreplace-adjacent", q, errno, "at=%d", q == (void *)(h + 4 * PS));
	maps("noreplace-adjacent", h, 16 * PS);
	q = mmap(h + 100, 4 * PS, PROT_READ, mflags(kind) | MAP_FIXED_NOREPLACE, fd, 0);
	mline("noreplace-unaligned", q, errno, NULL);
	q = mmap(h + 100, 4 * PS, PROT_READ, mflags(kind) | MAP_FIXED, fd, 0);
	mline("fixed-unaligned", q, errno, NULL);
	q = mmap(h + 2 * PS, 4 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	mline("fixed-anon-over-middle", q, errno, NULL);
	maps("fixed-anon-over-middle", h, 16 * PS);
	if (isfile(kind)) line("fixed-anon-over-middle-count", 0, 0, "fdinfo_count=%s", fdcount(fd));
	q = mmap(h + 100, PS, PROT_READ, mflags(kind), fd, 0);
	mline("hint-unaligned", q, errno, "at=%s", q == (void *)(h + 100) ? "hint" : q == (void *)(h + PS) ? "hint-rounded-up" : q == (void *)h ? "hint-rounded-down" : "elsewhere");
	if (q != MAP_FAILED) munmap(q, PS);
	q = mmap(h + 12 * PS, PS, PROT_READ, mflags(kind), fd, 0);
	mline("hint-free", q, errno, "at=%s", q == (void *)(h + 12 * PS) ? "hint" : "elsewhere");
	if (q != MAP_FAILED) munmap(q, PS);
	q = mmap(h + 2 * PS, PS, PROT_READ, mflags(kind), fd, 0);
	mline("hint-taken", q, errno, "at=%s", q == (void *)(h + 2 * PS) ? "hint" : "elsewhere");
	if (q != MAP_FAILED) munmap(q, PS);
	munmap(h, 16 * PS);
	/* MAP_FIXED at an address and length TASK_SIZE cares about */
	q = mmap((void *)((1UL << 47) - PS), PS, PROT_READ, mflags(kind) | MAP_FIXED, fd, 0);
	mline("fixed-last-page-4level", q, errno, NULL);
	if (q != MAP_FAILED) munmap(q, PS);
	if (fd >= 0) close(fd);
	/* a read-only file */
	if (isfile(kind)) {
		int ro = obj(kind, 4 * PS, 1);
		p = mmap(NULL, PS, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0);
		mline("ro-shared-write", p, errno, NULL);
		p = mmap(NULL, PS, PROT_READ, MAP_SHARED, ro, 0);
		mline("ro-shared-read", p, errno, NULL);
		if (p != MAP_FAILED) {
			maps("ro-shared-read", p, PS);
			LC("ro-mprotect-write", mprotect(p, PS, PROT_READ | PROT_WRITE), NULL);
			LC("ro-mprotect-exec", mprotect(p, PS, PROT_READ | PROT_EXEC), NULL);
			munmap(p, PS);
		}
		p = mmap(NULL, PS, PROT_READ, MAP_PRIVATE, ro, 0);
		mline("ro-private-read", p, errno, NULL);
		if (p != MAP_FAILED) {
			maps("ro-private-read", p, PS);
			LC("ro-private-mprotect-write", mprotect(p, PS, PROT_READ | PROT_WRITE), NULL);
			munmap(p, PS);
		}
		close(ro);
	}
}

static void munmap_split(const char *kind) {
	int fd;
	unsigned char *p = mapat(kind, 8, 8, PROT_READ | PROT_WRITE, &fd);
	for (int i = 0; i < 8; i++) p[i * PS] = 0x10 + i;
	maps("split-before", p, 16 * PS);
	LC("munmap-page1", munmap(p + PS, PS), NULL);
	maps("munmap-page1", p, 16 * PS);
	int v = -1;
	const char *r = touch(p + PS, 0, NULL);
	const char *r2 = touch(p + 2 * PS, 0, &v);
	line("munmap-page1-touch", 0, 0, "page1=%s page2=%s value=0x%x", r, r2, v);
	if (fd >= 0) line("munmap-page1-count", 0, 0, "fdinfo_count=%s", fdcount(fd));
	LC("munmap-unaligned", munmap(p + 100, PS), NULL);
	LC("munmap-len0", munmap(p, 0), NULL);
	LC("munmap-hole-and-tail", munmap(p + PS, 2 * PS), NULL);
	maps("munmap-hole-and-tail", p, 16 * PS);
	LC("munmap-len-unaligned", munmap(p + 7 * PS, 100), NULL);
	maps("munmap-len-unaligned", p, 16 * PS);
	LC("munmap-beyond", munmap(p + 3 * PS, 20 * PS), NULL);
	maps("munmap-beyond", p, 16 * PS);
	LC("munmap-again", munmap(p + 3 * PS, PS), NULL);
	done(p, 1, fd);
}

static void mprotect_cases(const char *kind) {
	int fd;
	unsigned char *p = mapat(kind, 8, 8, PROT_READ | PROT_WRITE, &fd);
	for (int i = 0; i < 8; i++) p[i * PS] = 0x20 + i;
	LC("mprotect-middle-ro", mprotect(p + 2 * PS, 2 * PS, PROT_READ), NULL);
	maps("mprotect-middle-ro", p, 16 * PS);
	line("mprotect-middle-ro-touch", 0, 0, "write2=%s write4=%s read2=%s", touch(p + 2 * PS, 1, NULL), touch(p + 4 * PS, 1, NULL), touch(p + 2 * PS, 0, NULL));
	if (fd >= 0) line("mprotect-middle-count", 0, 0, "fdinfo_count=%s", fdcount(fd));
	LC("mprotect-back-rw", mprotect(p + 2 * PS, 2 * PS, PROT_READ | PROT_WRITE), NULL);
	maps("mprotect-back-rw", p, 16 * PS);
	LC("mprotect-none", mprotect(p + 7 * PS, PS, PROT_NONE), NULL);
	line("mprotect-none-touch", 0, 0, "read=%s", touch(p + 7 * PS, 0, NULL));
	maps("mprotect-none", p, 16 * PS);
	LC("mprotect-exec", mprotect(p, PS, PROT_READ | PROT_EXEC), NULL);
	maps("mprotect-exec", p, 2 * PS);
	LC("mprotect-write-only", mprotect(p + PS, PS, PROT_WRITE), "read=%s", touch(p + PS, 0, NULL));
	LC("mprotect-unaligned", mprotect(p + 100, PS, PROT_READ), NULL);
	LC("mprotect-len0", mprotect(p, 0, PROT_READ), NULL);
	LC("mprotect-len0-unmapped", mprotect((void *)PS, 0, PROT_READ), NULL);
	LC("mprotect-len-unaligned", mprotect(p + 6 * PS, 100, PROT_READ), NULL);
	maps("mprotect-len-unaligned", p, 16 * PS);
	LC("mprotect-prot-bit4", mprotect(p, PS, PROT_READ | 0x10), NULL);
	LC("mprotect-prot-sem", mprotect(p, PS, PROT_READ | 0x8), NULL);
	LC("mprotect-prot-growsdown", mprotect(p, PS, PROT_READ | PROT_GROWSDOWN), NULL);
	LC("mprotect-prot-growsup", mprotect(p, PS, PROT_READ | PROT_GROWSUP), NULL);
	LC("mprotect-prot-both-grows", mprotect(p, PS, PROT_READ | PROT_GROWSUP | PROT_GROWSDOWN), NULL);
	LC("mprotect-past-end", mprotect(p + 6 * PS, 4 * PS, PROT_READ), NULL);
	maps("mprotect-past-end", p, 16 * PS);
	LC("mprotect-unmapped", mprotect(p + 9 * PS, PS, PROT_READ), NULL);
	LC("mprotect-wrap", mprotect(p, (size_t)-PS, PROT_READ), NULL);
	LC("mprotect-2p47", mprotect((void *)((1UL << 47) - PS), PS, PROT_READ), NULL);
	munmap(p + 3 * PS, PS);
	LC("mprotect-over-hole", mprotect(p + 2 * PS, 3 * PS, PROT_NONE), NULL);
	maps("mprotect-over-hole", p, 16 * PS);
	done(p, 8, fd);
}

static void merge_cases(const char *kind) {
	/* two mappings of one object side by side with contiguous offsets, then not */
	if (!isfile(kind)) {
		unsigned char *h = hole(16);
		void *a = mmap(h, 2 * PS, PROT_READ | PROT_WRITE, mflags(kind) | MAP_FIXED, -1, 0);
		void *b = mmap(h + 2 * PS, 2 * PS, PROT_READ | PROT_WRITE, mflags(kind) | MAP_FIXED, -1, 0);
		mline("merge-adjacent", a != MAP_FAILED && b != MAP_FAILED ? a : MAP_FAILED, errno, NULL);
		maps("merge-adjacent", h, 8 * PS);
		munmap(h, 4 * PS);
		return;
	}
	int fd = obj(kind, 8 * PS, 0);
	unsigned char *h = hole(16);
	void *a = mmap(h, 2 * PS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	void *b = mmap(h + 2 * PS, 2 * PS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 2 * PS);
	mline("merge-contiguous", a != MAP_FAILED && b != MAP_FAILED ? a : MAP_FAILED, errno, NULL);
	maps("merge-contiguous", h, 8 * PS);
	line("merge-contiguous-count", 0, 0, "fdinfo_count=%s", fdcount(fd));
	void *c = mmap(h + 4 * PS, 2 * PS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 6 * PS);
	mline("merge-noncontiguous", c, errno, NULL);
	maps("merge-noncontiguous", h, 8 * PS);
	void *d = mmap(h + 6 * PS, 2 * PS, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
	(void)d;
	munmap(h, 8 * PS);
	close(fd);
}

static void mremap_cases(const char *kind) {
	int fd;
	unsigned char *p = mapat(kind, 8, 4, PROT_READ | PROT_WRITE, &fd);
	for (int i = 0; i < 4; i++) p[i * PS] = 0x30 + i;
	void *q;
	q = mremap(p, 4 * PS, 4 * PS, 8);
	mline("mremap-bad-flag", q, errno, NULL);
	q = mremap(p, 4 * PS, 4 * PS, MREMAP_FIXED, p + 8 * PS);
	mline("mremap-fixed-no-maymove", q, errno, NULL);
	q = mremap(p, 4 * PS, 4 * PS, MREMAP_DONTUNMAP, NULL);
	mline("mremap-dontunmap-no-maymove", q, errno, NULL);
	q = mremap(p + 100, PS, PS, 0);
	mline("mremap-unaligned", q, errno, NULL);
	q = mremap(p, 4 * PS, 0, 0);
	mline("mremap-newlen0", q, errno, NULL);
	q = mremap(p, 0, PS, 0);
	mline("mremap-oldlen0-nomove", q, errno, NULL);
	q = mremap(p, 4 * PS, 2 * PS, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
	mline("mremap-dontunmap-shrink", q, errno, NULL);
	q = mremap(p, 4 * PS, 4 * PS, MREMAP_MAYMOVE | MREMAP_FIXED, p + 2 * PS);
	mline("mremap-fixed-overlap", q, errno, NULL);
	q = mremap(p + 3 * PS, 2 * PS, 2 * PS, 0);
	mline("mremap-past-vma", q, errno, NULL);
	q = mremap(p + 10 * PS, PS, PS, 0);
	mline("mremap-unmapped", q, errno, NULL);
	q = mremap(p, 4 * PS, 4 * PS, 0);
	mline("mremap-same", q, errno, "at=%d", q == (void *)p);
	q = mremap(p, 4 * PS, 100 + 2 * PS, 0);
	mline("mremap-shrink-unaligned", q, errno, "at=%d", q == (void *)p);
	maps("mremap-shrink-unaligned", p, 16 * PS);
	q = mremap(p, 3 * PS, 4 * PS, 0);
	mline("mremap-grow-back", q, errno, "at=%d", q == (void *)p);
	maps("mremap-grow-back", p, 16 * PS);
	q = mremap(p, 4 * PS, 6 * PS, 0);
	mline("mremap-grow-inplace", q, errno, "at=%d", q == (void *)p);
	if (q != MAP_FAILED) {
		maps("mremap-grow-inplace", p, 16 * PS);
		line("mremap-grow-inplace-touch", 0, 0, "page3=%s page4=%s page5=%s", touch(p + 3 * PS, 0, NULL), touch(p + 4 * PS, 0, NULL), touch(p + 5 * PS, 0, NULL));
		if (touch(p + 4 * PS, 0, NULL)[0] != 'o' || 1) q = mremap(p, 6 * PS, 4 * PS, 0);
	}
	/* grow where the next page is taken: must move */
	void *blk = mmap(p + 4 * PS, PS, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	(void)blk;
	q = mremap(p, 4 * PS, 6 * PS, 0);
	mline("mremap-grow-blocked", q, errno, NULL);
	q = mremap(p, 4 * PS, 6 * PS, MREMAP_MAYMOVE);
	mline("mremap-grow-maymove", q, errno, "moved=%d", q != MAP_FAILED && q != (void *)p);
	if (q != MAP_FAILED && q != (void *)p) {
		int v = -1;
		const char *o0 = touch(p, 0, NULL), *n0 = touch(q, 0, &v), *n5 = touch((unsigned char *)q + 5 * PS, 0, NULL);
		line("mremap-grow-maymove-touch", 0, 0, "old0=%s new0=%s value=0x%x new5=%s", o0, n0, v, n5);
		maps("mremap-grow-maymove", q, 6 * PS);
		if (fd >= 0) line("mremap-grow-maymove-count", 0, 0, "fdinfo_count=%s", fdcount(fd));
		p = mremap(q, 6 * PS, 4 * PS, MREMAP_MAYMOVE | MREMAP_FIXED, p);
		mline("mremap-fixed-back", p, errno, NULL);
		if (p == MAP_FAILED) { p = q; }
	}
	munmap(p + 4 * PS, PS);
	unsigned char *dst = hole(16);
	q = mremap(p, 4 * PS, 4 * PS, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	mline("mremap-fixed-move", q, errno, "at=%d", q == (void *)dst);
	if (q != MAP_FAILED) {
		int v = -1;
		const char *o = touch(p, 0, NULL), *n = touch(dst, 0, &v);
		line("mremap-fixed-move-touch", 0, 0, "old=%s new=%s value=0x%x", o, n, v);
		maps("mremap-fixed-move", dst, 4 * PS);
		p = q;
	}
	q = mremap(p, 4 * PS, 4 * PS, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
	mline("mremap-dontunmap", q, errno, NULL);
	if (q != MAP_FAILED) {
		int v = -1, w = -1;
		const char *o = touch(p, 0, &w), *n = touch(q, 0, &v);
		line("mremap-dontunmap-touch", 0, 0, "old=%s oldvalue=0x%x new=%s value=0x%x", o, w, n, v);
		maps("mremap-dontunmap-old", p, 4 * PS);
		munmap(q, 4 * PS);
	}
	q = mremap(p, 0, 2 * PS, MREMAP_MAYMOVE);
	mline("mremap-oldlen0-dup", q, errno, NULL);
	if (q != MAP_FAILED) {
		int v = -1;
		const char *n0 = touch(q, 0, &v), *n1 = touch((unsigned char *)q + PS, 0, NULL);
		line("mremap-oldlen0-dup-touch", 0, 0, "new0=%s value=0x%x new1=%s", n0, v, n1);
		maps("mremap-oldlen0-dup", q, 2 * PS);
		munmap(q, 2 * PS);
	}
	/* growing past the end of the object (4 pages) */
	{
		int f2 = obj(kind, 4 * PS, 0);
		unsigned char *h = hole(32);
		unsigned char *m = mmap(h, 4 * PS, PROT_READ | PROT_WRITE, mflags(kind) | MAP_FIXED, f2, 0);
		MC("mremap-grow-past-object", q, mremap(m, 4 * PS, 6 * PS, 0), "at=%d", q == (void *)m);
		if (q != MAP_FAILED) {
			line("mremap-grow-past-object-touch", 0, 0, "page3=%s page4=%s page5=%s", touch(m + 3 * PS, 0, NULL), touch(m + 4 * PS, 0, NULL), touch(m + 5 * PS, 1, NULL));
			maps("mremap-grow-past-object", m, 8 * PS);
			munmap(m, 6 * PS);
		} else munmap(m, 4 * PS);
		if (f2 >= 0) close(f2);
	}
	/* a range covering two VMAs */
	mprotect(p + PS, PS, PROT_READ);
	q = mremap(p, 4 * PS, 4 * PS, MREMAP_MAYMOVE | MREMAP_FIXED, hole(16));
	mline("mremap-two-vmas", q, errno, NULL);
	if (q != MAP_FAILED) p = q;
	q = mremap(p, 2 * PS, 3 * PS, MREMAP_MAYMOVE);
	mline("mremap-grow-first-of-two", q, errno, NULL);
	if (q != MAP_FAILED && q != (void *)p) munmap(q, 3 * PS);
	done(p, 8, fd);
}

static void madvise_cases(const char *kind) {
	struct { const char *n; int adv; } ta[] = {
		{ "normal", MADV_NORMAL }, { "random", MADV_RANDOM }, { "sequential", MADV_SEQUENTIAL }, { "willneed", MADV_WILLNEED },
		{ "dontneed", MADV_DONTNEED }, { "free", MADV_FREE }, { "remove", MADV_REMOVE }, { "dontfork", MADV_DONTFORK },
		{ "dofork", MADV_DOFORK }, { "mergeable", MADV_MERGEABLE }, { "unmergeable", MADV_UNMERGEABLE }, { "hugepage", MADV_HUGEPAGE },
		{ "nohugepage", MADV_NOHUGEPAGE }, { "dontdump", MADV_DONTDUMP }, { "dodump", MADV_DODUMP }, { "wipeonfork", MADV_WIPEONFORK },
		{ "keeponfork", MADV_KEEPONFORK }, { "cold", 20 }, { "pageout", 21 }, { "populate-read", 22 }, { "populate-write", 23 },
		{ "dontneed-locked", 24 }, { "collapse", 25 }, { "guard-install", 102 }, { "guard-remove", 103 }, { "hwpoison", 100 },
		{ "soft-offline", 101 }, { "adv-5", 5 }, { "adv-7", 7 }, { "adv-26", 26 }, { "adv-99", 99 }, { "adv-104", 104 }, { "adv-minus1", -1 },
	};
	for (unsigned i = 0; i < sizeof ta / sizeof ta[0]; i++) {
		int fd;
		unsigned char *p = mapat(kind, 4, 4, PROT_READ | PROT_WRITE, &fd);
		for (int k = 0; k < 4; k++) p[k * PS] = 0x40 + k;
		char n[64];
		snprintf(n, sizeof n, "madvise-%s", ta[i].n);
		int r = madvise(p + PS, PS, ta[i].adv);
		int e = errno;
		int v = -1;
		const char *t = touch(p + PS, 0, &v);
		line(n, r, e, "page1=%s value=0x%x present1=%s", t, v, present(p + PS));
		if (r == 0) maps(n, p, 8 * PS);
		if (r == 0 && (ta[i].adv == MADV_DONTFORK || ta[i].adv == MADV_WIPEONFORK)) {
			int pp[2];
			pipe(pp);
			pid_t c = fork();
			if (c == 0) {
				int cv = -1;
				const char *ct = touch(p + PS, 0, &cv);
				char b[64];
				snprintf(b, sizeof b, "%s 0x%x", ct, cv);
				write(pp[1], b, strlen(b) + 1);
				_exit(0);
			}
			char b[64] = "";
			read(pp[0], b, sizeof b);
			waitpid(c, NULL, 0);
			close(pp[0]);
			close(pp[1]);
			snprintf(n, sizeof n, "madvise-%s-child", ta[i].n);
			line(n, 0, 0, "child_page1=%s", b);
		}
		done(p, 4, fd);
	}
	int fd;
	unsigned char *p = mapat(kind, 4, 4, PROT_READ | PROT_WRITE, &fd);
	LC("madvise-unaligned", madvise(p + 100, PS, MADV_NORMAL), NULL);
	LC("madvise-len0", madvise(p, 0, MADV_NORMAL), NULL);
	LC("madvise-len0-bad", madvise(p, 0, 99), NULL);
	LC("madvise-unmapped", madvise(p + 8 * PS, PS, MADV_NORMAL), NULL);
	LC("madvise-past-end", madvise(p + 2 * PS, 4 * PS, MADV_RANDOM), NULL);
	maps("madvise-past-end", p, 8 * PS);
	LC("madvise-wrap", madvise(p, (size_t)-PS, MADV_NORMAL), NULL);
	LC("madvise-len-unaligned", madvise(p, 100, MADV_SEQUENTIAL), NULL);
	maps("madvise-len-unaligned", p, 8 * PS);
	done(p, 4, fd);
}

static void msync_cases(const char *kind) {
	int fd;
	unsigned char *p = mapat(kind, 4, 4, PROT_READ | PROT_WRITE, &fd);
	struct { const char *n; int f; } tm[] = {
		{ "msync-async", MS_ASYNC }, { "msync-sync", MS_SYNC }, { "msync-invalidate", MS_INVALIDATE }, { "msync-0", 0 },
		{ "msync-async-sync", MS_ASYNC | MS_SYNC }, { "msync-bit3", 8 }, { "msync-sync-invalidate", MS_SYNC | MS_INVALIDATE },
	};
	for (unsigned i = 0; i < sizeof tm / sizeof tm[0]; i++) LC(tm[i].n, msync(p, 4 * PS, tm[i].f), NULL);
	LC("msync-unaligned", msync(p + 100, PS, MS_SYNC), NULL);
	LC("msync-len0", msync(p, 0, MS_SYNC), NULL);
	LC("msync-unmapped", msync(p + 8 * PS, PS, MS_ASYNC), NULL);
	LC("msync-past-end", msync(p + 2 * PS, 4 * PS, MS_ASYNC), NULL);
	LC("msync-past-end-sync", msync(p + 2 * PS, 4 * PS, MS_SYNC), NULL);
	LC("msync-wrap", msync(p, (size_t)-PS, MS_ASYNC), NULL);
	int lr = mlock(p, PS);
	LC("msync-locked-mlock", lr, NULL);
	LC("msync-locked-invalidate", msync(p, PS, MS_INVALIDATE), NULL);
	LC("msync-locked-async-invalidate", msync(p, PS, MS_ASYNC | MS_INVALIDATE), NULL);
	LC("msync-locked-sync", msync(p, PS, MS_SYNC), NULL);
	munlock(p, PS);
	done(p, 4, fd);
}

static void mlock_cases(const char *kind) {
	int fd;
	unsigned char *p = mapat(kind, 4, 4, PROT_READ | PROT_WRITE, &fd);
	long l0 = vmlck();
	LC("mlock-page1", mlock(p + PS, PS), "vmlck_kb=%ld present1=%s", vmlck() - l0, present(p + PS));
	maps("mlock-page1", p, 8 * PS);
	LC("mlock-dontneed", madvise(p + PS, PS, MADV_DONTNEED), NULL);
	LC("mlock-pageout", madvise(p + PS, PS, 21), NULL);
	LC("munlock-page1", munlock(p + PS, PS), "vmlck_kb=%ld", vmlck() - l0);
	maps("munlock-page1", p, 8 * PS);
	LC("mlock-unaligned", mlock(p + 100, 100), "vmlck_kb=%ld", vmlck() - l0);
	maps("mlock-unaligned", p, 8 * PS);
	munlock(p, 4 * PS);
	LC("mlock-len0", mlock(p, 0), NULL);
	LC("mlock-unmapped", mlock(p + 8 * PS, PS), NULL);
	LC("mlock-past-end", mlock(p + 2 * PS, 4 * PS), "vmlck_kb=%ld", vmlck() - l0);
	maps("mlock-past-end", p, 8 * PS);
	munlock(p, 4 * PS);
	LC("munlock-unmapped", munlock(p + 8 * PS, PS), NULL);
	LC("mlock-wrap", mlock(p, (size_t)-PS), NULL);
	LC("mlock2-onfault", syscall(SYS_mlock2, p, PS, MLOCK_ONFAULT), "vmlck_kb=%ld", vmlck() - l0);
	maps("mlock2-onfault", p, 8 * PS);
	munlock(p, 4 * PS);
	LC("mlock2-bad-flag", syscall(SYS_mlock2, p, PS, 2), NULL);
	LC("mlock2-0", syscall(SYS_mlock2, p, PS, 0), NULL);
	munlock(p, 4 * PS);
	done(p, 4, fd);
}

static void mlockall_cases(void) {
	strcpy(subj, "mlockall");
	LC("mlockall-0", mlockall(0), NULL);
	LC("mlockall-onfault-only", mlockall(MCL_ONFAULT), NULL);
	LC("mlockall-bad", mlockall(8), NULL);
	LC("mlockall-future", mlockall(MCL_FUTURE), NULL);
	for (int k = 0; k < NKINDS; k++) {
		int fd = obj(KINDS[k], 4 * PS, 0);
		void *p = mmap(NULL, 4 * PS, PROT_READ | PROT_WRITE, mflags(KINDS[k]), fd, 0);
		char n[64];
		snprintf(n, sizeof n, "future-%s", KINDS[k]);
		int e = errno;
		mline(n, p, e, "present0=%s", p == MAP_FAILED ? "-" : present(p));
		if (p != MAP_FAILED) { maps(n, p, 4 * PS); munmap(p, 4 * PS); }
		if (fd >= 0) close(fd);
	}
	LC("munlockall", munlockall(), NULL);
	void *p = mmap(NULL, 4 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	maps("after-munlockall", p, 4 * PS);
	munmap(p, 4 * PS);
	/* RLIMIT_MEMLOCK as a user */
	pid_t c = fork();
	if (c == 0) {
		strcpy(subj, "user");
		struct rlimit rl = { 0, 0 };
		setrlimit(RLIMIT_MEMLOCK, &rl);
		setresgid(1000, 1000, 1000);
		setresuid(1000, 1000, 1000);
		void *a = mmap(NULL, 4 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		LC("rlimit0-mlock", mlock(a, PS), NULL);
		void *b = mmap(NULL, PS, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
		mline("rlimit0-map-locked", b, errno, NULL);
		LC("rlimit0-mlockall", mlockall(MCL_CURRENT), NULL);
		LC("rlimit0-munlock", munlock(a, PS), NULL);
		int sfd = heap_system;
		(void)sfd;
		_exit(0);
	}
	waitpid(c, NULL, 0);
	c = fork();
	if (c == 0) {
		strcpy(subj, "user");
		struct rlimit rl = { 2 * PS, 2 * PS };
		setrlimit(RLIMIT_MEMLOCK, &rl);
		setresgid(1000, 1000, 1000);
		setresuid(1000, 1000, 1000);
		void *a = mmap(NULL, 4 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		LC("rlimit8k-mlock-2p", mlock(a, 2 * PS), NULL);
		LC("rlimit8k-mlock-3p", mlock(a, 3 * PS), NULL);
		LC("rlimit8k-mlock-again-2p", mlock(a, 2 * PS), NULL);
		munlock(a, 4 * PS);
		LC("rlimit8k-mlock-4p", mlock(a, 4 * PS), NULL);
		void *b = mmap(NULL, 3 * PS, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
		mline("rlimit8k-map-locked-3p", b, errno, NULL);
		b = mmap(NULL, 2 * PS, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
		mline("rlimit8k-map-locked-2p", b, errno, NULL);
		LC("rlimit8k-mlockall-current", mlockall(MCL_CURRENT), NULL);
		LC("rlimit8k-mlockall-future", mlockall(MCL_FUTURE), NULL);
		b = mmap(NULL, 3 * PS, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		mline("rlimit8k-future-3p", b, errno, NULL);
		munlockall();
		_exit(0);
	}
	waitpid(c, NULL, 0);
}

static void fork_cases(const char *kind) {
	int fd;
	unsigned char *p = mapat(kind, 4, 4, PROT_READ | PROT_WRITE, &fd);
	for (int k = 0; k < 4; k++) p[k * PS] = 0x50 + k;
	pid_t c = fork();
	if (c == 0) {
		int v = -1;
		const char *t = touch(p + PS, 0, &v);
		p[2 * PS] = 0x77;
		printf("%s/fork-child: ret=0 errno=0 page1=%s value=0x%x\n", subj, t, v);
		maps("fork-child", p, 4 * PS);
		if (fd >= 0) printf("%s/fork-child-count: ret=0 errno=0 fdinfo_count=%s\n", subj, fdcount(fd));
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	line("fork-parent-sees-child-write", 0, 0, "page2=0x%x", p[2 * PS]);
	done(p, 4, fd);
}

int main(int argc, char **argv) {
	if (personality(0xffffffff) != (ADDR_NO_RANDOMIZE | 0) && argc < 2) {
		personality(ADDR_NO_RANDOMIZE);
		execv("/proc/self/exe", (char *[]){ argv[0], "norand", NULL });
	}
	struct sigaction sa = { .sa_handler = onsig };
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	heap_system = heapfd("system");
	heap_reserved = heapfd("reserved");
	char rel[64] = "";
	FILE *f = fopen("/proc/sys/kernel/osrelease", "r");
	fgets(rel, sizeof rel, f);
	fclose(f);
	printf("osrelease=%s", rel);
	for (int k = 0; k < NKINDS; k++) {
		snprintf(subj, sizeof subj, "%s", KINDS[k]);
		mmap_checks(KINDS[k]);
		munmap_split(KINDS[k]);
		mprotect_cases(KINDS[k]);
		merge_cases(KINDS[k]);
		mremap_cases(KINDS[k]);
		madvise_cases(KINDS[k]);
		msync_cases(KINDS[k]);
		mlock_cases(KINDS[k]);
		fork_cases(KINDS[k]);
	}
	mlockall_cases();
	return 0;
}
