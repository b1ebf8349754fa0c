/*
 * alloc-seq: the native program of the `run-alloc` benchmark (bench/run.ts).
 * SPDX-License-Identifier: MIT
 *
 * Usage: alloc-seq heap|memfd <iterations> [<heap path>]
 *
 * Runs one untimed warm-up of 1/10 of the iterations (at least 10), then times <iterations> of
 * one sequence with clock_gettime(CLOCK_MONOTONIC) around the loop:
 *   heap   the heap (default /dev/dma_heap/system) is opened once; per iteration
 *          DMA_HEAP_IOCTL_ALLOC 4 KiB (O_RDWR|O_CLOEXEC) + mmap(MAP_SHARED) + memset of the 4 KiB
 *          + munmap + close of the dma-buf
 *   memfd  per iteration memfd_create + ftruncate(4 KiB) + mmap(MAP_SHARED) + memset of the
 *          4 KiB + munmap + close
 * and prints one line: `<mode> <iterations> <ns per iteration>`. Exit status 1 (with the failing
 * call on stderr) on any failure, 2 on a usage error.
 *
 * Build: gcc -O2 -o alloc-seq alloc-seq.c (no kernel headers needed: the uapi struct is below).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* include/uapi/linux/dma-heap.h */
struct dma_heap_allocation_data {
	uint64_t len;
	uint32_t fd;
	uint32_t fd_flags;
	uint64_t heap_flags;
};
#define DMA_HEAP_IOCTL_ALLOC _IOWR('H', 0x0, struct dma_heap_allocation_data)

#define SIZE 4096

static int heap_fd = -1;
static unsigned char fill;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void touch(int fd)
{
	unsigned char *p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	memset(p, ++fill, SIZE);
	/* the compiler may not drop the memset: the bytes are read back */
	if (p[SIZE - 1] != fill)
		die("readback");
	if (munmap(p, SIZE) != 0)
		die("munmap");
	if (close(fd) != 0)
		die("close");
}

static void heap_once(void)
{
	struct dma_heap_allocation_data d = { .len = SIZE, .fd = 0, .fd_flags = O_RDWR | O_CLOEXEC, .heap_flags = 0 };
	if (ioctl(heap_fd, DMA_HEAP_IOCTL_ALLOC, &d) != 0)
		die("ioctl(DMA_HEAP_IOCTL_ALLOC)");
	touch((int)d.fd);
}

static void memfd_once(void)
{
	int fd = (int)syscall(SYS_memfd_create, "alloc-seq", 1u /* MFD_CLOEXEC */);
	if (fd < 0)
		die("memfd_create");
	if (ftruncate(fd, SIZE) != 0)
		die("ftruncate");
	touch(fd);
}

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4 || (strcmp(argv[1], "heap") != 0 && strcmp(argv[1], "memfd") != 0)) {
		fprintf(stderr, "usage: alloc-seq heap|memfd <iterations> [<heap path>]\n");
		return 2;
	}
	char *end;
	long n = strtol(argv[2], &end, 10);
	if (*end != '\0' || n < 1 || n > 100000000) {
		fprintf(stderr, "alloc-seq: iterations must be 1..100000000, not '%s'\n", argv[2]);
		return 2;
	}
	int heap = strcmp(argv[1], "heap") == 0;
	if (heap) {
		const char *path = argc == 4 ? argv[3] : "/dev/dma_heap/system";
		heap_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (heap_fd < 0)
			die(path);
	}
	void (*once)(void) = heap ? heap_once : memfd_once;
	long warm = n / 10 < 10 ? 10 : n / 10;
	for (long i = 0; i < warm; i++)
		once();
	double t0 = now_ns();
	for (long i = 0; i < n; i++)
		once();
	double t1 = now_ns();
	printf("%s %ld %.1f\n", argv[1], n, (t1 - t0) / (double)n);
	return 0;
}
