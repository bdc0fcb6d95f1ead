// SPDX-License-Identifier: GPL-2.0-only
/* credgate's LSM programs: gate open() and every read of credential files by the binding's rules,
 * protect each process that may hold a key as a whole, refuse tampering with credential files,
 * their directories and mounts, trusted programs and our own pins, and track what each task executed.
 *
 * What a miss decides (fail closed only where an object is ours):
 *  - credgate_objects miss: the inode is not protected -> allow (the fast path: one lookup, and on a
 *    file system that holds no credential not even that for reads and read-only opens).
 *  - credgate_binds miss or n_alternatives == 0, rule-set miss: the subject does not match -> deny.
 *  - credgate_tasks miss (task started before we loaded): no executed file, so no process:path or
 *    process:sha256 rule matches it (its mm->exe_file can be repointed with PR_SET_MM_EXE_FILE);
 *    only the credgated check falls back to mm->exe_file, and it also needs euid 0.
 *  - credgate_owners miss: the caller is not credgated -> no exemption.
 *  - credgate_own_ids miss: the map/program/link is not ours -> allow.
 *  - read errors of kernel memory leave zeroed facts, which match no rule -> deny for protected objects.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "credgate_abi.h"

#define EACCES 13
#define EPERM 1
#define FMODE_WRITE 0x2
#define PTRACE_MODE_ATTACH 0x02
#define ATTR_SIZE (1 << 3)
#define PT_PTRACED 0x00000001
#define PF_SIGNALED 0x00000400

/* Signals whose default action dumps core (SIG_KERNEL_COREDUMP_MASK on x86 and arm64). */
#define CREDGATE_DUMP_SIGNALS                                                                         \
	((1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 8) | (1u << 11) | (1u << 24) | \
	 (1u << 25) | (1u << 31))

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader before load (src/enforce/lifecycle.cpp). */
const volatile char credgate_pin_prefix[32] = "/sys/fs/bpf/credgate";

/* Typeless: libbpf takes its address from /proc/kallsyms, and the probe (src/enforce/probe.cpp)
 * refuses to enforce when that reads 0. */
extern const void bpf_link_fops __ksym;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CREDGATE_MAX_OBJECTS);
	__type(key, struct credgate_object_key);
	__type(value, struct credgate_object);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} credgate_objects SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CREDGATE_MAX_RULE_ENTRIES);
	__type(key, struct credgate_rule_key);
	__type(value, __u8);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} credgate_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * CREDGATE_MAX_BINDINGS);
	__type(key, __u32);
	__type(value, struct credgate_binding);
} credgate_binds SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct credgate_state);
} credgate_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CREDGATE_MAX_OWNERS);
	__type(key, struct credgate_object_key);
	__type(value, __u8);
} credgate_owners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CREDGATE_MAX_OWN_IDS);
	__type(key, struct credgate_own_key);
	__type(value, __u8);
} credgate_own_ids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct credgate_task);
} credgate_tasks SEC(".maps");

struct credgate_ratelimit {
	__u64 window_start;
	__u32 count;
	__u32 suppressed;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CREDGATE_AUDIT_SUBJECTS);
	__type(key, __u32);
	__type(value, struct credgate_ratelimit);
} credgate_ratelim SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, CREDGATE_AUDIT_RINGBUF_BYTES);
} credgate_audit SEC(".maps");

/* The facts a rule is matched against, gathered once per decision. */
struct credgate_subject {
	__u64 exe_dev; /* the executed file recorded at exec; 0 when the task predates our programs */
	__u64 exe_ino;
	__u64 mm_dev;  /* mm->exe_file, for the credgated check and audit of unrecorded tasks only */
	__u64 mm_ino;
	__u64 cgroup_id;
	__u32 uid;
	__u32 gid;
	__u32 euid;
	__u32 pid;
	__u32 tgid;
	__u32 pad;
	char comm[CREDGATE_COMM_LEN];
};

static __always_inline __u64 credgate_kdev(const struct inode *inode)
{
	return (__u64)BPF_CORE_READ(inode, i_sb, s_dev);
}

/* The dev of an object's key (credgate_abi.h): the super block's, or CREDGATE_DEV_SYSFS on sysfs. */
static __always_inline __u64 credgate_obj_dev(const struct inode *inode)
{
	if (BPF_CORE_READ(inode, i_sb, s_magic) == CREDGATE_SYSFS_MAGIC)
		return CREDGATE_DEV_SYSFS;
	return (__u64)BPF_CORE_READ(inode, i_sb, s_dev);
}

static __always_inline struct credgate_object *credgate_lookup_inode(const struct inode *inode,
								       struct credgate_object_key *key)
{
	if (!inode)
		return 0;
	key->dev = credgate_obj_dev(inode);
	key->ino = BPF_CORE_READ(inode, i_ino);
	return bpf_map_lookup_elem(&credgate_objects, key);
}

static __always_inline void credgate_subject_init(struct credgate_subject *s)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct credgate_task *t;
	__u64 id = bpf_get_current_pid_tgid();

	s->pid = (__u32)id;
	s->tgid = id >> 32;
	s->uid = BPF_CORE_READ(task, cred, fsuid.val);
	s->gid = BPF_CORE_READ(task, cred, fsgid.val);
	s->euid = BPF_CORE_READ(task, cred, euid.val);
	s->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(s->comm, sizeof(s->comm));

	t = bpf_task_storage_get(&credgate_tasks, task, 0, 0);
	if (t && (t->flags & CREDGATE_TASK_EXE)) {
		s->exe_dev = t->exe_dev;
		s->exe_ino = t->exe_ino;
		s->mm_dev = t->exe_dev;
		s->mm_ino = t->exe_ino;
		return;
	}
	/* Started before we loaded: no exec record. mm->exe_file names the credgated binary of a
	 * credgated that predates its own first load, and tells audit what ran. */
	struct file *exe = BPF_CORE_READ(task, mm, exe_file);
	if (exe) {
		struct inode *inode = BPF_CORE_READ(exe, f_inode);
		s->mm_dev = credgate_kdev(inode);
		s->mm_ino = BPF_CORE_READ(inode, i_ino);
	}
}

