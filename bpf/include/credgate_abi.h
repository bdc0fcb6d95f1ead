/* SPDX-License-Identifier: Apache-2.0 */
/* The only header shared by the BPF programs and the C++ loader: map keys, values, limits and the
 * audit event. Plain __u32/__u64, fixed arrays, explicit padding; src/enforce static_asserts the layout. */
#ifndef CREDGATE_ABI_H
#define CREDGATE_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* ---- limits (every map size is named here) ------------------------------------------------ */
#define CREDGATE_MAX_OBJECTS 16384      /* protected inodes: credential files, dirs, trusted execs, pins */
#define CREDGATE_MAX_BINDINGS 10000     /* per generation */
#define CREDGATE_MAX_ALTERNATIVES 8     /* OR-ed alternatives per binding */
#define CREDGATE_MAX_RULE_ENTRIES 65536 /* set members, both generations together */
#define CREDGATE_MAX_CGROUP_DEPTH 16    /* ancestors checked for a cgroup term */
#define CREDGATE_MAX_OWNERS 8           /* executables whose processes are credgated */
#define CREDGATE_MAX_OWN_IDS 256        /* ids of our own maps, programs and links (two versions during an upgrade) */
#define CREDGATE_AUDIT_RINGBUF_BYTES (256 * 1024)
#define CREDGATE_AUDIT_SUBJECTS 4096    /* LRU of rate-limit state, per tgid */
#define CREDGATE_AUDIT_BURST 16         /* events per subject per window */
#define CREDGATE_AUDIT_WINDOW_NS 1000000000ULL
#define CREDGATE_COMM_LEN 16
#define CREDGATE_MAX_CRED_DEVS 4        /* file systems holding credentials, for the read fast path */

/* ---- credgate_objects: (dev, ino) -> what the inode is ------------------------------------- */
/* dev is the kernel's encoding (MAJOR << 20 | MINOR), not userspace st_dev, except on sysfs.
 * Every mount of sysfs (one per network namespace, which an unprivileged user namespace can make)
 * shows the same kernfs node, with the same inode number, under another super block and st_dev. So
 * an object on sysfs is keyed on the file system rather than on one of its super blocks:
 * dev = CREDGATE_DEV_SYSFS, which no kernel dev_t (32 bits) can equal. */
#define CREDGATE_SYSFS_MAGIC 0x62656572u
#define CREDGATE_DEV_SYSFS ((1ull << 32) | CREDGATE_SYSFS_MAGIC)
struct credgate_object_key {
	__u64 dev;
	__u64 ino;
};

enum credgate_object_flags {
	CREDGATE_OBJ_CREDENTIAL = 1u << 0, /* open is gated by the binding's rules */
	CREDGATE_OBJ_NO_WRITE = 1u << 1,   /* write-open and truncate only by credgated */
	CREDGATE_OBJ_NO_TAMPER = 1u << 2,  /* unlink/rename/link/setattr/setxattr only by credgated */
	CREDGATE_OBJ_CONTAINER = 1u << 3,  /* a directory: entries may be added/removed only by credgated */
	CREDGATE_OBJ_TRUSTED_EXEC = 1u << 4, /* a workload's program: its processes are ptrace-protected */
};

struct credgate_object {
	__u32 binding; /* index into the rule set; meaningful with CREDGATE_OBJ_CREDENTIAL */
	__u32 flags;
};

/* The binding of a credential that no binding may open any more (its binding was removed): only
 * credgated opens it until the kernel frees the inode. */
#define CREDGATE_BINDING_NONE 0xffffffffu

/* ---- rules: double buffered; credgate_state.generation selects the live half --------------- */
enum credgate_fact {
	CREDGATE_FACT_EXE = 0,    /* v[0]=dev v[1]=ino of the executed file (the script for #!) */
	CREDGATE_FACT_UID = 1,    /* v[0]=fsuid */
	CREDGATE_FACT_GID = 2,    /* v[0]=fsgid */
	CREDGATE_FACT_CGROUP = 3, /* v[0]=cgroup id of the task's cgroup or any ancestor */
	CREDGATE_FACT_COMM = 4,   /* v[0..1]=comm bytes, NUL padded */
	CREDGATE_FACT_COUNT = 5,
};

/* Membership of one value in one alternative's set for one fact. Value of the map: a __u8 1. */
struct credgate_rule_key {
	__u32 generation;
	__u16 binding;
	__u8 alternative;
	__u8 fact;
	__u64 v[2];
};

/* credgate_binds is an array indexed by generation * CREDGATE_MAX_BINDINGS + binding. */
struct credgate_binding {
	__u32 n_alternatives; /* 0: nobody matches */
	__u32 pad;
	__u32 fact_mask[CREDGATE_MAX_ALTERNATIVES]; /* bit (1 << fact): that fact must be in its set */
	__u64 name_hash; /* FNV-1a of the binding's name: a restarted credgated keeps each binding's slot */
};

enum credgate_mode {
	CREDGATE_MODE_ENFORCE = 0,
	CREDGATE_MODE_AUDIT = 1,
};

