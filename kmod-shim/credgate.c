// SPDX-License-Identifier: GPL-2.0
/*
 * credgate.ko: credential files under /sys/module/credgate/credentials/<uuid>/<dir>/<file>,
 * written only through /dev/credgate, each open() reading one complete snapshot (see ABI.md).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/kernfs.h>
#include <linux/kobject.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/refcount.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>
#include <linux/uidgid.h>

#include "credgate_parse.h"

/* Immutable content, shared by the file and every snapshot that still reads it. */
struct credgate_blob {
	refcount_t ref;
	size_t len;
	u8 data[];
};

/* A read that started on a blob and has not reached its end; of->priv holds @id. */
struct credgate_snap {
	struct list_head link;
	unsigned long id;
	struct credgate_blob *blob;
};

struct credgate_file {
	struct bin_attribute attr;
	struct list_head link;			/* in the binding directory's children */
	char name[CREDGATE_SHIM_NAME_FIELD];
	spinlock_t lock;			/* blob, snaps, nr_snaps */
	struct credgate_blob *blob;		/* NULL until the first REPLACE */
	struct list_head snaps;			/* oldest first */
	unsigned int nr_snaps;
};

/* A workload (<uuid>) or binding (<dir>) directory. */
struct credgate_dir {
	struct kobject kobj;
	struct list_head link;			/* in the parent's children */
	struct list_head children;		/* credgate_dir, or credgate_file */
};

/*
 * of->priv of an open credential: 0 before its first read, CREDGATE_SNAP_DONE once a read
 * reached the end of its snapshot, otherwise the id of its credgate_snap.
 */
#define CREDGATE_SNAP_DONE	1UL
static atomic_long_t credgate_next_snap = ATOMIC_LONG_INIT(CREDGATE_SNAP_DONE + 1);

static DEFINE_MUTEX(credgate_lock);		/* the tree and credgate_nr_files */
static struct kobject *credgate_root;		/* /sys/module/credgate/credentials */
static LIST_HEAD(credgate_workloads);
static unsigned int credgate_nr_files;

/*
 * How many files the module may hold at once: a bound on the kernel memory it can pin, which an
 * operator may set lower than the ABI's ceiling. Read-only once loaded.
 */
static unsigned int credgate_max_files = CREDGATE_SHIM_FILES_MAX;
module_param_named(max_files, credgate_max_files, uint, 0444);
static_assert(CREDGATE_SHIM_FILES_MAX == 4096, "the description of max_files names the ceiling");
MODULE_PARM_DESC(max_files,
		 "the most credential files held at once, 1 to 4096 (default 4096); a CREATE beyond it fails with ENOSPC");

static struct credgate_blob *credgate_blob_alloc(size_t len)
{
	struct credgate_blob *blob;

	blob = kvmalloc(struct_size(blob, data, len), GFP_KERNEL_ACCOUNT);
	if (!blob)
		return NULL;
	refcount_set(&blob->ref, 1);
	blob->len = len;
	return blob;
}

/* Never under a spinlock: the content is zeroed, and vfree() may sleep. */
static void credgate_blob_put(struct credgate_blob *blob)
{
	if (blob && refcount_dec_and_test(&blob->ref))
		kvfree_sensitive(blob, struct_size(blob, data, blob->len));
}

static void credgate_snap_free(struct credgate_snap *snap)
{
	if (!snap)
		return;
	credgate_blob_put(snap->blob);
	kfree(snap);
}

/*
 * sysfs gives a binary attribute no open or release callback, so a snapshot lives from the
 * first read to the read that reaches its end (or the file's removal). Every kernfs file's
 * private_data is its seq_file, whose private is the kernfs_open_file (fs/kernfs/file.c).
 */
static struct kernfs_open_file *credgate_of(struct file *filp)
{
	struct seq_file *sf = filp->private_data;

	return sf->private;
}

static size_t credgate_copy(struct credgate_blob *blob, char *buf, loff_t pos, size_t count)
{
	size_t n;

	if (!blob || pos >= blob->len)
		return 0;
	n = min_t(size_t, count, blob->len - pos);
	memcpy(buf, blob->data + pos, n);
	return n;
}

static bool credgate_at_end(struct credgate_blob *blob, loff_t pos, size_t n)
{
	return !blob || pos + n >= blob->len;
}

