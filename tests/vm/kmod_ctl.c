// SPDX-License-Identifier: Apache-2.0
// Drives credgate.ko for tests/vm/kmod.sh: well-formed and malformed control operations, and
// readers that check every open() reads one whole version while the file is replaced.
#define _GNU_SOURCE
#include "credgate_shim_abi.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CTL "/dev/credgate"
#define ROOT "/sys/module/credgate/credentials"

_Static_assert(sizeof(struct credgate_shim_op) == CREDGATE_SHIM_OP_SIZE, "ABI size");

static const char *err_name(int e) { return e ? strerrorname_np(e) : "OK"; }

// Copies at most @size bytes: a name that fills its field has no NUL, as the long-name case wants.
static void set_field(char *field, size_t size, const char *value) {
    size_t n = strlen(value);
    memcpy(field, value, n < size ? n : size);
}

static void fill_op(struct credgate_shim_op *op, int opcode, const char *uuid, const char *dir,
                    const char *file) {
    memset(op, 0, sizeof(*op));
    op->magic = CREDGATE_SHIM_MAGIC;
    op->version = CREDGATE_SHIM_VERSION;
    op->opcode = (__u16)opcode;
    set_field(op->uuid, sizeof(op->uuid), uuid);
    set_field(op->dir, sizeof(op->dir), dir);
    set_field(op->file, sizeof(op->file), file);
}

// One write of an op and @len bytes of content; returns 0 or the errno.
static int submit(const struct credgate_shim_op *op, const void *content, size_t len, size_t count) {
    char *buf = malloc(sizeof(*op) + len + 1);
    memcpy(buf, op, sizeof(*op));
    if (len) memcpy(buf + sizeof(*op), content, len);
    int fd = open(CTL, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        free(buf);
        return e;
    }
    ssize_t n = write(fd, buf, count);
    int e = n < 0 ? errno : (size_t)n == count ? 0 : EIO;
    close(fd);
    free(buf);
    return e;
}

static int replace(const char *uuid, const char *dir, const char *file, const char *content, size_t len) {
    struct credgate_shim_op op;
    fill_op(&op, CREDGATE_SHIM_OP_REPLACE, uuid, dir, file);
    op.content_len = (__u32)len;
    return submit(&op, content, len, sizeof(op) + len);
}

static char *read_stdin(size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    ssize_t r;
    while ((r = read(0, buf + n, cap - n)) > 0) {
        n += (size_t)r;
        if (n == cap) buf = realloc(buf, cap *= 2);
    }
    *len = n;
    return buf;
}

// A malformed operation by name, against an existing uuid/dir/file.
static int malformed(const char *what, const char *uuid, const char *dir, const char *file) {
    struct credgate_shim_op op;
    static char big[CREDGATE_SHIM_CONTENT_MAX + 2];
    fill_op(&op, CREDGATE_SHIM_OP_REPLACE, uuid, dir, file);
    op.content_len = 4;
    if (!strcmp(what, "truncated")) return submit(&op, "evil", 4, sizeof(op) - 1);
    if (!strcmp(what, "short-content")) return submit(&op, "evil", 4, sizeof(op) + 3);
    if (!strcmp(what, "long-content")) return submit(&op, "evil!", 5, sizeof(op) + 5);
    if (!strcmp(what, "oversized")) {
        op.content_len = CREDGATE_SHIM_CONTENT_MAX + 1;
        return submit(&op, big, sizeof(big) - 1, sizeof(op) + CREDGATE_SHIM_CONTENT_MAX + 1);
    }
    if (!strcmp(what, "bad-magic")) op.magic ^= 1;
    else if (!strcmp(what, "bad-version")) op.version = 2;
    else if (!strcmp(what, "unknown-op")) op.opcode = 9;
    else if (!strcmp(what, "unknown-flag")) op.flags = 0x80;
    else if (!strcmp(what, "reserved")) op.reserved = 1;
    else if (!strcmp(what, "owner-on-replace")) op.flags = CREDGATE_SHIM_F_OWNER, op.uid = 1000;
    else if (!strcmp(what, "dotdot")) strcpy(op.file, "..");
    else if (!strcmp(what, "dot")) strcpy(op.dir, ".");
    else if (!strcmp(what, "slash")) strcpy(op.file, "a/b");
    else if (!strcmp(what, "empty")) op.file[0] = 0;
    else if (!strcmp(what, "hidden")) strcpy(op.file, ".vault.json");
    else if (!strcmp(what, "long-name")) memset(op.file, 'a', sizeof(op.file));
    else if (!strcmp(what, "bad-uuid")) op.uuid[0] = 'A';
    else if (!strcmp(what, "padding")) op.file[sizeof(op.file) - 1] = 'x';
    else if (!strcmp(what, "content-on-create")) op.opcode = CREDGATE_SHIM_OP_CREATE;
    else {
        fprintf(stderr, "unknown malformed case '%s'\n", what);
        exit(2);
    }
    return submit(&op, "evil", 4, sizeof(op) + 4);
}

