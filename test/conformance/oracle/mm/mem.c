#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/prctl.h>

#define PA (MAP_PRIVATE|MAP_ANONYMOUS)
#define SA (MAP_SHARED|MAP_ANONYMOUS)
#define RW (PROT_READ|PROT_WRITE)
#define MiB (1024UL*1024)

static long mi(const char *key) {
	char line[256]; FILE *f = fopen("/proc/meminfo", "r"); long v = -1; size_t kl = strlen(key);
	while (fgets(line, sizeof line, f)) if (!strncmp(line, key, kl) && line[kl] == ':') { v = atol(line + kl + 1); break; }
	fclose(f); return v;
}
static void cat(const char *p) { char b[8192]; FILE *f = fopen(p, "r"); if (!f) { printf("(no %s)\n", p); return; } size_t n; while ((n = fread(b,1,sizeof b,f))>0) fwrite(b,1,n,stdout); fclose(f); }
static void status(const char *tag, pid_t pid) {
	char p[64]; snprintf(p, sizeof p, "/proc/%d/status", pid); char line[256]; FILE *f = fopen(p, "r"); if (!f) return;
	printf("%s:", tag);
	while (fgets(line, sizeof line, f)) if (!strncmp(line, "Vm", 2) || !strncmp(line, "Rss", 3)) { line[strcspn(line, "\n")] = 0; printf(" [%s]", line); }
	printf("\n"); fclose(f);
}
static void show(const char *what, void *p) {
	if (p == MAP_FAILED) printf("%s: errno=%s\n", what, strerrorname_np(errno));
	else printf("%s: ok\n", what);
}
static void *m(size_t len, int prot, int flags) { void *p = mmap(0, len, prot, flags, -1, 0); return p; }
static void try(const char *what, size_t len, int prot, int flags) { void *p = m(len, prot, flags); show(what, p); if (p != MAP_FAILED) munmap(p, len); }
static void touch(char *p, size_t len) { for (size_t i = 0; i < len; i += 4096) p[i] = 1; }
static void delta(const char *what, long f0, long a0) { printf("%s: MemFree %+ld kB AnonPages %+ld kB\n", what, mi("MemFree") - f0, mi("AnonPages") - a0); }

static int heap_alloc(size_t len) {
	int h = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	struct { uint64_t len; uint32_t fd, fd_flags; uint64_t heap_flags; } d = { len, 0, O_RDWR | O_CLOEXEC, 0 };
	int r = ioctl(h, 0xc0184800, &d); close(h);
	return r < 0 ? -errno : (int)d.fd;
}
static void adj(int v) { char b[16]; int fd = open("/proc/self/oom_score_adj", O_WRONLY); int n = snprintf(b, sizeof b, "%d", v); write(fd, b, n); close(fd); }
static void ready(int w) { char c = 1; write(w, &c, 1); }
static void waitready(int r) { char c; read(r, &c, 1); }
static void report(const char *who, pid_t pid) {
	int st; pid_t r = waitpid(pid, &st, WNOHANG);
	if (r == 0) { printf("%s (pid %d): alive\n", who, pid); return; }
	if (WIFSIGNALED(st)) printf("%s (pid %d): killed by signal %d\n", who, pid, WTERMSIG(st));
	else printf("%s (pid %d): exited %d\n", who, pid, WEXITSTATUS(st));
}
static void dmesg(void) { fflush(stdout); system("dmesg | grep -v -E '^\\[ *[0-9.]+\\] (Call Trace|  |<TASK>|</TASK>| ?[a-z_]+\\+0x)' | grep -A1000 -m1 -E 'invoked oom-killer' | cut -c1-220"); system("dmesg -C"); }