/* kernfs holds of->mutex around each read, so of->priv needs no lock of ours. */
static ssize_t credgate_read(struct file *filp, struct kobject *kobj,
			     struct bin_attribute *attr, char *buf,
			     loff_t pos, size_t count)
{
	struct credgate_file *cf = container_of(attr, struct credgate_file, attr);
	struct kernfs_open_file *of = credgate_of(filp);
	unsigned long id = (unsigned long)of->priv;
	struct credgate_snap *snap, *fresh = NULL, *evicted = NULL;
	struct credgate_blob *blob = NULL;
	size_t n;

	if (id == CREDGATE_SNAP_DONE) {
		/* Past the end of a complete read; reading from 0 again takes a new snapshot. */
		if (pos)
			return 0;
		id = 0;
	}

	if (id) {
		spin_lock(&cf->lock);
		list_for_each_entry(snap, &cf->snaps, link) {
			if (snap->id == id) {
				blob = snap->blob;
				refcount_inc(&blob->ref);
				break;
			}
		}
		spin_unlock(&cf->lock);
		/* Evicted by newer readers: an error, never a mix of two contents. */
		if (!blob)
			return -ESTALE;
		n = credgate_copy(blob, buf, pos, count);
		if (credgate_at_end(blob, pos, n)) {
			spin_lock(&cf->lock);
			list_for_each_entry(snap, &cf->snaps, link) {
				if (snap->id == id) {
					list_del(&snap->link);
					cf->nr_snaps--;
					evicted = snap;
					break;
				}
			}
			spin_unlock(&cf->lock);
			of->priv = (void *)CREDGATE_SNAP_DONE;
		}
		credgate_blob_put(blob);
		credgate_snap_free(evicted);
		return n;
	}

	spin_lock(&cf->lock);
	blob = cf->blob;
	if (blob)
		refcount_inc(&blob->ref);
	spin_unlock(&cf->lock);

	n = credgate_copy(blob, buf, pos, count);
	if (credgate_at_end(blob, pos, n)) {
		/* One read took it all: no snapshot to keep. */
		of->priv = (void *)CREDGATE_SNAP_DONE;
		credgate_blob_put(blob);
		return n;
	}

	fresh = kmalloc(sizeof(*fresh), GFP_KERNEL);
	if (!fresh) {
		credgate_blob_put(blob);
		return -ENOMEM;
	}
	fresh->id = atomic_long_inc_return(&credgate_next_snap);
	fresh->blob = blob;			/* our reference moves to the snapshot */
	spin_lock(&cf->lock);
	list_add_tail(&fresh->link, &cf->snaps);
	if (++cf->nr_snaps > CREDGATE_SHIM_SNAPSHOTS_MAX) {
		evicted = list_first_entry(&cf->snaps, struct credgate_snap, link);
		list_del(&evicted->link);
		cf->nr_snaps--;
	}
	spin_unlock(&cf->lock);
	of->priv = (void *)fresh->id;
	credgate_snap_free(evicted);
	return n;
}

static void credgate_dir_release(struct kobject *kobj)
{
	kfree(container_of(kobj, struct credgate_dir, kobj));
}

static const struct kobj_type credgate_dir_ktype = {
	.release = credgate_dir_release,
	.sysfs_ops = &kobj_sysfs_ops,
};

static struct credgate_dir *credgate_dir_find(struct list_head *list, const char *name)
{
	struct credgate_dir *d;

	list_for_each_entry(d, list, link)
		if (!strcmp(kobject_name(&d->kobj), name))
			return d;
	return NULL;
}

static struct credgate_file *credgate_file_find(struct credgate_dir *dir, const char *name)
{
	struct credgate_file *cf;

	list_for_each_entry(cf, &dir->children, link)
		if (!strcmp(cf->name, name))
			return cf;
	return NULL;
}

static struct credgate_dir *credgate_dir_add(struct list_head *list, struct kobject *parent,
					     const char *name)
{
	struct credgate_dir *d;
	int err;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return ERR_PTR(-ENOMEM);
	INIT_LIST_HEAD(&d->children);
	err = kobject_init_and_add(&d->kobj, &credgate_dir_ktype, parent, "%s", name);
	if (err) {
		kobject_put(&d->kobj);
		return ERR_PTR(err);
	}
	list_add_tail(&d->link, list);
	return d;
}