// ---- versions: content whose every byte depends on its version, 8-16 KiB (several pages) ----
static size_t version_content(unsigned v, char *buf, size_t cap) {
    size_t pad = 8192 + (v * 389u) % 8192;
    int n = snprintf(buf, cap, "{\"version\":%u,\"pad\":\"", v);
    memset(buf + n, 'a' + (int)(v % 26), pad);
    memcpy(buf + n + pad, "\"}\n", 3);
    return (size_t)n + pad + 3;
}

// Reads a whole file in @chunk-byte reads; 0 and the bytes, or the errno.
static int read_all(int fd, char *buf, size_t cap, size_t chunk, size_t *len) {
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, chunk < cap - n ? chunk : cap - n);
        if (r < 0) return errno;
        if (r == 0) break;
        n += (size_t)r;
    }
    *len = n;
    return 0;
}

// 0 if @buf is exactly one version's content, and that version in @v.
static int check_version(const char *buf, size_t len, unsigned *v) {
    static __thread char want[20000];
    if (sscanf(buf, "{\"version\":%u,", v) != 1) return -1;
    size_t wlen = version_content(*v, want, sizeof(want));
    return wlen == len && !memcmp(want, buf, len) ? 0 : -1;
}

static const char *race_path;
static atomic_uint reads_done, bad_reads, straddled, replaces_done;
static unsigned total_reads;

static void *reader(void *arg) {
    (void)arg;
    static __thread char buf[40000];
    for (;;) {
        unsigned i = atomic_fetch_add(&reads_done, 0);
        if (i >= total_reads) break;
        unsigned before = atomic_load(&replaces_done);
        int fd = open(race_path, O_RDONLY | O_CLOEXEC);
        size_t len = 0;
        unsigned v;
        int e = fd < 0 ? errno : read_all(fd, buf, sizeof(buf), 1000, &len);
        if (fd >= 0) close(fd);
        if (e || check_version(buf, len, &v)) {
            if (atomic_fetch_add(&bad_reads, 1) < 5)
                fprintf(stderr, "bad read: %s, %zu bytes: %.40s\n", err_name(e), len, buf);
        }
        if (atomic_load(&replaces_done) != before) atomic_fetch_add(&straddled, 1);
        atomic_fetch_add(&reads_done, 1);
    }
    return NULL;
}

static int race(const char *uuid, const char *dir, const char *file, unsigned reads, unsigned replaces) {
    static char path[1024], content[20000];
    snprintf(path, sizeof(path), ROOT "/%s/%s/%s", uuid, dir, file);
    race_path = path;
    total_reads = reads;
    int e = replace(uuid, dir, file, content, version_content(0, content, sizeof(content)));
    if (e) return fprintf(stderr, "replace: %s\n", err_name(e)), 1;
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, reader, NULL);
    // Spread the replacements over the reads, so they land while files are open.
    for (unsigned v = 1; v <= replaces; v++) {
        while (atomic_load(&reads_done) < (v - 1) * reads / replaces) sched_yield();
        e = replace(uuid, dir, file, content, version_content(v, content, sizeof(content)));
        if (e) return fprintf(stderr, "replace %u: %s\n", v, err_name(e)), 1;
        atomic_fetch_add(&replaces_done, 1);
    }
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    printf("reads=%u bad=%u straddled_a_replace=%u replaces=%u\n", atomic_load(&reads_done),
           atomic_load(&bad_reads), atomic_load(&straddled), atomic_load(&replaces_done));
    return atomic_load(&bad_reads) || atomic_load(&straddled) == 0 ? 1 : 0;
}

