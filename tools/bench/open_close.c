// SPDX-License-Identifier: Apache-2.0
// Fast-path benchmark: open() and close() one unprotected file in a loop and print ns per pair.
// usage: credgate-bench-open FILE ITERATIONS
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec start, end;
	long iterations;
	double ns;

	if (argc != 3) {
		fprintf(stderr, "usage: %s FILE ITERATIONS\n", argv[0]);
		return 2;
	}
	iterations = strtol(argv[2], NULL, 10);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (long i = 0; i < iterations; i++) {
		int fd = open(argv[1], O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			perror(argv[1]);
			return 1;
		}
		close(fd);
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	ns = (double)(end.tv_sec - start.tv_sec) * 1e9 + (double)(end.tv_nsec - start.tv_nsec);
	printf("%.1f\n", ns / (double)iterations);
	return 0;
}
