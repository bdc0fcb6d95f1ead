// SPDX-License-Identifier: Apache-2.0
// Attacks on a bound workload's credential for the VM tests (a C program: starts fast under TCG).
// Prints what it stole and exits 0 when an attack works; prints the errno and exits 1 when refused.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/uio.h>
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

static int wait_for(const char *marker)
{
	for (int i = 0; i < 6000; i++) {
		if (access(marker, F_OK) == 0)
			return 0;
		usleep(10000);
	}
	errno = ETIMEDOUT;
	return -1;
}

static int touch(const char *marker)
{
	int fd = open(marker, O_WRONLY | O_CREAT, 0666);

	if (fd < 0)
		return -1;
	return close(fd);
}

/* Prints the secret when `buf` holds one (non-empty), as proof of the theft. */
static int stolen(const char *buf, ssize_t n)
{
	if (n <= 0 || !buf[0]) {
		printf("nothing in memory yet\n");
		return 1;
	}
	printf("STOLEN %.*s\n", (int)n, buf);
	return 0;
}

static int mem_read(const char *pid, const char *addr, int early_marker_given, const char *marker)
{
	char path[64], buf[128] = { 0 };
	unsigned long at = strtoul(addr, NULL, 16);
	ssize_t n = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/mem", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return refused(path);
	if (early_marker_given) {
		/* Opened before the workload holds its key: let it read, then look. */
		if (touch(marker))
			return refused(marker);
		for (int i = 0; i < 3000; i++) {
			n = pread(fd, buf, sizeof(buf) - 1, (off_t)at);
			if (n < 0)
				return refused("pread");
			if (buf[0])
				break;
			usleep(10000);
		}
	} else {
		n = pread(fd, buf, sizeof(buf) - 1, (off_t)at);
		if (n < 0)
			return refused("pread");
	}
	return stolen(buf, n);
}

static int vm_read(const char *pid, const char *addr)
{
	char buf[128] = { 0 };
	struct iovec local = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
	struct iovec remote = { .iov_base = (void *)strtoul(addr, NULL, 16), .iov_len = sizeof(buf) - 1 };
	ssize_t n = process_vm_readv(atoi(pid), &local, 1, &remote, 1, 0);

	if (n < 0)
		return refused("process_vm_readv");
	return stolen(buf, n);
}

/* A sampling event that copies user registers and 4 KiB of user stack with every sample: on a task
 * (pid, any CPU) or on every task of CPU 0 (pid -1). */
static int perf_sample(int pid, int cpu, const char *what)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = pid >= 0 ? PERF_COUNT_SW_TASK_CLOCK : PERF_COUNT_SW_CPU_CLOCK,
		.sample_period = 100000,
		.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_STACK_USER | PERF_SAMPLE_REGS_USER,
		.sample_stack_user = 4096,
		.sample_regs_user = 0xff,
		.exclude_kernel = pid >= 0,
		.disabled = 1,
	};
	int fd = (int)syscall(SYS_perf_event_open, &attr, pid, cpu, -1, 0);

	if (fd < 0)
		return refused("perf_event_open");
	printf("%s perf event %d opened\n", what, fd);
	return 0;
}

/* Loads a kprobe program that calls bpf_probe_read_kernel (the kernel checks lockdown's
 * LOCKDOWN_BPF_READ_KERNEL when it resolves the helper). */
static int load_kernel_reader(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = 1, .src_reg = 10 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = 1, .imm = -8 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 2, .imm = 8 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 3, .imm = 0 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_probe_read_kernel },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	char log[4096] = { 0 };
	union bpf_attr attr = { 0 };
	int fd;

	attr.prog_type = BPF_PROG_TYPE_KPROBE;
	attr.insns = (unsigned long)insns;
	attr.insn_cnt = sizeof(insns) / sizeof(insns[0]);
	attr.license = (unsigned long)"GPL";
	attr.log_buf = (unsigned long)log;
	attr.log_size = sizeof(log);
	attr.log_level = 1;
	fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	if (fd < 0) {
		printf("%s", log);
		return refused("BPF_PROG_LOAD");
	}
	printf("loaded a kernel-reading kprobe program (fd %d)\n", fd);
	return 0;
}

static int prlimit_core(const char *pid)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };

	if (prlimit(atoi(pid), RLIMIT_CORE, &unlimited, NULL) < 0)
		return refused("prlimit(RLIMIT_CORE)");
	printf("core limit raised\n");
	return 0;
}

/* Holds an O_PATH fd across whatever happens until MARKER exists, then re-opens it through /proc. */
static int opath_reopen(const char *file, const char *ready, const char *marker)
{
	char path[64];
	int fd = open(file, O_PATH), ofd;

	if (fd < 0)
		return refused("open(O_PATH)");
	if (touch(ready) || wait_for(marker))
		return refused(marker);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ofd = open(path, O_RDONLY);
	if (ofd < 0)
		return refused(path);
	return print_fd(ofd);
}

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

struct race {
	int target, link, decoy;
	volatile int stop;
};

