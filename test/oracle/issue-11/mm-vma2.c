/* mm-vma2.c - the questions mm-vma.c left open: whether a new file mapping merges into its
 * neighbour before the driver's mmap runs (and so skips the dma-buf bounds check), whether a
 * failed MAP_FIXED leaves a hole, mremap of PFN maps without growing, MREMAP_DONTUNMAP,
 * mremap of ranges spanning several VMAs (moved since 6.17), mlock/msync/madvise over leading
 * holes, MAP_POPULATE of read-only private memory, MADV_DONTNEED of copied private file pages,
 * and what a fork child gets of MADV_DONTFORK/MADV_WIPEONFORK mappings.
 *
 *   gcc -static -O1 -o /tmp/mm-vma2 test/oracle/issue-11/mm-vma2.c
 *   ../shared/oracle/run-in-kernel.sh /tmp/mm-vma2 > test/oracle/issue-11/mm-vma2-6.1.out
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/dma-heap.h>

#define PS 4096UL
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

static const char *en(int e) { const char *n = strerrorname_np(e); return e == 0 ? "0" : n ? n : "E?"; }
static sigjmp_buf jb;
static void onsig(int s) { siglongjmp(jb, s); }
static const char *touch(volatile unsigned char *p, int write, int *val) {
	int s = sigsetjmp(jb, 1);
	if (s == 0) { if (write) *p = 0x5a; else if (val) *val = *p; else (void)*p; return "ok"; }
	return s == SIGSEGV ? "SIGSEGV" : s == SIGBUS ? "SIGBUS" : "SIG?";
}
static char subj[32];
static void out(const char *c, const char *fmt, ...) {
	char b[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b, sizeof b, fmt, ap);
	va_end(ap);
	printf("%s/%s: %s\n", subj, c, b);
	fflush(stdout);
}
#define R(c, call) do { errno = 0; long _r = (long)(call); int _e = errno; out(c, "ret=%ld errno=%s", _r < 0 ? -1L : _r, _r < 0 ? en(_e) : "0"); } while (0)
#define M(c, var, call) do { errno = 0; var = (call); int _e = errno; out(c, "ret=%s errno=%s", var == MAP_FAILED ? "MAP_FAILED" : "ok", var == MAP_FAILED ? en(_e) : "0"); } while (0)

static void maps(const char *c, void *base, size_t span) {
	uintptr_t b = (uintptr_t)base, e = b + span;
	FILE *f = fopen("/proc/self/maps", "r");
	char l[512], o[2048] = "";
	while (fgets(l, sizeof l, f)) {
		uintptr_t s, t;
		char perms[8];
		unsigned long off;
		if (sscanf(l, "%lx-%lx %7s %lx", &s, &t, perms, &off) == 4 && s < e && t > b) {
			char x[128];
			snprintf(x, sizeof x, " [+0x%lx-+0x%lx %s %08lx]", (unsigned long)(s - b), (unsigned long)(t - b), perms, off);
			strcat(o, x);
		}
	}
	fclose(f);
	out(c, "maps%s", o[0] ? o : " none");
}
static const char *fdcount(int fd) {
	static char b[32];
	char p[64], l[256];
	snprintf(p, sizeof p, "/proc/self/fdinfo/%d", fd);
	FILE *f = fopen(p, "r");
	strcpy(b, "-");
	if (!f) return b;
	while (fgets(l, sizeof l, f)) if (strncmp(l, "count:", 6) == 0) { snprintf(b, sizeof b, "%d", atoi(l + 6)); }
	fclose(f);
	return b;
}
static const char *present(void *p) {
	static char b[8];
	int fd = open("/proc/self/pagemap", O_RDONLY);
	uint64_t e = 0;
	pread(fd, &e, 8, ((uintptr_t)p / PS) * 8);
	close(fd);
	snprintf(b, sizeof b, "%d", (int)(e >> 63));
	return b;
}
static int hsys = -1, hres = -1;
static int obj(const char *kind, size_t len) {
	if (!strcmp(kind, "system") || !strcmp(kind, "reserved")) {
		struct dma_heap_allocation_data a = { .len = len, .fd_flags = O_RDWR | O_CLOEXEC };
		if (ioctl(!strcmp(kind, "system") ? hsys : hres, DMA_HEAP_IOCTL_ALLOC, &a) < 0) { perror("alloc"); exit(1); }
		return a.fd;
	}
	if (!strcmp(kind, "memfd")) { int fd = memfd_create("t", MFD_CLOEXEC); ftruncate(fd, len); return fd; }
	return -1;
}
static int mflags(const char *kind) {
	if (!strcmp(kind, "anon")) return MAP_PRIVATE | MAP_ANONYMOUS;
	if (!strcmp(kind, "shanon")) return MAP_SHARED | MAP_ANONYMOUS;
	return MAP_SHARED;
}
static unsigned char *hole(size_t pages) {
	unsigned char *p = mmap(NULL, pages * PS, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(p, pages * PS);
	return p;
}
static const char *KINDS[] = { "system", "reserved", "memfd", "anon", "shanon" };

static void run(const char *kind) {
	snprintf(subj, sizeof subj, "%s", kind);
	int file = strcmp(kind, "anon") && strcmp(kind, "shanon");
	unsigned char *h, *p, *q;
	int fd;

	/* a new mapping beside an old one of the same object, past the object's end */
	fd = obj(kind, 4 * PS);
	h = hole(32);
	p = mmap(h, 2 * PS, PROT_READ | PROT_WRITE, mflags(kind) | MAP_FIXED, fd, 0);
	M("adjacent-past-end", q, mmap(h + 2 * PS, 4 * PS, PROT_READ | PROT_WRITE, mflags(kind) | MAP_FIXED, fd, 2 * PS));
	if (q != MAP_FAILED) {
		out("adjacent-past-end-touch", "page3=%s page4=%s page5=%s count=%s", touch(h + 3 * PS, 0, NULL), touch(h + 4 * PS, 0, NULL), touch(h + 5 * PS, 0, NULL), file ? fdcount(fd) : "-");
		maps("adjacent-past-end", h, 8 * PS);
	}
	munmap(h, 8 * PS);
	if (fd >= 0) close(fd);

	/* MAP_FIXED over an old mapping that fails in the driver's mmap */
	fd = obj(kind, 4 * PS);
	h = hole(32);
	p = mmap(h, 4 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	p[PS] = 0x33;
	M("fixed-failing-over-anon", q, mmap(h, 4 * PS, PROT_READ | PROT_WRITE, (file ? MAP_SHARED : MAP_SHARED | MAP_ANONYMOUS) | MAP_FIXED | (file ? 0 : 0), file ? fd : -1, file ? 8 * PS : 0));
	{
		int v = -1;
		const char *t1 = touch(h + PS, 0, &v);
		out("fixed-failing-over-anon-touch", "page1=%s value=0x%x", t1, v);
	}
	maps("fixed-failing-over-anon", h, 4 * PS);
	munmap(h, 4 * PS);
	if (fd >= 0) close(fd);

	/* mremap of a whole mapping to a new place, same size (no growth) */
	fd = obj(kind, 4 * PS);
	h = hole(32);
	p = mmap(h, 4 * PS, PROT_READ | PROT_WRITE, mflags(kind) | MAP_FIXED, fd, 0);
	p[0] = 0x61;
	M("move-fixed-same-size", q, mremap(p, 4 * PS, 4 * PS, MREMAP_MAYMOVE | MREMAP_FIXED, h + 16 * PS));
	if (q != MAP_FAILED) {
		int v = -1;
		const char *o = touch(p, 0, NULL), *n = touch(q, 0, &v);
		out("move-fixed-same-size-touch", "old=%s new=%s value=0x%x count=%s", o, n, v, file ? fdcount(fd) : "-");
		maps("move-fixed-same-size", h, 32 * PS);
		p = q;
	}
	M("move-maymove-shrink", q, mremap(p, 4 * PS, 2 * PS, MREMAP_MAYMOVE));
	if (q != MAP_FAILED) p = q;
	M("dontunmap", q, mremap(p, 2 * PS, 2 * PS, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL));
	if (q != MAP_FAILED) {
		int v = -1, w = -1;
		const char *o = touch(p, 0, &w), *n = touch(q, 0, &v);
		out("dontunmap-touch", "old=%s oldvalue=0x%x new=%s value=0x%x count=%s", o, w, n, v, file ? fdcount(fd) : "-");
		maps("dontunmap-old", p, 2 * PS);
		maps("dontunmap-new", q, 2 * PS);
		munmap(q, 2 * PS);
	}
	M("dontunmap-fixed", q, mremap(p, 2 * PS, 2 * PS, MREMAP_MAYMOVE | MREMAP_DONTUNMAP | MREMAP_FIXED, h + 24 * PS));
	if (q != MAP_FAILED) munmap(q, 2 * PS);
	M("dontunmap-hint-unaligned", q, mremap(p, 2 * PS, 2 * PS, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, h + 100));
	if (q != MAP_FAILED) munmap(q, 2 * PS);
	munmap(p, 2 * PS);
	munmap(h, 32 * PS);
	if (fd >= 0) close(fd);

	/* ranges over several VMAs and holes */
	fd = obj(kind, 8 * PS);
	h = hole(64);
	p = mmap(h, 6 * PS, PROT_READ | PROT_WRITE, mflags(kind) | MAP_FIXED, fd, 0);
	mprotect(p + 2 * PS, PS, PROT_READ);
	M("move-two-vmas-maymove", q, mremap(p, 4 * PS, 4 * PS, MREMAP_MAYMOVE));
	if (q != MAP_FAILED) { maps("move-two-vmas-maymove", q, 4 * PS); munmap(q, 4 * PS); p = mmap(h, 6 * PS, PROT_READ | PROT_WRITE, mflags(kind) | MAP_FIXED, fd, 0); mprotect(p + 2 * PS, PS, PROT_READ); }
	M("move-two-vmas-fixed-grow", q, mremap(p, 4 * PS, 5 * PS, MREMAP_MAYMOVE | MREMAP_FIXED, h + 32 * PS));
	if (q != MAP_FAILED) { munmap(q, 5 * PS); p = mmap(h, 6 * PS, PROT_READ | PROT_WRITE, mflags(kind) | MAP_FIXED, fd, 0); mprotect(p + 2 * PS, PS, PROT_READ); }
	M("move-two-vmas-fixed-dontunmap", q, mremap(p, 4 * PS, 4 * PS, MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP, h + 32 * PS));
	if (q != MAP_FAILED) { munmap(q, 4 * PS); }
	munmap(p + 4 * PS, PS);
	M("move-with-hole-fixed", q, mremap(p, 6 * PS, 6 * PS, MREMAP_MAYMOVE | MREMAP_FIXED, h + 32 * PS));
	if (q != MAP_FAILED) {
		maps("move-with-hole-fixed-new", h + 32 * PS, 8 * PS);
		maps("move-with-hole-fixed-old", h, 8 * PS);
		munmap(q, 6 * PS);
		p = mmap(h, 6 * PS, PROT_READ | PROT_WRITE, mflags(kind) | MAP_FIXED, fd, 0);
		munmap(p + 4 * PS, PS);
	}
	munmap(p, PS);
	M("move-leading-hole-fixed", q, mremap(p, 6 * PS, 6 * PS, MREMAP_MAYMOVE | MREMAP_FIXED, h + 32 * PS));
	if (q != MAP_FAILED) munmap(q, 6 * PS);
	R("mlock-leading-hole", mlock(p, 3 * PS));
	maps("mlock-leading-hole", h, 8 * PS);
	munlock(p, 6 * PS);
	R("mprotect-leading-hole", mprotect(p, 3 * PS, PROT_READ));
	maps("mprotect-leading-hole", h, 8 * PS);
	R("madvise-leading-hole", madvise(p, 3 * PS, MADV_RANDOM));
	maps("madvise-leading-hole", h, 8 * PS);
	R("msync-async-leading-hole", msync(p, 3 * PS, MS_ASYNC));
	R("msync-sync-leading-hole", msync(p, 3 * PS, MS_SYNC));
	R("msync-invalidate-leading-hole", msync(p, 3 * PS, MS_INVALIDATE));
	R("munlock-leading-hole", munlock(p, 3 * PS));
	munmap(h, 64 * PS);
	if (fd >= 0) close(fd);

	/* populate of read-only and PROT_NONE mappings */
	fd = obj(kind, 4 * PS);
	M("populate-ro", p, mmap(NULL, 4 * PS, PROT_READ, (mflags(kind) & ~MAP_SHARED & ~MAP_PRIVATE) | (file ? MAP_SHARED : mflags(kind) & (MAP_SHARED | MAP_PRIVATE)) | MAP_POPULATE, fd, 0));
	if (p != MAP_FAILED) { out("populate-ro-present", "present0=%s present3=%s", present(p), present(p + 3 * PS)); munmap(p, 4 * PS); }
	M("populate-none", p, mmap(NULL, 4 * PS, PROT_NONE, mflags(kind) | MAP_POPULATE, fd, 0));
	if (p != MAP_FAILED) { out("populate-none-present", "present0=%s", present(p)); munmap(p, 4 * PS); }
	if (!strcmp(kind, "memfd") || !strcmp(kind, "anon")) {
		M("populate-private-ro", p, mmap(NULL, 4 * PS, PROT_READ, MAP_PRIVATE | (file ? 0 : MAP_ANONYMOUS) | MAP_POPULATE, fd, 0));
		if (p != MAP_FAILED) { out("populate-private-ro-present", "present0=%s", present(p)); munmap(p, 4 * PS); }
	}
	M("populate-past-end", p, mmap(NULL, 8 * PS, PROT_READ | PROT_WRITE, mflags(kind) | MAP_POPULATE, fd, 0));
	if (p != MAP_FAILED) { out("populate-past-end-present", "present3=%s", present(p + 3 * PS)); munmap(p, 8 * PS); }
	if (fd >= 0) close(fd);

	/* madvise DONTNEED of a private copy */
	if (!strcmp(kind, "memfd")) {
		fd = obj(kind, 4 * PS);
		pwrite(fd, "F", 1, PS);
		p = mmap(NULL, 4 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
		p[PS] = 'C';
		int v0 = p[PS];
		R("private-copy-dontneed", madvise(p, 4 * PS, MADV_DONTNEED));
		out("private-copy-dontneed-value", "before=%c after=%c", v0, p[PS]);
		p[PS] = 'C';
		R("private-copy-remove", madvise(p, 4 * PS, MADV_REMOVE));
		R("private-copy-populate-write", madvise(p, 4 * PS, 23));
		R("private-copy-populate-read-past", madvise(p, 8 * PS, 22));
		munmap(p, 4 * PS);
		p = mmap(NULL, 8 * PS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		R("populate-write-past-eof", madvise(p, 8 * PS, 23));
		R("populate-read-past-eof", madvise(p, 8 * PS, 22));
		R("mlock-past-eof", mlock(p, 8 * PS));
		R("munlock-past-eof", munlock(p, 8 * PS));
		p[0] = 1;
		R("remove-ro", (mprotect(p, 8 * PS, PROT_READ), madvise(p, PS, MADV_REMOVE)));
		munmap(p, 8 * PS);
		close(fd);
	}

	/* fork: DONTFORK and WIPEONFORK mappings in the child */
	fd = obj(kind, 4 * PS);
	p = mmap(NULL, 4 * PS, PROT_READ | PROT_WRITE, mflags(kind), fd, 0);
	memset(p, 0x77, 4 * PS);
	madvise(p, PS, MADV_DONTFORK);
	int wf = madvise(p + PS, PS, MADV_WIPEONFORK);
	mlock(p + 2 * PS, PS);
	pid_t c = fork();
	if (c == 0) {
		int a = -1, b = -1, d = -1;
		const char *ta = touch(p, 0, &a), *tb = touch(p + PS, 0, &b), *td = touch(p + 2 * PS, 0, &d);
		out("fork-child", "dontfork=%s wipe(%d)=%s 0x%x locked=%s 0x%x count=%s", ta, wf, tb, b, td, d, file ? fdcount(fd) : "-");
		maps("fork-child", p, 4 * PS);
		R("fork-child-msync-invalidate-locked-page", msync(p + 2 * PS, PS, MS_INVALIDATE));
		_exit(0);
	}
	waitpid(c, NULL, 0);
	out("fork-parent", "count=%s", file ? fdcount(fd) : "-");
	munmap(p, 4 * PS);
	if (fd >= 0) close(fd);
}

int main(int argc, char **argv) {
	if (personality(0xffffffff) != ADDR_NO_RANDOMIZE && argc < 2) {
		personality(ADDR_NO_RANDOMIZE);
		execv("/proc/self/exe", (char *[]){ argv[0], "norand", NULL });
	}
	struct sigaction sa = { .sa_handler = onsig };
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	hsys = open("/dev/dma_heap/system", O_RDWR | O_CLOEXEC);
	hres = open("/dev/dma_heap/reserved", O_RDWR | O_CLOEXEC);
	char rel[64] = "";
	FILE *f = fopen("/proc/sys/kernel/osrelease", "r");
	fgets(rel, sizeof rel, f);
	fclose(f);
	printf("osrelease=%s", rel);
	for (int k = 0; k < 5; k++) run(KINDS[k]);
	return 0;
}