/* Removes an empty directory; kobject_put() frees it. */
static void credgate_dir_prune(struct credgate_dir *d)
{
	if (!d || !list_empty(&d->children))
		return;
	list_del(&d->link);
	kobject_put(&d->kobj);
}

/* Called with credgate_lock held. Waits for reads in progress (kernfs drains them). */
static void credgate_file_destroy(struct credgate_dir *dir, struct credgate_file *cf)
{
	struct credgate_snap *snap, *tmp;

	sysfs_remove_bin_file(&dir->kobj, &cf->attr);
	list_del(&cf->link);
	credgate_nr_files--;
	/* No read can run any more: the snapshots and the content are ours alone. */
	list_for_each_entry_safe(snap, tmp, &cf->snaps, link) {
		list_del(&snap->link);
		credgate_snap_free(snap);
	}
	credgate_blob_put(cf->blob);
	kfree(cf);
}

static int credgate_create(const struct credgate_parsed_op *p)
{
	struct credgate_dir *workload, *binding;
	struct credgate_file *cf;
	bool new_workload = false, new_binding = false;
	kuid_t uid = GLOBAL_ROOT_UID;
	int err;

	if (p->owner) {
		uid = make_kuid(&init_user_ns, p->uid);
		if (!uid_valid(uid))
			return -EINVAL;
	}

	workload = credgate_dir_find(&credgate_workloads, p->uuid);
	binding = workload ? credgate_dir_find(&workload->children, p->dir) : NULL;
	if (binding && credgate_file_find(binding, p->file))
		return -EEXIST;
	if (credgate_nr_files >= credgate_max_files)
		return -ENOSPC;

	cf = kzalloc(sizeof(*cf), GFP_KERNEL);
	if (!cf)
		return -ENOMEM;
	strscpy(cf->name, p->file, sizeof(cf->name));
	spin_lock_init(&cf->lock);
	INIT_LIST_HEAD(&cf->snaps);
	sysfs_bin_attr_init(&cf->attr);
	cf->attr.attr.name = cf->name;
	/* Root's and 0400 until the owner is set: never more open than asked. */
	cf->attr.attr.mode = p->owner ? 0400 : 0444;
	cf->attr.size = 0;			/* no i_size: reads end where the snapshot ends */
	cf->attr.read = credgate_read;

	if (!workload) {
		workload = credgate_dir_add(&credgate_workloads, credgate_root, p->uuid);
		if (IS_ERR(workload)) {
			err = PTR_ERR(workload);
			workload = NULL;
			goto out_free;
		}
		new_workload = true;
	}
	if (!binding) {
		binding = credgate_dir_add(&workload->children, &workload->kobj, p->dir);
		if (IS_ERR(binding)) {
			err = PTR_ERR(binding);
			binding = NULL;
			goto out_dirs;
		}
		new_binding = true;
	}

	err = sysfs_create_bin_file(&binding->kobj, &cf->attr);
	if (err)
		goto out_dirs;
	if (p->owner) {
		err = sysfs_file_change_owner(&binding->kobj, cf->name, uid, GLOBAL_ROOT_GID);
		if (err) {
			sysfs_remove_bin_file(&binding->kobj, &cf->attr);
			goto out_dirs;
		}
	}
	list_add_tail(&cf->link, &binding->children);
	credgate_nr_files++;
	return 0;

out_dirs:
	if (new_binding)
		credgate_dir_prune(binding);
	if (new_workload)
		credgate_dir_prune(workload);
out_free:
	kfree(cf);
	return err;
}

static struct credgate_file *credgate_lookup(const struct credgate_parsed_op *p,
					     struct credgate_dir **workload,
					     struct credgate_dir **binding)
{
	*workload = credgate_dir_find(&credgate_workloads, p->uuid);
	*binding = *workload ? credgate_dir_find(&(*workload)->children, p->dir) : NULL;
	return *binding ? credgate_file_find(*binding, p->file) : NULL;
}

/* Takes @blob; the old content is freed once its last snapshot is done. */
static int credgate_replace(const struct credgate_parsed_op *p, struct credgate_blob *blob)
{
	struct credgate_dir *workload, *binding;
	struct credgate_file *cf;
	struct credgate_blob *old;

	cf = credgate_lookup(p, &workload, &binding);
	if (!cf) {
		credgate_blob_put(blob);
		return -ENOENT;
	}
	spin_lock(&cf->lock);
	old = cf->blob;
	cf->blob = blob;
	spin_unlock(&cf->lock);
	credgate_blob_put(old);
	return 0;
}

