// SPDX-License-Identifier: GPL-2.0-only
/* credgate's LSM programs: gate open() of credential files by the binding's rules, refuse tampering
 * with credential files, trusted programs and our own pins, and track what each task executed.
 *
 * What a miss decides (fail closed only where an object is ours):
 *  - credgate_objects miss: the inode is not protected -> allow (the fast path: one lookup).
 *  - credgate_bindings miss or n_alternatives == 0, rule-set miss: the subject does not match -> deny.
 *  - credgate_tasks miss (task started before we loaded): its exe is mm->exe_file; no workload flag.
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

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader before load (src/enforce/enforcer.cpp). */
const volatile char credgate_pin_prefix[32] = "/sys/fs/bpf/credgate";

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
	__u64 exe_dev;
	__u64 exe_ino;
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

static __always_inline struct credgate_object *credgate_lookup_inode(const struct inode *inode,
								       struct credgate_object_key *key)
{
	if (!inode)
		return 0;
	key->dev = credgate_kdev(inode);
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
		return;
	}
	/* Started before we loaded: the mapped executable (the interpreter, for scripts). */
	struct file *exe = BPF_CORE_READ(task, mm, exe_file);
	if (exe) {
		struct inode *inode = BPF_CORE_READ(exe, f_inode);
		s->exe_dev = credgate_kdev(inode);
		s->exe_ino = BPF_CORE_READ(inode, i_ino);
	}
}

/* credgated: a process running one of the registered credgated executables as euid 0. */
static __always_inline bool credgate_is_owner(const struct credgate_subject *s)
{
	struct credgate_object_key key = { .dev = s->exe_dev, .ino = s->exe_ino };

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
		if (!credgate_rule_has(&key, s->exe_dev, s->exe_ino))
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

static __always_inline bool credgate_match_binding(const struct credgate_subject *s, __u32 binding)
{
	__u32 zero = 0, index, generation, alternative;
	struct credgate_state *state = bpf_map_lookup_elem(&credgate_state, &zero);
	struct credgate_binding *b;

	if (!state || binding >= CREDGATE_MAX_BINDINGS)
		return false;
	generation = state->generation & 1;
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
	e->exe_dev = s->exe_dev;
	e->exe_ino = s->exe_ino;
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

static __always_inline void credgate_mark_workload(void)
{
	struct credgate_task *t = bpf_task_storage_get(&credgate_tasks, bpf_get_current_task_btf(), 0,
						       BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (t)
		t->flags |= CREDGATE_TASK_WORKLOAD;
}

/* A credential is granted to a matching, untraced subject. */
static __always_inline int credgate_gate_credential(const struct credgate_object *o,
						    const struct credgate_object_key *key, __u32 hook)
{
	struct credgate_subject s = {};
	struct task_struct *task = bpf_get_current_task_btf();

	credgate_subject_init(&s);
	if (credgate_is_owner(&s))
		return 0;
	if (credgate_match_binding(&s, o->binding) && !(BPF_CORE_READ(task, ptrace) & PT_PTRACED)) {
		credgate_mark_workload();
		credgate_emit(&s, key, o->binding, hook, CREDGATE_VERDICT_ALLOW);
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

SEC("lsm/file_open")
int BPF_PROG(credgate_file_open, struct file *file, int ret)
{
	struct credgate_object_key key;
	struct credgate_object *o;

	if (ret)
		return ret;
	key.dev = file->f_inode->i_sb->s_dev;
	key.ino = file->f_inode->i_ino;
	o = bpf_map_lookup_elem(&credgate_objects, &key);
	if (!o)
		return 0;
	if (o->flags & CREDGATE_OBJ_CREDENTIAL)
		return credgate_gate_credential(o, &key, CREDGATE_HOOK_FILE_OPEN);
	if ((o->flags & CREDGATE_OBJ_NO_WRITE) && (file->f_mode & FMODE_WRITE))
		return credgate_guard(file->f_inode, CREDGATE_OBJ_NO_WRITE, CREDGATE_HOOK_FILE_OPEN);
	return 0;
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
	return credgate_gate_credential(o, &key, CREDGATE_HOOK_FILE_RECEIVE);
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

/* ---- workloads: ptrace and /proc/<pid>/mem ---------------------------------------------------- */

SEC("lsm/ptrace_access_check")
int BPF_PROG(credgate_ptrace_access_check, struct task_struct *child, unsigned int mode, int ret)
{
	struct credgate_subject s = {};
	struct credgate_task *t;

	if (ret)
		return ret;
	if (!(mode & PTRACE_MODE_ATTACH))
		return 0;
	t = bpf_task_storage_get(&credgate_tasks, child, 0, 0);
	if (!t || !(t->flags & CREDGATE_TASK_WORKLOAD))
		return 0;
	credgate_subject_init(&s);
	if (child->tgid == s.tgid || credgate_is_owner(&s))
		return 0;
	return credgate_deny(&s, 0, 0, CREDGATE_HOOK_PTRACE);
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

SEC("lsm/bprm_committed_creds")
int BPF_PROG(credgate_bprm_committed_creds, struct linux_binprm *bprm)
{
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
	if (o && (o->flags & CREDGATE_OBJ_TRUSTED_EXEC))
		t->flags |= CREDGATE_TASK_WORKLOAD;
	return 0;
}

SEC("lsm/task_alloc")
int BPF_PROG(credgate_task_alloc, struct task_struct *task, unsigned long clone_flags, int ret)
{
	struct credgate_task *parent, *child;

	if (ret)
		return ret;
	parent = bpf_task_storage_get(&credgate_tasks, bpf_get_current_task_btf(), 0, 0);
	if (!parent)
		return 0;
	child = bpf_task_storage_get(&credgate_tasks, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!child)
		return 0;
	child->exe_dev = parent->exe_dev;
	child->exe_ino = parent->exe_ino;
	child->flags = parent->flags & (CREDGATE_TASK_EXE | CREDGATE_TASK_WORKLOAD);
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
	/* Never relaxed by audit mode: audit mode must not be a way to detach enforcement. */
	credgate_emit(&s, 0, 0, hook, CREDGATE_VERDICT_DENY);
	return -EPERM;
}

/* The link id behind file descriptor `fd` of the current task, or 0. */
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
