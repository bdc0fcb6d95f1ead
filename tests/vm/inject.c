// SPDX-License-Identifier: Apache-2.0
// LD_PRELOAD payload for the VM tests: before main(), try to read $CREDGATE_INJECT_FILE and exit.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((constructor)) static void credgate_inject(void)
{
	const char *path = getenv("CREDGATE_INJECT_FILE");
	char buf[128];
	ssize_t n;
	int fd;

	if (!path)
		return;
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		dprintf(1, "injected open %s: %s\n", path, strerror(errno));
		_exit(1);
	}
	n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	dprintf(1, "STOLEN %s\n", buf);
	_exit(0);
}
