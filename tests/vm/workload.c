// SPDX-License-Identifier: Apache-2.0
// A workload for the VM tests: reads a credential into memory (in its main thread or a second one,
// at once or when told to) and waits, so attackers can try to get at the copy in its memory.
//
//   credgate-workload FILE READY [--thread] [--after MARKER] [--crash-after MARKER]
// Writes "PID ADDR" to READY once the secret is in memory at ADDR (hex) — with --after, writes
// "PID ADDR" at once (ADDR is where the secret will be) and reads only when MARKER exists.
// --crash-after: once MARKER exists, raises RLIMIT_CORE to unlimited itself and dies of SIGSEGV.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static char secret[256];
static const char *path;

static int wait_for(const char *marker)
{
	for (int i = 0; i < 6000; i++) {
		if (access(marker, F_OK) == 0)
			return 0;
		usleep(10000);
	}
	return -1;
}

static void *read_secret(void *unused)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	(void)unused;
	if (fd < 0) {
		fprintf(stderr, "workload: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	n = read(fd, secret, sizeof(secret) - 1);
	close(fd);
	if (n <= 0) {
		fprintf(stderr, "workload: read %s: %s\n", path, n < 0 ? strerror(errno) : "empty");
		exit(1);
	}
	return NULL;
}

static void announce(const char *ready)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", ready);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%d %lx\n", getpid(), (unsigned long)secret) < 0 || fclose(f) || rename(tmp, ready)) {
		perror(ready);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	const char *after = NULL, *crash_after = NULL;
	int use_thread = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: credgate-workload FILE READY [--thread] [--after MARKER] [--crash-after MARKER]\n");
		return 2;
	}
	path = argv[1];
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--thread"))
			use_thread = 1;
		else if (!strcmp(argv[i], "--after") && i + 1 < argc)
			after = argv[++i];
		else if (!strcmp(argv[i], "--crash-after") && i + 1 < argc)
			crash_after = argv[++i];
		else
			return 2;
	}
	if (after) {
		announce(argv[2]);
		if (wait_for(after))
			return 1;
	}
	if (use_thread) {
		pthread_t t;

		if (pthread_create(&t, NULL, read_secret, NULL) || pthread_join(t, NULL))
			return 1;
	} else {
		read_secret(NULL);
	}
	if (!after)
		announce(argv[2]);
	if (crash_after) {
		struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };

		if (wait_for(crash_after))
			return 1;
		setrlimit(RLIMIT_CORE, &unlimited);
		raise(SIGSEGV);
	}
	for (;;)
		pause();
}