static int credgate_remove(const struct credgate_parsed_op *p)
{
	struct credgate_dir *workload, *binding;
	struct credgate_file *cf;

	cf = credgate_lookup(p, &workload, &binding);
	if (!cf)
		return -ENOENT;
	credgate_file_destroy(binding, cf);
	credgate_dir_prune(binding);
	credgate_dir_prune(workload);
	return 0;
}

static void credgate_remove_all(void)
{
	struct credgate_dir *workload, *wtmp, *binding, *btmp;
	struct credgate_file *cf, *ftmp;

	mutex_lock(&credgate_lock);
	list_for_each_entry_safe(workload, wtmp, &credgate_workloads, link) {
		list_for_each_entry_safe(binding, btmp, &workload->children, link) {
			list_for_each_entry_safe(cf, ftmp, &binding->children, link)
				credgate_file_destroy(binding, cf);
			credgate_dir_prune(binding);
		}
		credgate_dir_prune(workload);
	}
	mutex_unlock(&credgate_lock);
}

/* The opener's capability decides, not the writer's: an fd passed on carries its opener's right. */
static int credgate_ctl_open(struct inode *inode, struct file *filp)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	return nonseekable_open(inode, filp);
}

/* One write is one whole operation; on any error nothing has changed. */
static ssize_t credgate_ctl_write(struct file *filp, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	struct credgate_parsed_op p;
	struct credgate_shim_op *op;
	struct credgate_blob *blob = NULL;
	int err;

	if (count < sizeof(*op))
		return -EINVAL;
	if (count - sizeof(*op) > CREDGATE_SHIM_CONTENT_MAX)
		return -EFBIG;

	op = kmalloc(sizeof(*op), GFP_KERNEL);
	if (!op)
		return -ENOMEM;
	if (copy_from_user(op, ubuf, sizeof(*op))) {
		err = -EFAULT;
		goto out;
	}
	err = credgate_parse_op(op, count, &p);
	if (err)
		goto out;

	if (p.opcode == CREDGATE_SHIM_OP_REPLACE) {
		blob = credgate_blob_alloc(p.content_len);
		if (!blob) {
			err = -ENOMEM;
			goto out;
		}
		if (copy_from_user(blob->data, ubuf + sizeof(*op), p.content_len)) {
			credgate_blob_put(blob);
			err = -EFAULT;
			goto out;
		}
	}

	mutex_lock(&credgate_lock);
	switch (p.opcode) {
	case CREDGATE_SHIM_OP_CREATE:
		err = credgate_create(&p);
		break;
	case CREDGATE_SHIM_OP_REPLACE:
		err = credgate_replace(&p, blob);
		break;
	default:
		err = credgate_remove(&p);
		break;
	}
	mutex_unlock(&credgate_lock);
out:
	kfree(op);
	return err ? err : count;
}

static const struct file_operations credgate_ctl_fops = {
	.owner = THIS_MODULE,
	.open = credgate_ctl_open,
	.write = credgate_ctl_write,
	.llseek = no_llseek,
};

static struct miscdevice credgate_ctl = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "credgate",
	.fops = &credgate_ctl_fops,
	.mode = 0600,
};

static int __init credgate_init(void)
{
	int err;

	if (credgate_max_files < 1 || credgate_max_files > CREDGATE_SHIM_FILES_MAX) {
		pr_err("max_files=%u is out of range: it must be 1 to %u\n", credgate_max_files,
		       CREDGATE_SHIM_FILES_MAX);
		return -EINVAL;
	}
	credgate_root = kobject_create_and_add("credentials", &THIS_MODULE->mkobj.kobj);
	if (!credgate_root)
		return -ENOMEM;
	err = misc_register(&credgate_ctl);
	if (err) {
		kobject_put(credgate_root);
		return err;
	}
	return 0;
}

static void __exit credgate_exit(void)
{
	/* /dev/credgate holds a module reference while open: no operation is in flight. */
	misc_deregister(&credgate_ctl);
	credgate_remove_all();
	kobject_put(credgate_root);
}

module_init(credgate_init);
module_exit(credgate_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("credgate: credential files in kernel memory, one snapshot per open");
/* The project's version, from Kbuild (passed by build-module and dkms.conf). */
#ifdef CREDGATE_VERSION
MODULE_VERSION(CREDGATE_VERSION);
#endif