/* credgate_state[0] */
struct credgate_state {
	__u32 generation; /* 0 or 1 */
	__u32 mode;       /* enum credgate_mode */
	__u64 applied;    /* count of rule sets applied, for status */
	__u64 pin_dev;    /* s_dev of the bpffs holding our pins: only credgated unmounts it */
	__u32 n_bindings[2]; /* slots in use per generation: what an exec is evaluated against */
	/* File systems that hold credentials: a read or open elsewhere skips the objects lookup. Added
	 * before the first credential on each is registered; more than CREDGATE_MAX_CRED_DEVS: every
	 * inode is looked up. */
	__u64 cred_devs[CREDGATE_MAX_CRED_DEVS];
	__u32 n_cred_devs;
	__u32 pad;
};

/* credgate_owners: exe (dev, ino) of credgated -> 1. Processes running it with euid 0 are exempt. */

/* credgate_own_ids: our maps, programs and links, by kernel id. */
enum credgate_own_kind {
	CREDGATE_OWN_MAP = 1,
	CREDGATE_OWN_PROG = 2,
	CREDGATE_OWN_LINK = 3,
};

struct credgate_own_key {
	__u32 kind;
	__u32 id;
};

/* ---- per-task state (task storage) --------------------------------------------------------- */
enum credgate_task_flags {
	CREDGATE_TASK_EXE = 1u << 0,       /* exe_dev/exe_ino are valid */
	CREDGATE_TASK_PENDING = 1u << 1,   /* an exec is in progress: pending_* holds its first file */
	/* A process that may hold a key: it matched a binding at its exec, runs a trusted program or
	 * credgated, or was granted a credential. Kept on the thread and on its group leader (memory is
	 * per process), inherited at fork. No ptrace, /proc/<pid>/mem, process_vm_readv, perf sampling,
	 * core dump, dump-triggering signal or rlimit change from outside the process. */
	CREDGATE_TASK_WORKLOAD = 1u << 2,
};

struct credgate_task {
	__u64 exe_dev;
	__u64 exe_ino;
	__u64 pending_dev;
	__u64 pending_ino;
	__u32 flags;
	__u32 pad;
};

/* ---- audit ---------------------------------------------------------------------------------- */
enum credgate_hook {
	CREDGATE_HOOK_FILE_OPEN = 1,
	CREDGATE_HOOK_FILE_RECEIVE = 2,
	CREDGATE_HOOK_INODE_UNLINK = 3,
	CREDGATE_HOOK_INODE_RENAME = 4,
	CREDGATE_HOOK_INODE_LINK = 5,
	CREDGATE_HOOK_INODE_SETATTR = 6,
	CREDGATE_HOOK_INODE_SETXATTR = 7,
	CREDGATE_HOOK_PTRACE = 8,
	CREDGATE_HOOK_BPF = 9,
	CREDGATE_HOOK_BPF_MAP = 10,
	CREDGATE_HOOK_BPF_PROG = 11,
	CREDGATE_HOOK_FILE_PERMISSION = 12, /* read/write through an fd opened or inherited earlier */
	CREDGATE_HOOK_MMAP_FILE = 13,
	CREDGATE_HOOK_INODE_CREATE = 14,    /* create, mkdir, mknod, symlink in a credential directory */
	CREDGATE_HOOK_TASK_KILL = 15,       /* a dump-triggering signal to a protected process */
	CREDGATE_HOOK_TASK_SETRLIMIT = 16,
	CREDGATE_HOOK_COREDUMP = 17,        /* a core dump of a protected process (refused) */
	CREDGATE_HOOK_LOCKED_DOWN = 18,     /* /proc/kcore, /dev/mem */
	CREDGATE_HOOK_SB_MOUNT = 19,        /* a mount over a protected object */
	CREDGATE_HOOK_SB_UMOUNT = 20,       /* unmounting our bpffs or the credential file system */
	CREDGATE_HOOK_PERF_EVENT = 21,      /* a perf event on a protected process */
	CREDGATE_HOOK_INODE_REMOVEXATTR = 22,
};

enum credgate_verdict {
	CREDGATE_VERDICT_ALLOW = 0,
	CREDGATE_VERDICT_DENY = 1,
	CREDGATE_VERDICT_AUDIT_DENY = 2, /* would have been denied; audit mode let it through */
};

struct credgate_audit_event {
	__u64 timestamp_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u64 cgroup_id;
	__u64 exe_dev;
	__u64 exe_ino;
	__u64 object_dev;
	__u64 object_ino;
	__u32 pid;
	__u32 tgid;
	__u32 uid; /* fsuid */
	__u32 gid; /* fsgid */
	__u32 binding;
	__u32 hook;    /* enum credgate_hook */
	__u32 verdict; /* enum credgate_verdict */
	__u32 suppressed; /* events of this subject dropped by rate limiting since the previous one */
	char comm[CREDGATE_COMM_LEN];
};

#endif /* CREDGATE_ABI_H */
