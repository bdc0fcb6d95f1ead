// SPDX-License-Identifier: Apache-2.0
// Fast-path benchmark: one operation in a loop, printing nanoseconds per iteration (guest time: use
// instruction counting for stable figures).
// usage: credgate-bench-open FILE ITERATIONS [MODE]
//   open       open()+close() of FILE
//   read       pread() of one byte from one open fd of FILE
//   cat        open(), read() to the end (4 KiB at a time), close(): what an agent does to read its key
//   fanotify   open()+close() of FILE while a fanotify FAN_OPEN_PERM listener on FILE's mount answers
//              FAN_ALLOW to every open (what a userspace enforcer costs); needs CAP_SYS_ADMIN
//   fork       fork() and _exit() of a child, waited for (FILE is not used)
//   exec       fork(), execve() of FILE (a program; run with no arguments) and wait
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/fanotify.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int bench_open(const char *path, long iterations)
{
	for (long i = 0; i < iterations; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			perror(path);
			return 1;
		}
		close(fd);
	}
	return 0;
}

static int bench_read(const char *path, long iterations)
{
	char byte;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		perror(path);
		return 1;
	}
	for (long i = 0; i < iterations; i++) {
		if (pread(fd, &byte, 1, 0) != 1) {
			perror("pread");
			return 1;
		}
	}
	close(fd);
	return 0;
}

static int bench_cat(const char *path, long iterations)
{
	char buf[4096];

	for (long i = 0; i < iterations; i++) {
		ssize_t n;
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			perror(path);
			return 1;
		}
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			;
		close(fd);
		if (n < 0) {
			perror("read");
			return 1;
		}
	}
	return 0;
}

/* fork() a child that runs @path (no arguments, no environment) or, with @path NULL, exits at once;
 * wait for it to exit 0. */
static int bench_spawn(const char *path, long iterations)
{
	char *const args[] = { (char *)path, NULL };
	char *const env[] = { NULL };

	for (long i = 0; i < iterations; i++) {
		int status;
		pid_t pid = fork();

		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			if (path)
				execve(path, args, env);
			_exit(path ? 127 : 0);
		}
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "%s did not run and exit 0\n", path ? path : "the child");
			return 1;
		}
	}
	return 0;
}

/* A child that answers FAN_ALLOW to every permission event on FILE's mount, until killed. The parent
 * waits for its mark (a byte on a pipe) before measuring. */
static pid_t start_fanotify_allower(const char *path)
{
	int ready[2];
	pid_t pid;
	char byte;

	if (pipe(ready) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char buf[4096] __attribute__((aligned(8)));
		int fan = fanotify_init(FAN_CLOEXEC | FAN_CLASS_CONTENT, O_RDONLY | O_LARGEFILE);

		if (fan < 0 || fanotify_mark(fan, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_OPEN_PERM, AT_FDCWD, path) != 0) {
			perror("fanotify");
			_exit(1);
		}
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		for (;;) {
			ssize_t len = read(fan, buf, sizeof(buf));
			struct fanotify_event_metadata *m = (struct fanotify_event_metadata *)buf;

			if (len <= 0)
				_exit(1);
			for (; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
				struct fanotify_response r = { .fd = m->fd, .response = FAN_ALLOW };

				if (m->mask & FAN_OPEN_PERM && write(fan, &r, sizeof(r)) != sizeof(r))
					_exit(1);
				if (m->fd >= 0)
					close(m->fd);
			}
		}
	}
	close(ready[1]);
	if (read(ready[0], &byte, 1) != 1) {
		close(ready[0]);
		waitpid(pid, NULL, 0);
		return -1;
	}
	close(ready[0]);
	return pid;
}

int main(int argc, char **argv)
{
	struct timespec start, end;
	const char *mode = argc > 3 ? argv[3] : "open";
	pid_t allower = 0;
	long iterations;
	double ns;
	int rc;

	if (argc < 3 || argc > 4 ||
	    (strcmp(mode, "open") && strcmp(mode, "read") && strcmp(mode, "cat") && strcmp(mode, "fanotify") &&
	     strcmp(mode, "fork") && strcmp(mode, "exec"))) {
		fprintf(stderr, "usage: %s FILE ITERATIONS [open|read|cat|fanotify|fork|exec]\n", argv[0]);
		return 2;
	}
	iterations = strtol(argv[2], NULL, 10);
	if (!strcmp(mode, "fanotify")) {
		allower = start_fanotify_allower(argv[1]);
		if (allower < 0) {
			fprintf(stderr, "cannot start the fanotify listener\n");
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	if (!strcmp(mode, "read"))
		rc = bench_read(argv[1], iterations);
	else if (!strcmp(mode, "cat"))
		rc = bench_cat(argv[1], iterations);
	else if (!strcmp(mode, "fork"))
		rc = bench_spawn(NULL, iterations);
	else if (!strcmp(mode, "exec"))
		rc = bench_spawn(argv[1], iterations);
	else
		rc = bench_open(argv[1], iterations);
	clock_gettime(CLOCK_MONOTONIC, &end);
	if (allower > 0) {
		kill(allower, SIGKILL);
		waitpid(allower, NULL, 0);
	}
	if (rc)
		return rc;
	ns = (double)(end.tv_sec - start.tv_sec) * 1e9 + (double)(end.tv_nsec - start.tv_nsec);
	printf("%.1f\n", ns / (double)iterations);
	return 0;
}
