// SPDX-License-Identifier: Apache-2.0
// Attacks on a bound workload's credential for the VM tests (a C program: starts fast under TCG).
// Prints what it stole and exits 0 when an attack works; prints the errno and exits 1 when refused.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

static int refused(const char *what)
{
	printf("%s: %s (%s)\n", what, strerrorname_np(errno) ? strerrorname_np(errno) : "?", strerror(errno));
	return 1;
}

static int print_fd(int fd)
{
	char buf[128];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n < 0)
		return refused("read");
	buf[n] = 0;
	printf("%s", buf);
	return 0;
}

static int read_path(const char *path)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return refused(path);
	return print_fd(fd);
}

static int recv_fd(const char *sock_path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char data[16], control[CMSG_SPACE(sizeof(int) * 4)];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
			      .msg_controllen = sizeof(control) };
	struct cmsghdr *cmsg;
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	strncpy(addr.sun_path, sock_path, sizeof(addr.sun_path) - 1);
	if (connect(s, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return refused("connect");
	if (recvmsg(s, &msg, 0) < 0)
		return refused("recvmsg");
	cmsg = CMSG_FIRSTHDR(&msg);
	if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS) {
		errno = EACCES;
		printf("no descriptor received (msg_flags %#x): ", msg.msg_flags);
		return refused("SCM_RIGHTS");
	}
	return print_fd(*(int *)CMSG_DATA(cmsg));
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (!strcmp(cmd, "open") && argc == 3)
		return read_path(argv[2]);
	if (!strcmp(cmd, "open-and-wait") && argc == 3) {
		int ret = read_path(argv[2]);

		fflush(stdout);
		sleep(30);
		return ret;
	}
	if (!strcmp(cmd, "prctl-comm") && argc == 4) {
		prctl(PR_SET_NAME, argv[2], 0, 0, 0);
		return read_path(argv[3]);
	}
	if (!strcmp(cmd, "proc-comm") && argc == 4) {
		FILE *f = fopen("/proc/self/comm", "w");

		if (!f || fputs(argv[2], f) < 0 || fclose(f))
			return refused("/proc/self/comm");
		return read_path(argv[3]);
	}
	if (!strcmp(cmd, "recvfd") && argc == 3)
		return recv_fd(argv[2]);
	if (!strcmp(cmd, "pidfd-getfd") && argc == 4) {
		int pidfd = (int)syscall(SYS_pidfd_open, atoi(argv[2]), 0);
		int fd;

		if (pidfd < 0)
			return refused("pidfd_open");
		fd = (int)syscall(SYS_pidfd_getfd, pidfd, atoi(argv[3]), 0);
		if (fd < 0)
			return refused("pidfd_getfd");
		printf("got fd %d\n", fd);
		return 0;
	}
	if (!strcmp(cmd, "ptrace") && argc == 3) {
		pid_t pid = atoi(argv[2]);

		if (ptrace(PTRACE_ATTACH, pid, 0, 0) < 0)
			return refused("ptrace(PTRACE_ATTACH)");
		waitpid(pid, NULL, 0);
		ptrace(PTRACE_DETACH, pid, 0, 0);
		printf("attached\n");
		return 0;
	}
	if (!strcmp(cmd, "mem") && argc == 3) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%s/mem", argv[2]);
		if (open(path, O_RDONLY) < 0)
			return refused(path);
		printf("opened\n");
		return 0;
	}
	if (!strcmp(cmd, "setxattr") && argc == 3) {
		if (setxattr(argv[2], "trusted.credgate-test", "1", 1, 0) < 0)
			return refused("setxattr");
		printf("set\n");
		return 0;
	}
	if (!strcmp(cmd, "flood") && argc == 4) {
		int denied = 0, n = atoi(argv[3]);

		for (int i = 0; i < n; i++) {
			int fd = open(argv[2], O_RDONLY);

			if (fd < 0)
				denied++;
			else
				close(fd);
		}
		printf("pid %d denied %d\n", getpid(), denied);
		return 0;
	}
	fprintf(stderr, "usage: credgate-attack open|open-and-wait|prctl-comm|proc-comm|recvfd|pidfd-getfd|ptrace|mem|setxattr|flood ...\n");
	return 2;
}
