#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/wait.h>
#include <stdint.h>

static void show(const char *what, void *p) {
	if (p == MAP_FAILED) printf("%s: errno=%s\n", what, strerrorname_np(errno));
	else printf("%s: %#lx\n", what, (unsigned long)p);
}
static void *m(void *a, size_t len, int prot, int flags) { return mmap(a, len, prot, flags, -1, 0); }
#define PA (MAP_PRIVATE|MAP_ANONYMOUS)
#define RW (PROT_READ|PROT_WRITE)
static void cat(const char *p) { char b[8192]; FILE *f = fopen(p, "r"); if (!f) return; size_t n; while ((n = fread(b,1,sizeof b,f))>0) fwrite(b,1,n,stdout); fclose(f); }
static void maps(void) { printf("--- maps\n"); fflush(stdout); cat("/proc/self/maps"); printf("---\n"); }

int main(int argc, char **argv) {
	if (argc < 2) {
		personality(ADDR_NO_RANDOMIZE);
		execl("/proc/self/exe", argv[0], "x", NULL);
		perror("exec"); return 1;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("overcommit_memory="); cat("/proc/sys/vm/overcommit_memory");
	printf("mmap_min_addr="); cat("/proc/sys/vm/mmap_min_addr");
	printf("max_map_count="); cat("/proc/sys/vm/max_map_count");
	maps();
	void *a1 = m(0, 4096, RW, PA); show("a1 1p", a1);
	void *a2 = m(0, 8192, RW, PA); show("a2 2p", a2);
	void *a3 = m(0, 4096, PROT_READ, PA); show("a3 1p ro", a3);
	maps();
	munmap(a2, 8192);
	void *a4 = m(0, 4096, RW, PA); show("a4 1p after munmap a2", a4);
	void *a5 = m(0, 4096, RW, PA); show("a5 1p", a5);
	void *a6 = m(0, 4096, RW, PA); show("a6 1p", a6);
	maps();
	show("hint 0x10000000", m((void*)0x10000000, 4096, RW, PA));
	show("hint 0x10000800 unaligned", m((void*)0x10000800, 4096, RW, PA));
	show("hint a1 (taken)", m(a1, 4096, RW, PA));
	show("len TASK_SIZE+4096", m(0, 0x7ffffffff000UL + 4096, PROT_NONE, PA));
	show("len 2^47", m(0, 1UL<<47, PROT_NONE, PA));
	show("len 2^64-1", m(0, ~0UL, PROT_NONE, PA));
	show("len 2^64-4096", m(0, ~0UL - 4095, PROT_NONE, PA));
	show("noreplace last page (stack)", m((void*)(0x7ffffffff000UL - 4096), 4096, RW, PA|MAP_FIXED_NOREPLACE));
	show("fixed at TASK_SIZE", m((void*)0x7ffffffff000UL, 4096, RW, PA|MAP_FIXED));
	show("fixed crossing TASK_SIZE", m((void*)(0x7ffffffff000UL - 4096), 8192, RW, PA|MAP_FIXED));
	show("fixed at 2^47+1 (unaligned, beyond)", m((void*)((1UL<<47)+1), 4096, RW, PA|MAP_FIXED));
	show("fixed 4097 unaligned", m((void*)4097, 4096, RW, PA|MAP_FIXED));
	show("fixed 0 root", m((void*)0, 4096, RW, PA|MAP_FIXED));
	show("fixed 4096 root", m((void*)4096, 4096, RW, PA|MAP_FIXED));
	show("noreplace 4096 (taken)", m((void*)4096, 4096, RW, PA|MAP_FIXED_NOREPLACE));
	show("noreplace at TASK_SIZE", m((void*)0x7ffffffff000UL, 4096, RW, PA|MAP_FIXED_NOREPLACE));
	show("noreplace unaligned 0x20000001", m((void*)0x20000001, 4096, RW, PA|MAP_FIXED_NOREPLACE));
	show("hint beyond TASK_SIZE", m((void*)0x7ffffffff000UL, 4096, RW, PA));
	show("hint 0x7ffffffff000-4096 (taken)", m((void*)(0x7ffffffff000UL-4096), 4096, RW, PA));
	maps();
	pid_t pid = fork();
	if (pid == 0) {
		setresgid(1000,1000,1000); setresuid(1000,1000,1000);
		show("user fixed 0", m((void*)0, 4096, RW, PA|MAP_FIXED));
		show("user fixed 4096 (taken by root's mapping: replace)", m((void*)4096, 4096, RW, PA|MAP_FIXED));
		show("user fixed 8192", m((void*)8192, 4096, RW, PA|MAP_FIXED));
		show("user noreplace 0", m((void*)0, 4096, RW, PA|MAP_FIXED_NOREPLACE));
		show("user hint 0x800 (below min? no: 0 < 0x800 < 4096)", m((void*)0x800, 4096, RW, PA));
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	/* fill: PROT_NONE chunks of 2^44 */
	pid = fork();
	if (pid == 0) {
		int n = 0; void *last = 0;
		for (;;) { void *p = m(0, 1UL<<44, PROT_NONE, PA|MAP_NORESERVE); if (p == MAP_FAILED) break; n++; printf("fill %d: %#lx\n", n, (unsigned long)p); last = p; }
		printf("fill: %d chunks of 2^44, then errno=%s\n", n, strerrorname_np(errno));
		size_t sz = 1UL<<43; n = 0;
		while (sz >= 4096) { void *p = m(0, sz, PROT_NONE, PA|MAP_NORESERVE); if (p == MAP_FAILED) { sz >>= 1; continue; } n++; if (n < 40 || sz < (1UL<<20)) printf("more %#lx: %#lx\n", sz, (unsigned long)p); }
		printf("filled: %d more; page mmap: ", n); show("", m(0, 4096, PROT_NONE, PA));
		maps();
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	return 0;
}
