/*
 * dmaheap-bench: the C baseline of the Linux-backend benchmark (bench/linux/run.ts). Does the
 * same syscalls as the TypeScript side, in a loop, and prints the time per operation in ns.
 *
 * Usage: dmaheap-bench <heap path> <alloc-close ops>[:<loop>,...] [<size>:<ops> ...]
 * (with a list after the ops count, only the 4 KiB loops named there run)
 * Output, one line per benchmark:
 *   alloc-close 4096 <ns per op>          ioctl(DMA_HEAP_IOCTL_ALLOC, 4 KiB) + close
 *   alloc-name-close 4096 <ns per op>     the same + DMA_BUF_SET_NAME_B "dmaheap:<heap>" in between
 *   alloc-fstat-close 4096 <ns per op>    the same + fstat in between
 *   open-alloc-close 4096 <ns per op>     open(heap, O_RDONLY|O_CLOEXEC) + ALLOC + close(heap) + close
 *   close-ebadf 0 <ns per op>             close(-1): a syscall that fails at once (the entry cost)
 *                                         (these five with the alloc-close count; see above)
 *   map-read <size> <ns per op>           ALLOC + mmap(PROT_READ, MAP_SHARED) + memcpy of the
 *                                         whole mapping into a buffer + munmap + close
 *   map-read-fresh <size> <ns per op>     the same, copying into a buffer malloc'ed (and freed)
 *                                         per operation, as a JS readMem copy gets a fresh one
 * Each loop runs one untimed warm-up operation first. Exit status 1 on any syscall failure.
 * Build: gcc -static -O2 -o dmaheap-bench dmaheap-bench.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* <linux/dma-heap.h>, spelled out so the program builds without kernel headers */
struct dma_heap_allocation_data {
	uint64_t len;
	uint32_t fd;
	uint32_t fd_flags;
	uint64_t heap_flags;
};
#define DMA_HEAP_IOC_MAGIC 'H'
#define DMA_HEAP_IOCTL_ALLOC _IOWR(DMA_HEAP_IOC_MAGIC, 0x0, struct dma_heap_allocation_data)
/* <linux/dma-buf.h> */
#define DMA_BUF_BASE 'b'
#define DMA_BUF_SET_NAME_B _IOW(DMA_BUF_BASE, 1, uint64_t)

static int heap;
static const char *heap_path;
static char name[32];
static struct dma_heap_allocation_data data;

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "dmaheap-bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int alloc_fd(uint64_t len)
{
	data.len = len;
	data.fd = 0;
	data.fd_flags = O_RDWR | O_CLOEXEC;
	data.heap_flags = 0;
	if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &data) < 0)
		die("DMA_HEAP_IOCTL_ALLOC");
	return (int)data.fd;
}

static void alloc_close(void)
{
	if (close(alloc_fd(4096)) < 0)
		die("close");
}

static void alloc_name_close(void)
{
	int fd = alloc_fd(4096);
	if (ioctl(fd, DMA_BUF_SET_NAME_B, name) < 0)
		die("DMA_BUF_SET_NAME_B");
	if (close(fd) < 0)
		die("close");
}

static void alloc_fstat_close(void)
{
	struct stat st;
	int fd = alloc_fd(4096);
	if (fstat(fd, &st) < 0)
		die("fstat");
	if (close(fd) < 0)
		die("close");
}

static void open_alloc_close(void)
{
	int kept = heap;
	heap = open(heap_path, O_RDONLY | O_CLOEXEC);
	if (heap < 0)
		die(heap_path);
	int fd = alloc_fd(4096);
	if (close(heap) < 0)
		die("close");
	heap = kept;
	if (close(fd) < 0)
		die("close");
}

static void close_ebadf(void)
{
	if (close(-1) == 0 || errno != EBADF)
		die("close(-1)");
}

/* one untimed operation, then n timed ones; prints "<what> <size> <ns per op>" */
static void timed(const char *what, int size, void (*op)(void), long n)
{
	op();
	double t0 = now_ns();
	for (long i = 0; i < n; i++)
		op();
	double t1 = now_ns();
	printf("%s %d %.1f\n", what, size, (t1 - t0) / (double)n);
}

static unsigned char *dst;

static void map_read(size_t size, int fresh)
{
	if (fresh) {
		dst = malloc(size);
		if (dst == NULL)
			die("malloc");
	}
	int fd = alloc_fd(size);
	void *p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	memcpy(dst, p, size);
	/* the copy is observable: the compiler may not drop it */
	__asm__ volatile("" : : "r"(dst) : "memory");
	if (munmap(p, size) < 0)
		die("munmap");
	if (close(fd) < 0)
		die("close");
	if (fresh)
		free(dst);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s <heap path> <alloc-close ops> [<size>:<ops> ...]\n", argv[0]);
		return 2;
	}
	heap_path = argv[1];
	heap = open(heap_path, O_RDONLY | O_CLOEXEC);
	if (heap < 0)
		die(heap_path);
	const char *base = strrchr(heap_path, '/');
	snprintf(name, sizeof(name), "dmaheap:%s", base != NULL ? base + 1 : heap_path);
	long n = atol(argv[2]);
	const char *only = strchr(argv[2], ':');
	static const struct {
		const char *name;
		int size;
		void (*op)(void);
	} loops[] = {
		{ "alloc-close", 4096, alloc_close },
		{ "alloc-name-close", 4096, alloc_name_close },
		{ "alloc-fstat-close", 4096, alloc_fstat_close },
		{ "open-alloc-close", 4096, open_alloc_close },
		{ "close-ebadf", 0, close_ebadf },
	};
	for (size_t l = 0; n > 0 && l < sizeof(loops) / sizeof(loops[0]); l++) {
		if (only != NULL) {
			/* ":a,b": is this loop's name one of the comma-separated words? */
			size_t len = strlen(loops[l].name);
			const char *p = only + 1;
			int found = 0;
			while (*p != '\0' && !found) {
				const char *end = strchr(p, ',');
				size_t wl = end != NULL ? (size_t)(end - p) : strlen(p);
				found = wl == len && strncmp(p, loops[l].name, len) == 0;
				p = end != NULL ? end + 1 : p + wl;
			}
			if (!found)
				continue;
		}
		timed(loops[l].name, loops[l].size, loops[l].op, n);
	}
	for (int a = 3; a < argc; a++) {
		size_t size;
		long ops;
		if (sscanf(argv[a], "%zu:%ld", &size, &ops) != 2 || size == 0 || ops <= 0) {
			fprintf(stderr, "dmaheap-bench: bad argument %s (want size:ops)\n", argv[a]);
			return 2;
		}
		dst = malloc(size);
		if (dst == NULL)
			die("malloc");
		memset(dst, 1, size); /* fault the destination in, untimed */
		map_read(size, 0);
		double t0 = now_ns();
		for (long i = 0; i < ops; i++)
			map_read(size, 0);
		double t1 = now_ns();
		printf("map-read %zu %.1f\n", size, (t1 - t0) / (double)ops);
		free(dst);
		map_read(size, 1);
		t0 = now_ns();
		for (long i = 0; i < ops; i++)
			map_read(size, 1);
		t1 = now_ns();
		printf("map-read-fresh %zu %.1f\n", size, (t1 - t0) / (double)ops);
	}
	fflush(stdout);
	return 0;
}
