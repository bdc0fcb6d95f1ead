// SPDX-License-Identifier: Apache-2.0
// Fast-path benchmark: open()+close() of one file in a loop, or pread() of one byte from one open fd,
// and print nanoseconds per iteration (guest time: use instruction counting for stable figures).
// usage: credgate-bench-open FILE ITERATIONS [open|read]
#include <fcntl.h>
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

int main(int argc, char **argv)
{
	struct timespec start, end;
	const char *mode = argc > 3 ? argv[3] : "open";
	long iterations;
	double ns;
	int rc;

	if (argc < 3 || argc > 4 || (strcmp(mode, "open") && strcmp(mode, "read"))) {
		fprintf(stderr, "usage: %s FILE ITERATIONS [open|read]\n", argv[0]);
		return 2;
	}
	iterations = strtol(argv[2], NULL, 10);
	clock_gettime(CLOCK_MONOTONIC, &start);
	rc = strcmp(mode, "read") ? bench_open(argv[1], iterations) : bench_read(argv[1], iterations);
	clock_gettime(CLOCK_MONOTONIC, &end);
	if (rc)
		return rc;
	ns = (double)(end.tv_sec - start.tv_sec) * 1e9 + (double)(end.tv_nsec - start.tv_nsec);
	printf("%.1f\n", ns / (double)iterations);
	return 0;
}