/* credgated: a process running one of the registered credgated executables as euid 0. */
static __always_inline bool credgate_is_owner(const struct credgate_subject *s)
{
	struct credgate_object_key key = { .dev = s->mm_dev, .ino = s->mm_ino };

	if (s->euid != 0)
		return false;
	return bpf_map_lookup_elem(&credgate_owners, &key) != 0;
}

static __always_inline bool credgate_rule_has(struct credgate_rule_key *key, __u64 v0, __u64 v1)
{
	key->v[0] = v0;
	key->v[1] = v1;
	return bpf_map_lookup_elem(&credgate_rules, key) != 0;
}

static __noinline bool credgate_match_alternative(const struct credgate_subject *s, __u32 generation,
						  __u32 binding, __u32 alternative, __u32 mask)
{
	struct credgate_rule_key key = {
		.generation = generation,
		.binding = (__u16)binding,
		.alternative = (__u8)alternative,
	};

	if (!mask)
		return false;
	if (mask & (1u << CREDGATE_FACT_EXE)) {
		key.fact = CREDGATE_FACT_EXE;
		if (!s->exe_ino || !credgate_rule_has(&key, s->exe_dev, s->exe_ino))
			return false;
	}
	if (mask & (1u << CREDGATE_FACT_UID)) {
		key.fact = CREDGATE_FACT_UID;
		if (!credgate_rule_has(&key, s->uid, 0))
			return false;
	}
	if (mask & (1u << CREDGATE_FACT_GID)) {
		key.fact = CREDGATE_FACT_GID;
		if (!credgate_rule_has(&key, s->gid, 0))
			return false;
	}
	if (mask & (1u << CREDGATE_FACT_COMM)) {
		__u64 c[2] = {};

		__builtin_memcpy(c, s->comm, sizeof(c));
		key.fact = CREDGATE_FACT_COMM;
		if (!credgate_rule_has(&key, c[0], c[1]))
			return false;
	}
	if (mask & (1u << CREDGATE_FACT_CGROUP)) {
		bool found = false;
		int level;

		key.fact = CREDGATE_FACT_CGROUP;
		for (level = 0; level < CREDGATE_MAX_CGROUP_DEPTH; level++) {
			__u64 id = bpf_get_current_ancestor_cgroup_id(level);

			if (!id)
				break;
			if (credgate_rule_has(&key, id, 0)) {
				found = true;
				break;
			}
		}
		if (!found)
			return false;
	}
	return true;
}

/* The live rule generation (0 or 1); -1 only if the state map cannot be read. */
static __always_inline int credgate_live_generation(void)
{
	__u32 zero = 0;
	struct credgate_state *state = bpf_map_lookup_elem(&credgate_state, &zero);

	return state ? (int)(state->generation & 1) : -1;
}

/* Whether the subject matches binding `binding` of rule generation `generation`. A caller that looks at
 * several things of one generation (the exec scan) reads the generation once and passes it. */
static __always_inline bool credgate_match_binding(const struct credgate_subject *s, __u32 generation,
						   __u32 binding)
{
	__u32 index, alternative;
	struct credgate_binding *b;

	if (binding >= CREDGATE_MAX_BINDINGS || generation > 1)
		return false;
	index = generation * CREDGATE_MAX_BINDINGS + binding;
	b = bpf_map_lookup_elem(&credgate_binds, &index);
	if (!b)
		return false;
	for (alternative = 0; alternative < CREDGATE_MAX_ALTERNATIVES; alternative++) {
		if (alternative >= b->n_alternatives)
			break;
		if (credgate_match_alternative(s, generation, binding, alternative, b->fact_mask[alternative]))
			return true;
	}
	return false;
}

static __always_inline bool credgate_audit_mode(void)
{
	__u32 zero = 0;
	struct credgate_state *state = bpf_map_lookup_elem(&credgate_state, &zero);

	return state && state->mode == CREDGATE_MODE_AUDIT;
}