static pid_t hog(const char *name, size_t len, int a, int holdbuf, int *rfd) {
	int p[2]; pipe(p);
	pid_t pid = fork();
	if (pid == 0) {
		prctl(15 /* PR_SET_NAME */, name);
		if (a) adj(a);
		if (holdbuf) { int fd = heap_alloc(holdbuf * MiB); if (fd < 0) printf("%s: heap alloc errno %d\n", name, -fd); }
		if (len) { char *x = m(len, RW, PA); touch(x, len); }
		ready(p[1]); pause(); _exit(0);
	}
	close(p[1]); *rfd = p[0]; waitready(p[0]); return pid;
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IONBF, 0);
	const char *what = argc > 1 ? argv[1] : "all";
	long total = mi("MemTotal");
	if (!strcmp(what, "info") || !strcmp(what, "all")) {
		cat("/proc/meminfo");
		printf("overcommit_memory="); cat("/proc/sys/vm/overcommit_memory");
		printf("overcommit_ratio="); cat("/proc/sys/vm/overcommit_ratio");
		status("self", getpid());
	}
	if (!strcmp(what, "overcommit") || !strcmp(what, "all")) {
		size_t t = total * 1024;
		printf("MemTotal %ld kB\n", total);
		try("private rw MemTotal", t, RW, PA);
		try("private rw MemTotal+4096", t + 4096, RW, PA);
		try("private rw 1.5xMemTotal", t / 2 * 3, RW, PA);
		try("private rw 1TiB", 1UL << 40, RW, PA);
		try("private ro 1TiB", 1UL << 40, PROT_READ, PA);
		try("private none 1TiB", 1UL << 40, PROT_NONE, PA);
		try("private rw noreserve 1TiB", 1UL << 40, RW, PA | MAP_NORESERVE);
		try("shared rw MemTotal", t, RW, SA);
		try("shared rw MemTotal+4096", t + 4096, RW, SA);
		try("shared ro 1TiB", 1UL << 40, PROT_READ, SA);
		try("shared rw noreserve 1TiB", 1UL << 40, RW, SA | MAP_NORESERVE);
		void *a = m(t / 10 * 9, RW, PA), *b = m(t / 10 * 9, RW, PA);
		show("two private rw 0.9xMemTotal (1)", a); show("two private rw 0.9xMemTotal (2)", b);
		void *c = m(1UL << 40, PROT_READ, PA);
		printf("mprotect 1TiB ro->rw: %s\n", mprotect(c, 1UL << 40, RW) ? strerrorname_np(errno) : "ok");
		int mfd = memfd_create("x", 0); ftruncate(mfd, 1UL << 40);
		void *d = mmap(0, 1UL << 40, RW, MAP_PRIVATE, mfd, 0); show("memfd private rw 1TiB", d);
		d = mmap(0, 1UL << 40, PROT_READ, MAP_PRIVATE, mfd, 0); show("memfd private ro 1TiB", d);
		d = mmap(0, 1UL << 40, RW, MAP_SHARED, mfd, 0); show("memfd shared rw 1TiB", d);
	}
	if (!strcmp(what, "cow") || !strcmp(what, "all")) {
		long f0 = mi("MemFree"), a0 = mi("AnonPages");
		char *x = m(64 * MiB, RW, PA);
		delta("mmap 64MiB", f0, a0);
		for (size_t i = 0; i < 64 * MiB; i += 4096) (void)*(volatile char *)(x + i);
		delta("read 64MiB", f0, a0);
		touch(x, 64 * MiB);
		delta("write 64MiB", f0, a0);
		status("parent", getpid());
		int p[2], q[2]; pipe(p); pipe(q);
		pid_t pid = fork();
		if (pid == 0) {
			delta("child after fork", f0, a0);
			status("child", getpid());
			touch(x, 16 * MiB);
			delta("child wrote 16MiB", f0, a0);
			status("child", getpid());
			ready(p[1]); waitready(q[0]);
			printf("child sees x[0]=%d x[16MiB]=%d\n", x[0], x[16 * MiB]);
			_exit(0);
		}
		waitready(p[0]);
		x[0] = 7; x[16 * MiB] = 9; x[32 * MiB] = 3;
		delta("parent wrote 3 pages", f0, a0);
		ready(q[1]); waitpid(pid, NULL, 0);
		delta("child exited", f0, a0);
		printf("parent sees x[0]=%d\n", x[0]);
		munmap(x, 64 * MiB);
		delta("munmap", f0, a0);
	}
	if (!strcmp(what, "oom") || !strcmp(what, "oomcg")) {
		int r1, r2, st;
		if (!strcmp(what, "oomcg")) goto cg;
		system("dmesg -C");
		printf("MemTotal %ld MemFree %ld\n", total, mi("MemFree"));
		size_t big = total * 1024 / 10 * 4;
		/* 1: A holds a dma-buf (fd only), B 20% anon, C grows to 80%: who dies? */
		pid_t A = hog("holder", 0, 0, (int)(big / MiB), &r1);
		pid_t B = hog("hogB", big / 2, 0, 0, &r2);
		status("A", A); status("B", B);
		printf("MemFree %ld AnonPages %ld\n", mi("MemFree"), mi("AnonPages"));
		pid_t C = fork();
		if (C == 0) { prctl(15, "growC"); char *x = m(big * 2, RW, PA); touch(x, big * 2); printf("C done\n"); _exit(0); }
		waitpid(C, &st, 0); printf("C: %s %d\n", WIFSIGNALED(st) ? "signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		report("A", A); report("B", B);
		dmesg();
		kill(A, 9); kill(B, 9); waitpid(A, 0, 0); waitpid(B, 0, 0);
		printf("after: MemFree %ld AnonPages %ld\n", mi("MemFree"), mi("AnonPages"));
		/* 2: B volunteers (adj 1000), C grows to 60% */
		B = hog("hogB", big, 1000, 0, &r2);
		C = fork();
		if (C == 0) { prctl(15, "growC"); char *x = m(big * 3 / 2, RW, PA); touch(x, big * 3 / 2); printf("C done\n"); _exit(0); }
		waitpid(C, &st, 0); printf("C: %s %d\n", WIFSIGNALED(st) ? "signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		report("B", B);
		dmesg();
		kill(B, 9); waitpid(B, 0, 0);
		/* 3: read() into a fresh buffer, with an unkillable 40% hog */
		B = hog("hogU", big, -1000, 0, &r2);
		C = fork();
		if (C == 0) { prctl(15, "readC"); int z = open("/dev/zero", O_RDONLY); size_t n = total * 1024 / 10 * 9; char *x = m(n, RW, PA); if (x == MAP_FAILED) printf("mmap failed\n"); ssize_t k = read(z, x, n); printf("read %zd errno %s\n", k, strerrorname_np(errno)); _exit(0); }
		waitpid(C, &st, 0); printf("readC: %s %d\n", WIFSIGNALED(st) ? "signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		report("hogU", B);
		dmesg();
		kill(B, 9); waitpid(B, 0, 0);
	cg:
		/* 4: memcg */
		{ int fd = open("/sys/fs/cgroup/cgroup.subtree_control", O_WRONLY); write(fd, "+memory", 7); close(fd);
		mkdir("/sys/fs/cgroup/t", 0755);
		fd = open("/sys/fs/cgroup/t/memory.max", O_WRONLY); write(fd, "32M", 3); close(fd);
		B = hog("cgB", 0, 0, 0, &r2);
		C = fork();
		if (C == 0) {
			prctl(15, "cgC");
			char b[32]; int n = snprintf(b, sizeof b, "%d", getpid()); fd = open("/sys/fs/cgroup/t/cgroup.procs", O_WRONLY); write(fd, b, n); close(fd);
			char *x = m(64 * MiB, RW, PA); touch(x, 64 * MiB); printf("cgC done\n"); _exit(0);
		}
		waitpid(C, &st, 0); printf("cgC: %s %d\n", WIFSIGNALED(st) ? "signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		report("cgB", B);
		dmesg();
		printf("memory.events: "); cat("/sys/fs/cgroup/t/memory.events");
		kill(B, 9); waitpid(B, 0, 0);
		/* 5: oom_score / oom_score_adj files */
		printf("oom_score_adj="); cat("/proc/self/oom_score_adj");
		printf("oom_score="); cat("/proc/self/oom_score");
		fd = open("/proc/self/oom_score_adj", O_WRONLY);
		printf("write 1001: %zd %s\n", write(fd, "1001", 4), strerrorname_np(errno));
		printf("write -1000: %zd\n", write(fd, "-1000", 5));
		printf("write ' 5\\n': %zd\n", write(fd, " 5\n", 3));
		printf("oom_score_adj="); cat("/proc/self/oom_score_adj");
		printf("write x: %zd %s\n", write(fd, "x", 1), strerrorname_np(errno));
		pid_t U = fork();
		if (U == 0) {
			setresgid(1000,1000,1000); setresuid(1000,1000,1000);
			int f = open("/proc/self/oom_score_adj", O_WRONLY);
			printf("user write 10: %zd\n", write(f, "10", 2));
			printf("user write 5: %zd %s\n", write(f, "5", 1), strerrorname_np(errno));
			printf("user write 3: %zd %s\n", write(f, "3", 1), strerrorname_np(errno));
			printf("user write -1: %zd %s\n", write(f, "-1", 2), strerrorname_np(errno));
			printf("user oom_score_adj="); cat("/proc/self/oom_score_adj");
			_exit(0);
		}
		waitpid(U, 0, 0);
		status("self", getpid());
		printf("---status\n"); cat("/proc/self/status"); (void)r1; }
	}
	return 0;
}
