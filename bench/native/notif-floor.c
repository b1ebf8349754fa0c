/*
 * notif-floor: the least a seccomp user-notification supervisor can cost, for the `run-*`
 * benchmarks (bench/run.ts). SPDX-License-Identifier: MIT
 *
 * Usage: notif-floor <nr,nr,...> <program> [args...]   (nr: the host's system call numbers)
 *
 * Runs the program under a filter that stops the listed system calls (mmap only with an fd, as
 * dmaheap run's filter does) and answers every notification with SECCOMP_USER_NOTIF_FLAG_CONTINUE
 * from a plain C loop (poll + NOTIF_RECV + NOTIF_SEND, synchronous wake-ups where the kernel has
 * them): the same round trips as `dmaheap run`, with no decision work. Prints
 * `notif-floor <notifications>` on stderr; the exit status is the program's (125 on a setup
 * failure).
 *
 * Build: gcc -O2 -o notif-floor notif-floor.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP 1
#endif
#define MAX_NRS 128
#define COOKIE 0x5eedf10fu

static void fail(const char *what)
{
	perror(what);
	exit(125);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: notif-floor <nr,nr,...> <program> [args...]\n");
		return 125;
	}
	long nrs[MAX_NRS];
	int count = 0;
	for (char *s = argv[1]; *s != '\0' && count < MAX_NRS;) {
		char *end;
		nrs[count++] = strtol(s, &end, 10);
		if (end == s || (*end != ',' && *end != '\0')) {
			fprintf(stderr, "notif-floor: bad syscall list '%s'\n", argv[1]);
			return 125;
		}
		s = *end == ',' ? end + 1 : end;
	}
	/* the program's path, searched before the filter stops access() */
	char exe[4096];
	if (strchr(argv[2], '/') != NULL) {
		snprintf(exe, sizeof exe, "%s", argv[2]);
	} else {
		const char *path = getenv("PATH");
		int found = 0;
		for (const char *d = path != NULL ? path : "/usr/bin:/bin"; !found && *d != '\0';) {
			size_t len = strcspn(d, ":");
			snprintf(exe, sizeof exe, "%.*s/%s", (int)len, d, argv[2]);
			found = len > 0 && access(exe, X_OK) == 0;
			d += len + (d[len] == ':');
		}
		if (!found) {
			fprintf(stderr, "notif-floor: %s: not found in PATH\n", argv[2]);
			return 127;
		}
	}
	/*
	 * args[5] == COOKIE → allow (the child's own calls between the filter and execve, as
	 * dmaheap-launch does); mmap with fd -1 → allow; a listed nr → notify; else allow.
	 */
	struct sock_filter f[MAX_NRS + 12];
	int n = 0;
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[5]));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, COOKIE, 0, 1);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 0, 3);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[4]));
	/* fd -1: allow; else jump over the list and its allow, to notify */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffu, 0, (unsigned char)(count + 2));
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	for (int i = 0; i < count; i++)
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nrs[i], (unsigned char)(count - i), 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
	struct sock_fprog prog = { (unsigned short)n, f };

	int up[2], down[2];
	if (pipe(up) != 0 || pipe(down) != 0)
		fail("pipe");
	pid_t pid = fork();
	if (pid < 0)
		fail("fork");
	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
			fail("prctl");
		int l = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
		if (l < 0)
			fail("seccomp");
		if (syscall(SYS_write, up[1], &l, sizeof l, 0, 0, COOKIE) != (long)sizeof l)
			_exit(125);
		char go;
		if (syscall(SYS_read, down[0], &go, 1, 0, 0, COOKIE) != 1)
			_exit(125);
		syscall(SYS_execve, exe, argv + 2, environ, 0, 0, COOKIE);
		_exit(127);
	}
	int l;
	if (read(up[0], &l, sizeof l) != sizeof l)
		fail("read");
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int lis = pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pidfd, l, 0);
	if (lis < 0)
		fail("pidfd_getfd");
	ioctl(lis, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
	if (write(down[1], "g", 1) != 1)
		fail("write");
	long served = 0;
	for (;;) {
		struct pollfd p = { lis, POLLIN, 0 };
		if (poll(&p, 1, 50) < 0 && errno != EINTR)
			fail("poll");
		if (p.revents & POLLIN) {
			struct seccomp_notif req;
			struct seccomp_notif_resp resp;
			memset(&req, 0, sizeof req);
			if (ioctl(lis, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0)
				continue;
			served++;
			memset(&resp, 0, sizeof resp);
			resp.id = req.id;
			resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
			ioctl(lis, SECCOMP_IOCTL_NOTIF_SEND, &resp); /* ENOENT: the caller died */
		} else if (p.revents & POLLHUP) {
			break;
		}
	}
	int st;
	if (waitpid(pid, &st, 0) < 0)
		fail("waitpid");
	fprintf(stderr, "notif-floor %ld\n", served);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
