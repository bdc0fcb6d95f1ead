/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzzes credgate.ko's control-operation parser (kmod-shim/credgate_parse.h, the very header the
 * module includes): one write of the input's bytes, with what an accepted operation promises
 * checked after it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "credgate_parse.h"

static int name_ok(const char *name)
{
	size_t len = strnlen(name, CREDGATE_SHIM_NAME_FIELD);

	return len > 0 && len < CREDGATE_SHIM_NAME_FIELD && !strchr(name, '/') && name[0] != '.';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The header on the heap, exactly its size, as the module's kmalloc: a read past it is caught. */
	struct credgate_shim_op *op = calloc(1, sizeof(*op));
	struct credgate_parsed_op out;
	int err;

	if (!op)
		return 0;
	memcpy(op, data, size < sizeof(*op) ? size : sizeof(*op));
	memset(&out, 0, sizeof(out));
	err = credgate_parse_op(op, size, &out);
	switch (err) {
	case 0:
		if (out.opcode != CREDGATE_SHIM_OP_CREATE && out.opcode != CREDGATE_SHIM_OP_REPLACE &&
		    out.opcode != CREDGATE_SHIM_OP_REMOVE)
			abort();
		if (out.content_len != size - sizeof(*op) || out.content_len > CREDGATE_SHIM_CONTENT_MAX)
			abort();
		if (out.owner && out.opcode != CREDGATE_SHIM_OP_CREATE)
			abort();
		if (strnlen(out.uuid, CREDGATE_SHIM_UUID_FIELD) != CREDGATE_SHIM_UUID_LEN)
			abort();
		if (!name_ok(out.dir) || !name_ok(out.file))
			abort();
		break;
	case -EINVAL:
	case -EFBIG:
	case -EPROTONOSUPPORT:
	case -EOPNOTSUPP:
	case -ENAMETOOLONG:
		break;
	default:
		abort(); /* an errno ABI.md does not list */
	}
	free(op);
	return 0;
}