/* One event per decision, at most CREDGATE_AUDIT_BURST per subject (tgid) per window. */
static __always_inline void credgate_emit(const struct credgate_subject *s, const struct credgate_object_key *obj,
					  __u32 binding, __u32 hook, __u32 verdict)
{
	struct credgate_ratelimit fresh = {}, *rl;
	struct credgate_audit_event *e;
	__u64 now = bpf_ktime_get_ns();
	__u32 tgid = s->tgid, suppressed = 0;

	rl = bpf_map_lookup_elem(&credgate_ratelim, &tgid);
	if (!rl) {
		fresh.window_start = now;
		bpf_map_update_elem(&credgate_ratelim, &tgid, &fresh, BPF_ANY);
		rl = bpf_map_lookup_elem(&credgate_ratelim, &tgid);
		if (!rl)
			return;
	}
	if (now - rl->window_start > CREDGATE_AUDIT_WINDOW_NS) {
		rl->window_start = now;
		rl->count = 0;
	}
	if (rl->count >= CREDGATE_AUDIT_BURST) {
		__sync_fetch_and_add(&rl->suppressed, 1);
		return;
	}
	rl->count++;
	suppressed = rl->suppressed;
	rl->suppressed = 0;

	e = bpf_ringbuf_reserve(&credgate_audit, sizeof(*e), 0);
	if (!e)
		return;
	e->timestamp_ns = now;
	e->cgroup_id = s->cgroup_id;
	e->exe_dev = s->mm_dev;
	e->exe_ino = s->mm_ino;
	e->object_dev = obj ? obj->dev : 0;
	e->object_ino = obj ? obj->ino : 0;
	e->pid = s->pid;
	e->tgid = s->tgid;
	e->uid = s->uid;
	e->gid = s->gid;
	e->binding = binding;
	e->hook = hook;
	e->verdict = verdict;
	e->suppressed = suppressed;
	__builtin_memcpy(e->comm, s->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
}

/* Deny, or in audit mode record the would-be denial and allow. */
static __always_inline int credgate_deny(const struct credgate_subject *s, const struct credgate_object_key *obj,
					 __u32 binding, __u32 hook)
{
	if (credgate_audit_mode()) {
		credgate_emit(s, obj, binding, hook, CREDGATE_VERDICT_AUDIT_DENY);
		return 0;
	}
	credgate_emit(s, obj, binding, hook, CREDGATE_VERDICT_DENY);
	return -EACCES;
}

/* Deny whatever the mode: protections of processes and of our own state are never relaxed by audit
 * mode (audit mode must not be a way around them). */
static __always_inline int credgate_refuse(const struct credgate_subject *s, const struct credgate_object_key *obj,
					   __u32 hook, int err)
{
	credgate_emit(s, obj, CREDGATE_BINDING_NONE, hook, CREDGATE_VERDICT_DENY);
	return err;
}

/* ---- protected processes ---------------------------------------------------------------------- */

static __always_inline bool credgate_task_flag(struct task_struct *task, __u32 flag)
{
	struct credgate_task *t = bpf_task_storage_get(&credgate_tasks, task, 0, 0);

	return t && (t->flags & flag);
}

/* A process (any of its threads) that may hold a key: the flag on the thread or its group leader. */
static __always_inline bool credgate_workload(struct task_struct *task)
{
	struct task_struct *leader;

	if (credgate_task_flag(task, CREDGATE_TASK_WORKLOAD))
		return true;
	leader = task->group_leader;
	return leader && credgate_task_flag(leader, CREDGATE_TASK_WORKLOAD);
}

/* credgated itself holds every current key: protected like a workload, whether or not it has an
 * exec record (it usually predates its own first load). */
static __always_inline bool credgate_task_is_owner(struct task_struct *task)
{
	struct credgate_object_key key = {};
	struct credgate_task *t;
	struct file *exe;

	if (BPF_CORE_READ(task, cred, euid.val) != 0)
		return false;
	t = bpf_task_storage_get(&credgate_tasks, task, 0, 0);
	if (t && (t->flags & CREDGATE_TASK_EXE)) {
		key.dev = t->exe_dev;
		key.ino = t->exe_ino;
	} else {
		exe = BPF_CORE_READ(task, mm, exe_file);
		if (!exe)
			return false;
		key.dev = credgate_kdev(BPF_CORE_READ(exe, f_inode));
		key.ino = BPF_CORE_READ(exe, f_inode, i_ino);
	}
	return bpf_map_lookup_elem(&credgate_owners, &key) != 0;
}

static __always_inline bool credgate_protected(struct task_struct *task)
{
	return credgate_workload(task) || credgate_task_is_owner(task);
}

static __always_inline void credgate_mark(struct task_struct *task)
{
	struct credgate_task *t = bpf_task_storage_get(&credgate_tasks, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (t)
		t->flags |= CREDGATE_TASK_WORKLOAD;
}

/* Memory is per process: mark the thread (inherited by what it forks) and its group leader (what
 * every other thread of the process is checked against). */
static __always_inline void credgate_mark_workload(void)
{
	struct task_struct *task = bpf_get_current_task_btf();

	credgate_mark(task);
	if (task->group_leader)
		credgate_mark(task->group_leader);
}

/* Access to a protected process from outside it: only the process itself and credgated. */
static __always_inline int credgate_guard_process(struct task_struct *target, __u32 hook)
{
	struct credgate_subject s = {};

	if (!credgate_protected(target))
		return 0;
	credgate_subject_init(&s);
	if (BPF_CORE_READ(target, tgid) == s.tgid || credgate_is_owner(&s))
		return 0;
	return credgate_refuse(&s, 0, hook, -EPERM);
}

/* ---- credentials ------------------------------------------------------------------------------ */

/* A credential is granted to a matching, untraced subject. */
static __always_inline int credgate_gate_credential(const struct credgate_object *o,
						    const struct credgate_object_key *key, __u32 hook, bool grant)
{
	struct credgate_subject s = {};
	struct task_struct *task = bpf_get_current_task_btf();
	int generation;

	credgate_subject_init(&s);
	if (credgate_is_owner(&s))
		return 0;
	generation = credgate_live_generation();
	if (generation >= 0 && credgate_match_binding(&s, (__u32)generation, o->binding) &&
	    !(BPF_CORE_READ(task, ptrace) & PT_PTRACED)) {
		if (grant) {
			credgate_mark_workload();
			credgate_emit(&s, key, o->binding, hook, CREDGATE_VERDICT_ALLOW);
		}
		return 0;
	}
	return credgate_deny(&s, key, o->binding, hook);
}

/* Tampering with an object that has `flag` (or changing entries of a container) is credgated's only. */
static __always_inline int credgate_guard(const struct inode *inode, __u32 flag, __u32 hook)
{
	struct credgate_object_key key = {};
	struct credgate_object *o = credgate_lookup_inode(inode, &key);
	struct credgate_subject s = {};

	if (!o || !(o->flags & flag))
		return 0;
	credgate_subject_init(&s);
	if (credgate_is_owner(&s))
		return 0;
	return credgate_deny(&s, &key, o->binding, hook);
}

static __always_inline struct inode *credgate_dentry_inode(const struct dentry *dentry)
{
	return BPF_CORE_READ(dentry, d_inode);
}

/* ---- the gate ------------------------------------------------------------------------------- */

/* Whether a file system may hold credentials: an array lookup the verifier inlines, cheaper than the
 * hash lookup it saves on every other file system. A miss of the state fails safe (look up). */
static __always_inline bool credgate_cred_dev(__u64 dev)
{
	__u32 zero = 0, i, n;
	struct credgate_state *state = bpf_map_lookup_elem(&credgate_state, &zero);

	if (!state)
		return true;
	n = state->n_cred_devs;
	if (n > CREDGATE_MAX_CRED_DEVS)
		return true;
	for (i = 0; i < CREDGATE_MAX_CRED_DEVS; i++) {
		if (i >= n)
			break;
		if (state->cred_devs[i] == dev)
			return true;
	}
	return false;
}

/* credgate_obj_dev for the hot paths, through the BTF pointers the hook was given. */
static __always_inline __u64 credgate_file_dev(const struct file *file)
{
	const struct super_block *sb = file->f_inode->i_sb;

	return sb->s_magic == CREDGATE_SYSFS_MAGIC ? CREDGATE_DEV_SYSFS : (__u64)sb->s_dev;
}

SEC("lsm/file_open")
int BPF_PROG(credgate_file_open, struct file *file, int ret)
{
	struct credgate_object_key key;
	struct credgate_object *o;

	if (ret)
		return ret;
	key.dev = credgate_file_dev(file);
	/* Elsewhere only a write-open can concern us (trusted programs, credgated's binary). */
	if (!(file->f_mode & FMODE_WRITE) && !credgate_cred_dev(key.dev))
		return 0;
	key.ino = file->f_inode->i_ino;
	o = bpf_map_lookup_elem(&credgate_objects, &key);
	if (!o)
		return 0;
	if (o->flags & CREDGATE_OBJ_CREDENTIAL)
		return credgate_gate_credential(o, &key, CREDGATE_HOOK_FILE_OPEN, true);
	if ((o->flags & CREDGATE_OBJ_NO_WRITE) && (file->f_mode & FMODE_WRITE))
		return credgate_guard(file->f_inode, CREDGATE_OBJ_NO_WRITE, CREDGATE_HOOK_FILE_OPEN);
	return 0;
}

/* Use of a credential through an fd already open: the caller must match the binding now. Same fast
 * path as file_open: an inlined check of the file system, then one lookup. */
static __always_inline int credgate_gate_fd(struct file *file, __u32 hook)
{
	struct credgate_object_key key;
	struct credgate_object *o;

	key.dev = credgate_file_dev(file);
	if (!credgate_cred_dev(key.dev))
		return 0;
	key.ino = file->f_inode->i_ino;
	o = bpf_map_lookup_elem(&credgate_objects, &key);
	if (!o || !(o->flags & CREDGATE_OBJ_CREDENTIAL))
		return 0;
	return credgate_gate_credential(o, &key, hook, false);
}

/* Every read and write (read, pread, readv, splice, sendfile, copy_file_range, io_uring) of a
 * credential through any fd: an fd opened by the workload and inherited across an exec into a
 * program that is not the identity, or kept after a setuid, reads nothing. */
SEC("lsm/file_permission")
int BPF_PROG(credgate_file_permission, struct file *file, int mask, int ret)
{
	if (ret)
		return ret;
	return credgate_gate_fd(file, CREDGATE_HOOK_FILE_PERMISSION);
}

SEC("lsm/mmap_file")
int BPF_PROG(credgate_mmap_file, struct file *file, unsigned long reqprot, unsigned long prot, unsigned long flags,
	     int ret)
{
	if (ret || !file)
		return ret;
	return credgate_gate_fd(file, CREDGATE_HOOK_MMAP_FILE);
}

SEC("lsm/file_receive")
int BPF_PROG(credgate_file_receive, struct file *file, int ret)
{
	struct credgate_object_key key = {};
	struct credgate_object *o;

	if (ret)
		return ret;
	o = credgate_lookup_inode(file->f_inode, &key);
	if (!o || !(o->flags & CREDGATE_OBJ_CREDENTIAL))
		return 0;
	return credgate_gate_credential(o, &key, CREDGATE_HOOK_FILE_RECEIVE, true);
}

/* ---- tamper hooks --------------------------------------------------------------------------- */

SEC("lsm/inode_unlink")
int BPF_PROG(credgate_inode_unlink, struct inode *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	ret = credgate_guard(dir, CREDGATE_OBJ_CONTAINER, CREDGATE_HOOK_INODE_UNLINK);
	if (ret)
		return ret;
	return credgate_guard(credgate_dentry_inode(dentry), CREDGATE_OBJ_NO_TAMPER, CREDGATE_HOOK_INODE_UNLINK);
}

SEC("lsm/inode_rename")
int BPF_PROG(credgate_inode_rename, struct inode *old_dir, struct dentry *old_dentry, struct inode *new_dir,
	     struct dentry *new_dentry, int ret)
{
	if (ret)
		return ret;
	ret = credgate_guard(old_dir, CREDGATE_OBJ_CONTAINER, CREDGATE_HOOK_INODE_RENAME);
	if (ret)
		return ret;
	ret = credgate_guard(new_dir, CREDGATE_OBJ_CONTAINER, CREDGATE_HOOK_INODE_RENAME);
	if (ret)
		return ret;
	ret = credgate_guard(credgate_dentry_inode(old_dentry), CREDGATE_OBJ_NO_TAMPER, CREDGATE_HOOK_INODE_RENAME);
	if (ret)
		return ret;
	return credgate_guard(credgate_dentry_inode(new_dentry), CREDGATE_OBJ_NO_TAMPER, CREDGATE_HOOK_INODE_RENAME);
}

SEC("lsm/inode_link")
int BPF_PROG(credgate_inode_link, struct dentry *old_dentry, struct inode *dir, struct dentry *new_dentry, int ret)
{
	if (ret)
		return ret;
	ret = credgate_guard(dir, CREDGATE_OBJ_CONTAINER, CREDGATE_HOOK_INODE_LINK);
	if (ret)
		return ret;
	return credgate_guard(credgate_dentry_inode(old_dentry), CREDGATE_OBJ_NO_TAMPER | CREDGATE_OBJ_CREDENTIAL,
			      CREDGATE_HOOK_INODE_LINK);
}

/* New entries in a credential directory (files, directories, device nodes, symlinks): credgated's only. */
SEC("lsm/inode_create")
int BPF_PROG(credgate_inode_create, struct inode *dir, struct dentry *dentry, umode_t mode, int ret)
{
	if (ret)
		return ret;
	return credgate_guard(dir, CREDGATE_OBJ_CONTAINER, CREDGATE_HOOK_INODE_CREATE);
}

SEC("lsm/inode_mkdir")
int BPF_PROG(credgate_inode_mkdir, struct inode *dir, struct dentry *dentry, umode_t mode, int ret)
{
	if (ret)
		return ret;
	return credgate_guard(dir, CREDGATE_OBJ_CONTAINER, CREDGATE_HOOK_INODE_CREATE);
}

SEC("lsm/inode_mknod")
int BPF_PROG(credgate_inode_mknod, struct inode *dir, struct dentry *dentry, umode_t mode, dev_t dev, int ret)
{
	if (ret)
		return ret;
	return credgate_guard(dir, CREDGATE_OBJ_CONTAINER, CREDGATE_HOOK_INODE_CREATE);
}

SEC("lsm/inode_symlink")
int BPF_PROG(credgate_inode_symlink, struct inode *dir, struct dentry *dentry, const char *old_name, int ret)
{
	if (ret)
		return ret;
	return credgate_guard(dir, CREDGATE_OBJ_CONTAINER, CREDGATE_HOOK_INODE_CREATE);
}

static __always_inline int credgate_setattr(struct dentry *dentry, struct iattr *attr)
{
	int err = credgate_guard(credgate_dentry_inode(dentry), CREDGATE_OBJ_NO_TAMPER, CREDGATE_HOOK_INODE_SETATTR);

	if (err)
		return err;
	if (BPF_CORE_READ(attr, ia_valid) & ATTR_SIZE)
		return credgate_guard(credgate_dentry_inode(dentry), CREDGATE_OBJ_NO_WRITE, CREDGATE_HOOK_INODE_SETATTR);
	return 0;
}

/* The argument list grew an idmap in 6.8: the loader loads the variant this kernel has. */
SEC("lsm/inode_setattr")
int BPF_PROG(credgate_inode_setattr, struct dentry *dentry, struct iattr *attr, int ret)
{
	if (ret)
		return ret;
	return credgate_setattr(dentry, attr);
}

SEC("lsm/inode_setattr")
int BPF_PROG(credgate_inode_setattr_idmap, void *idmap, struct dentry *dentry, struct iattr *attr, int ret)
{
	if (ret)
		return ret;
	return credgate_setattr(dentry, attr);
}

/* (userns or idmap, dentry, name, value, size, flags) on every supported kernel. */
SEC("lsm/inode_setxattr")
int BPF_PROG(credgate_inode_setxattr, void *userns, struct dentry *dentry, const char *name, const void *value,
	     size_t size, int flags, int ret)
{
	if (ret)
		return ret;
	return credgate_guard(credgate_dentry_inode(dentry), CREDGATE_OBJ_NO_TAMPER | CREDGATE_OBJ_NO_WRITE,
			      CREDGATE_HOOK_INODE_SETXATTR);
}

/* (userns or idmap, dentry, name) on every supported kernel. */
SEC("lsm/inode_removexattr")
int BPF_PROG(credgate_inode_removexattr, void *userns, struct dentry *dentry, const char *name, int ret)
{
	if (ret)
		return ret;
	return credgate_guard(credgate_dentry_inode(dentry), CREDGATE_OBJ_NO_TAMPER | CREDGATE_OBJ_NO_WRITE,
			      CREDGATE_HOOK_INODE_REMOVEXATTR);
}

/* An inode of ours is freed once nothing reaches it any more (no name, no fd, no O_PATH, no mapping):
 * only then may its number be reused, so only then does its entry go. A retired credential keeps its
 * protection until this moment. Inodes that still have a name (kernfs evicts and re-creates those)
 * keep theirs. */
SEC("lsm/inode_free_security")
int BPF_PROG(credgate_inode_free_security, struct inode *inode)
{
	struct credgate_object_key key;

	if (inode->__i_nlink)
		return 0;
	/* kernfs frees the inode of a node still in use and builds it again later; a removed sysfs file's
	 * entry is dropped by credgated, its number is never given to another node. */
	if (inode->i_sb->s_magic == CREDGATE_SYSFS_MAGIC)
		return 0;
	key.dev = inode->i_sb->s_dev;
	key.ino = inode->i_ino;
	if (!bpf_map_lookup_elem(&credgate_objects, &key))
		return 0;
	bpf_map_delete_elem(&credgate_objects, &key);
	bpf_map_delete_elem(&credgate_owners, &key);
	return 0;
}

/* ---- mounts: nothing over our objects, our bpffs and credential file system stay mounted ------- */

SEC("lsm/sb_mount")
int BPF_PROG(credgate_sb_mount, const char *dev_name, const struct path *path, const char *type, unsigned long flags,
	     void *data, int ret)
{
	if (ret)
		return ret;
	return credgate_guard(BPF_CORE_READ(path, dentry, d_inode), ~0u, CREDGATE_HOOK_SB_MOUNT);
}

SEC("lsm/move_mount")
int BPF_PROG(credgate_move_mount, const struct path *from_path, const struct path *to_path, int ret)
{
	if (ret)
		return ret;
	ret = credgate_guard(BPF_CORE_READ(to_path, dentry, d_inode), ~0u, CREDGATE_HOOK_SB_MOUNT);
	if (ret)
		return ret;
	/* Moving the credential file system's mount away is unmounting it from its place. */
	return credgate_guard(BPF_CORE_READ(from_path, dentry, d_inode), CREDGATE_OBJ_CONTAINER, CREDGATE_HOOK_SB_MOUNT);
}

SEC("lsm/sb_umount")
int BPF_PROG(credgate_sb_umount, struct vfsmount *mnt, int flags, int ret)
{
	struct credgate_subject s = {};
	struct credgate_state *state;
	__u32 zero = 0;
	__u64 dev;

	if (ret)
		return ret;
#ifdef CREDGATE_TEST_VARIANT
	/* Only in the test build's second object (tests/vm/meson.build), never in an installed one: one
	 * more store, so that this program's tag differs and an upgrade to it replaces the programs. */
	volatile __u32 credgate_variant = CREDGATE_TEST_VARIANT;
	(void)credgate_variant;
#endif
	/* The credential file system: its root directory is one of ours. */
	ret = credgate_guard(BPF_CORE_READ(mnt, mnt_root, d_inode), CREDGATE_OBJ_CONTAINER, CREDGATE_HOOK_SB_UMOUNT);
	if (ret)
		return ret;
	/* Our bpffs: the pins are the only references to the links; unmounting it would detach them. */
	state = bpf_map_lookup_elem(&credgate_state, &zero);
	dev = BPF_CORE_READ(mnt, mnt_sb, s_dev);
	if (!state || !state->pin_dev || dev != state->pin_dev)
		return 0;
	credgate_subject_init(&s);
	if (credgate_is_owner(&s))
		return 0;
	return credgate_refuse(&s, 0, CREDGATE_HOOK_SB_UMOUNT, -EPERM);
}

/* ---- protected processes: ptrace, /proc/<pid>/mem, process_vm_readv, perf, signals, limits,
 * core dumps ------------------------------------------------------------------------------------ */

/* ATTACH mode covers ptrace, /proc/<pid>/mem, process_vm_readv/writev and pidfd_getfd. The target
 * is checked as a process (any thread, the leader's flag) or as credgated. */
SEC("lsm/ptrace_access_check")
int BPF_PROG(credgate_ptrace_access_check, struct task_struct *child, unsigned int mode, int ret)
{
	if (ret)
		return ret;
	if (!(mode & PTRACE_MODE_ATTACH))
		return 0;
	return credgate_guard_process(child, CREDGATE_HOOK_PTRACE);
}

/* A per-task perf event samples registers and the user stack of its target. */
SEC("lsm/perf_event_alloc")
int BPF_PROG(credgate_perf_event_alloc, struct perf_event *event, int ret)
{
	struct task_struct *target;

	if (ret)
		return ret;
	target = event->hw.target;
	if (!target)
		return 0;
	return credgate_guard_process(target, CREDGATE_HOOK_PERF_EVENT);
}

SEC("lsm/task_kill")
int BPF_PROG(credgate_task_kill, struct task_struct *p, struct kernel_siginfo *info, int sig, const struct cred *cred,
	     int ret)
{
	if (ret)
		return ret;
	if (sig <= 0 || sig > 31 || !(CREDGATE_DUMP_SIGNALS & (1u << sig)))
		return 0;
	return credgate_guard_process(p, CREDGATE_HOOK_TASK_KILL);
}

SEC("lsm/task_setrlimit")
int BPF_PROG(credgate_task_setrlimit, struct task_struct *p, unsigned int resource, struct rlimit *new_rlim, int ret)
{
	if (ret)
		return ret;
	return credgate_guard_process(p, CREDGATE_HOOK_TASK_SETRLIMIT);
}

/* do_coredump() prepares the credentials it dumps with before it opens a file or starts a pipe
 * helper; refusing them here ends the dump of a process that may hold a key, whoever triggered it
 * and wherever core_pattern points. PF_SIGNALED is set by get_signal() just before do_coredump(). */
SEC("lsm/cred_prepare")
int BPF_PROG(credgate_cred_prepare, struct cred *new, const struct cred *old, gfp_t gfp, int ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct credgate_subject s = {};

	if (ret)
		return ret;
	if (!(task->flags & PF_SIGNALED))
		return 0;
	if (!credgate_protected(task))
		return 0;
	credgate_subject_init(&s);
	return credgate_refuse(&s, 0, CREDGATE_HOOK_COREDUMP, -EPERM);
}

/* The kernel's memory-reading interfaces, where the lockdown hook offers them: /proc/kcore and
 * /dev/mem (/dev/kmem, /dev/port). Enum values differ between kernels: CO-RE reads them. */
SEC("lsm/locked_down")
int BPF_PROG(credgate_locked_down, enum lockdown_reason what, int ret)
{
	struct credgate_subject s = {};

	if (ret)
		return ret;
	if (what != bpf_core_enum_value(enum lockdown_reason, LOCKDOWN_KCORE) &&
	    what != bpf_core_enum_value(enum lockdown_reason, LOCKDOWN_DEV_MEM))
		return 0;
	credgate_subject_init(&s);
	if (credgate_is_owner(&s))
		return 0;
	return credgate_refuse(&s, 0, CREDGATE_HOOK_LOCKED_DOWN, -EPERM);
}

/* ---- exec tracking: the first file of an exec (the script for #!), inherited on fork --------- */

SEC("lsm/bprm_creds_for_exec")
int BPF_PROG(credgate_bprm_creds_for_exec, struct linux_binprm *bprm, int ret)
{
	struct credgate_task *t;
	struct inode *inode;

	if (ret)
		return ret;
	t = bpf_task_storage_get(&credgate_tasks, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t)
		return 0;
	inode = bprm->file->f_inode;
	t->pending_dev = inode->i_sb->s_dev;
	t->pending_ino = inode->i_ino;
	t->flags |= CREDGATE_TASK_PENDING;
	return 0;
}

/* Whether some binding of the generation may match the exec: an alternative requires the executed
 * file, or one requires no executed file at all. Never false where the scan could match. */
static __always_inline bool credgate_exec_indexed(__u32 generation, const struct credgate_subject *s)
{
	struct credgate_rule_key key = {
		.generation = generation,
		.binding = CREDGATE_RULE_EXEC_INDEX,
		.fact = CREDGATE_FACT_EXE,
	};

	if (bpf_map_lookup_elem(&credgate_rules, &key))
		return true;
	if (!s->exe_ino)
		return false;
	key.v[0] = s->exe_dev;
	key.v[1] = s->exe_ino;
	return bpf_map_lookup_elem(&credgate_rules, &key) != 0;
}

struct credgate_exec_ctx {
	struct credgate_subject *s;
	__u32 generation;
	bool matched;
};

static long credgate_exec_match_one(__u32 binding, void *data)
{
	struct credgate_exec_ctx *ctx = data;

	if (credgate_match_binding(ctx->s, ctx->generation, binding)) {
		ctx->matched = true;
		return 1;
	}
	return 0;
}

/* Whether the task, as it is after this exec, matches any binding of the live rule set. */
static __always_inline bool credgate_matches_any(struct credgate_subject *s)
{
	struct credgate_exec_ctx ctx = { .s = s };
	struct credgate_state *state;
	__u32 zero = 0, n, generation;

	state = bpf_map_lookup_elem(&credgate_state, &zero);
	if (!state)
		return false;
	/* Read once: the slot count, the index and every binding of the scan come from one generation
	 * (the half a swap retires is emptied only after a grace period: bpf/README.md, Rules). */
	generation = state->generation & 1;
	ctx.generation = generation;
	n = state->n_bindings[generation];
	if (n > CREDGATE_MAX_BINDINGS)
		n = CREDGATE_MAX_BINDINGS;
	if (!n)
		return false;
	/* Most execs run a program no binding names: the exec index answers that with one or two
	 * lookups, where the scan would look at every binding. */
	if (!credgate_exec_indexed(generation, s))
		return false;
	bpf_loop(n, credgate_exec_match_one, &ctx, 0);
	return ctx.matched;
}

/* After a successful exec: record the executed file, and protect the process from this moment if it
 * may hold a key (it matches a binding, runs a trusted program, or is credgated). */
SEC("lsm/bprm_committed_creds")
int BPF_PROG(credgate_bprm_committed_creds, struct linux_binprm *bprm)
{
	struct credgate_subject s = {};
	struct credgate_object_key key;
	struct credgate_object *o;
	struct credgate_task *t;

	t = bpf_task_storage_get(&credgate_tasks, bpf_get_current_task_btf(), 0, 0);
	if (!t || !(t->flags & CREDGATE_TASK_PENDING))
		return 0;
	t->exe_dev = t->pending_dev;
	t->exe_ino = t->pending_ino;
	t->flags = CREDGATE_TASK_EXE;
	key.dev = t->exe_dev;
	key.ino = t->exe_ino;
	o = bpf_map_lookup_elem(&credgate_objects, &key);
	if (o && (o->flags & CREDGATE_OBJ_TRUSTED_EXEC)) {
		t->flags |= CREDGATE_TASK_WORKLOAD;
		return 0;
	}
	credgate_subject_init(&s);
	if (credgate_is_owner(&s) || credgate_matches_any(&s))
		t->flags |= CREDGATE_TASK_WORKLOAD;
	return 0;
}

SEC("lsm/task_alloc")
int BPF_PROG(credgate_task_alloc, struct task_struct *task, unsigned long clone_flags, int ret)
{
	struct task_struct *current_task = bpf_get_current_task_btf();
	struct credgate_task *parent, *child;
	bool workload;

	if (ret)
		return ret;
	parent = bpf_task_storage_get(&credgate_tasks, current_task, 0, 0);
	workload = credgate_workload(current_task);
	if (!parent && !workload)
		return 0;
	child = bpf_task_storage_get(&credgate_tasks, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!child)
		return 0;
	if (parent) {
		child->exe_dev = parent->exe_dev;
		child->exe_ino = parent->exe_ino;
		child->flags = parent->flags & CREDGATE_TASK_EXE;
	}
	/* A thread shares the memory, a forked child has a copy of it: both are protected alike. */
	if (workload)
		child->flags |= CREDGATE_TASK_WORKLOAD;
	return 0;
}

/* ---- self-protection: our maps, programs and links are credgated's only -------------------- */

static __always_inline bool credgate_own(__u32 kind, __u32 id)
{
	struct credgate_own_key key = { .kind = kind, .id = id };

	return bpf_map_lookup_elem(&credgate_own_ids, &key) != 0;
}

static __always_inline int credgate_refuse_caller(__u32 hook)
{
	struct credgate_subject s = {};

	credgate_subject_init(&s);
	if (credgate_is_owner(&s))
		return 0;
	return credgate_refuse(&s, 0, hook, -EPERM);
}

/* The link id behind file descriptor `fd` of the current task, or 0. The syscall looks the fd up
 * again after this hook, so a dup2() on another CPU can swap it in between; for LSM links that
 * race gains nothing: tracing links implement neither detach nor update (EOPNOTSUPP / EINVAL). */
static __always_inline __u32 credgate_link_id_of_fd(__u32 fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct file **fds = BPF_CORE_READ(task, files, fdt, fd);
	unsigned int max_fds = BPF_CORE_READ(task, files, fdt, max_fds);
	struct file *file = 0;
	struct bpf_link *link;

	if (fd >= max_fds)
		return 0;
	if (bpf_core_read(&file, sizeof(file), &fds[fd]) || !file)
		return 0;
	if (BPF_CORE_READ(file, f_op) != (const struct file_operations *)&bpf_link_fops)
		return 0;
	link = BPF_CORE_READ(file, private_data);
	return BPF_CORE_READ(link, id);
}

static __always_inline bool credgate_pin_path(__u64 user_ptr)
{
	char path[sizeof(credgate_pin_prefix)] = {};
	int i;

	if (bpf_probe_read_user_str(path, sizeof(path), (const void *)user_ptr) < 0)
		return false;
	for (i = 0; i < (int)sizeof(path); i++) {
		if (!credgate_pin_prefix[i])
			return path[i] == 0 || path[i] == '/';
		if (path[i] != credgate_pin_prefix[i])
			return false;
	}
	return true;
}

static __always_inline int credgate_bpf_cmd(int cmd, union bpf_attr *attr)
{
	switch (cmd) {
	case BPF_LINK_GET_FD_BY_ID:
		if (credgate_own(CREDGATE_OWN_LINK, BPF_CORE_READ(attr, link_id)))
			return credgate_refuse_caller(CREDGATE_HOOK_BPF);
		return 0;
	case BPF_LINK_DETACH:
		if (credgate_own(CREDGATE_OWN_LINK, credgate_link_id_of_fd(BPF_CORE_READ(attr, link_detach.link_fd))))
			return credgate_refuse_caller(CREDGATE_HOOK_BPF);
		return 0;
	case BPF_LINK_UPDATE:
		if (credgate_own(CREDGATE_OWN_LINK, credgate_link_id_of_fd(BPF_CORE_READ(attr, link_update.link_fd))))
			return credgate_refuse_caller(CREDGATE_HOOK_BPF);
		return 0;
	case BPF_OBJ_GET:
		if (credgate_pin_path(BPF_CORE_READ(attr, pathname)))
			return credgate_refuse_caller(CREDGATE_HOOK_BPF);
		return 0;
	default:
		return 0;
	}
}

/* bpf(cmd, attr, size) until 6.9, bpf(cmd, attr, size, kernel) since: one variant is loaded. */
SEC("lsm/bpf")
int BPF_PROG(credgate_bpf, int cmd, union bpf_attr *attr, unsigned int size, int ret)
{
	if (ret)
		return ret;
	return credgate_bpf_cmd(cmd, attr);
}

SEC("lsm/bpf")
int BPF_PROG(credgate_bpf_kernel, int cmd, union bpf_attr *attr, unsigned int size, bool kernel, int ret)
{
	if (ret)
		return ret;
	return credgate_bpf_cmd(cmd, attr);
}

SEC("lsm/bpf_map")
int BPF_PROG(credgate_bpf_map, struct bpf_map *map, fmode_t fmode, int ret)
{
	if (ret)
		return ret;
	if (!credgate_own(CREDGATE_OWN_MAP, map->id))
		return 0;
	return credgate_refuse_caller(CREDGATE_HOOK_BPF_MAP);
}

SEC("lsm/bpf_prog")
int BPF_PROG(credgate_bpf_prog, struct bpf_prog *prog, int ret)
{
	if (ret)
		return ret;
	if (!credgate_own(CREDGATE_OWN_PROG, prog->aux->id))
		return 0;
	return credgate_refuse_caller(CREDGATE_HOOK_BPF_PROG);
}