// More unfinished readers than the module keeps snapshots for: the oldest gets ESTALE, the
// others finish the version they started on, a new open reads the new version.
static int snapshots(const char *uuid, const char *dir, const char *file) {
    enum { N = CREDGATE_SHIM_SNAPSHOTS_MAX + 1 };
    static char path[1024], content[20000], buf[40000];
    int fds[N];
    snprintf(path, sizeof(path), ROOT "/%s/%s/%s", uuid, dir, file);
    if (replace(uuid, dir, file, content, version_content(1000, content, sizeof(content)))) return 1;
    for (int i = 0; i < N; i++) {
        fds[i] = open(path, O_RDONLY | O_CLOEXEC);
        if (fds[i] < 0 || read(fds[i], buf, 100) != 100) return perror("open/read"), 1;
    }
    if (replace(uuid, dir, file, content, version_content(1001, content, sizeof(content)))) return 1;
    size_t len;
    unsigned v;
    int e = read_all(fds[0], buf + 100, sizeof(buf) - 100, 4096, &len);
    if (e != ESTALE) return fprintf(stderr, "oldest reader: %s, wanted ESTALE\n", err_name(e)), 1;
    for (int i = 1; i < N; i++) {
        int fd = fds[i];
        if (pread(fd, buf, 100, 0) != 100) return perror("pread"), 1;
        e = read_all(fd, buf + 100, sizeof(buf) - 100, 4096, &len);
        if (e || check_version(buf, len + 100, &v) || v != 1000)
            return fprintf(stderr, "reader %d: %s, version %u\n", i, err_name(e), v), 1;
        close(fd);
    }
    close(fds[0]);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read_all(fd, buf, sizeof(buf), 4096, &len) || check_version(buf, len, &v) || v != 1001)
        return fprintf(stderr, "new reader did not read version 1001\n"), 1;
    close(fd);
    printf("oldest=ESTALE others=version 1000 new=version 1001\n");
    return 0;
}

// Opens @path, reads 100 bytes, says "ready", waits for a line on stdin, then reads on and
// prints the errno of that read (the module may be gone by then).
static int hold(const char *path) {
    char buf[4096];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, buf, 100) != 100) return perror("hold"), 1;
    printf("ready\n");
    fflush(stdout);
    if (!fgets(buf, sizeof(buf), stdin)) return 1;
    ssize_t r = read(fd, buf, sizeof(buf));
    printf("%s\n", r < 0 ? err_name(errno) : "OK");
    close(fd);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) goto usage;
    const char *cmd = argv[1];
    if (!strcmp(cmd, "hold")) return hold(argv[2]);
    if (argc < 5) goto usage;
    const char *uuid = argv[2], *dir = argv[3], *file = argv[4];
    struct credgate_shim_op op;
    int e;
    if (!strcmp(cmd, "create")) {
        fill_op(&op, CREDGATE_SHIM_OP_CREATE, uuid, dir, file);
        if (argc > 5) op.flags = CREDGATE_SHIM_F_OWNER, op.uid = (__u32)strtoul(argv[5], NULL, 10);
        e = submit(&op, NULL, 0, sizeof(op));
    } else if (!strcmp(cmd, "replace")) {
        size_t len;
        char *content = read_stdin(&len);
        e = replace(uuid, dir, file, content, len);
        free(content);
    } else if (!strcmp(cmd, "remove")) {
        fill_op(&op, CREDGATE_SHIM_OP_REMOVE, uuid, dir, file);
        e = submit(&op, NULL, 0, sizeof(op));
    } else if (!strcmp(cmd, "malformed") && argc == 6) {
        e = malformed(argv[5], uuid, dir, file);
    } else if (!strcmp(cmd, "race") && argc == 7) {
        return race(uuid, dir, file, (unsigned)atoi(argv[5]), (unsigned)atoi(argv[6]));
    } else if (!strcmp(cmd, "snapshots")) {
        return snapshots(uuid, dir, file);
    } else {
        goto usage;
    }
    printf("%s\n", err_name(e));
    return e ? 1 : 0;
usage:
    fprintf(stderr, "usage: kmod_ctl create|replace|remove UUID DIR FILE [UID] | malformed UUID DIR FILE CASE |\n"
                    "       race UUID DIR FILE READS REPLACES | snapshots UUID DIR FILE | hold PATH\n");
    return 2;
}
