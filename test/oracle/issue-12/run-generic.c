/*
 * The generic mm and fd paths around a dma-buf, run natively: under `dmaheap run --profile V`
 * it must print what it prints on the referee V (test/oracle/issue-12/run-generic.V.out).
 * mprotect, madvise, msync, mlock, mremap of a buffer mapping; fcntl, dup3, fstat, lseek, poll,
 * epoll, /proc/self/fd and fdinfo of a buffer, a forked child's view of it.
 *
 * Build: gcc -O2 -static -o run-generic run-generic.c
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct dma_heap_allocation_data { uint64_t len; uint32_t fd; uint32_t fd_flags; uint64_t heap_flags; };
#define DMA_HEAP_IOCTL_ALLOC _IOWR('H', 0x0, struct dma_heap_allocation_data)

static void say(const char *what, long r)
{
	printf("%-34s ret=%ld errno=%s\n", what, r < 0 ? -1L : r, r < 0 ? strerrorname_np(errno) : "0");
}
#define R(x) do { errno = 0; long r_ = (long)(x); say(#x, r_ == -1 ? -1 : r_); } while (0)

static void fdinfo_count(const char *who, int fd)
{
	char path[64], line[128];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "count:", 6))
			printf("%s fdinfo %s", who, line);
	if (f)
		fclose(f);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	int h = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	struct dma_heap_allocation_data a = { .len = 65536, .fd_flags = O_RDWR | O_CLOEXEC };
	R(ioctl(h, DMA_HEAP_IOCTL_ALLOC, &a));
	int fd = (int)a.fd;
	char *p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	R(p == MAP_FAILED ? -1 : 0);
	R(mprotect(p, 4096, PROT_READ));
	R(mprotect(p, 4096, PROT_READ | PROT_WRITE | PROT_EXEC));
	R(madvise(p, 4096, MADV_DONTNEED));
	R(madvise(p, 4096, MADV_WILLNEED));
	R(madvise(p, 4096, MADV_DONTFORK));
	R(madvise(p, 4096, MADV_DOFORK));
	R(msync(p, 4096, MS_SYNC));
	R(msync(p, 4096, MS_ASYNC));
	R(mlock(p, 4096));
	R(munlock(p, 4096));
	R(mremap(p, 65536, 131072, 0) == MAP_FAILED ? -1 : 0);
	R(mremap(p, 65536, 131072, MREMAP_MAYMOVE) == MAP_FAILED ? -1 : 0);
	R(mremap(p, 65536, 4096, 0) == MAP_FAILED ? -1 : 0);
	fdinfo_count("mapped", fd);

	R(fcntl(fd, F_GETFL) & (O_ACCMODE | O_NONBLOCK | O_APPEND));
	R(fcntl(fd, F_SETFL, O_NONBLOCK | O_APPEND));
	R(fcntl(fd, F_GETFL) & (O_ACCMODE | O_NONBLOCK | O_APPEND));
	R(fcntl(fd, F_GETFD));
	int d = dup3(fd, 20, 0);
	R(d);
	R(fcntl(20, F_GETFD));
	R(fcntl(fd, F_DUPFD_CLOEXEC, 30));
	R(fcntl(30, F_GETFD));
	fdinfo_count("dup'ed", fd);
	R(close(20));
	R(close(30));
	struct stat st;
	R(fstat(fd, &st));
	printf("fstat mode=%o size=%lld nlink=%lu blksize=%ld\n", st.st_mode, (long long)st.st_size, (unsigned long)st.st_nlink, (long)st.st_blksize);
	R(lseek(fd, 0, SEEK_END));
	R(lseek(fd, 0, SEEK_CUR));
	struct pollfd pf = { .fd = fd, .events = POLLIN | POLLOUT | POLLPRI };
	R(poll(&pf, 1, 0));
	printf("poll revents=0x%x\n", pf.revents);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.u64 = 7 };
	R(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
	struct epoll_event out[2];
	R(epoll_wait(ep, out, 2, 0));
	printf("epoll events=0x%x data=%llu\n", out[0].events, (unsigned long long)out[0].data.u64);
	R(epoll_ctl(ep, EPOLL_CTL_ADD, h, &ev));
	close(ep);
	char link[128] = "";
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", h);
	R(readlink(path, link, sizeof(link) - 1));
	printf("heap fd link=%s\n", link);

	pid_t pid = fork();
	if (pid == 0) {
		fdinfo_count("child", fd);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	fdinfo_count("after child", fd);
	R(munmap(p, 65536));
	fdinfo_count("unmapped", fd);
	close(fd);
	close(h);
	return 0;
}
