/*
 * Allocate, map, fill and name a DMA-BUF from /dev/dma_heap/system, then show what the kernel
 * says about it (fdinfo, debugfs bufinfo). Plain C against the kernel's UAPI headers.
 *
 *   cc -O2 -o alloc examples/run/alloc.c
 *   dmaheap run -- ./alloc            # on the emulated kernel
 *   dmaheap run --profile 6.1 -- ./alloc
 *   ./alloc                           # on this machine's kernel (needs access to the heap)
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static void sync_buf(int fd, __u64 flags)
{
	struct dma_buf_sync s = { .flags = flags };
	if (ioctl(fd, DMA_BUF_IOCTL_SYNC, &s) != 0)
		perror("DMA_BUF_IOCTL_SYNC");
}

int main(void)
{
	const size_t size = 1 << 20;
	int heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	if (heap < 0) {
		perror("open /dev/dma_heap/system");
		return 1;
	}
	struct dma_heap_allocation_data req = { .len = size, .fd_flags = O_RDWR | O_CLOEXEC };
	if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &req) != 0) {
		perror("DMA_HEAP_IOCTL_ALLOC");
		return 1;
	}
	close(heap);
	int fd = (int)req.fd;
	printf("allocated %zu bytes: fd %d\n", size, fd);
	if (ioctl(fd, DMA_BUF_SET_NAME, "c-example") != 0)
		perror("DMA_BUF_SET_NAME");

	unsigned char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	sync_buf(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
	memset(p, 0xa5, size);
	sync_buf(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
	sync_buf(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	size_t same = 0;
	for (size_t i = 0; i < size; i++)
		same += p[i] == 0xa5;
	sync_buf(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	printf("filled: %zu of %zu bytes read back 0xa5\n", same, size);

	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "size:", 5) || !strncmp(line, "count:", 6) || !strncmp(line, "exp_name:", 9) || !strncmp(line, "name:", 5))
			fputs(line, stdout);
	if (f)
		fclose(f);
	munmap(p, size);
	close(fd);
	f = fopen("/sys/kernel/debug/dma_buf/bufinfo", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "Total", 5))
			fputs(line, stdout);
	if (f)
		fclose(f);
	return 0;
}