static void *flip(void *data)
{
	struct race *r = data;

	while (!r->stop) {
		dup2(r->link, r->target);
		dup2(r->decoy, r->target);
	}
	return NULL;
}

/* BPF_LINK_DETACH of fd N while another thread swaps our link in and out of N: the hook reads the
 * fd table before the syscall looks N up again. Counts each outcome. */
static int link_race(const char *pin, int rounds)
{
	union bpf_attr attr = { 0 };
	struct race r = { .target = 100 };
	/* detached, EPERM (the hook saw our link), EOPNOTSUPP (the hook saw the decoy, the syscall our
	 * link: the race was won and the kernel refused), EINVAL (the decoy), other */
	int counts[5] = { 0 };
	pthread_t t;

	attr.pathname = (unsigned long)pin;
	attr.file_flags = 0;
	r.link = (int)sys_bpf(BPF_OBJ_GET, &attr);
	if (r.link < 0)
		return refused("BPF_OBJ_GET");
	r.decoy = open("/dev/null", O_RDONLY);
	dup2(r.decoy, r.target);
	pthread_create(&t, NULL, flip, &r);
	for (int i = 0; i < rounds; i++) {
		memset(&attr, 0, sizeof(attr));
		attr.link_detach.link_fd = (unsigned)r.target;
		if (sys_bpf(BPF_LINK_DETACH, &attr) == 0)
			counts[0]++;
		else if (errno == EPERM)
			counts[1]++;
		else if (errno == EOPNOTSUPP)
			counts[2]++;
		else if (errno == EINVAL)
			counts[3]++;
		else
			counts[4]++;
	}
	r.stop = 1;
	pthread_join(t, NULL);
	printf("detached %d refused-by-credgate %d race-won-refused-by-kernel %d decoy %d other %d\n", counts[0],
	       counts[1], counts[2], counts[3], counts[4]);
	return counts[0] ? 0 : 1;
}

static int read_mmap(const char *file)
{
	int fd = open(file, O_RDONLY);
	char *p;

	if (fd < 0)
		return refused(file);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return refused("mmap");
	printf("%.64s", p);
	return 0;
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
	if (!strcmp(cmd, "mount-bind") && argc == 4) {
		if (mount(argv[2], argv[3], NULL, MS_BIND, NULL) < 0)
			return refused("mount(MS_BIND)");
		printf("mounted\n");
		return 0;
	}
	if (!strcmp(cmd, "mount-tmpfs") && argc == 3) {
		if (mount("none", argv[2], "tmpfs", 0, NULL) < 0)
			return refused("mount(tmpfs)");
		printf("mounted\n");
		return 0;
	}
	if (!strcmp(cmd, "umount") && argc == 3) {
		if (umount2(argv[2], MNT_DETACH) < 0)
			return refused("umount2(MNT_DETACH)");
		printf("unmounted\n");
		return 0;
	}
	if (!strcmp(cmd, "openonly") && argc == 3) {
		if (open(argv[2], O_RDONLY) < 0)
			return refused(argv[2]);
		printf("opened\n");
		return 0;
	}
	if (!strcmp(cmd, "wait-open") && argc == 4) {
		if (wait_for(argv[2]))
			return refused(argv[2]);
		return read_path(argv[3]);
	}
	if (!strcmp(cmd, "fd-read") && argc == 3)
		return print_fd(atoi(argv[2]));
	if (!strcmp(cmd, "memread") && argc == 4)
		return mem_read(argv[2], argv[3], 0, NULL);
	if (!strcmp(cmd, "mem-early") && argc == 5)
		return mem_read(argv[2], argv[3], 1, argv[4]);
	if (!strcmp(cmd, "vmread") && argc == 4)
		return vm_read(argv[2], argv[3]);
	if (!strcmp(cmd, "perf") && argc == 3)
		return perf_sample(atoi(argv[2]), -1, "per-task");
	if (!strcmp(cmd, "perf-cpu") && argc == 2)
		return perf_sample(-1, 0, "cpu-wide");
	if (!strcmp(cmd, "bpf-read-kernel") && argc == 2)
		return load_kernel_reader();
	if (!strcmp(cmd, "prlimit-core") && argc == 3)
		return prlimit_core(argv[2]);
	if (!strcmp(cmd, "opath-reopen") && argc == 5)
		return opath_reopen(argv[2], argv[3], argv[4]);
	if (!strcmp(cmd, "link-race") && argc == 4)
		return link_race(argv[2], atoi(argv[3]));
	if (!strcmp(cmd, "mmap") && argc == 3)
		return read_mmap(argv[2]);
	fprintf(stderr, "usage: credgate-attack openonly|wait-open|fd-read|memread|mem-early|vmread|perf|prlimit-core|"
			"opath-reopen|link-race|mmap|perf-cpu|bpf-read-kernel|open|open-and-wait|prctl-comm|proc-comm|recvfd|pidfd-getfd|ptrace|mem|setxattr|flood ...\n");
	return 2;
}
