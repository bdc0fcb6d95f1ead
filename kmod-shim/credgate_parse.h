/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/*
 * The control-operation parser: a pure function of the bytes written, with no kernel or libc
 * state, so the unit tests and the fuzzer compile the very code credgate.ko runs.
 */
#ifndef CREDGATE_PARSE_H
#define CREDGATE_PARSE_H

#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/stddef.h>
#include <linux/string.h>
#else
#include <errno.h>
#include <stddef.h>
#include <string.h>
#endif

#include "credgate_shim_abi.h"

struct credgate_parsed_op {
	unsigned int opcode;
	unsigned int owner;		/* CREDGATE_SHIM_F_OWNER was given */
	__u32 uid;
	__u32 content_len;
	const char *uuid;		/* NUL-terminated, inside the op */
	const char *dir;
	const char *file;
};

static inline int credgate_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* Every byte after the terminating NUL must be NUL too: nothing hides in the padding. */
static inline int credgate_padding_clear(const char *field, size_t len, size_t size)
{
	size_t i;

	for (i = len; i < size; i++)
		if (field[i])
			return 0;
	return 1;
}

/*
 * A directory or file name: 1..NAME_MAX bytes of [A-Za-z0-9._-], starting with a letter or a
 * digit (which rules out "", ".", ".." and hidden names); "/" never passes.
 */
static inline int credgate_parse_name(const char *field)
{
	size_t len = strnlen(field, CREDGATE_SHIM_NAME_FIELD);
	size_t i;

	if (len == CREDGATE_SHIM_NAME_FIELD)
		return -ENAMETOOLONG;
	if (len == 0 || !credgate_alnum(field[0]))
		return -EINVAL;
	for (i = 0; i < len; i++) {
		char c = field[i];

		if (!credgate_alnum(c) && c != '.' && c != '_' && c != '-')
			return -EINVAL;
	}
	if (!credgate_padding_clear(field, len, CREDGATE_SHIM_NAME_FIELD))
		return -EINVAL;
	return 0;
}

/* A lowercase canonical UUID: 8-4-4-4-12 hex digits. */
static inline int credgate_parse_uuid(const char *field)
{
	size_t len = strnlen(field, CREDGATE_SHIM_UUID_FIELD);
	size_t i;

	if (len == CREDGATE_SHIM_UUID_FIELD)
		return -ENAMETOOLONG;
	if (len != CREDGATE_SHIM_UUID_LEN)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		char c = field[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return -EINVAL;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
			return -EINVAL;
		}
	}
	if (!credgate_padding_clear(field, len, CREDGATE_SHIM_UUID_FIELD))
		return -EINVAL;
	return 0;
}

/*
 * Checks one write of @count bytes whose first sizeof(*op) bytes are @op. Returns 0 and fills
 * @out, or a negative errno (ABI.md lists which check gives which). The content itself is not
 * looked at: the module copies it straight into its final buffer.
 */
static inline int credgate_parse_op(const struct credgate_shim_op *op, size_t count,
				    struct credgate_parsed_op *out)
{
	int err;

	if (count < sizeof(*op))
		return -EINVAL;
	if (count - sizeof(*op) > CREDGATE_SHIM_CONTENT_MAX)
		return -EFBIG;
	if (op->magic != CREDGATE_SHIM_MAGIC)
		return -EINVAL;
	if (op->version != CREDGATE_SHIM_VERSION)
		return -EPROTONOSUPPORT;
	if (op->opcode != CREDGATE_SHIM_OP_CREATE &&
	    op->opcode != CREDGATE_SHIM_OP_REPLACE &&
	    op->opcode != CREDGATE_SHIM_OP_REMOVE)
		return -EOPNOTSUPP;
	if (op->flags & ~CREDGATE_SHIM_F_ALL || op->reserved)
		return -EINVAL;
	if ((op->flags & CREDGATE_SHIM_F_OWNER) && op->opcode != CREDGATE_SHIM_OP_CREATE)
		return -EINVAL;
	if ((op->flags & CREDGATE_SHIM_F_OWNER) && op->uid == CREDGATE_SHIM_UID_INVALID)
		return -EINVAL;
	if (!(op->flags & CREDGATE_SHIM_F_OWNER) && op->uid)
		return -EINVAL;
	if (op->content_len > CREDGATE_SHIM_CONTENT_MAX)
		return -EFBIG;
	if (op->opcode != CREDGATE_SHIM_OP_REPLACE && op->content_len)
		return -EINVAL;
	if (count - sizeof(*op) != op->content_len)
		return -EINVAL;

	err = credgate_parse_uuid(op->uuid);
	if (!err)
		err = credgate_parse_name(op->dir);
	if (!err)
		err = credgate_parse_name(op->file);
	if (err)
		return err;

	out->opcode = op->opcode;
	out->owner = (op->flags & CREDGATE_SHIM_F_OWNER) ? 1 : 0;
	out->uid = op->uid;
	out->content_len = op->content_len;
	out->uuid = op->uuid;
	out->dir = op->dir;
	out->file = op->file;
	return 0;
}

#endif /* CREDGATE_PARSE_H */
