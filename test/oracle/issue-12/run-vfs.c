/*
 * The VFS paths around the heap nodes and the dma-buf files, run natively: under
 * `dmaheap run --profile V` it must print what it prints on the referee V
 * (test/oracle/issue-12/run-vfs.V.out). Opens with every flag that changes the walk, stat and
 * lstat, O_PATH fds, directory fds and *at() calls relative to them, chdir/fchdir into
 * /dev/dma_heap, getcwd, /proc/self/fd links, access, readlink, mkdir in sysfs. Nothing is
 * created or removed (the emulated /dev is read-only: docs/fidelity.md read-only-paths).
 *
 * Build: gcc -O2 -static -o run-vfs run-vfs.c
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static void say(const char *what, long r)
{
	printf("%-52s ret=%ld errno=%s\n", what, r < 0 ? -1L : r, r < 0 ? strerrorname_np(errno) : "0");
}
#define R(x) do { errno = 0; long r_ = (long)(x); say(#x, r_); } while (0)

static void st(const char *what, int r, struct stat *s)
{
	if (r < 0)
		printf("%-52s errno=%s\n", what, strerrorname_np(errno));
	else
		printf("%-52s mode=%o nlink=%lu rdev=%u:%u size=%lld\n", what, s->st_mode, (unsigned long)s->st_nlink, major(s->st_rdev), minor(s->st_rdev), (long long)s->st_size);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct stat s;
	st("stat /dev/dma_heap", stat("/dev/dma_heap", &s), &s);
	st("stat /dev/dma_heap/system", stat("/dev/dma_heap/system", &s), &s);
	st("lstat /dev/dma_heap/system", lstat("/dev/dma_heap/system", &s), &s);
	st("stat /dev/dma_heap/system/", stat("/dev/dma_heap/system/", &s), &s);
	st("stat /dev/dma_heap/nope", stat("/dev/dma_heap/nope", &s), &s);
	st("stat /dev/dma_heap/../dma_heap/system", stat("/dev/dma_heap/../dma_heap/system", &s), &s);
	R(open("/dev/dma_heap/system", O_RDONLY | O_DIRECTORY));
	R(open("/dev/dma_heap/system/", O_RDONLY));
	R(open("/dev/dma_heap/system", O_RDWR | O_CREAT | O_EXCL, 0600));
	R(open("/dev/dma_heap/system", O_RDWR | O_CREAT, 0600));
	R(open("/dev/dma_heap", O_RDONLY));
	R(open("/dev/dma_heap", O_RDWR));
	R(open("/dev/dma_heap/system", O_RDONLY | O_NOFOLLOW));
	R(open("/dev/dma_heap/system", O_WRONLY | O_TRUNC));
	int p = open("/dev/dma_heap/system", O_PATH | O_CLOEXEC);
	say("open O_PATH", p);
	st("fstat O_PATH", fstat(p, &s), &s);
	char buf[64];
	R(read(p, buf, 1));
	R(fcntl(p, F_GETFL) & ~0100000);
	char link[128] = "", path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p);
	R(readlink(path, link, sizeof(link) - 1));
	printf("link %s\n", link);
	R(open(path, O_RDONLY | O_CLOEXEC));
	close(p);
	int d = open("/dev/dma_heap", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	say("open dir", d);
	st("fstatat dir system", fstatat(d, "system", &s, 0), &s);
	R(openat(d, "system", O_RDONLY | O_CLOEXEC));
	R(openat(d, "nope", O_RDONLY));
	R(faccessat(d, "system", R_OK, 0));
	R(faccessat(d, "system", X_OK, 0));
	R(fchdir(d));
	char cwd[128] = "";
	R(getcwd(cwd, sizeof(cwd)) ? (long)strlen(cwd) : -1);
	printf("cwd %s\n", cwd);
	R(open("system", O_RDONLY | O_CLOEXEC));
	st("stat system (relative)", stat("system", &s), &s);
	R(chdir("/"));
	R(chdir("/dev/dma_heap"));
	R(getcwd(cwd, sizeof(cwd)) ? (long)strlen(cwd) : -1);
	printf("cwd %s\n", cwd);
	R(open("./system", O_RDONLY | O_CLOEXEC));
	R(chdir("/dev/dma_heap/system"));
	R(chdir("/"));
	R(access("/dev/dma_heap/system", F_OK));
	R(access("/dev/dma_heap/system", W_OK));
	R(mkdir("/sys/kernel/dmabuf/x", 0755));
	R(readlink("/dev/dma_heap/system", buf, sizeof(buf)));
	DIR *dir = opendir("/sys/kernel/dmabuf");
	struct dirent *e;
	printf("ls /sys/kernel/dmabuf:");
	while (dir && (e = readdir(dir)))
		printf(" %s/%d", e->d_name, e->d_type);
	printf("\n");
	if (dir)
		closedir(dir);
	dir = opendir("/dev/dma_heap");
	printf("ls /dev/dma_heap:");
	while (dir && (e = readdir(dir)))
		printf(" %s/%d", e->d_name, e->d_type);
	printf("\n");
	if (dir)
		closedir(dir);
	return 0;
}
