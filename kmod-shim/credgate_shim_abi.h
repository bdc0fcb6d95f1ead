/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR Apache-2.0 */
/*
 * The control operations of /dev/credgate: the only header shared by credgate.ko and
 * credgated (src/delivery static_asserts its layout). Plain fixed-size types, no implicit padding.
 */
#ifndef CREDGATE_SHIM_ABI_H
#define CREDGATE_SHIM_ABI_H

#include <linux/types.h>

#define CREDGATE_SHIM_MAGIC		0x48534743u	/* "CGSH" little-endian */
#define CREDGATE_SHIM_VERSION		1

/* A workload directory is a lowercase canonical UUID, NUL-padded. */
#define CREDGATE_SHIM_UUID_LEN		36
#define CREDGATE_SHIM_UUID_FIELD	40
/* Directory and file names: at most NAME_MAX bytes, NUL-terminated, NUL-padded. */
#define CREDGATE_SHIM_NAME_MAX		255
#define CREDGATE_SHIM_NAME_FIELD	256

/* The bound on one file's content (KV v2 secrets can be large). */
#define CREDGATE_SHIM_CONTENT_MAX	(1024u * 1024u)
/* The bound on the number of files the module holds at once. */
#define CREDGATE_SHIM_FILES_MAX		4096u
/* Per file, reads that took a snapshot and have not reached its end yet. */
#define CREDGATE_SHIM_SNAPSHOTS_MAX	64u

enum credgate_shim_opcode {
	CREDGATE_SHIM_OP_CREATE = 1,	/* an empty file: register it, then REPLACE */
	CREDGATE_SHIM_OP_REPLACE = 2,	/* the whole content, swapped at once */
	CREDGATE_SHIM_OP_REMOVE = 3,	/* the file, then its directories if empty */
};

/* CREATE only: the file belongs to @uid with mode 0400 (default: root, 0444). */
#define CREDGATE_SHIM_F_OWNER		0x1u
#define CREDGATE_SHIM_F_ALL		CREDGATE_SHIM_F_OWNER
/* (uid_t)-1 means "no change" to chown(): never an owner. */
#define CREDGATE_SHIM_UID_INVALID	0xffffffffu

/*
 * One write() to /dev/credgate is one operation: this header, then exactly
 * @content_len bytes of content (REPLACE only; 0 for CREATE and REMOVE).
 */
struct credgate_shim_op {
	__u32 magic;
	__u16 version;
	__u16 opcode;
	__u32 flags;
	__u32 uid;
	__u32 content_len;
	__u32 reserved;			/* must be 0 */
	char uuid[CREDGATE_SHIM_UUID_FIELD];
	char dir[CREDGATE_SHIM_NAME_FIELD];
	char file[CREDGATE_SHIM_NAME_FIELD];
};

#define CREDGATE_SHIM_OP_SIZE		576

#endif /* CREDGATE_SHIM_ABI_H */
